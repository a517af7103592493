// The CUDA backend's host-side planning, which needs no GPU: which recorded ops are fused into
// one launch (and which must not be), the prefill GEMM's workspace against the memory layout the
// planner predicts, split-K attention geometry, and the weight layouts streamed to the device.
// The module's plain-C++ sources are compiled into this test directly.
#include <QtTest>

#include <algorithm>
#include <cstring>
#include <random>

#include "backend/cuda/cuda_fusion.cpp"
#include "backend/cuda/cuda_gemm_plan.h"
#include "backend/cuda/cuda_weight_layout.cpp"
#include "backend/weight_storage.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/model_tensors.h"
#include "plan/memory_estimate.h"
#include "plan/model_footprint.h"
#include "quant/quant.h"
#include "test_models.h"

using namespace strata;
using namespace strata::cuda;

namespace {

// `rows` rows of `cols` Gaussian values quantized to `t`, in the file's layout.
std::vector<uint8_t> random_matrix(TensorType t, int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd;
    const size_t rb = tensor_row_bytes(t, cols);
    std::vector<uint8_t> bytes(rb * static_cast<size_t>(rows));
    std::vector<float> v(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        for (auto& x : v) x = nd(rng);
        quant::quantize_row_ref(t, v.data(), bytes.data() + r * rb, cols);
    }
    return bytes;
}

// Fake device addresses: regions of a pretend scratch buffer, far apart.
float* region(int i) { return reinterpret_cast<float*>(uintptr_t{0x100000000ull} + static_cast<uintptr_t>(i) * 0x1000000ull); }

OpWeight weight(int id, int type, int64_t rows, int64_t cols) {
    OpWeight w;
    w.handle = reinterpret_cast<const void*>(uintptr_t{0x1000} * static_cast<uintptr_t>(id + 1));
    w.data = w.handle;
    w.type = type;
    w.n_rows = rows;
    w.n_cols = cols;
    w.quantized = type >= 3;
    return w;
}

Op mm(const OpWeight& w, const float* x, float* out, int64_t n_tok, void* act) {
    Op o;
    o.kind = OpKind::matmul;
    o.w = w;
    o.x = x;
    o.out = out;
    o.n_tok = n_tok;
    o.act = act;
    return o;
}

// The ops llama_layer_forward records for one layer (n_embd 256, 4 heads of 64, 2 KV heads).
std::vector<Op> layer_ops(int64_t n_tok, int type_qk, int type_v, bool bias = false) {
    const int64_t n_embd = 256, n_kv = 128, n_ff = 512, hd = 64;
    float *x = region(0), *cur = region(1), *q = region(2), *k = region(3), *v = region(4), *attn = region(5),
          *gate = region(6), *up = region(7), *scores = region(8);
    void* act = region(20);  // workspace at the buffer's end
    std::vector<Op> ops;
    Op norm;
    norm.kind = OpKind::rms_norm;
    norm.x = x;
    norm.out = cur;
    norm.n_tok = n_tok;
    norm.n = n_embd;
    norm.w = weight(90, 0, 1, n_embd);
    ops.push_back(norm);
    ops.push_back(mm(weight(1, type_qk, n_embd, n_embd), cur, q, n_tok, act));
    ops.push_back(mm(weight(2, type_qk, n_kv, n_embd), cur, k, n_tok, act));
    ops.push_back(mm(weight(3, type_v, n_kv, n_embd), cur, v, n_tok, act));
    if (bias) {
        for (float* p : {q, k, v}) {
            Op b;
            b.kind = OpKind::add_bias;
            b.x = p;
            b.n_tok = n_tok;
            b.n = p == q ? n_embd : n_kv;
            ops.push_back(b);
        }
    }
    Op rq;
    rq.kind = OpKind::rope;
    rq.x = q;
    rq.n_tok = n_tok;
    rq.n_head = 4;
    rq.head_dim = hd;
    rq.rope.n_rot = 64;
    Op rk = rq;
    rk.x = k;
    rk.n_head = 2;
    Op st;
    st.kind = OpKind::store_kv;
    st.x = k;
    st.y = v;
    st.n_tok = n_tok;
    st.kv.n_embd_kv = n_kv;
    st.kv.n_ctx = 256;
    ops.push_back(rq);
    ops.push_back(rk);
    ops.push_back(st);
    Op at;
    at.kind = OpKind::attention;
    at.x = q;
    at.out = attn;
    at.n_tok = n_tok;
    at.n_head = 4;
    at.n_head_kv = 2;
    at.head_dim = hd;
    at.scratch = scores;
    at.n_chunks = 4;
    ops.push_back(at);
    ops.push_back(mm(weight(4, type_qk, n_embd, n_embd), attn, cur, n_tok, act));
    Op add;
    add.kind = OpKind::add;
    add.x = x;
    add.y = cur;
    add.n = n_tok * n_embd;
    ops.push_back(add);
    Op norm2 = norm;
    ops.push_back(norm2);
    ops.push_back(mm(weight(5, type_qk, n_ff, n_embd), cur, gate, n_tok, act));
    ops.push_back(mm(weight(6, type_qk, n_ff, n_embd), cur, up, n_tok, act));
    Op sw;
    sw.kind = OpKind::swiglu;
    sw.x = gate;
    sw.y = up;
    sw.out = gate;
    sw.n = n_tok * n_ff;
    ops.push_back(sw);
    ops.push_back(mm(weight(7, type_v, n_embd, n_ff), gate, cur, n_tok, act));
    ops.push_back(add);
    return ops;
}

std::string kinds(const std::vector<Item>& items) {
    std::string s;
    for (const Item& it : items) {
        s += item_kind_name(it.kind);
        if (it.kind == ItemKind::matvec) s += std::to_string(it.n_mat) + (it.epilogue == 1 ? "+add" : it.epilogue == 2 ? "+swiglu" : "");
        if (it.kind == ItemKind::attention && it.act) s += "+quant";
        s += " ";
    }
    return s;
}

}  // namespace

