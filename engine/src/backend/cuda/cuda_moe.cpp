// CudaOps::moe_route and moe_ffn: argument checks, the layer's device table of expert views,
// and the recorded ops (kernels in k_moe.cu). Experimental: compiled in CI, never yet run on a
// GPU by its authors; `strata-cli selftest` compares it with the CPU where a GPU exists.
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/weight_storage.h"

namespace strata::cuda {

namespace {

// When a launch runs the experts as a grouped GEMM (k_moe.cu) rather than pair matvecs: with
// p = n_tok · n_used / n_expert pairs per expert on average, the matvecs read a chosen expert's
// rows p times and the GEMM once per tile of 32, after a sort. So: at least kMoeGroupedMinTokens
// tokens and kMoeGroupedMinPairs pairs per expert (a 512-token prefill of top-8 of 128 has 32).
// Guesses until a GPU measures where the two cross.
constexpr int64_t kMoeGroupedMinTokens = 16;
constexpr int64_t kMoeGroupedMinPairs = 2;

bool runs_grouped(int64_t n_tok, int64_t n_used, int64_t n_expert) {
    return n_tok >= kMoeGroupedMinTokens && n_tok * n_used >= kMoeGroupedMinPairs * n_expert;
}

bool same_view(const cuk::WeightView& a, const cuk::WeightView& b) {
    return a.main == b.main && a.d == b.d && a.n_rows == b.n_rows && a.n_cols == b.n_cols &&
           a.row_bytes == b.row_bytes && a.d_per_row == b.d_per_row && a.type == b.type;
}

bool same_expert(const cuk::MoeExpertView& a, const cuk::MoeExpertView& b) {
    return same_view(a.gate, b.gate) && same_view(a.up, b.up) && same_view(a.down, b.down) &&
           a.gate_bias == b.gate_bias && a.up_bias == b.up_bias && a.down_bias == b.down_bias;
}

}  // namespace

// The planner counts each layer's table as kCudaExpertViewBytes per expert (weight_storage.h).
static_assert(sizeof(cuk::MoeExpertView) == kCudaExpertViewBytes,
              "MoeExpertView changed size: update kCudaExpertViewBytes (the planner's count of the table)");

// The device copies of layers' expert view tables, keyed by the ExpertWeights' gate list (a
// layer's MoeWeights keeps it at one address while it lives). A table is uploaded on a layer's
// first call and again only if its views changed (then the old copy is kept until the device
// goes: ops recorded before may still read it). Its memory comes from the device, counted as
// weights (the planner adds n_expert × kCudaExpertViewBytes to each layer's CUDA expert bytes),
// and is owned here by DeviceMemory handles. CudaOps outlives the device's streams and lock
// (~CudaDevice waits for the streams first), so the handles free the tables as CudaOps goes,
// with the GPU made current in the destructor. Callers hold the device lock.
class MoeExpertTables {
public:
    MoeExpertTables(CudaDevice& device, int ordinal) : device_(device), ordinal_(ordinal) {}
    ~MoeExpertTables() { cudaSetDevice(ordinal_); }  // then the members free the tables
    MoeExpertTables(const MoeExpertTables&) = delete;
    MoeExpertTables& operator=(const MoeExpertTables&) = delete;

