// inspect_model(): hyperparameters, vocab, tokenizer, quantization label and per-type totals from
// written models and the real stories260K.gguf; required keys; inspect_model_file (info and
// footprint of one read, an unsupported file's missing footprint); format_param_count /
// format_bytes.
#include <QtTest>

#include "gguf/gguf_writer.h"
#include "gguf_test_util.h"
#include "strata/engine.h"
#include "strata/model_info.h"
#include "test_paths.h"

using namespace strata;
using namespace strata::gguf;
using strata::test::randomBytes;

using strata::test::TinyModel;
using strata::test::writeTinyModel;

class TestModelInfo : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::string path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)).toStdString(); }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void stories260k() {
        const QString p = strata::test::stories260kPath();
        if (p.isEmpty()) QSKIP("stories260K.gguf not found in ../shared/models");
        auto r = inspect_model(p.toStdString());
        QVERIFY2(r.ok(), r.status().message().c_str());
        const ModelInfo& m = *r;
        QCOMPARE(m.architecture, std::string("llama"));
        QVERIFY(m.architecture_supported);
        QCOMPARE(m.gguf_version, 3u);
        QCOMPARE(m.n_layer, 5u);
        QCOMPARE(m.n_embd, 64u);
        QCOMPARE(m.n_head, 8u);
        QCOMPARE(m.n_head_kv, 4u);
        QCOMPARE(m.n_ff, 172u);
        QCOMPARE(m.n_vocab, 512u);
        QCOMPARE(m.n_rot, 8u);
        QCOMPARE(m.tokenizer_model, std::string("llama"));
        QVERIFY(!m.has_chat_template);
        QCOMPARE(m.file_size, uint64_t(QFileInfo(p).size()));
        // Its general.name is just "llama": the file name says more.
        QCOMPARE(m.name, std::string("stories260K"));
        // Parameters from the shapes: embeddings and output (2 × 64 × 512), final norm, and per
        // layer q, o (64 × 64), k, v (64 × 32), three FFN matrices (64 × 172) and two norms.
        const uint64_t per_layer = 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 172 + 2 * 64;
        const uint64_t n_params = 2 * 64 * 512 + 64 + 5 * per_layer;
        QCOMPARE(m.n_params, n_params);
        QCOMPARE(m.weight_bytes, 4 * n_params);
        QCOMPARE(m.quantization, std::string("F32"));  // no general.file_type: the dominant type
        QCOMPARE(m.type_totals.size(), size_t(1));
        QCOMPARE(m.type_totals[0].n_tensors, uint64_t(48));
    }

    void writtenModel() {
        const std::string p = path("tiny.gguf");
        TinyModel tm;
        tm.file_type = 15;
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        const ModelInfo& m = *r;
        QCOMPARE(m.name, std::string("Tiny Test"));
        QCOMPARE(m.architecture, std::string("qwen2"));
        QVERIFY(m.architecture_supported);
        QCOMPARE(m.context_length, 4096u);
        QCOMPARE(m.n_embd, 256u);
        QCOMPARE(m.n_layer, 2u);
        QCOMPARE(m.n_ff, 512u);
        QCOMPARE(m.n_head, 4u);
        QCOMPARE(m.n_head_kv, 2u);
        QCOMPARE(m.n_rot, 32u);
        QCOMPARE(m.rope_freq_base, 1000000.0f);
        QCOMPARE(m.rms_norm_eps, 1e-6f);
        QCOMPARE(m.n_vocab, 32u);
        QCOMPARE(m.tokenizer_model, std::string("gpt2"));
        QVERIFY(m.has_chat_template);
        QCOMPARE(m.chat_template, std::string("{{ messages }}"));
        QCOMPARE(m.quantization, std::string("Q4_K_M"));

        const uint64_t q4k = 2 * (tensor_row_bytes(TensorType::Q4_K, 256) * 256 + tensor_row_bytes(TensorType::Q4_K, 256) * 512);
        const uint64_t q6k = 2 * tensor_row_bytes(TensorType::Q6_K, 512) * 256;
        const uint64_t f32 = 4 * (256 + 2 * (256 + 256 * 8));
        const uint64_t q80 = tensor_row_bytes(TensorType::Q8_0, 256) * 32;
        QCOMPARE(m.type_totals.size(), size_t(4));
        QCOMPARE(m.type_totals[0].type, TensorType::Q4_K);
        QCOMPARE(m.type_totals[0].n_bytes, q4k);
        QCOMPARE(m.type_totals[0].n_tensors, uint64_t(4));
        QCOMPARE(m.type_totals[1].type, TensorType::Q6_K);
        QCOMPARE(m.type_totals[1].n_bytes, q6k);
        QCOMPARE(m.type_totals[2].type, TensorType::F32);
        QCOMPARE(m.type_totals[2].n_tensors, uint64_t(5));
        QCOMPARE(m.type_totals[2].n_bytes, f32);
        QCOMPARE(m.type_totals[3].type, TensorType::Q8_0);
        QCOMPARE(m.type_totals[3].n_bytes, q80);
        QCOMPARE(m.weight_bytes, q4k + q6k + f32 + q80);
        QCOMPARE(m.n_params, uint64_t(256 * 32 + 256 + 2 * (256 * 256 + 512 * 256 + 256 * 512 + 256 + 256 * 8)));
    }

    void quantizationLabel_data() {
        QTest::addColumn<int>("fileType");
        QTest::addColumn<QString>("label");
        QTest::newRow("none") << -1 << "Q4_K";  // dominant type by bytes
        QTest::newRow("0") << 0 << "F32";
        QTest::newRow("1") << 1 << "F16";
        QTest::newRow("2") << 2 << "Q4_0";
        QTest::newRow("7") << 7 << "Q8_0";
        QTest::newRow("12") << 12 << "Q3_K_M";
        QTest::newRow("15") << 15 << "Q4_K_M";
        QTest::newRow("17") << 17 << "Q5_K_M";
        QTest::newRow("18") << 18 << "Q6_K";
        QTest::newRow("30") << 30 << "IQ4_XS";
        QTest::newRow("32") << 32 << "BF16";
        QTest::newRow("unknown 999") << 999 << "Q4_K";
    }
    void quantizationLabel() {
        QFETCH(int, fileType);
        QFETCH(QString, label);
        TinyModel tm;
        tm.file_type = fileType;
        const std::string p = path("ftype.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(QString::fromStdString(r->quantization), label);
    }

    void requiredKeys_data() {
        QTest::addColumn<QString>("key");
        for (const char* k : {"general.architecture", "qwen2.context_length", "qwen2.embedding_length",
                              "qwen2.block_count", "qwen2.feed_forward_length", "qwen2.attention.head_count"}) {
            QTest::newRow(k) << QString::fromUtf8(k);
        }
    }
    void requiredKeys() {
        QFETCH(QString, key);
        TinyModel tm;
        tm.skip = {key.toStdString()};
        const std::string p = path("missing.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY(!r.ok());
        const std::string& msg = r.status().message();
        QVERIFY2(msg.find("'" + key.toStdString() + "'") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find(p) != std::string::npos, msg.c_str());
    }

    void defaults() {
        TinyModel tm;
        tm.skip = {"qwen2.attention.head_count_kv", "qwen2.rope.dimension_count", "qwen2.rope.freq_base",
                   "qwen2.attention.layer_norm_rms_epsilon"};
        const std::string p = path("defaults.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->n_head_kv, 4u);  // = head count
        QCOMPARE(r->n_rot, 64u);     // = head dim
        QCOMPARE(r->rope_freq_base, 10000.0f);
        QCOMPARE(r->rms_norm_eps, 1e-5f);
    }

    void vocabFallbacks() {
        TinyModel tm;
        tm.tokens = false;
        tm.vocab_size = true;
        const std::string p = path("vocab.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->n_vocab, 48u);  // <arch>.vocab_size

        tm.vocab_size = false;
        QVERIFY(writeTinyModel(p, tm).ok());
        r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->n_vocab, 32u);  // token_embd.weight's rows
    }

    void unsupportedArchitecture() {
        TinyModel tm;
        tm.arch = "mamba";
        tm.skip = {"mamba.feed_forward_length", "mamba.attention.head_count"};  // not required for it
        tm.chat_template = false;
        const std::string p = path("mamba.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->architecture, std::string("mamba"));
        QVERIFY(!r->architecture_supported);
        QCOMPARE(r->n_layer, 2u);
        QCOMPARE(r->n_head, 0u);
        QVERIFY(!r->has_chat_template);
    }

    // What Strata cannot run is known from the header, with a reason callers can switch on and
    // a message that names what is missing.
    void supportVerdict_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("experts");
        QTest::addColumn<QString>("tokenizer");
        QTest::addColumn<QString>("pre");
        QTest::addColumn<int>("reason");
        QTest::addColumn<QString>("says");
        QTest::newRow("qwen2") << "qwen2" << 0 << "gpt2" << "qwen2" << int(Unsupported::none) << "";
        QTest::newRow("phi3") << "phi3" << 0 << "llama" << "" << int(Unsupported::none) << "";
        QTest::newRow("mixtral") << "llama" << 8 << "llama" << "" << int(Unsupported::none) << "";
        QTest::newRow("glm4moe") << "glm4moe" << 8 << "gpt2" << "glm4" << int(Unsupported::none) << "";
        QTest::newRow("qwen2moe") << "qwen2moe" << 60 << "gpt2" << "qwen2" << int(Unsupported::architecture)
                                  << "Qwen2 MoE (qwen2moe) is not supported yet";
        QTest::newRow("gemma3n") << "gemma3n" << 0 << "llama" << "" << int(Unsupported::architecture)
                                 << "Gemma 3n (gemma3n) is not supported yet; Strata runs llama, qwen2, qwen3, phi3, gemma2, gemma3, mistral3";
        QTest::newRow("deepseek2") << "deepseek2" << 0 << "gpt2" << "deepseek-v3" << int(Unsupported::architecture)
                                   << "DeepSeek V2/V3 (deepseek2) is not supported yet";
        QTest::newRow("unknown arch") << "zorg" << 0 << "gpt2" << "" << int(Unsupported::architecture)
                                      << "The 'zorg' architecture is not supported yet";
        QTest::newRow("unknown pre-tokenizer") << "llama" << 0 << "gpt2" << "zorg-split" << int(Unsupported::pre_tokenizer)
                                               << "pre-tokenizer ('zorg-split') is not supported yet";
        QTest::newRow("rwkv vocab") << "qwen2" << 0 << "rwkv" << "" << int(Unsupported::tokenizer)
                                    << "tokenizer ('rwkv') is not supported yet";
    }
    void supportVerdict() {
        QFETCH(QString, arch);
        QFETCH(int, experts);
        QFETCH(QString, tokenizer);
        QFETCH(QString, pre);
        QFETCH(int, reason);
        QFETCH(QString, says);
        TinyModel tm;
        tm.arch = arch.toStdString();
        tm.experts = experts;
        tm.tokenizer = tokenizer.toStdString();
        tm.pre = pre.toStdString();
        const std::string p = path("verdict.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(int(r->support.reason), reason);
        QCOMPARE(r->support.ok(), reason == int(Unsupported::none));
        QVERIFY2(r->support.message.find(says.toStdString()) != std::string::npos, r->support.message.c_str());
    }

    // A vision tower in the file of a text model is said to be unused, and the model still runs.
    void visionTowerIsNoted() {
        TinyModel tm;
        tm.arch = "gemma3";
        tm.vision = true;
        const std::string p = path("vision.gguf");
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QVERIFY(r->support.ok());
        QCOMPARE(r->notes.size(), size_t(1));
        QCOMPARE(r->notes[0], std::string("its vision tower (2 tensors, 256 KiB) is not used: Strata runs the text model"));
        tm.vision = false;
        QVERIFY(writeTinyModel(p, tm).ok());
        r = inspect_model(p);
        QVERIFY(r.ok() && r->notes.empty());
    }

    void wrongTypeForSupported() {
        GgufWriter w;
        w.set_string("general.architecture", "llama");
        w.set_string("llama.context_length", "long");
        const std::string p = path("wrongtype.gguf");
        QVERIFY(w.write(p).ok());
        auto r = inspect_model(p);
        QVERIFY(!r.ok());
        QVERIFY2(r.status().message().find("'llama.context_length'") != std::string::npos, r.status().message().c_str());
    }

    // inspect_model_file: the info of inspect_model and the footprint of read_model_footprint,
    // from one opening of the file.
    void inspectionHasInfoAndFootprint() {
        const std::string p = path("inspected.gguf");
        TinyModel tm;
        tm.file_type = 15;
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model_file(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        auto info = inspect_model(p);
        auto footprint = read_model_footprint(p);
        QVERIFY(info.ok() && footprint.ok());
        QCOMPARE(r->info.name, info->name);
        QCOMPARE(r->info.n_layer, info->n_layer);
        QCOMPARE(r->info.quantization, info->quantization);
        QCOMPARE(r->info.weight_bytes, info->weight_bytes);
        QVERIFY2(r->footprint.ok(), r->footprint.status().message().c_str());
        QCOMPARE(r->footprint->n_layer, 2);
        QCOMPARE(r->footprint->layer_bytes, footprint->layer_bytes);
        QCOMPARE(r->footprint->cuda_layer_bytes, footprint->cuda_layer_bytes);
        QCOMPARE(r->footprint->embedding_bytes, footprint->embedding_bytes);
        QCOMPARE(r->footprint->n_ctx_train, footprint->n_ctx_train);
    }

    // A file Strata cannot run still yields its info (the library refuses it with the verdict);
    // a footprint it cannot have is carried as an error, not returned as the inspection's.
    void inspectionOfAnUnsupportedFile() {
        const std::string p = path("rwkv.gguf");
        TinyModel tm;
        tm.arch = "rwkv6";
        tm.skip = {"rwkv6.block_count"};
        QVERIFY(writeTinyModel(p, tm).ok());
        auto r = inspect_model_file(p);
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->info.architecture, std::string("rwkv6"));
        QCOMPARE(r->info.support.reason, Unsupported::architecture);
        QVERIFY(!r->footprint.ok());
        QVERIFY2(r->footprint.status().message().find("rwkv6.block_count") != std::string::npos,
                 r->footprint.status().message().c_str());
        const ModelInspection empty;
        QVERIFY(!empty.footprint.ok());  // a default inspection has none
    }

    void notGguf() {
        const QString p = QString::fromStdString(path("text.gguf"));
        QVERIFY(strata::test::writeFileBytes(p, "hello, this is not a model\n"));
        auto r = inspect_model(p.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.status().code(), ErrorCode::corrupt);
        QVERIFY(r.status().message().find("not a GGUF file") != std::string::npos);
    }

    void paramCount_data() {
        QTest::addColumn<qulonglong>("n");
        QTest::addColumn<QString>("text");
        QTest::newRow("0") << 0ull << "0";
        QTest::newRow("999") << 999ull << "999";
        QTest::newRow("1000") << 1000ull << "1.0K";
        QTest::newRow("260K") << 260000ull << "260K";
        QTest::newRow("stories") << 292800ull << "293K";
        QTest::newRow("999.6K") << 999600ull << "1.0M";
        QTest::newRow("1.1B") << 1100048384ull << "1.1B";
        QTest::newRow("6.7B") << 6738415616ull << "6.7B";
        QTest::newRow("13B") << 13015864320ull << "13B";
        QTest::newRow("70.6B") << 70553706496ull << "71B";
        QTest::newRow("1.2T") << 1200000000000ull << "1.2T";
    }
    void paramCount() {
        QFETCH(qulonglong, n);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(format_param_count(n)), text);
    }

    void bytes_data() {
        QTest::addColumn<qulonglong>("n");
        QTest::addColumn<QString>("text");
        QTest::newRow("0") << 0ull << "0 B";
        QTest::newRow("900") << 900ull << "900 B";
        QTest::newRow("1023") << 1023ull << "1023 B";
        QTest::newRow("1024") << 1024ull << "1.00 KiB";
        QTest::newRow("1.17 MiB") << 1226834ull << "1.17 MiB";
        QTest::newRow("43 KiB") << 44032ull << "43.0 KiB";
        QTest::newRow("512 MiB") << (512ull << 20) << "512 MiB";
        QTest::newRow("1023.9 KiB") << 1048470ull << "1.00 MiB";
        QTest::newRow("1.23 GiB") << 1320702444ull << "1.23 GiB";
        QTest::newRow("2 TiB") << (2ull << 40) << "2.00 TiB";
    }
    void bytes() {
        QFETCH(qulonglong, n);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(format_bytes(n)), text);
    }
};

QTEST_GUILESS_MAIN(TestModelInfo)
#include "tst_model_info.moc"