class TestCudaPlan : public QObject {
    Q_OBJECT

private slots:
    void decodeLayerFuses() {
        const auto ops = layer_ops(1, 5, 5);  // Q4_K
        const auto items = plan_launches(ops, PlanOptions{});
        QCOMPARE(kinds(items), std::string("norm_quant matvec3 rope_store attention+quant matvec1+add norm_quant "
                                           "matvec2+swiglu quant matvec1+add "));
        int consumed = 0;
        for (const Item& it : items) consumed += it.count;
        QCOMPARE(consumed, static_cast<int>(ops.size()));
        QVERIFY(graphable(ops, items));
    }

    // The launch profile's rows are keyed by these labels: kind, weight type, shape and tokens.
    void itemLabelsNameTheLaunch() {
        const auto ops = layer_ops(1, 3, 5);  // q, k Q4_0; v Q4_K (not fused with q, k)
        const auto items = plan_launches(ops, PlanOptions{});
        std::string all;
        for (const Item& it : items) all += item_label(it, ops) + "; ";
        QCOMPARE(QString::fromStdString(all), QString("rms_norm+quantize 256 t1; matvec Q4_0 (256+128)x256 t1; matvec Q4_K 128x256 t1; "
                                  "rope q,k+store_kv hd64 t1; attention split-K 4x64 chunks 4 t1 +quantize; "
                                  "matvec Q4_0 256x256 t1 +residual; rms_norm+quantize 256 t1; "
                                  "matvec Q4_0 (512+512)x256 t1 +swiglu; quantize activations 512 t1; "
                                  "matvec Q4_K 256x512 t1 +residual; "));
        const auto prefill = layer_ops(40, 3, 3);
        const auto pitems = plan_launches(prefill, PlanOptions{});
        QCOMPARE(QString::fromStdString(item_label(pitems[1], prefill)), QString("gemm Q4_0 256x256 t40"));
    }

    void fusionOffLaunchesEveryOp() {
        const auto ops = layer_ops(3, 3, 3);  // Q4_0, 3 tokens
        const auto items = plan_launches(ops, PlanOptions{false});
        QCOMPARE(kinds(items), std::string("op quant matvec1 quant matvec1 quant matvec1 op op op attention quant matvec1 "
                                           "op op quant matvec1 quant matvec1 op quant matvec1 op "));
    }

    void mixedTypesShareActivations() {
        const auto ops = layer_ops(1, 5, 7);  // Q4_K q/k, Q6_K v and down (as in Q4_K_M)
        const auto items = plan_launches(ops, PlanOptions{});
        QCOMPARE(kinds(items).substr(0, 32), std::string("norm_quant matvec2 matvec1 rope_"));
    }

