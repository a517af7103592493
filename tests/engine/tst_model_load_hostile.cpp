// Models that are well-formed GGUF but wrong as models: every metadata key of a valid model
// replaced in turn by hostile values (zero, negative, huge, NaN, the wrong type, arrays of the
// wrong length), and every tensor given a wrong shape or type, or dropped. Each file goes through
// the whole path a user's file takes (inspect, plan, load on capped CPU devices, tokenize,
// generate a few tokens): an error is fine, a crash, a hang or an out-of-bounds access (ASan in
// CI) is not. The reader's own damage tests are in tst_gguf_malformed.
#include <QtTest>

#include <cmath>
#include <functional>
#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/random_model.h"
#include "strata/engine.h"
#include "strata/model_info.h"
#include "test_paths.h"

using namespace strata;
using namespace strata::gguf;

namespace {

using Edit = std::function<void(GgufWriter&)>;

// Random bytes that decode to small finite values in every type the tests use (no NaN/Inf F32
// or F16 bit patterns: the 0x3C high byte keeps exponents moderate).
std::vector<uint8_t> tame_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = (i % 2 == 1) ? uint8_t(0x30 + rng() % 12) : uint8_t(rng());
    return b;
}

struct Outcome {
    bool loaded = false;
    QString error;
};

}  // namespace

