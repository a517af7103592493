// model_footprint() on synthetic GGUF directories (metadata and tensor lists built here), so the
// hparam and size rules are tested without the file reader. The same on a real file:
// tst_model_footprint.
#include <QtTest>

#include "plan/model_footprint.h"

using namespace strata;
using gguf::KeyValue;
using gguf::TensorInfo;
using gguf::ValueType;

namespace {

KeyValue kv_uint(const std::string& key, uint64_t v, ValueType t = ValueType::UINT32) {
    KeyValue e;
    e.key = key;
    e.value.type = t;
    e.value.u = v;
    e.offset = 24;
    return e;
}

KeyValue kv_int(const std::string& key, int64_t v) {
    KeyValue e;
    e.key = key;
    e.value.type = ValueType::INT32;
    e.value.i = v;
    return e;
}

KeyValue kv_str(const std::string& key, std::string_view v) {
    KeyValue e;
    e.key = key;
    e.value.type = ValueType::STRING;
    e.value.str = v;
    return e;
}

TensorInfo tensor(const std::string& name, std::vector<int64_t> ne) {
    TensorInfo t;
    t.name = name;
    t.type = TensorType::F32;
    t.ne = std::move(ne);
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    t.n_bytes = static_cast<uint64_t>(n) * 4;
    return t;
}

// A small Llama: n_embd 64, 8 heads, 4 KV heads (head_dim 8), FFN 172, vocab 100.
struct Dir {
    std::vector<KeyValue> meta;
    std::vector<TensorInfo> tensors;

    explicit Dir(int n_layer = 3, bool with_output = false) {
        meta = {kv_str("general.architecture", "llama"), kv_uint("llama.block_count", static_cast<uint64_t>(n_layer)),
                kv_uint("llama.embedding_length", 64), kv_uint("llama.feed_forward_length", 172),
                kv_uint("llama.attention.head_count", 8), kv_uint("llama.attention.head_count_kv", 4),
                kv_uint("llama.context_length", 2048)};
        tensors.push_back(tensor("token_embd.weight", {64, 100}));
        tensors.push_back(tensor("output_norm.weight", {64}));
        if (with_output) tensors.push_back(tensor("output.weight", {64, 100}));
        for (int il = 0; il < n_layer; ++il) {
            const std::string p = "blk." + std::to_string(il) + ".";
            tensors.push_back(tensor(p + "attn_norm.weight", {64}));
            tensors.push_back(tensor(p + "attn_q.weight", {64, 64}));
            tensors.push_back(tensor(p + "attn_k.weight", {64, 32}));
            tensors.push_back(tensor(p + "attn_v.weight", {64, 32}));
            tensors.push_back(tensor(p + "attn_output.weight", {64, 64}));
            tensors.push_back(tensor(p + "ffn_norm.weight", {64}));
            tensors.push_back(tensor(p + "ffn_gate.weight", {64, 172}));
            tensors.push_back(tensor(p + "ffn_down.weight", {172, 64}));
            tensors.push_back(tensor(p + "ffn_up.weight", {64, 172}));
        }
        tensors.push_back(tensor("rope_freqs.weight", {4}));  // every layer holds a copy
    }
    void set(const KeyValue& e) {
        for (KeyValue& k : meta)
            if (k.key == e.key) { k = e; return; }
        meta.push_back(e);
    }
    void drop_key(const std::string& key) {
        std::erase_if(meta, [&](const KeyValue& k) { return k.key == key; });
    }
    void drop_tensor(const std::string& name) {
        std::erase_if(tensors, [&](const TensorInfo& t) { return t.name == name; });
    }
    Result<ModelFootprint> footprint() const { return model_footprint(meta, tensors, "test.gguf"); }
};

constexpr uint64_t kLayerBytes = (64 + 64 * 64 + 64 * 32 * 2 + 64 * 64 + 64 + 64 * 172 * 3 + 4) * 4;
constexpr uint64_t kLayerFlops = 2 * (64 * 64 * 2 + 64 * 32 * 2 + 64 * 172 * 3);

}  // namespace

class TestPlannerFootprint : public QObject {
    Q_OBJECT
private slots:
    void tiedLlama() {
        const Dir dir;
        const auto r = dir.footprint();
        QVERIFY2(r.ok(), r.status().message().c_str());
        const ModelFootprint& m = *r;
        QCOMPARE(m.architecture, std::string("llama"));
        QCOMPARE(m.n_layer, 3);
        QCOMPARE(m.n_embd, int64_t(64));
        QCOMPARE(m.n_ff, int64_t(172));
        QCOMPARE(m.n_head, int64_t(8));
        QCOMPARE(m.n_head_kv, int64_t(4));
        QCOMPARE(m.n_embd_kv, int64_t(32));
        QCOMPARE(m.n_vocab, int64_t(100));
        QCOMPARE(m.n_ctx_train, int64_t(2048));
        QCOMPARE(m.layer_bytes, std::vector<uint64_t>(3, kLayerBytes));
        QCOMPARE(m.layer_flops_per_token, kLayerFlops);
        QCOMPARE(m.embedding_bytes, uint64_t(64 * 100 * 4));
        QVERIFY(m.output_tied);
        QCOMPARE(m.output_bytes, m.embedding_bytes);
        QCOMPARE(m.output_norm_bytes, uint64_t(64 * 4));
    }

