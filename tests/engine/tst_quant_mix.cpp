// Quantization mixes (quant/quant_mix.h): the per-tensor type each named mix chooses, the
// "more bits" layer rule, the row-length fallback, and gen-model's use of the same rules.
#include <QtTest>

#include <set>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/model_quantizer.h"
#include "quant/quant.h"
#include "quant/quant_mix.h"
#include "test_models.h"

using namespace strata;
using quant::QuantMix;
using quant::TensorSite;

Q_DECLARE_METATYPE(strata::TensorType)

namespace {

QuantMix mix_named(const QString& name) {
    auto m = quant::find_quant_mix(name.toStdString());
    if (!m) qFatal("no mix %s", qPrintable(name));
    return *m;
}

int64_t file_type(const gguf::GgufFile& f) {
    auto v = f.get_int("general.file_type");
    return v.ok() && v->has_value() ? **v : -1;
}

}  // namespace

class TestQuantMix : public QObject {
    Q_OBJECT
private slots:
    // The general.file_type values are llama.cpp's published llama_ftype numbers.
    void mixNamesAndFileTypes_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("fileType");
        QTest::addColumn<TensorType>("base");
        const std::pair<const char*, std::pair<int, TensorType>> rows[] = {
            {"F32", {0, TensorType::F32}},     {"F16", {1, TensorType::F16}},     {"Q4_0", {2, TensorType::Q4_0}},
            {"Q4_1", {3, TensorType::Q4_1}},   {"Q8_0", {7, TensorType::Q8_0}},   {"Q5_0", {8, TensorType::Q5_0}},
            {"Q5_1", {9, TensorType::Q5_1}},   {"Q2_K", {10, TensorType::Q2_K}},  {"Q3_K_S", {11, TensorType::Q3_K}},
            {"Q3_K_M", {12, TensorType::Q3_K}}, {"Q3_K_L", {13, TensorType::Q3_K}}, {"Q4_K_S", {14, TensorType::Q4_K}},
            {"Q4_K_M", {15, TensorType::Q4_K}}, {"Q5_K_S", {16, TensorType::Q5_K}}, {"Q5_K_M", {17, TensorType::Q5_K}},
            {"Q6_K", {18, TensorType::Q6_K}},  {"BF16", {32, TensorType::BF16}},  {"IQ4_NL", {25, TensorType::IQ4_NL}},
            {"IQ4_XS", {30, TensorType::IQ4_XS}},
        };
        for (const auto& [name, v] : rows) QTest::newRow(name) << QString(name) << v.first << v.second;
    }
    void mixNamesAndFileTypes() {
        QFETCH(QString, name);
        QFETCH(int, fileType);
        QFETCH(TensorType, base);
        const auto m = quant::find_quant_mix(name.toLower().toStdString());  // case-insensitive
        QVERIFY(m.has_value());
        QCOMPARE(QString(m->name), name);
        QCOMPARE(int(m->file_type), fileType);
        QCOMPARE(m->base, base);
    }
    void mixTableIsComplete() {
        QCOMPARE(quant::quant_mixes().size(), size_t(19));
        std::set<std::string> names;
        for (const auto& m : quant::quant_mixes()) names.insert(m.name);
        QCOMPARE(names.size(), size_t(19));
        QVERIFY(!quant::find_quant_mix("Q4_K_X"));
        QVERIFY(!quant::find_quant_mix(""));
        QVERIFY(!quant::find_quant_mix("Q4_K"));  // a tensor type, not a mix
    }

    void layerIndex() {
        QCOMPARE(quant::tensor_layer_index("blk.0.attn_v.weight"), int64_t(0));
        QCOMPARE(quant::tensor_layer_index("blk.31.ffn_down.weight"), int64_t(31));
        QCOMPARE(quant::tensor_layer_index("token_embd.weight"), int64_t(-1));
        QCOMPARE(quant::tensor_layer_index("blk..attn_v.weight"), int64_t(-1));
        QCOMPARE(quant::tensor_layer_index("blk.3"), int64_t(-1));
        QCOMPARE(quant::tensor_layer_index("blk.x.attn_v.weight"), int64_t(-1));
    }

    // il < n/8, il >= 7n/8, or (il - n/8) % 3 == 2.
    void moreBitsLayers_data() {
        QTest::addColumn<int>("nLayer");
        QTest::addColumn<QList<int>>("layers");
        QTest::newRow("8") << 8 << QList<int>{0, 3, 6, 7};
        QTest::newRow("22 (TinyLlama)") << 22 << QList<int>{0, 1, 4, 7, 10, 13, 16, 19, 20, 21};
        QTest::newRow("32 (Llama-2-7B)")
            << 32 << QList<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
        QTest::newRow("5 (stories260K)") << 5 << QList<int>{2, 4};
    }
    void moreBitsLayers() {
        QFETCH(int, nLayer);
        QFETCH(QList<int>, layers);
        QList<int> got;
        for (int il = 0; il < nLayer; ++il) {
            if (quant::use_more_bits(il, nLayer)) got.append(il);
        }
        QCOMPARE(got, layers);
    }

    // Representative tensors of a 32-layer model (rows of 4096 / 11008: every block fits).
    void wantedTypes_data() {
        QTest::addColumn<QString>("mix");
        QTest::addColumn<QString>("tensor");
        QTest::addColumn<int>("nDims");
        QTest::addColumn<int>("nGqa");
        QTest::addColumn<bool>("hasOutput");
        QTest::addColumn<TensorType>("want");
        using T = TensorType;
        struct Row { const char* mix; const char* tensor; int n_dims; int n_gqa; bool has_output; T want; };
        const Row rows[] = {
            {"Q4_K_M", "blk.0.attn_v.weight", 2, 1, true, T::Q6_K},
            {"Q4_K_M", "blk.5.attn_v.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_M", "blk.6.attn_v.weight", 2, 1, true, T::Q6_K},
            {"Q4_K_M", "blk.6.ffn_down.weight", 2, 1, true, T::Q6_K},
            {"Q4_K_M", "blk.7.ffn_down.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_M", "blk.31.ffn_down.weight", 2, 1, true, T::Q6_K},
            {"Q4_K_M", "blk.0.attn_q.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_M", "blk.0.attn_output.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_M", "blk.0.ffn_gate.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_M", "blk.5.attn_qkv.weight", 2, 1, true, T::Q5_K},
            {"Q4_K_M", "output.weight", 2, 1, true, T::Q6_K},
            {"Q4_K_M", "token_embd.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_M", "token_embd.weight", 2, 1, false, T::Q6_K},  // tied: the embedding is the head
            {"Q4_K_M", "blk.0.attn_norm.weight", 1, 1, true, T::F32},
            {"Q4_K_M", "blk.3.ffn_gate_inp.weight", 2, 1, true, T::F32},  // MoE router: never quantized
            {"Q8_0", "blk.3.ffn_gate_inp.weight", 2, 1, true, T::F32},
            {"Q4_K_M", "blk.3.ffn_gate_exps.weight", 3, 1, true, T::Q4_K},
            {"Q4_K_M", "blk.6.ffn_down_exps.weight", 3, 1, true, T::Q6_K},
            {"Q4_K_M", "blk.0.attn_q.bias", 1, 1, true, T::F32},
            {"Q4_K_M", "output_norm.weight", 1, 1, true, T::F32},
            {"Q4_K_S", "blk.3.attn_v.weight", 2, 1, true, T::Q5_K},
            {"Q4_K_S", "blk.4.attn_v.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_S", "blk.3.ffn_down.weight", 2, 1, true, T::Q5_K},
            {"Q4_K_S", "blk.4.ffn_down.weight", 2, 1, true, T::Q4_K},
            {"Q4_K_S", "output.weight", 2, 1, true, T::Q6_K},
            {"Q5_K_M", "blk.9.attn_v.weight", 2, 1, true, T::Q6_K},
            {"Q5_K_M", "blk.10.attn_v.weight", 2, 1, true, T::Q5_K},
            {"Q5_K_M", "blk.10.ffn_up.weight", 2, 1, true, T::Q5_K},
            {"Q5_K_S", "blk.0.attn_v.weight", 2, 1, true, T::Q5_K},
            {"Q5_K_S", "output.weight", 2, 1, true, T::Q6_K},
            {"Q6_K", "blk.0.ffn_down.weight", 2, 1, true, T::Q6_K},
            {"Q6_K", "token_embd.weight", 2, 1, true, T::Q6_K},
            {"Q8_0", "output.weight", 2, 1, true, T::Q8_0},
            {"Q8_0", "blk.0.attn_v.weight", 2, 1, true, T::Q8_0},
            {"Q4_0", "output.weight", 2, 1, true, T::Q6_K},
            {"Q4_0", "blk.0.ffn_down.weight", 2, 1, true, T::Q4_0},
            {"Q4_0", "token_embd.weight", 2, 1, true, T::Q4_0},
            {"Q4_1", "blk.0.attn_v.weight", 2, 1, true, T::Q4_1},
            {"Q5_0", "blk.0.attn_k.weight", 2, 1, true, T::Q5_0},
            {"Q5_1", "output.weight", 2, 1, true, T::Q6_K},
            {"Q2_K", "blk.0.attn_v.weight", 2, 1, true, T::Q3_K},
            {"Q2_K", "blk.0.attn_v.weight", 2, 8, true, T::Q4_K},
            {"Q2_K", "blk.0.ffn_down.weight", 2, 1, true, T::Q3_K},
            {"Q2_K", "blk.0.attn_output.weight", 2, 1, true, T::Q3_K},
            {"Q2_K", "blk.0.attn_q.weight", 2, 1, true, T::Q2_K},
            {"Q3_K_S", "blk.0.attn_v.weight", 2, 1, true, T::Q3_K},
            {"Q3_K_S", "blk.0.ffn_down.weight", 2, 1, true, T::Q3_K},
            {"Q3_K_M", "blk.1.attn_v.weight", 2, 1, true, T::Q5_K},
            {"Q3_K_M", "blk.2.attn_v.weight", 2, 1, true, T::Q4_K},
            {"Q3_K_M", "blk.1.ffn_down.weight", 2, 1, true, T::Q5_K},
            {"Q3_K_M", "blk.2.ffn_down.weight", 2, 1, true, T::Q4_K},
            {"Q3_K_M", "blk.2.attn_output.weight", 2, 1, true, T::Q4_K},
            {"Q3_K_M", "blk.2.attn_q.weight", 2, 1, true, T::Q3_K},
            {"Q3_K_L", "blk.20.attn_v.weight", 2, 1, true, T::Q5_K},
            {"Q3_K_L", "blk.20.ffn_down.weight", 2, 1, true, T::Q5_K},
            {"Q3_K_L", "blk.20.attn_output.weight", 2, 1, true, T::Q5_K},
            {"Q3_K_L", "blk.20.ffn_up.weight", 2, 1, true, T::Q3_K},
            {"F16", "output.weight", 2, 1, true, T::F16},
            {"F16", "token_embd.weight", 2, 1, false, T::F16},
            {"F16", "blk.0.ffn_norm.weight", 1, 1, true, T::F32},
            {"BF16", "blk.0.attn_v.weight", 2, 1, true, T::BF16},
            {"F32", "blk.0.attn_v.weight", 2, 1, true, T::F32},
        };
        for (const Row& r : rows) {
            QTest::addRow("%s %s gqa%d%s", r.mix, r.tensor, r.n_gqa, r.has_output ? "" : " tied")
                << QString(r.mix) << QString(r.tensor) << r.n_dims << r.n_gqa << r.has_output << r.want;
        }
    }
    void wantedTypes() {
        QFETCH(QString, mix);
        QFETCH(QString, tensor);
        QFETCH(int, nDims);
        QFETCH(int, nGqa);
        QFETCH(bool, hasOutput);
        QFETCH(TensorType, want);
        const std::string name = tensor.toStdString();
        TensorSite site;
        site.name = name;
        site.n_dims = nDims;
        site.row_length = name.find("ffn_down") != std::string::npos ? 11008 : 4096;
        site.n_layer = 32;
        site.n_gqa = nGqa;
        site.has_output = hasOutput;
        const auto choice = quant::choose_tensor_type(mix_named(mix), site);
        QCOMPARE(tensor_type_name(choice.type), tensor_type_name(want));
        QVERIFY(!choice.fell_back());
    }

    // Rows that a block does not divide: K-quants fall to the legacy 32-block type of similar
    // bits, 32-block types to F16.
    void fallback_data() {
        QTest::addColumn<TensorType>("want");
        QTest::addColumn<int>("row");
        QTest::addColumn<TensorType>("got");
        using T = TensorType;
        QTest::newRow("Q2_K 96") << T::Q2_K << 96 << T::Q4_0;
        QTest::newRow("Q3_K 64") << T::Q3_K << 64 << T::Q4_0;
        QTest::newRow("Q4_K 160") << T::Q4_K << 160 << T::Q5_0;
        QTest::newRow("Q5_K 64") << T::Q5_K << 64 << T::Q5_1;
        QTest::newRow("Q6_K 96") << T::Q6_K << 96 << T::Q8_0;
        QTest::newRow("IQ4_XS 96") << T::IQ4_XS << 96 << T::IQ4_NL;
        QTest::newRow("IQ4_XS 172") << T::IQ4_XS << 172 << T::F16;
        QTest::newRow("Q4_K 172") << T::Q4_K << 172 << T::F16;
        QTest::newRow("Q6_K 172") << T::Q6_K << 172 << T::F16;
        QTest::newRow("Q8_0 172") << T::Q8_0 << 172 << T::F16;
        QTest::newRow("Q4_0 48") << T::Q4_0 << 48 << T::F16;
        QTest::newRow("Q5_1 16") << T::Q5_1 << 16 << T::F16;
        QTest::newRow("Q4_K 512 fits") << T::Q4_K << 512 << T::Q4_K;
        QTest::newRow("Q8_0 64 fits") << T::Q8_0 << 64 << T::Q8_0;
        QTest::newRow("F16 172 fits") << T::F16 << 172 << T::F16;
        QTest::newRow("BF16 7 fits") << T::BF16 << 7 << T::BF16;
    }
    void fallback() {
        QFETCH(TensorType, want);
        QFETCH(int, row);
        QFETCH(TensorType, got);
        QCOMPARE(tensor_type_name(quant::fallback_type(want, row)), tensor_type_name(got));
    }

    // Whatever the mix, tensor or row length, the chosen type can be written and its block
    // divides the row; a fallback is flagged exactly when the type differs from the wanted one.
    void everyChoiceIsWritable() {
        const char* names[] = {"token_embd.weight", "output.weight", "blk.0.attn_v.weight", "blk.3.ffn_down.weight",
                               "blk.2.attn_output.weight", "blk.1.ffn_up.weight", "blk.1.attn_norm.weight"};
        int n_fallbacks = 0;
        for (const QuantMix& m : quant::quant_mixes()) {
            for (const char* name : names) {
                for (int64_t row : {16, 48, 64, 96, 160, 172, 256, 4096, 11008}) {
                    TensorSite site;
                    site.name = name;
                    site.n_dims = std::string(name).find("norm") != std::string::npos ? 1 : 2;
                    site.row_length = row;
                    site.n_layer = 8;
                    const auto c = quant::choose_tensor_type(m, site);
                    QVERIFY(quant::can_quantize(c.type));
                    QCOMPARE(row % tensor_type_traits(c.type).block_size, int64_t(0));
                    QCOMPARE(c.fell_back(), row % tensor_type_traits(c.wanted).block_size != 0);
                    n_fallbacks += c.fell_back();
                }
            }
        }
        QVERIFY(n_fallbacks > 100);  // the loop does exercise the fallback
    }

    // gen-model's `mix` applies the same rules as the quantizer: a model generated at Q4_K_M
    // has, tensor for tensor, the bytes of the same F32 model quantized to Q4_K_M (the random
    // values are the same; quantizing from F32 is lossless up to the quantizer).
    void randomModelMixMatchesQuantizer_data() {
        QTest::addColumn<QString>("mix");
        QTest::addColumn<bool>("tied");
        QTest::newRow("Q4_K_M") << "Q4_K_M" << false;
        QTest::newRow("Q4_K_M tied") << "Q4_K_M" << true;
        QTest::newRow("Q3_K_M") << "Q3_K_M" << false;
        QTest::newRow("Q4_0") << "Q4_0" << false;
        QTest::newRow("F16") << "F16" << false;
    }
    void randomModelMixMatchesQuantizer() {
        QFETCH(QString, mix);
        QFETCH(bool, tied);
        QTemporaryDir dir;
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_embd = 256;
        c.n_layer = 8;
        c.n_head = 4;
        c.n_head_kv = 1;  // n_gqa 4
        c.n_ff = 160;     // ffn_down rows of 160: K-quants fall back
        c.tied_output = tied;
        c.seed = 99;
        c.n_threads = 2;
        QString err;
        const QString f32 = test::writeRandomModel(dir, "f32", c, &err);
        QVERIFY2(!f32.isEmpty(), qPrintable(err));
        c.mix = mix.toStdString();
        const QString direct = test::writeRandomModel(dir, "direct", c, &err);
        QVERIFY2(!direct.isEmpty(), qPrintable(err));
        const QString requant = dir.filePath("requant.gguf");
        quant::QuantizeOptions o;
        o.n_threads = 2;
        auto rep = quant::quantize_model(f32.toStdString(), requant.toStdString(), mix_named(mix), o);
        QVERIFY2(rep.ok(), rep.status().message().c_str());

        auto a = gguf::GgufFile::open(direct.toStdString());
        auto b = gguf::GgufFile::open(requant.toStdString());
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(file_type(**a), int64_t(mix_named(mix).file_type));
        QCOMPARE(file_type(**b), int64_t(mix_named(mix).file_type));
        QCOMPARE((*a)->tensors().size(), (*b)->tensors().size());
        std::set<TensorType> types;
        for (size_t i = 0; i < (*a)->tensors().size(); ++i) {
            const auto& ta = (*a)->tensors()[i];
            const auto& tb = (*b)->tensors()[i];
            QCOMPARE(ta.name, tb.name);
            QCOMPARE(tensor_type_name(ta.type), tensor_type_name(tb.type));
            QCOMPARE(ta.n_bytes, tb.n_bytes);
            QVERIFY2(std::memcmp(ta.data, tb.data, ta.n_bytes) == 0, ta.name.c_str());
            types.insert(ta.type);
        }
        if (mix != "F16") QVERIFY(types.size() >= 3);  // a real mix, not one type throughout
        const auto desc = (*a)->get_string("general.description");
        QVERIFY(desc.ok() && desc->has_value());
        if (mix.contains("_K")) QVERIFY2((*desc)->find("blk.0.ffn_down.weight") != std::string::npos, (*desc)->c_str());
    }

    // plan_quantization: an unconvertible non-matrix tensor (I32) is kept as it is; a matrix
    // of a type Strata cannot dequantize (IQ2_XXS) is refused, naming it, before anything is
    // written. F32 sources are not a requantization; Q8_0 ones are; MXFP4 ones are kept.
    void planKeepsOrRefuses() {
        QTemporaryDir dir;
        auto write = [&](const QString& name, TensorType matrix_type) {
            gguf::GgufWriter w;
            w.set_string("general.architecture", "llama");
            w.set_u32("llama.block_count", 1);
            std::vector<uint8_t> ids(4 * 8, 1);
            const size_t n_matrix = tensor_row_bytes(matrix_type, 256) * 4;
            std::vector<uint8_t> matrix(n_matrix, 0x11);
            if (!w.add_tensor("token_types", TensorType::I32, {8}, ids).ok() ||
                !w.add_tensor("blk.0.attn_q.weight", matrix_type, {256, 4}, matrix).ok() ||
                !w.write(dir.filePath(name).toStdString()).ok())
                qFatal("cannot write %s", qPrintable(name));
            return gguf::GgufFile::open(dir.filePath(name).toStdString());
        };
        auto f32 = write("f32.gguf", TensorType::F32);
        QVERIFY(f32.ok());
        auto plan = quant::plan_quantization(**f32, mix_named("Q8_0"));
        QVERIFY2(plan.ok(), plan.status().message().c_str());
        QCOMPARE(plan->tensors[0].choice.type, TensorType::I32);
        QCOMPARE(plan->tensors[1].choice.type, TensorType::Q8_0);
        QVERIFY(plan->quantized_sources.empty());
        QVERIFY(plan->fallbacks().empty());

        auto q8 = write("q8.gguf", TensorType::Q8_0);
        plan = quant::plan_quantization(**q8, mix_named("Q4_0"));
        QVERIFY(plan.ok());
        QCOMPARE(plan->quantized_sources, std::vector<TensorType>{TensorType::Q8_0});
        plan = quant::plan_quantization(**q8, mix_named("Q8_0"));  // unchanged: copied, no warning
        QVERIFY(plan.ok() && plan->quantized_sources.empty());

        // MXFP4 (gpt-oss's experts) is copied whatever the mix, float ones included.
        auto mx = write("mxfp4.gguf", TensorType::MXFP4);
        for (const char* m : {"Q4_K_M", "Q8_0", "F16"}) {
            plan = quant::plan_quantization(**mx, mix_named(m));
            QVERIFY(plan.ok());
            QCOMPARE(plan->tensors[1].choice.type, TensorType::MXFP4);
            QVERIFY(plan->quantized_sources.empty());
        }

        auto iq = write("iq.gguf", TensorType::IQ2_XXS);
        plan = quant::plan_quantization(**iq, mix_named("Q4_K_M"));
        QVERIFY(!plan.ok());
        QCOMPARE(plan.status().code(), ErrorCode::unsupported);
        QVERIFY2(QString::fromStdString(plan.status().message()).contains("'blk.0.attn_q.weight' has type IQ2_XXS"),
                 plan.status().message().c_str());
    }

    void randomModelUnknownMixFails() {
        QTemporaryDir dir;
        RandomModelConfig c;
        c.mix = "Q4_K_X";
        const Status st = write_random_model(c, dir.filePath("x.gguf").toStdString());
        QCOMPARE(st.code(), ErrorCode::invalid_argument);
        QVERIFY(QString::fromStdString(st.message()).contains("Q4_K_X"));
    }
};

QTEST_GUILESS_MAIN(TestQuantMix)
#include "tst_quant_mix.moc"