    void biasesBreakNothing() {
        const auto ops = layer_ops(1, 1, 1, true);  // F16 weights, qwen2 biases
        const auto items = plan_launches(ops, PlanOptions{});
        QCOMPARE(kinds(items).substr(0, 40), std::string("op matvec3 op op op rope_store attention"));
    }

    void prefillUsesGemm() {
        const auto ops = layer_ops(64, 5, 5);
        const auto items = plan_launches(ops, PlanOptions{});
        QVERIFY(!graphable(ops, items));
        int gemms = 0, converts = 0;
        for (const Item& it : items) {
            gemms += it.kind == ItemKind::gemm;
            converts += it.kind == ItemKind::gemm && it.convert_x;
        }
        QCOMPARE(gemms, 7);
        QCOMPARE(converts, 4);  // q/k/v share one conversion, gate/up another
    }

    void overlappingResidualIsNotFused() {
        auto ops = layer_ops(1, 5, 5);
        // Make the residual add's target overlap the matmul output.
        for (Op& o : ops)
            if (o.kind == OpKind::add) o.x = o.y + 8;
        const auto items = plan_launches(ops, PlanOptions{});
        for (const Item& it : items) QVERIFY(it.epilogue != 1);
    }

    // The MoE ops (router logits → moe_route → moe_ffn) launch on their own, after the router's
    // matvec, and their signatures carry what their kernels read: a different expert table or
    // choice count is a different graph.
    void moeOpsLaunchAloneAndSign() {
        float *cur = region(1), *logits = region(9), *wts = region(11), *out = region(12);
        auto* ids = reinterpret_cast<int32_t*>(region(10));
        std::vector<Op> ops = {mm(weight(1, 5, 16, 256), cur, logits, 1, region(20))};
        Op route;
        route.kind = OpKind::moe_route;
        route.n_tok = 1;
        route.n = 16;
        route.route.logits = logits;
        route.route.n_tok = 1;
        route.route.n_expert = 16;
        route.route.n_used = 4;
        route.route.ids = ids;
        route.route.weights = wts;
        ops.push_back(route);
        Op ffn;
        ffn.kind = OpKind::moe_ffn;
        ffn.n_tok = 1;
        ffn.n = 256;
        ffn.x = cur;
        ffn.out = out;
        ffn.moe.experts = reinterpret_cast<const cuk::MoeExpertView*>(region(30));
        ffn.moe.n_expert = 16;
        ffn.moe.n_embd = 256;
        ffn.moe.n_ff = 512;
        ffn.moe.n_used = 4;
        ffn.moe.x = cur;
        ffn.moe.ids = ids;
        ffn.moe.weights = wts;
        ffn.moe.out = out;
        ffn.moe.n_tok = 1;
        ops.push_back(ffn);
        for (bool fuse : {true, false}) {
            const auto items = plan_launches(ops, PlanOptions{fuse});
            QVERIFY(items.size() >= 3);
            const Item& a = items[items.size() - 2];
            const Item& b = items.back();
            QVERIFY(a.kind == ItemKind::op);
            QCOMPARE(a.first, 1);
            QVERIFY(b.kind == ItemKind::op);
            QCOMPARE(b.first, 2);
            QCOMPARE(item_label(a, ops), std::string("moe_route 16 t1"));
        }
        const auto sig = [](const Op& o) {
            std::vector<uint64_t> v;
            append_signature(o, v);
            return v;
        };
        Op other = ffn;
        QVERIFY(sig(other) == sig(ffn));
        other.moe.experts = reinterpret_cast<const cuk::MoeExpertView*>(region(31));
        QVERIFY(sig(other) != sig(ffn));
        // Prefill's grouped launch (its workspace layout) is part of what a graph replays.
        Op grouped = ffn;
        grouped.moe.grouped = 1;
        QVERIFY(sig(grouped) != sig(ffn));
        Op moved = grouped;
        moved.moe.sort = reinterpret_cast<int32_t*>(region(32));
        QVERIFY(sig(moved) != sig(grouped));
        Op route2 = route;
        route2.route.n_used = 2;
        QVERIFY(sig(route2) != sig(route));
    }