    // The device table for `views`, under the device lock.
    Result<const cuk::MoeExpertView*> get_locked(const void* key, const std::vector<cuk::MoeExpertView>& views) {
        auto it = tables_.find(key);
        if (it != tables_.end()) {
            const auto& h = it->second.host;
            bool same = h.size() == views.size();
            for (size_t i = 0; same && i < h.size(); ++i) same = same_expert(h[i], views[i]);
            if (same) return it->second.dev.as<const cuk::MoeExpertView>();
            retired_.push_back(std::move(it->second.dev));
            tables_.erase(it);
        }
        const size_t bytes = views.size() * sizeof(cuk::MoeExpertView);
        auto mem = device_.allocate_kept_locked(bytes, MemoryUse::weights, "a MoE layer's expert table");
        if (!mem.ok()) return mem.status();
        const cudaError_t e = cudaMemcpy(mem->get(), views.data(), bytes, cudaMemcpyHostToDevice);
        if (e != cudaSuccess) {
            cudaGetLastError();
            return Status(ErrorCode::device_failure,
                          device_.id() + ": uploading the expert table: " + cudaGetErrorString(e));
        }
        Table& t = tables_[key];
        t.host = views;
        t.dev = std::move(mem).value();
        return t.dev.as<const cuk::MoeExpertView>();
    }

private:
    struct Table {
        std::vector<cuk::MoeExpertView> host;
        DeviceMemory dev;  // (n_expert) MoeExpertView
    };
    CudaDevice& device_;
    int ordinal_;
    std::map<const void*, Table> tables_;
    std::vector<DeviceMemory> retired_;
};

CudaOps::CudaOps(CudaDevice& device)
    : dev_(device), moe_tables_(std::make_unique<MoeExpertTables>(device, device.ordinal())) {}

CudaOps::~CudaOps() = default;

namespace {

Status bad(const CudaDevice& d, const std::string& what) {
    return Status(ErrorCode::invalid_argument, d.id() + ": " + what);
}

Status unsupported(const CudaDevice& d, const std::string& what) {
    return Status(ErrorCode::unsupported, d.id() + ": " + what);
}

bool is_float_type(int t) { return t == cuk::kF32 || t == cuk::kF16 || t == cuk::kBF16; }

bool overlaps(const void* a, size_t an, const void* b, size_t bn) {
    const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    return an > 0 && bn > 0 && pa < pb + bn && pb < pa + an;
}

const CudaWeight& cw(const DeviceWeight* w) { return static_cast<const CudaWeight&>(*w); }

// An F32 vector of n values, or why not.
bool f32_vector(const DeviceWeight* w, int64_t n) {
    return w && cw(w).layout().stored == TensorType::F32 && w->n_rows() * w->n_cols() == n;
}

}  // namespace

Status CudaOps::moe_route(const float* logits, int64_t n_tok, const MoeRouting& r, const DeviceWeight* selection_bias,
                          int32_t* ids, float* weights) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("moe_route"));
    if (r.n_used < 1 || r.n_used > r.n_expert)
        return bad(dev_, "moe_route: " + std::to_string(r.n_used) + " of " + std::to_string(r.n_expert) + " experts");
    if (r.n_expert > cuk::kMoeMaxExperts || r.n_used > cuk::kMoeMaxUsed)
        return unsupported(dev_, "moe_route: the CUDA kernel routes up to " + std::to_string(cuk::kMoeMaxUsed) + " of " +
                                     std::to_string(cuk::kMoeMaxExperts) + " experts, not " + std::to_string(r.n_used) +
                                     " of " + std::to_string(r.n_expert));
    if (selection_bias && !f32_vector(selection_bias, r.n_expert))
        return bad(dev_, "moe_route: the selection bias " + selection_bias->name() + " is not " +
                             std::to_string(r.n_expert) + " F32 values");
    if (n_tok <= 0) return {};
    if (n_tok > (int64_t{1} << 30)) return bad(dev_, "moe_route of " + std::to_string(n_tok) + " tokens");
    Op op;
    op.kind = OpKind::moe_route;
    op.n_tok = n_tok;
    op.n = r.n_expert;
    op.route.logits = logits;
    op.route.n_tok = n_tok;
    op.route.n_expert = r.n_expert;
    op.route.n_used = r.n_used;
    op.route.sigmoid = r.gating == MoeGating::sigmoid ? 1 : 0;
    op.route.normalize = r.normalize ? 1 : 0;
    op.route.scale = r.scale;
    op.route.bias = selection_bias ? cw(selection_bias).f32() : nullptr;
    op.route.ids = ids;
    op.route.weights = weights;
    return dev_.record(op);
}