    void separateOutputAndOptionalKeys() {
        Dir dir(2, true);
        dir.tensors[2].n_bytes = 1234;  // output.weight, say quantized
        dir.drop_key("llama.attention.head_count_kv");
        dir.drop_key("llama.context_length");
        dir.set(kv_int("llama.block_count", 2));  // signed integer types are fine too
        const auto r = dir.footprint();
        QVERIFY2(r.ok(), r.status().message().c_str());
        QVERIFY(!r->output_tied);
        QCOMPARE(r->output_bytes, uint64_t(1234));
        QCOMPARE(r->n_head_kv, int64_t(8));  // defaults to head_count
        QCOMPARE(r->n_embd_kv, int64_t(64));
        QCOMPARE(r->n_ctx_train, int64_t(0));
        QCOMPARE(r->n_layer, 2);
    }

    void keyLengthSetsHeadDim() {
        Dir dir;
        dir.set(kv_uint("llama.attention.key_length", 32));
        const auto r = dir.footprint();
        QVERIFY(r.ok());
        QCOMPARE(r->n_embd_kv, int64_t(4 * 32));
    }

    void otherArchitecture() {
        Dir dir;
        for (KeyValue& k : dir.meta)
            if (k.key.rfind("llama.", 0) == 0) k.key = "qwen2." + k.key.substr(6);
        dir.set(kv_str("general.architecture", "qwen2"));
        const auto r = dir.footprint();
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE(r->architecture, std::string("qwen2"));
        QCOMPARE(r->n_layer, 3);
    }

    void errors_data() {
        QTest::addColumn<int>("what");
        QTest::addColumn<QString>("says");
        QTest::newRow("no architecture") << 0 << "missing key general.architecture";
        QTest::newRow("architecture not a string") << 1 << "general.architecture is not a non-empty string";
        QTest::newRow("no block count") << 2 << "missing key llama.block_count";
        QTest::newRow("block count a string") << 3 << "key llama.block_count at offset 0: expected an integer";
        QTest::newRow("zero layers") << 4 << "key llama.block_count is 0, expected 1 to";
        QTest::newRow("zero heads") << 5 << "key llama.attention.head_count is 0";
        QTest::newRow("heads do not divide") << 6 << "embedding_length 64 is not a multiple of llama.attention.head_count 7";
        QTest::newRow("layer past block count") << 7 << "tensor blk.3.attn_q.weight: layer 3 but llama.block_count is 3";
        QTest::newRow("layer without tensors") << 8 << "no tensors for layer 1 (blk.1.*) of 3";
        QTest::newRow("no token_embd") << 9 << "missing tensor token_embd.weight";
        QTest::newRow("token_embd wrong shape") << 10 << "tensor token_embd.weight: expected shape (64, n_vocab)";
        QTest::newRow("malformed block name") << 11 << "tensor blk.x.attn_q.weight: no layer number";
        QTest::newRow("value too large") << 12 << "key llama.embedding_length at offset 24: value 18446744073709551615 is too large";
        QTest::newRow("negative context") << 13 << "key llama.context_length is negative";
        QTest::newRow("zero kv heads") << 14 << "key llama.attention.head_count_kv is 0";
    }
    void errors() {
        QFETCH(int, what);
        QFETCH(QString, says);
        Dir dir;
        switch (what) {
            case 0: dir.drop_key("general.architecture"); break;
            case 1: dir.set(kv_uint("general.architecture", 1)); break;
            case 2: dir.drop_key("llama.block_count"); break;
            case 3: { KeyValue e = kv_str("llama.block_count", "3"); e.offset = 0; dir.set(e); break; }
            case 4: dir.set(kv_uint("llama.block_count", 0)); break;
            case 5: dir.set(kv_uint("llama.attention.head_count", 0)); break;
            case 6: dir.set(kv_uint("llama.attention.head_count", 7)); break;
            case 7: dir.tensors.push_back(tensor("blk.3.attn_q.weight", {64, 64})); break;
            case 8: std::erase_if(dir.tensors, [](const TensorInfo& t) { return t.name.rfind("blk.1.", 0) == 0; }); break;
            case 9: dir.drop_tensor("token_embd.weight"); break;
            case 10: dir.tensors[0].ne = {32, 200}; break;
            case 11: dir.tensors.push_back(tensor("blk.x.attn_q.weight", {64, 64})); break;
            case 12: dir.set(kv_uint("llama.embedding_length", UINT64_MAX, ValueType::UINT64)); break;
            case 13: dir.set(kv_int("llama.context_length", -1)); break;
            case 14: dir.set(kv_uint("llama.attention.head_count_kv", 0)); break;
        }
        const auto r = dir.footprint();
        QVERIFY(!r.ok());
        QCOMPARE(r.status().code(), ErrorCode::corrupt);
        const QString msg = QString::fromStdString(r.status().message());
        QVERIFY2(msg.startsWith("test.gguf: "), qPrintable(msg));
        QVERIFY2(msg.contains(says), qPrintable(msg));
    }
};

QTEST_GUILESS_MAIN(TestPlannerFootprint)
#include "tst_planner_footprint.moc"
