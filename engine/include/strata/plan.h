// The planner: which device runs which layers, and what that costs, decided before anything is
// loaded. A pure function of (model footprint, devices, preferences) → Plan; no I/O, no state,
// callable from any thread (the app calls it on every slider move for its live fit preview).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/device_info.h"
#include "strata/tensor_type.h"

namespace strata {

enum class KvCacheType { f32, f16, q8_0 };
const char* kv_cache_type_name(KvCacheType t);
bool parse_kv_cache_type(const std::string& text, KvCacheType& out);

// How layers are spread when the user gives no ratios.
enum class SplitMode {
    fewest,  // fill devices in priority order: use as few devices as fit (default)
    even,    // spread layers in proportion to each enabled device's usable memory
    ratios,  // the user's ratios (like llama.cpp's --tensor-split 3,1)
};
const char* split_mode_name(SplitMode m);

// What the model needs, from its GGUF directory (no weights read). Built by model_footprint()
// in plan/model_footprint.h from a GgufFile.
// Sliding-window attention (Gemma 2 / 3, Phi-3): layer il sees only the last `window` positions
// when window > 0 and either pattern is 0 (every layer slides) or il % pattern < pattern − 1
// (the last layer of each group of `pattern` sees them all). Such a layer's KV cache keeps
// window + n_batch − 1 rows, not n_ctx.
struct SlidingWindow {
    int64_t window = 0;
    int pattern = 0;
    bool slides(int64_t il) const { return window > 0 && (pattern == 0 || il % pattern < pattern - 1); }
    int count(int64_t layer_begin, int64_t n_layers) const {
        int n = 0;
        for (int64_t il = layer_begin; il < layer_begin + n_layers; ++il) n += slides(il) ? 1 : 0;
        return n;
    }
};

struct ModelFootprint {
    std::string architecture;
    std::string weight_type;   // "Q4_K_M" (gguf/file_type.h's label): calibration is kept per type
    int n_layer = 0;           // blocks that run (block_count less n_layer_nextn)
    int n_layer_nextn = 0;     // GLM-4.5: NextN blocks at the end of the file, neither run nor loaded
    int64_t n_embd = 0;
    int64_t n_embd_kv = 0;     // n_head_kv × head_dim
    int64_t n_ff = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t head_dim = 0;      // 0 = n_embd / n_head (qwen3 and others set it explicitly)
    int64_t n_vocab = 0;
    int64_t n_ctx_train = 0;
    // The longest context the file's RoPE scaling is made for: n_ctx_train, or, with linear or
    // YaRN scaling, rope.scaling.original_context_length (else n_ctx_train) × rope.scaling.factor
    // when that is longer (Qwen 2.5 files say 32768 and a YaRN factor of 4: 131072). Beyond it
    // answers degrade; the app warns past this, not past n_ctx_train. 0: unknown.
    int64_t n_ctx_usable = 0;
    int64_t usable_context() const { return n_ctx_usable > 0 ? n_ctx_usable : n_ctx_train; }
    std::vector<uint64_t> layer_bytes;  // (n_layer) weight bytes of each block
    uint64_t embedding_bytes = 0;       // token_embd.weight
    uint64_t output_bytes = 0;          // output.weight (== embedding_bytes when tied)
    uint64_t output_norm_bytes = 0;
    bool output_tied = false;           // no output.weight: the head reuses token_embd
    uint64_t layer_flops_per_token = 0; // 2 × weight elements a token multiplies in a block, mean over blocks
    SlidingWindow swa;                  // which layers keep only a window of the cache

    // Mixture of experts (0 experts = dense): each layer's router and experts form a unit the
    // planner may place on another device than the layer (PlanRequest::experts).
    int64_t n_expert = 0;
    int64_t n_expert_used = 0;
    int64_t n_ff_exp = 0;
    int n_layer_dense_lead = 0;  // GLM-4.5: leading layers with a dense FFN (no experts unit)
    int64_t n_ff_shexp = 0;      // GLM-4.5: rows of a layer's shared experts (in its dense part)
    std::vector<uint64_t> layer_expert_bytes;  // (n_layer) router + experts, within layer_bytes (0: a dense layer)
    std::vector<uint64_t> cuda_layer_expert_bytes;  // the same within cuda_layer_bytes
    bool attention_sinks = false;     // gpt-oss: attention with sinks (CUDA: PlanRequest::gpu_attention_sinks)
    bool is_moe() const { return n_expert > 0; }
    bool layer_has_experts(size_t il) const { return il < layer_expert_bytes.size() && layer_expert_bytes[il] > 0; }