    // Attention sinks (gpt-oss) travel as the attention op's weight: two layers' sinks are two
    // graphs, and the decode attention still hands its output to the next matvec quantized.
    void attentionSinksSignAndFuse() {
        const auto sig = [](const Op& o) {
            std::vector<uint64_t> v;
            append_signature(o, v);
            return v;
        };
        const std::vector<Op> layer = layer_ops(1, 5, 5);  // Q4_K: quantized matvecs
        Op plain = *std::find_if(layer.begin(), layer.end(), [](const Op& o) { return o.kind == OpKind::attention; });
        Op with = plain, other = plain;
        with.w = weight(40, 0, 1, plain.n_head);  // (n_head) F32
        other.w = weight(41, 0, 1, plain.n_head);
        QVERIFY(sig(with) != sig(plain));
        QVERIFY(sig(with) != sig(other));
        std::vector<Op> ops = layer;
        for (Op& o : ops)
            if (o.kind == OpKind::attention) o = with;
        QCOMPARE(kinds(plan_launches(ops, PlanOptions{true})), kinds(plan_launches(layer, PlanOptions{true})));
        QVERIFY(kinds(plan_launches(ops, PlanOptions{true})).find("attention+quant") != std::string::npos);
    }

    // A CUDA device running a MoE layer's experts allocates each expert's weights as
    // plan_weight_layout lays them out (every expert a weight of its own) and the layer's table
    // of expert views; the footprint the planner budgets with must be that, byte for byte (the
    // issue asks for 5%). Split layouts (Q4_0, Q8_0, Q6_K) pad each expert's matrix; gpt-oss's
    // MXFP4 experts become Q8_0 and carry biases.
    void expertBytesAreWhatTheDeviceAllocates_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("type");
        QTest::newRow("qwen3moe Q4_0") << "qwen3moe" << int(TensorType::Q4_0);
        QTest::newRow("mixtral Q6_K") << "mixtral" << int(TensorType::Q6_K);
        QTest::newRow("gpt-oss MXFP4") << "gpt-oss" << int(TensorType::Q8_0);
        QTest::newRow("glm4moe F16") << "glm4moe" << int(TensorType::F16);
    }
    void expertBytesAreWhatTheDeviceAllocates() {
        QFETCH(QString, arch);
        QFETCH(int, type);
        RandomModelConfig c;
        QVERIFY(random_model_arch(arch.toStdString(), c));
        c.n_vocab = 300;
        c.n_embd = 96;  // rows of 3 Q4_0 / Q8_0 blocks: a split expert matrix ends off 256 bytes
        c.n_layer = 3;
        c.n_head = 4;
        c.n_head_kv = 2;
        c.head_dim = 32;
        c.n_ff = 256;
        if (arch != "mixtral") c.n_ff_exp = 256;
        if (arch == "gpt-oss") c.n_swa = 8;
        if (arch == "glm4moe") c.n_layer = 4;  // 1 dense, 2 MoE, 1 NextN
        c.weight_type = static_cast<TensorType>(type);
        c.seed = 91;
        QTemporaryDir dir;
        const QString path = test::writeRandomModel(dir, arch, c);
        QVERIFY(!path.isEmpty());
        auto file = gguf::GgufFile::open(path.toStdString());
        QVERIFY(file.ok());
        auto fp = model_footprint(**file);
        QVERIFY2(fp.ok(), fp.status().message().c_str());
        auto hp = read_hparams(**file);
        QVERIFY2(hp.ok(), hp.status().message().c_str());
        auto tensors = collect_model_tensors(**file, *hp);
        QVERIFY2(tensors.ok(), tensors.status().message().c_str());
        int moe_layers = 0;
        for (size_t il = 0; il < tensors->layers.size(); ++il) {
            const LayerTensors& L = tensors->layers[il];
            uint64_t allocated = 0;
            for (const HostTensor* t : L.experts()) {
                auto layout = plan_weight_layout(*t);
                QVERIFY2(layout.ok(), layout.status().message().c_str());
                allocated += layout->total_bytes;
            }
            if (!L.exp_gate.empty()) {
                allocated += L.exp_gate.size() * sizeof(cuk::MoeExpertView);  // cuda_moe.cpp's table
                ++moe_layers;
            }
            const uint64_t planned = fp->cuda_layer_expert_bytes[il];
            QVERIFY2(planned == allocated, qPrintable(QString("layer %1: planned %2, allocated %3")
                                                          .arg(il).arg(planned).arg(allocated)));
            QVERIFY(fp->cuda_layer_bytes[il] >= planned);
        }
        QCOMPARE(moe_layers, arch == "glm4moe" ? 2 : 3);
        QCOMPARE(sizeof(cuk::MoeExpertView), static_cast<size_t>(kCudaExpertViewBytes));
    }

    void gemmWorkspaceFitsTheLayout_data() {
        QTest::addColumn<int>("embd");
        QTest::addColumn<int>("ff");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kv_heads");
        QTest::addColumn<int>("head_dim");
        QTest::newRow("llama2-7b") << 4096 << 11008 << 32 << 32 << 128;
        QTest::newRow("tinyllama") << 2048 << 5632 << 32 << 4 << 64;
        QTest::newRow("qwen3-4b") << 2560 << 9728 << 32 << 8 << 128;
        QTest::newRow("wide q") << 1024 << 1024 << 16 << 4 << 256;
        QTest::newRow("tiny") << 64 << 128 << 4 << 2 << 16;
    }
    void gemmWorkspaceFitsTheLayout() {
        QFETCH(int, embd);
        QFETCH(int, ff);
        QFETCH(int, heads);
        QFETCH(int, kv_heads);
        QFETCH(int, head_dim);
        ModelFootprint m;
        m.n_embd = embd;
        m.n_ff = ff;
        m.n_head = heads;
        m.n_head_kv = kv_heads;
        m.head_dim = head_dim;
        m.n_embd_kv = kv_heads * head_dim;
        m.n_vocab = 32000;
        for (int64_t nb : {1, 7, 64, 512}) {
            ScratchParams p;
            p.n_batch = nb;
            p.device_type = DeviceType::cuda;
            p.last_stage = true;
            const ScratchLayout s = make_scratch_layout(m, p);
            QCOMPARE(s.device_extra + s.device_extra_bytes, s.total);  // the workspace is the tail
            const int64_t nq = int64_t{heads} * head_dim, nkv = int64_t{kv_heads} * head_dim;
            const int64_t shapes[][2] = {{nq, embd}, {nkv, embd}, {embd, nq}, {ff, embd}, {embd, ff}, {32000, embd}};
            for (const auto& sh : shapes)
                for (int type = 0; type < 8; ++type) {
                    if (type >= 5 && sh[1] % 256 != 0) continue;
                    if (type >= 3 && sh[1] % 32 != 0) continue;
                    const GemmPlan g = plan_gemm(type, sh[0], sh[1], nb);
                    // A multiple of 256 below an aligned end: placed exactly at the region's start at most.
                    QCOMPARE(g.ws_bytes % 256, size_t(0));
                    QVERIFY(g.ws_bytes <= s.device_extra_bytes);
                    QVERIFY(act_q8_size(std::min<int64_t>(nb, 8), sh[1]) + 255 <= s.device_extra_bytes);
                    if (g.direct) continue;
                    QVERIFY(g.n_row_tiles * g.tile_rows >= sh[0]);
                    QVERIFY(g.n_col_chunks * g.tile_cols >= sh[1]);
                    QVERIFY(static_cast<size_t>(g.tile_rows * g.tile_cols * 2) <= g.tile_bytes);
                    QVERIFY(2 * g.tile_bytes <= static_cast<size_t>(kMaxTileRows * sh[1] * 2));  // the layout's tile term
                    QVERIFY(g.tile_rows <= kMaxTileRows);
                    const int64_t block = type >= 5 ? 256 : type >= 3 ? 32 : 1;
                    QCOMPARE(g.tile_cols % block, int64_t{0});
                }
            // Split-K partials of up to 8 tokens fit the attention region.
            const uint64_t attn_region = s.act_quant - s.attn_scores;
            for (int64_t ctx : {64, 4096, 100000, 1 << 22}) {
                const SplitK k = split_k_geometry(ctx, ctx);
                QVERIFY(k.n_chunks <= 256 && k.n_chunks * k.chunk_len >= ctx);
                const uint64_t need = uint64_t(heads) * std::min<int64_t>(nb, 8) * k.n_chunks * (2 + head_dim) * 4;
                QVERIFY(need <= attn_region);
            }
        }
    }

    void splitKGrowsByDoubling() {
        int64_t last = 0, changes = 0;
        for (int64_t pos = 1; pos <= 4096; ++pos) {
            const SplitK k = split_k_geometry(4096, pos);
            QVERIFY(k.n_chunks * k.chunk_len >= pos);
            if (k.n_chunks != last) ++changes;
            last = k.n_chunks;
        }
        QVERIFY(changes <= 9);  // few distinct decode graphs over a whole context (1, 2, 4 .. 256 chunks)
    }

    void splitLayoutsKeepEveryByte_data() {
        QTest::addColumn<int>("type");
        QTest::newRow("Q4_0") << int(TensorType::Q4_0);
        QTest::newRow("Q8_0") << int(TensorType::Q8_0);
        QTest::newRow("Q6_K") << int(TensorType::Q6_K);
        QTest::newRow("Q4_K") << int(TensorType::Q4_K);
        QTest::newRow("F16") << int(TensorType::F16);
    }
    void splitLayoutsKeepEveryByte() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const int64_t rows = 5, cols = 512;
        const size_t rb = tensor_row_bytes(t, cols);
        const std::vector<uint8_t> bytes = random_matrix(t, rows, cols, 7);
        HostTensor h{"w", WeightRole::matrix, t, cols, rows, bytes.data(), bytes.size()};
        auto L = plan_weight_layout(h);
        QVERIFY(L.ok());
        QCOMPARE(L->split, t == TensorType::Q4_0 || t == TensorType::Q8_0 || t == TensorType::Q6_K);
        QCOMPARE(L->row_bytes % 16, int64_t{0});
        std::vector<uint8_t> main(L->main_bytes);
        std::vector<uint16_t> d(static_cast<size_t>(rows * std::max<int64_t>(L->d_per_row, 1)));
        std::vector<float> tmp;
        std::vector<uint8_t> tmpb;
        pack_weight_rows(*L, h, 0, 2, main.data(), d.data(), tmp, tmpb);  // two calls: chunking
        pack_weight_rows(*L, h, 2, rows, main.data() + 2 * L->row_bytes, d.data() + 2 * L->d_per_row, tmp, tmpb);
        if (!L->split) {
            QVERIFY(std::memcmp(main.data(), bytes.data(), bytes.size()) == 0);
            return;
        }
        const int64_t bb = tensor_type_traits(t).block_bytes, mb = L->row_bytes / L->d_per_row;
        const int64_t d_at = t == TensorType::Q6_K ? 208 : 0;
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t b = 0; b < L->d_per_row; ++b) {
                const uint8_t* blk = bytes.data() + r * rb + b * bb;
                QVERIFY(std::memcmp(&d[static_cast<size_t>(r * L->d_per_row + b)], blk + d_at, 2) == 0);
                QVERIFY(std::memcmp(main.data() + r * L->row_bytes + b * mb, blk + (d_at == 0 ? 2 : 0), static_cast<size_t>(mb)) == 0);
            }
    }

    // The planner budgets GPU weights with weight_storage.h; the device allocates what
    // plan_weight_layout says. Both must agree for every computable type, role and shape, and
    // the kernels' type list must be the one the rule assumes.
    void plannerRuleIsTheLayout() {
        int checked = 0;
        for (uint32_t id = 0; id < 64; ++id) {
            const TensorTypeTraits& tr = tensor_type_traits(id);
            if (!tr.known || !tr.computable || !quant::can_dequantize(static_cast<TensorType>(id))) continue;
            const auto t = static_cast<TensorType>(id);
            QCOMPARE(cuda_reads_type(t), dev_type_of(t) >= 0);
            for (WeightRole role : {WeightRole::matrix, WeightRole::embedding, WeightRole::vector}) {
                for (int64_t cols : {int64_t{256}, int64_t{512 + 256}, int64_t{96}, int64_t{70}}) {
                    if (cols % tr.block_size != 0) continue;
                    const int64_t rows = role == WeightRole::vector ? 1 : 37;
                    std::vector<uint8_t> bytes(tensor_row_bytes(t, cols) * static_cast<size_t>(rows));
                    HostTensor h{"w", role, t, cols, rows, bytes.data(), bytes.size()};
                    auto L = plan_weight_layout(h);
                    QVERIFY2(L.ok(), L.status().message().c_str());
                    const QByteArray what = QByteArray(tr.name) + " role " + QByteArray::number(int(role)) + " cols " +
                                            QByteArray::number(qint64(cols));
                    QVERIFY2(L->stored == cuda_storage_type(t, role, cols), what);
                    CudaSplit sp;
                    QVERIFY2(L->split == cuda_split(L->stored, role, sp), what);
                    QVERIFY2(L->total_bytes == cuda_weight_bytes(t, role, rows, cols), what);
                    ++checked;
                }
            }
        }
        QVERIFY(checked > 30);
    }

    // A converted matrix packed for the GPU holds the file's values: Q3_K → Q6_K and IQ4_NL →
    // Q8_0 level for level (exact), Q4_1 → Q8_0 through floats (half a step of block max / 127).
    void convertedMatricesKeepValues_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("tol");
        QTest::newRow("Q3_K") << int(TensorType::Q3_K) << 0.0;
        QTest::newRow("IQ4_NL") << int(TensorType::IQ4_NL) << 0.0;
        QTest::newRow("Q4_1") << int(TensorType::Q4_1) << 0.5 / 127;
    }
    void convertedMatricesKeepValues() {
        QFETCH(int, type);
        QFETCH(double, tol);
        const auto t = static_cast<TensorType>(type);
        const int64_t rows = 3, cols = 512;
        const size_t rb = tensor_row_bytes(t, cols);
        const std::vector<uint8_t> bytes = random_matrix(t, rows, cols, 11);
        HostTensor h{"w", WeightRole::matrix, t, cols, rows, bytes.data(), bytes.size()};
        auto L = plan_weight_layout(h);
        QVERIFY(L.ok());
        QVERIFY(L->converted && L->split);
        std::vector<uint8_t> main(L->main_bytes);
        std::vector<uint16_t> d(static_cast<size_t>(rows * L->d_per_row));
        std::vector<float> tmp;
        std::vector<uint8_t> tmpb;
        pack_weight_rows(*L, h, 0, rows, main.data(), d.data(), tmp, tmpb);
        // Put the blocks back together in the stored type's file layout and dequantize.
        const int64_t bb = tensor_type_traits(L->stored).block_bytes, mb = L->row_bytes / L->d_per_row;
        CudaSplit sp;
        QVERIFY(cuda_split(L->stored, WeightRole::matrix, sp));
        const int64_t d_at = sp.d_at;
        std::vector<uint8_t> row(static_cast<size_t>(L->d_per_row * bb));
        std::vector<float> want(cols), got(cols);
        for (int64_t r = 0; r < rows; ++r) {
            for (int64_t b = 0; b < L->d_per_row; ++b) {
                uint8_t* blk = row.data() + b * bb;
                std::memcpy(blk + d_at, &d[static_cast<size_t>(r * L->d_per_row + b)], 2);
                std::memcpy(blk + (d_at == 0 ? 2 : 0), main.data() + r * L->row_bytes + b * mb, static_cast<size_t>(mb));
            }
            quant::dequantize_row_ref(t, bytes.data() + r * rb, want.data(), cols);
            quant::dequantize_row_ref(L->stored, row.data(), got.data(), cols);
            float amax = 0;
            for (float x : want) amax = std::max(amax, std::fabs(x));
            for (int64_t i = 0; i < cols; ++i)
                QVERIFY2(std::fabs(got[i] - want[i]) <= tol * amax * 1.01,
                         qPrintable(QString("row %1 col %2: %3 vs %4").arg(r).arg(i).arg(got[i]).arg(want[i])));
        }
    }

    void vectorsBecomeF32() {
        std::vector<uint16_t> h = {0x3c00, 0xc000, 0x3555};  // 1, -2, 0.333
        HostTensor t{"norm", WeightRole::vector, TensorType::F16, 3, 1, h.data(), 6};
        auto L = plan_weight_layout(t);
        QVERIFY(L.ok());
        QCOMPARE(L->stored, TensorType::F32);
        std::vector<float> out(3);
        std::vector<float> tmp;
        std::vector<uint8_t> tmpb;
        pack_weight_rows(*L, t, 0, 1, reinterpret_cast<uint8_t*>(out.data()), nullptr, tmp, tmpb);
        QCOMPARE(out[0], 1.0f);
        QCOMPARE(out[1], -2.0f);
        QVERIFY(std::fabs(out[2] - 0.333f) < 1e-3f);
    }
};

QTEST_GUILESS_MAIN(TestCudaPlan)
#include "tst_cuda_plan.moc"