Status CudaOps::moe_ffn(const ExpertWeights& experts, FfnActivation act, const float* x, int64_t n_tok,
                        const int32_t* ids, const float* weights, int64_t n_used, const MoeScratch& s, float* out) {
    STRATA_RETURN_IF_ERROR(dev_.begin_op("moe_ffn"));
    const int64_t n_expert = static_cast<int64_t>(experts.gate.size());
    if (n_expert == 0 || experts.up.size() != experts.gate.size() || experts.down.size() != experts.gate.size())
        return bad(dev_, "moe_ffn: incomplete expert set");
    for (size_t e = 0; e < experts.gate.size(); ++e)
        if (!experts.gate[e] || !experts.up[e] || !experts.down[e]) return bad(dev_, "moe_ffn: incomplete expert set");
    const int64_t n_embd = experts.gate[0]->n_cols(), n_ff = experts.n_ff;
    if (n_used < 1 || n_used > n_expert) return bad(dev_, "moe_ffn: " + std::to_string(n_used) + " choices per token");
    if (n_used > cuk::kMoeMaxUsed)
        return unsupported(dev_, "moe_ffn: the CUDA kernels take up to " + std::to_string(cuk::kMoeMaxUsed) +
                                     " experts per token, not " + std::to_string(n_used));
    const bool biased = !experts.gate_bias.empty() || !experts.up_bias.empty() || !experts.down_bias.empty();
    if (biased) {
        const auto ok = [&](const std::vector<const DeviceWeight*>& v, int64_t n) {
            if (static_cast<int64_t>(v.size()) != n_expert) return false;
            for (const DeviceWeight* b : v)
                if (!f32_vector(b, n)) return false;
            return true;
        };
        if (!ok(experts.gate_bias, n_ff) || !ok(experts.up_bias, n_ff) || !ok(experts.down_bias, n_embd))
            return bad(dev_, "moe_ffn: expert biases do not match the experts");
    }

    // Every expert's matrices in one format per projection (one kernel instance per launch),
    // shaped as the layer says.
    const int gate_type = cw(experts.gate[0]).layout().dev_type, down_type = cw(experts.down[0]).layout().dev_type;
    std::vector<cuk::MoeExpertView> views(static_cast<size_t>(n_expert));
    for (int64_t e = 0; e < n_expert; ++e) {
        const auto i = static_cast<size_t>(e);
        const CudaWeight &g = cw(experts.gate[i]), &u = cw(experts.up[i]), &d = cw(experts.down[i]);
        if (g.n_rows() != n_ff || g.n_cols() != n_embd || u.n_rows() != n_ff || u.n_cols() != n_embd ||
            d.n_rows() != n_embd || d.n_cols() != n_ff)
            return bad(dev_, "moe_ffn: expert " + std::to_string(e) + "'s matrices are not (" + std::to_string(n_ff) +
                                 ", " + std::to_string(n_embd) + ") and (" + std::to_string(n_embd) + ", " +
                                 std::to_string(n_ff) + ")");
        if (g.layout().dev_type != gate_type || u.layout().dev_type != gate_type || d.layout().dev_type != down_type)
            return unsupported(dev_, "moe_ffn: the CUDA kernels need one weight format for every expert's gate and up "
                                     "matrices and one for their down matrices (" +
                                         g.name() + ", " + u.name() + ", " + d.name() + " differ)");
        if (!cuk::moe_type_supported(gate_type) || !cuk::moe_type_supported(down_type))
            return unsupported(dev_, "moe_ffn: no CUDA expert kernel for the format of " + g.name());
        views[i].gate = g.view();
        views[i].up = u.view();
        views[i].down = d.view();
        if (biased) {
            views[i].gate_bias = cw(experts.gate_bias[i]).f32();
            views[i].up_bias = cw(experts.up_bias[i]).f32();
            views[i].down_bias = cw(experts.down_bias[i]).f32();
        }
    }
    if (n_tok <= 0) return {};

    // Memory: x quantized into s.x (it holds n_batch ≥ n_tok rows); the pairs' activations h,
    // and h quantized, in the matmul workspace (the tail of the scratch buffer holding `out`:
    // the layout's device_extra region, at least kMoeWorkspace bytes; memory_estimate.cpp), for
    // as many tokens' pairs per launch as fit it — every pair of a decode step at once.
    const bool gate_q = !is_float_type(gate_type), down_q = !is_float_type(down_type);
    if (gate_q && (!s.x || cuk::act_q8_bytes(n_tok, n_embd) > static_cast<size_t>(n_tok * n_embd) * 4))
        return bad(dev_, "moe_ffn needs its scratch region for the quantized activations");
    constexpr size_t kMoeWorkspace = size_t{32} << 20;
    const auto h_bytes = [&](int64_t pairs) { return cuk::act_q8_align(static_cast<size_t>(pairs * n_ff) * 4); };
    const auto ws_bytes = [&](int64_t pairs) { return h_bytes(pairs) + (down_q ? cuk::act_q8_bytes(pairs, n_ff) : 0); };
    // Prefill (runs_grouped) runs the grouped GEMM, in groups of tokens whose pairs' h, h_q, y
    // and sort region fit the workspace; decode, the pair matvecs.
    // Its workspace: h | h_q | y | sort, y and sort from 256-byte boundaries.
    const auto y_at = [&](int64_t pairs) { return cuk::act_q8_align(ws_bytes(pairs)); };
    const auto sort_at = [&](int64_t pairs) {
        return y_at(pairs) + cuk::act_q8_align(static_cast<size_t>(pairs * n_embd) * 4);
    };
    const auto grouped_bytes = [&](int64_t tokens) {
        const int64_t pairs = tokens * n_used;
        return sort_at(pairs) + static_cast<size_t>(cuk::moe_sort_ints(pairs, n_expert)) * 4;
    };
    int64_t chunk = n_used;
    int64_t group = std::min<int64_t>(n_tok, 65535 / n_used);
    size_t need = 0;
    const bool grouped = runs_grouped(n_tok, n_used, n_expert) && grouped_bytes(1) <= kMoeWorkspace;
    if (grouped) {
        group = std::max<int64_t>(1, std::min<int64_t>(group, static_cast<int64_t>(kMoeWorkspace / grouped_bytes(1))));
        while (group > 1 && grouped_bytes(group) > kMoeWorkspace) --group;
        need = grouped_bytes(group);
    } else {
        group = std::max<int64_t>(1, std::min<int64_t>(group, static_cast<int64_t>(kMoeWorkspace / ws_bytes(n_used))));
        while (group > 1 && ws_bytes(group * chunk) > kMoeWorkspace) --group;
        while (chunk > 1 && ws_bytes(group * chunk) > kMoeWorkspace) --chunk;  // rows of millions of values
        need = ws_bytes(group * chunk);
    }
    const size_t x_bytes = static_cast<size_t>(n_tok * n_embd) * 4;
    auto ws = dev_.matmul_workspace(need, x, x_bytes, out, x_bytes);
    if (!ws.ok()) return ws.status();
    if (overlaps(x, static_cast<size_t>(n_tok * n_embd) * 4, out, static_cast<size_t>(n_tok * n_embd) * 4))
        return bad(dev_, "moe_ffn output overlaps its input");

    // Under the device lock: no graph capture is under way while the table is copied (a
    // synchronous copy would join it through the legacy stream).
    const cuk::MoeExpertView* table = nullptr;
    {
        std::lock_guard<std::mutex> lock(dev_.mutex());
        auto t = moe_tables_->get_locked(experts.gate.data(), views);
        if (!t.ok()) return t.status();
        table = *t;
    }

    Op op;
    op.kind = OpKind::moe_ffn;
    op.n_tok = n_tok;
    op.n = n_embd;
    op.x = x;
    op.out = out;
    cuk::MoeFfnArgs& m = op.moe;
    m.experts = table;
    m.n_expert = n_expert;
    m.n_embd = n_embd;
    m.n_ff = n_ff;
    m.n_used = n_used;
    m.gate_type = gate_type;
    m.down_type = down_type;
    m.act = act == FfnActivation::swiglu_oai ? cuk::kMoeSwigluOai
            : act == FfnActivation::gelu_tanh ? cuk::kMoeGeluTanh
                                              : cuk::kMoeSilu;
    m.biased = biased ? 1 : 0;
    m.x = x;
    if (gate_q) m.x_q = cuk::act_q8_at(s.x, n_tok, n_embd);
    m.ids = ids;
    m.weights = weights;
    m.h = static_cast<float*>(*ws);
    m.h_q = down_q ? static_cast<char*>(*ws) + h_bytes(group * chunk) : nullptr;
    m.out = out;
    m.n_tok = n_tok;
    m.group_tok = group;
    m.slot_chunk = chunk;
    if (grouped) {
        const int64_t pairs = group * n_used;
        char* base = static_cast<char*>(*ws);
        m.grouped = 1;
        m.y = reinterpret_cast<float*>(base + y_at(pairs));
        m.sort = reinterpret_cast<int32_t*>(base + sort_at(pairs));
    }
    return dev_.record(op);
}

}  // namespace strata::cuda