    // The same bytes as a CUDA device stores them: types its kernels cannot read are converted
    // on upload, usually to a larger type. Empty / 0 = as in the file (hand-made footprints).
    std::vector<uint64_t> cuda_layer_bytes;
    uint64_t cuda_embedding_bytes = 0;
    uint64_t cuda_output_bytes = 0;     // the head as a matrix (a tied head: token_embd again)
    // One entry per file type a CUDA device converts, for the plan's explanation.
    struct CudaConversion {
        TensorType from = TensorType::F32, to = TensorType::F32;
        int tensors = 0;
        uint64_t file_bytes = 0, cuda_bytes = 0;
    };
    std::vector<CudaConversion> cuda_conversions;
};

// How far this engine's measured speed on a class of device falls from the planner's raw
// prediction (strata/calibration.h): measured/predicted, the median of recent bench runs.
// 0 / 0 runs = uncalibrated (the raw prediction stands, an upper bound).
// How a device's measured speed relates to the planner's raw figures (strata/calibration.h).
// A stage's calibrated decode time per token is
//     its weight reads ÷ bandwidth ÷ decode  +  its layers × decode_layer_seconds
// (the second term is the per-layer cost no bandwidth explains: kernel launches, barriers,
// synchronisation; it dominates small models on a GPU), and its prefill time per token
//     its flops ÷ compute ÷ prefill  +  its layers × prefill_layer_seconds ÷ n_batch
// (a fixed cost per layer per batch step, shared by the step's tokens).
struct SpeedCalibration {
    double decode = 0, prefill = 0;   // efficiency factors (measured ÷ predicted), 0 = none
    double decode_layer_seconds = 0;  // fixed decode time per layer and token (with decode)
    double prefill_layer_seconds = 0; // fixed prefill time per layer and batch step (with prefill)
    int decode_runs = 0, prefill_runs = 0;  // bench runs each factor came from
    std::string weight_type;                // what the factors were measured on ("" = any type)
    std::string source;                      // "this machine's bench log", "seed: ..." (explanations)
    bool any() const { return decode_runs > 0 || prefill_runs > 0; }
};

struct PlanDevice {
    DeviceInfo info;
    SpeedCalibration calibration;  // applied to this device's stage times (none: raw)
    bool enabled = true;
    uint64_t reserve_bytes = 0;   // kept free (driver, other apps, fragmentation)
    double ratio = 0;             // manual split ratio (SplitMode::ratios)
    int n_threads = 0;            // CPU devices: threads the runtime runs the stage with (sizes
                                  // the per-thread attention scratch; 0 = estimate for 1)
};

// Where a MoE model's experts go (its routers go with them). Experts run only on devices with
// expert kernels: CPU devices, and CUDA devices when `gpu_experts` is set (experimental CUDA
// kernels, never yet run on a GPU; the engine sets it from STRATA_CUDA_MOE=1). Otherwise a
// GPU's layers keep their experts on the expert host.
enum class ExpertMode {
    automatic,  // dense parts and KV caches on the devices first, then experts beside their layers
                // where they fit (layer by layer), the rest on the expert host
    cpu,        // every layer's experts on the expert host (--cpu-moe)
    first_n,    // the experts of the first n_host_layers layers on the expert host (--n-cpu-moe N)
};
const char* expert_mode_name(ExpertMode m);

struct ExpertPlacement {
    ExpertMode mode = ExpertMode::automatic;
    int n_host_layers = 0;  // first_n
    int host = -1;          // index into PlanRequest::devices of the expert host (a CPU device);
                            // -1 = the first enabled CPU device. It runs no layers of its own
                            // when experts are moved to it and other devices exist.
    bool gpu_experts = false;  // CUDA devices run the experts of their layers (STRATA_CUDA_MOE=1)
};

// How data moves between two devices (or a device and host memory). What NVML/CUDA would report,
// or what a simulated machine profile (strata/machine_profile.h) says.
enum class LinkKind {
    unknown,       // nothing known: the planner assumes PCIe 4.0 x16 (25 GB/s, 10 µs), one copy
    nvlink,        // direct NVLink (bridge or NVSwitch): one peer copy
    pcie_switch,   // peer copy under the same PCIe switch
    host_bridge,   // peer copy through the CPU's root complex (same socket)
    cross_socket,  // peer copy across CPU sockets (UPI / Infinity Fabric)
    staged,        // no P2P: copied to host memory and from there to the other device (two copies)
    host_device,   // between a device and host memory (a CPU device's stage, pinned staging)
};
const char* link_kind_name(LinkKind k);           // "nvlink", "pcie-switch", ... (profiles, JSON)
bool parse_link_kind(const std::string& text, LinkKind& out);
const char* link_kind_description(LinkKind k);    // "NVLink", "through the CPU (no P2P)", ...

struct Link {
    LinkKind kind = LinkKind::unknown;
    double gbs = 0;          // unidirectional GB/s (1e9 bytes/s) of one copy; 0 = unknown
    double latency_us = 0;   // per copy, microseconds; 0 = unknown
    bool known() const { return kind != LinkKind::unknown || gbs > 0; }
    int copies() const { return kind == LinkKind::staged ? 2 : 1; }  // a staged copy is two hops
};

// links[from][to] between request devices (indices into PlanRequest::devices). Empty, or a
// shorter row, or an unknown Link: the planner's old assumption for that pair, bit for bit.
using LinkMatrix = std::vector<std::vector<Link>>;

struct PlanRequest {
    ModelFootprint model;
    std::vector<PlanDevice> devices;  // in priority order (first = preferred)
    int64_t n_ctx = 4096;             // context length per sequence
    int64_t n_batch = 512;            // prompt tokens processed per step
    int n_seq = 1;                    // sequences served at once (each gets its own KV cache)
    KvCacheType kv_type = KvCacheType::f16;
    SplitMode mode = SplitMode::fewest;
    int embedding_device = -1;        // index into devices to pin token_embd to; -1 = first stage
    int output_device = -1;           // index to pin final norm + output head to; -1 = last stage
    ExpertPlacement experts;          // MoE models only
    // CUDA devices run attention with sinks (a model with ModelFootprint::attention_sinks,
    // gpt-oss). Its CUDA kernels are experimental (compiled, checked by the selftest, never yet
    // run on a GPU by their authors), so the engine sets this only with STRATA_CUDA_MOE=1, as it
    // does ExpertPlacement::gpu_experts; otherwise such a model's layers are planned off CUDA
    // devices, with the reason among the plan's decisions.
    bool gpu_attention_sinks = false;
    LinkMatrix links;                 // how stages hand over the hidden state (empty: unknown)
};

// Sets ExpertPlacement::gpu_experts and PlanRequest::gpu_attention_sinks from STRATA_CUDA_MOE
// ("1": on), the one reader of that switch, so the engine's load and the app's previews plan
// alike. Reads the environment; call it where the request is built.
void apply_cuda_moe_switch(PlanRequest& request);

// Bytes one device will hold under the plan.
struct DeviceUse {
    int device = -1;                // index into PlanRequest::devices
    std::string device_id;
    uint64_t capacity = 0;          // free - reserve (what the plan may use)
    uint64_t weight_bytes = 0;
    uint64_t kv_bytes = 0;
    uint64_t scratch_bytes = 0;
    uint64_t total() const { return weight_bytes + kv_bytes + scratch_bytes; }
    bool fits() const { return total() <= capacity; }
};

// A contiguous range of layers on one device; stages are in execution order.
struct StagePlan {
    int device = -1;
    std::string device_id;
    int layer_begin = 0;            // [layer_begin, layer_end)
    int layer_end = 0;
    bool has_embedding = false;     // runs the token embedding lookup first
    bool has_output = false;        // runs final norm + output head last
};

// One hand-off of the hidden state between consecutive stages on different devices.
struct StageHandOff {
    int from = -1, to = -1;            // request device indices
    std::string from_id, to_id;
    Link link;                         // as the request gave it (kind unknown: assumed)
    double gbs = 0;                    // speed used for the prediction
    double latency_us = 0;             // latency used (per copy)
    uint64_t bytes_per_token = 0;      // hidden state per token (per copy)
    double decode_seconds_per_token = 0;   // added to each decoded token
};

struct Plan {
    bool fits = false;
    std::vector<StagePlan> stages;
    std::vector<DeviceUse> devices;        // one per device that holds anything
    std::vector<std::string> decisions;    // why each choice was made, in plain words
    std::vector<std::string> shortfalls;   // when !fits: what is short where ("cuda1: 1.2 GiB short")
    std::vector<std::string> suggestions;  // when !fits: what would fit ("--ctx 8192 fits", ...)
    int64_t max_ctx_that_fits = 0;         // longest context this device set holds (0 = none)
    double predicted_decode_tps = 0;       // tokens/s estimate (0 = no device speed known)
    double predicted_prefill_tps = 0;
    // The same before calibration (equal to the above when no device is calibrated), and the
    // calibration the predictions carry: the overall factor (predicted/raw) and the fewest runs
    // of any stage device (0 when any stage device is uncalibrated for that phase).
    double raw_predicted_decode_tps = 0;
    double raw_predicted_prefill_tps = 0;
    SpeedCalibration calibration;
    uint64_t transfer_bytes_per_token = 0; // hidden state crossing stage boundaries
    std::vector<StageHandOff> handoffs;    // each stage boundary between devices, in order
    // MoE models: for each layer, the device (index into PlanRequest::devices) holding its router
    // and experts — its stage's device, or the expert host (PlanRequest::experts). Empty for
    // dense models.
    std::vector<int> expert_device;
};

Plan make_plan(const PlanRequest& request);

// What a plan's decode (prefill = false) or prefill prediction rests on: "calibrated from 4 Q4_0 bench
// runs on this CPU (…) (×0.85)" or "uncalibrated: an upper bound" (strata/calibration.h).
std::string calibration_note(const Plan& plan, bool prefill);

// Human-readable table of a plan (used by `strata-cli plan` and logs).
std::string format_plan(const PlanRequest& request, const Plan& plan);

}  // namespace strata
