// model_footprint() on the real stories260K.gguf (5 layers, dim 64, 8 heads, 4 KV heads,
// FFN 172, 512 tokens, F32, with its own output.weight), and a plan of it over three virtual CPU
// devices whose weight bytes add up to the file's tensor bytes. Then the bytes a GPU stores,
// recomputed here from the block formats, for types the GPU keeps and types it converts.
#include <QtTest>

#include <QTemporaryDir>

#include "gguf/gguf_file.h"
#include "model/random_model.h"
#include "plan/model_footprint.h"
#include "test_models.h"
#include "test_paths.h"

using namespace strata;

class TestModelFootprint : public QObject {
    Q_OBJECT
private slots:
    void stories260k() {
        const QString path = strata::test::stories260kPath();
        if (path.isEmpty()) QSKIP("stories260K.gguf is not in ../shared/models");
        auto file = gguf::GgufFile::open(path.toStdString());
        QVERIFY2(file.ok(), file.status().message().c_str());
        const auto fp = model_footprint(**file);
        QVERIFY2(fp.ok(), fp.status().message().c_str());
        const ModelFootprint& m = *fp;
        QCOMPARE(m.architecture, std::string("llama"));
        QCOMPARE(m.n_layer, 5);
        QCOMPARE(m.n_embd, int64_t(64));
        QCOMPARE(m.n_ff, int64_t(172));
        QCOMPARE(m.n_head, int64_t(8));
        QCOMPARE(m.n_head_kv, int64_t(4));
        QCOMPARE(m.n_embd_kv, int64_t(32));
        QCOMPARE(m.n_vocab, int64_t(512));
        QCOMPARE(m.n_ctx_train, int64_t(2048));
        QVERIFY(!m.output_tied);  // the file carries output.weight
        QCOMPARE(m.embedding_bytes, uint64_t(64 * 512 * 4));
        QCOMPARE(m.output_bytes, uint64_t(64 * 512 * 4));
        QCOMPARE(m.output_norm_bytes, uint64_t(64 * 4));
        // Per block, F32: q 64×64, k and v 64×32, o 64×64, gate/up/down 64×172, two norms of 64.
        const uint64_t matrices = 64 * 64 * 2 + 64 * 32 * 2 + 64 * 172 * 3;
        QCOMPARE(m.layer_bytes, std::vector<uint64_t>(5, (matrices + 2 * 64) * 4));
        QCOMPARE(m.layer_flops_per_token, 2 * matrices);

        // Split over three capped CPU devices 2:2:1: every tensor byte is placed exactly once.
        PlanRequest r;
        r.model = m;
        r.n_ctx = 512;
        r.mode = SplitMode::ratios;
        for (const char* id : {"cpu", "cpu1", "cpu2"}) {
            PlanDevice d;
            d.info.id = id;
            d.info.type = DeviceType::cpu;
            d.info.total_memory = d.info.free_memory = 64ull << 20;
            d.ratio = std::string(id) == "cpu2" ? 1 : 2;
            d.n_threads = 2;
            r.devices.push_back(d);
        }
        const Plan p = make_plan(r);
        QVERIFY2(p.fits, format_plan(r, p).c_str());
        QCOMPARE(p.stages.size(), size_t(3));
        QCOMPARE(p.stages[0].layer_end, 2);
        QCOMPARE(p.stages[1].layer_end, 4);
        QCOMPARE(p.stages[2].layer_end, 5);
        uint64_t file_bytes = 0, plan_bytes = 0;
        for (const gguf::TensorInfo& t : (*file)->tensors()) file_bytes += t.n_bytes;
        for (const DeviceUse& u : p.devices) plan_bytes += u.weight_bytes;
        QCOMPARE(plan_bytes, file_bytes);
    }

