// model_footprint() on the real stories260K.gguf (5 layers, dim 64, 8 heads, 4 KV heads,
// FFN 172, 512 tokens, F32, with its own output.weight), and a plan of it over three virtual CPU
// devices whose weight bytes add up to the file's tensor bytes.
#include <QtTest>

#include "gguf/gguf_file.h"
#include "plan/model_footprint.h"
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
};

QTEST_GUILESS_MAIN(TestModelFootprint)
#include "tst_model_footprint.moc"