class TestModelLoadHostile : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    Engine engine_;
    int cases_ = 0, refused_ = 0;

    // Writes `base` with its metadata edited and its tensors re-added through `tensor_filter`
    // (which may change a tensor's type/shape — data is then made to fit — or drop it).
    struct TensorSpec {
        std::string name;
        TensorType type;
        std::vector<int64_t> ne;
        bool keep = true;
        bool fresh_data = false;
    };
    QString write_variant(const GgufFile& base, const Edit& edit, const std::function<void(TensorSpec&)>& tensor_edit) {
        GgufWriter w;
        w.copy_metadata_from(base);
        if (edit) edit(w);
        uint32_t seed = 1;
        for (const TensorInfo& t : base.tensors()) {
            TensorSpec s{t.name, t.type, t.ne};
            if (tensor_edit) tensor_edit(s);
            if (!s.keep) continue;
            int64_t rows = 1;
            for (size_t i = 1; i < s.ne.size(); ++i) rows *= s.ne[i];
            const size_t bytes = tensor_row_bytes(s.type, s.ne[0]) * size_t(rows);
            std::vector<uint8_t> data = s.fresh_data || bytes != t.n_bytes || s.type != t.type
                                            ? tame_bytes(bytes, seed++)
                                            : std::vector<uint8_t>(t.data, t.data + t.n_bytes);
            if (!w.add_tensor(s.name, s.type, s.ne, std::move(data)).ok()) return {};  // the writer refuses it
        }
        const QString path = dir_.filePath(QStringLiteral("variant-%1.gguf").arg(cases_));
        if (!w.write(path.toStdString()).ok()) return {};
        return path;
    }

    // The path a user's file takes. Returns whether it loaded; records refusals.
    Outcome exercise(const QString& path) {
        ++cases_;
        Outcome o;
        auto info = inspect_model(path.toStdString());
        Engine& engine = engine_;  // one engine: its device probe runs once, not per file
        LoadOptions opts;
        DeviceSpec a, b;
        a.kind = b.kind = "cpu";
        a.memory_cap = 256ull << 20;
        b.memory_cap = 64ull << 20;
        opts.devices = {a, b};
        opts.mode = SplitMode::even;
        opts.n_ctx = 64;
        opts.n_threads = 2;
        auto plan = engine.plan(path.toStdString(), opts);
        (void)plan;  // may fail; load must then fail too, cleanly
        auto model = engine.load(path.toStdString(), opts);
        if (!model.ok()) {
            ++refused_;
            o.error = QString::fromStdString(model.status().message());
            if (o.error.isEmpty()) qWarning("refused without a message: %s", qPrintable(path));
            return o;
        }
        o.loaded = true;
        (void)info;
        Model& m = **model;
        const auto toks = m.tokenize("Once upon a time, héllo", true);
        (void)m.detokenize(toks);
        auto seq = m.create_sequence();
        if (!seq.ok()) return o;
        GenerateParams p;
        p.max_tokens = 4;
        p.sampler.temperature = 0.8f;
        p.sampler.seed = 3;
        std::string text;
        auto r = (*seq)->generate(toks.empty() ? std::vector<int32_t>{1} : toks, p,
                                  [&](std::string_view piece) { text += piece; });
        (void)r;
        return o;
    }

    std::unique_ptr<GgufFile> base_;
    QString basePath_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_embd = 32;
        c.n_layer = 3;
        c.n_head = 4;
        c.n_head_kv = 2;
        c.n_ff = 64;
        basePath_ = dir_.filePath(QStringLiteral("base.gguf"));
        QVERIFY(write_random_model(c, basePath_.toStdString()).ok());
        auto f = GgufFile::open(basePath_.toStdString());
        QVERIFY(f.ok());
        base_ = std::move(*f);
        const Outcome ok = exercise(basePath_);
        QVERIFY2(ok.loaded, qPrintable(ok.error));  // the untouched model works
    }

    void hostileMetadataValues() {
        int n = 0;
        for (const KeyValue& kv : base_->metadata()) {
            if (kv.key == "general.alignment") continue;
            const std::string k = kv.key;
            const std::vector<Edit> edits = {
                [k](GgufWriter& w) { w.set_u32(k, 0); },
                [k](GgufWriter& w) { w.set_i32(k, -1); },
                [k](GgufWriter& w) { w.set_u64(k, 1ull << 40); },
                [k](GgufWriter& w) { w.set_u32(k, 7); },
                [k](GgufWriter& w) { w.set_f32(k, NAN); },
                [k](GgufWriter& w) { w.set_f32(k, -1.0f); },
                [k](GgufWriter& w) { w.set_string(k, "x"); },
                [k](GgufWriter& w) { w.set_i32_array(k, {}); },
                [k](GgufWriter& w) { w.set_i32_array(k, {5}); },
                [k](GgufWriter& w) { w.set_string_array(k, {"a", "b"}); },
            };
            for (size_t e = 0; e < edits.size(); ++e) {
                const QString path = write_variant(*base_, edits[e], nullptr);
                if (path.isEmpty()) continue;
                exercise(path);  // must return, whatever it decides
                ++n;
            }
        }
        QVERIFY(n > 100);
        qInfo("%d metadata variants, %d refused so far", n, refused_);
    }

    void removedKeys() {
        // Each key dropped: rebuild the metadata without it.
        int n = 0;
        for (const KeyValue& drop : base_->metadata()) {
            if (drop.key == "general.alignment" || drop.key == "general.architecture") continue;
            GgufWriter w;
            for (const KeyValue& kv : base_->metadata())
                if (kv.key != drop.key && kv.key != "general.alignment") w.set_value(kv.key, kv.value);
            for (const TensorInfo& t : base_->tensors())
                QVERIFY(w.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.n_bytes)).ok());
            const QString path = dir_.filePath(QStringLiteral("dropped-%1.gguf").arg(n++));
            QVERIFY(w.write(path.toStdString()).ok());
            exercise(path);
        }
        QVERIFY(n > 10);
    }

    void hostileTensors() {
        int n = 0, refused_before = refused_;
        for (const TensorInfo& t : base_->tensors()) {
            const std::string name = t.name;
            const std::vector<std::function<void(TensorSpec&)>> edits = {
                [name](TensorSpec& s) { if (s.name == name) s.keep = false; },
                [name](TensorSpec& s) { if (s.name == name && s.ne.size() == 2) std::swap(s.ne[0], s.ne[1]); },
                [name](TensorSpec& s) { if (s.name == name) s.ne[0] += 32; },
                [name](TensorSpec& s) { if (s.name == name) s.ne.push_back(2); },
                [name](TensorSpec& s) { if (s.name == name && s.ne.size() > 1) s.ne[1] += 1; },
                [name](TensorSpec& s) { if (s.name == name) s.type = TensorType::F16; },
                [name](TensorSpec& s) { if (s.name == name && s.ne[0] % 32 == 0) s.type = TensorType::Q4_0; },
                [name](TensorSpec& s) { if (s.name == name && s.ne[0] % 256 == 0) s.type = TensorType::Q4_K; },
                [name](TensorSpec& s) { if (s.name == name) s.type = TensorType::I32; },
                [name](TensorSpec& s) { if (s.name == name) s.fresh_data = true; },
            };
            for (const auto& edit : edits) {
                const QString path = write_variant(*base_, nullptr, edit);
                if (path.isEmpty()) continue;
                exercise(path);
                ++n;
            }
        }
        QVERIFY(n > 50);
        QVERIFY(refused_ - refused_before > 20);  // the damage is real: most shapes are refused
        qInfo("%d tensor variants, %d refused", n, refused_ - refused_before);
    }

    // The real model too, where present: its SentencePiece vocabulary is the hostile target.
    void stories260kVocabulary() {
        const QString p = strata::test::stories260kPath();
        if (p.isEmpty()) QSKIP("../shared/models/stories260K.gguf is absent");
        auto f = GgufFile::open(p.toStdString());
        QVERIFY(f.ok());
        const std::vector<Edit> edits = {
            [](GgufWriter& w) { w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>"}); },
            [](GgufWriter& w) { w.set_f32_array("tokenizer.ggml.scores", {0.5f}); },
            [](GgufWriter& w) { w.set_i32_array("tokenizer.ggml.token_type", {1, 2, 3}); },
            [](GgufWriter& w) { w.set_u32("tokenizer.ggml.bos_token_id", 100000); },
            [](GgufWriter& w) { w.set_u32("tokenizer.ggml.eos_token_id", 512); },
            [](GgufWriter& w) { w.set_string("tokenizer.ggml.model", "gpt2"); },
            [](GgufWriter& w) { w.set_string("tokenizer.ggml.model", "bert"); },
            [](GgufWriter& w) { w.set_u32("llama.attention.head_count", 3); },
            [](GgufWriter& w) { w.set_u32("llama.attention.head_count_kv", 0); },
            [](GgufWriter& w) { w.set_u32("llama.rope.dimension_count", 1000); },
            [](GgufWriter& w) { w.set_u32("llama.context_length", 0); },
            [](GgufWriter& w) { w.set_u32("llama.block_count", 50); },
            [](GgufWriter& w) { w.set_u32("llama.embedding_length", 65); },
        };
        for (const Edit& e : edits) {
            const QString path = write_variant(**f, e, nullptr);
            QVERIFY(!path.isEmpty());
            exercise(path);
        }
    }
};

QTEST_GUILESS_MAIN(TestModelLoadHostile)
#include "tst_model_load_hostile.moc"