    // cuda_* bytes: a type the GPU kernels read is stored as in the file (split Q4_0 matrices
    // add at most 255 bytes of alignment each); Q3_K (110 bytes per 256) becomes Q6_K (210 per
    // 256: 1.9× the file), and Q2_K (84 per 256) Q8_0 (34 per 32: 3.2×). A tied head counts
    // token_embd a second time, as a matrix.
    void cudaBytes_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<bool>("tied");
        QTest::newRow("F16") << int(TensorType::F16) << false;
        QTest::newRow("Q4_0 tied") << int(TensorType::Q4_0) << true;
        QTest::newRow("Q3_K") << int(TensorType::Q3_K) << false;
        QTest::newRow("Q3_K tied") << int(TensorType::Q3_K) << true;
        QTest::newRow("Q2_K") << int(TensorType::Q2_K) << false;
    }
    void cudaBytes() {
        QFETCH(int, type);
        QFETCH(bool, tied);
        const auto t = static_cast<TensorType>(type);
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_embd = 256;
        c.n_layer = 3;
        c.n_head = 4;
        c.n_head_kv = 2;
        c.n_ff = 512;
        c.weight_type = t;
        c.tied_output = tied;
        QTemporaryDir dir;
        QString err;
        const QString path = test::writeRandomModel(dir, "m", c, &err);
        QVERIFY2(!path.isEmpty(), qPrintable(err));
        auto file = gguf::GgufFile::open(path.toStdString());
        QVERIFY2(file.ok(), file.status().message().c_str());
        const auto fp = model_footprint(**file);
        QVERIFY2(fp.ok(), fp.status().message().c_str());
        const ModelFootprint& m = *fp;

        // Expected GPU bytes of one 2-D tensor of `rows` × `cols`.
        auto gpu = [&](int64_t rows, int64_t cols, bool matrix) -> uint64_t {
            const auto elems = static_cast<uint64_t>(rows * cols);
            if (t == TensorType::F16) return elems * 2;
            if (t == TensorType::Q4_0) {
                if (!matrix) return elems / 32 * 18;
                return (elems / 2 + 255) / 256 * 256 + elems / 32 * 2;
            }
            // Q3_K → Q6_K: split (208 bytes + the 2-byte d) for matrices, whole 210-byte blocks
            // for the embedding table.
            if (t == TensorType::Q3_K) {
                if (!matrix) return elems / 256 * 210;
                return (elems / 256 * 208 + 255) / 256 * 256 + elems / 256 * 2;
            }
            // Q2_K → Q8_0: split for matrices, whole 34-byte blocks for the embedding table.
            if (!matrix) return elems / 32 * 34;
            return (elems + 255) / 256 * 256 + elems / 32 * 2;
        };
        const int64_t d = c.n_embd, kv = c.n_embd / c.n_head * c.n_head_kv, ff = c.n_ff;
        const uint64_t layer = 2 * gpu(d, d, true) + 2 * gpu(kv, d, true) + 2 * gpu(ff, d, true) + gpu(d, ff, true) +
                               2 * static_cast<uint64_t>(d) * 4;
        QCOMPARE(m.cuda_layer_bytes.size(), size_t(3));
        for (uint64_t b : m.cuda_layer_bytes) QCOMPARE(b, layer);
        QCOMPARE(m.cuda_embedding_bytes, gpu(c.n_vocab, d, false));
        QCOMPARE(m.cuda_output_bytes, gpu(c.n_vocab, d, true));
        QCOMPARE(m.output_tied, tied);
        if (t != TensorType::Q3_K && t != TensorType::Q2_K) {
            QVERIFY(m.cuda_conversions.empty());
            return;
        }
        QCOMPARE(m.cuda_conversions.size(), size_t(1));
        const ModelFootprint::CudaConversion& cv = m.cuda_conversions[0];
        QCOMPARE(cv.from, t);
        QCOMPARE(cv.to, t == TensorType::Q3_K ? TensorType::Q6_K : TensorType::Q8_0);
        QCOMPARE(cv.tensors, 3 * 7 + 2);  // seven matrices a layer, the table, the head
        uint64_t file_bytes = 0;
        for (uint64_t b : m.layer_bytes) file_bytes += b - 2 * static_cast<uint64_t>(d) * 4;
        file_bytes += m.embedding_bytes + m.output_bytes;
        QCOMPARE(cv.file_bytes, file_bytes);
        QCOMPARE(cv.cuda_bytes, 3 * (layer - 2 * static_cast<uint64_t>(d) * 4) + m.cuda_embedding_bytes + m.cuda_output_bytes);
        QVERIFY(cv.cuda_bytes > (t == TensorType::Q3_K ? 1.8 : 3.0) * double(cv.file_bytes));
    }
};

QTEST_GUILESS_MAIN(TestModelFootprint)
#include "tst_model_footprint.moc"
