// Device, Buffer, DeviceWeight and Transport: the interfaces every compute backend implements.
//
// A Device owns memory (Buffers, weights) and runs kernels (DeviceOps) on it. Ops are enqueued
// in order on the device's single stream of work; results are visible to the host after
// synchronize() (CPU devices run synchronously). Memory is accounted per use (weights, KV cache,
// scratch) and a device refuses allocations beyond its capacity with ErrorCode::out_of_memory and
// a message naming the device, the request and what is free.
//
// Threading: a Device is driven by one thread at a time (the pipeline stage thread that owns it).
// allocated()/info() may be read from any thread. Buffers and weights must be destroyed before
// their device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "strata/device_info.h"
#include "strata/plan.h"
#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata {

class Device;

enum class MemoryUse { weights = 0, kv_cache = 1, scratch = 2 };
constexpr int kMemoryUseCount = 3;
const char* memory_use_name(MemoryUse use);

// Device memory. Owns its allocation and returns it (and its accounting) on destruction.
class Buffer {
public:
    virtual ~Buffer() = default;
    Device& device() const { return *device_; }
    void* data() const { return data_; }  // device address (host address for CPU devices)
    size_t size() const { return size_; }
    MemoryUse use() const { return use_; }

    template <class T> T* as(uint64_t byte_offset = 0) const {
        return reinterpret_cast<T*>(static_cast<char*>(data_) + byte_offset);
    }

protected:
    Buffer(Device* device, void* data, size_t size, MemoryUse use)
        : device_(device), data_(data), size_(size), use_(use) {}
    Device* device_;
    void* data_;
    size_t size_;
    MemoryUse use_;
};

// How a weight is used, so a device can pick its layout (a matmul weight may be repacked; an
// embedding table must keep addressable rows; a vector stays F32).
enum class WeightRole { matrix, embedding, vector };

// A weight tensor as it sits in the file (the GGUF mapping): host memory, read-only.
struct HostTensor {
    std::string name;
    WeightRole role = WeightRole::matrix;
    TensorType type = TensorType::F32;
    int64_t n_cols = 0;       // ne[0]: row length (the reduction dimension of a matmul)
    int64_t n_rows = 0;       // product of the other dims
    const void* data = nullptr;
    size_t n_bytes = 0;
};

// A weight on a device, in whatever layout the device's kernels want (possibly repacked).
// Owned by the caller of Device::upload_weight; accounted as MemoryUse::weights.
class DeviceWeight {
public:
    virtual ~DeviceWeight() = default;
    const std::string& name() const { return name_; }
    TensorType type() const { return type_; }
    int64_t n_rows() const { return n_rows_; }
    int64_t n_cols() const { return n_cols_; }
    size_t bytes() const { return bytes_; }  // accounted bytes on the device

protected:
    DeviceWeight(std::string name, TensorType type, int64_t n_rows, int64_t n_cols, size_t bytes)
        : name_(std::move(name)), type_(type), n_rows_(n_rows), n_cols_(n_cols), bytes_(bytes) {}
    std::string name_;
    TensorType type_;
    int64_t n_rows_, n_cols_;
    size_t bytes_;
};

// One layer's KV cache for one sequence slot: rows of n_embd_kv values, position-major. A
// sliding-window layer keeps fewer rows than positions: position p lives in row p % n_rows (a
// ring of at least window + n_batch − 1 rows, so a batch's new rows never overwrite a row one
// of its queries still sees).
struct KvView {
    void* k = nullptr;        // (n_rows, n_embd_kv) in `type`
    void* v = nullptr;        // (n_rows, n_embd_kv) in `type`
    KvCacheType type = KvCacheType::f16;
    int64_t n_ctx = 0;        // positions the sequence may reach
    int64_t n_embd_kv = 0;
    int64_t n_rows = 0;       // rows held (≤ n_ctx; 0 = n_ctx)

    int64_t rows() const { return n_rows > 0 ? n_rows : n_ctx; }
    int64_t row_of(int64_t pos) const { return pos % rows(); }
};

enum class RopeStyle {
    interleaved,  // rotate pairs (x[2i], x[2i+1]) — llama GGUFs (weights permuted at conversion)
    neox,         // rotate pairs (x[i], x[i + n_rot/2]) — qwen2, qwen3
};

// How a rotary embedding turns a position into angles. For rotated pair i (0 ≤ i < n_rot/2):
//   theta_extrap = pos · base^(−2i/n_rot) / factor_i      (factor_i from the layer's frequency
//                                                          factors, 1 without them)
//   theta_interp = freq_scale · theta_extrap
//   theta        = theta_interp                                          (ext_factor = 0)
//                = theta_interp·(1 − m_i) + theta_extrap·m_i, m_i = ext_factor·ramp_i   (YaRN)
//   ramp_i       = 1 − clamp((i − corr_low) / max(0.001, corr_high − corr_low), 0, 1)
// and the pair is rotated by theta with cos and sin both multiplied by `mscale`. This one form
// covers plain RoPE, linear interpolation, Llama 3 frequency factors, LongRoPE (factors plus an
// attention factor) and YaRN; hparams.cpp maps a file's keys onto it. Plain value type.
struct RopeParams {
    int n_rot = 0;            // dims rotated per head (≤ head_dim; the rest pass through)
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;  // position interpolation (1 = none)
    RopeStyle style = RopeStyle::interleaved;
    float ext_factor = 0.0f;  // YaRN extrapolation mix (0 = off)
    float corr_low = 0.0f;    // YaRN: pairs below corr_low extrapolate, above corr_high interpolate
    float corr_high = 0.0f;
    float mscale = 1.0f;      // magnitude of cos/sin (YaRN's and LongRoPE's attention factor)

    bool operator==(const RopeParams&) const = default;
};

// How queries see the cache, beyond causality: a sliding window keeps the last `window`
// positions (position p sees p − window + 1 .. p; 0 = all), a soft cap bounds each scaled
// score s to softcap·tanh(s / softcap) before the softmax (0 = none; Gemma 2), and attention
// sinks (gpt-oss) add one learned logit per query head to each softmax's denominator only:
// p_j = e^(s_j − m) / (Σ_i e^(s_i − m) + e^(sink_h − m)), m = max(max_i s_i, sink_h), so a
// head may attend to nothing. The sink is not scaled or capped.
struct AttentionParams {
    float scale = 1.0f;     // multiplies q·k
    float softcap = 0.0f;
    int64_t window = 0;
    const DeviceWeight* sinks = nullptr;  // (n_head) F32 weight on the device, or none

    bool operator==(const AttentionParams&) const = default;
};

// How a mixture-of-experts layer picks experts for a token from its router logits l (one per
// expert). Scores: s = softmax(l) (`softmax`; Mixtral, Qwen3-MoE, gpt-oss) or s = sigmoid(l)
// elementwise (`sigmoid`; GLM-4.5). The n_used experts of largest s + b are chosen (ties to the
// lower index), where b is the layer's optional selection bias (GLM-4.5's expert score
// correction, exp_probs_b; 0 without one) — it decides the choice only, never a weight. Each
// chosen expert is weighted by its s, divided by the chosen ones' sum of s when `normalize`
// (Mixtral, Qwen3-MoE; Qwen2-MoE does not), then multiplied by `scale` (GLM-4.5's routed scaling
// factor). backend/moe_routing.h computes it once for every backend that routes on the host.
// Plain value type.
enum class MoeGating { softmax, sigmoid };

struct MoeRouting {
    int64_t n_expert = 0;
    int64_t n_used = 0;
    bool normalize = true;
    float scale = 1.0f;
    MoeGating gating = MoeGating::softmax;

    bool operator==(const MoeRouting&) const = default;
};

// How a gated FFN combines its gate g and up u projections, elementwise:
//   silu        silu(g)·u                                       (swiglu)
//   gelu_tanh   gelu(g)·u with GELU's tanh form                  (geglu; Gemma)
//   swiglu_oai  gpt-oss's clamped SwiGLU: g' = min(g, 7), u' = clamp(u, −7, 7),
//               g'·sigmoid(1.702·g')·(u' + 1)
enum class FfnActivation { silu, gelu_tanh, swiglu_oai };
constexpr float kSwigluOaiAlpha = 1.702f;
constexpr float kSwigluOaiLimit = 7.0f;

// One layer's experts on one device: expert e's gate and up (n_ff_exp, n_embd) and down
// (n_embd, n_ff_exp) matrices, and (gpt-oss) their biases: gate_bias[e] and up_bias[e] of
// n_ff_exp values added to the gate and up rows before the activation, down_bias[e] of n_embd
// to the expert's output before its routing weight. The bias lists are empty or n_expert long.
// Views: the LayerWeights that own the DeviceWeights outlive it.
struct ExpertWeights {
    std::vector<const DeviceWeight*> gate, up, down;  // (n_expert) each
    std::vector<const DeviceWeight*> gate_bias, up_bias, down_bias;  // F32 vectors, or empty
    int64_t n_ff = 0;                                 // rows of gate/up per expert
};

// Working memory of DeviceOps::moe_ffn (regions of the stage's scratch on the experts' device).
struct MoeScratch {
    float* x = nullptr;       // (n_batch, n_embd)  the rows routed to one expert, gathered
    float* gate = nullptr;    // (n_batch, n_ff_exp)
    float* up = nullptr;      // (n_batch, n_ff_exp)
    float* y = nullptr;       // (n_batch, n_embd)  that expert's output rows
};

// Kernels of one device. All pointers are device addresses in this device's memory; all
// activations are row-major float32 with one row per token. Calls are enqueued in order.
class DeviceOps {
public:
    virtual ~DeviceOps() = default;

    // out[t] = dequantized row tokens[t] of table.  tokens: (n_tok) int32, out: (n_tok, n_cols)
    virtual Status embed(const DeviceWeight& table, const int32_t* tokens, int64_t n_tok, float* out) = 0;
    // out[t] = x[t] / rms(x[t]) * w.   x, out: (n_tok, n); w: (n) F32 weight; out may alias x
    virtual Status rms_norm(const float* x, const DeviceWeight& w, float eps, int64_t n_tok, int64_t n,
                            float* out) = 0;
    // out = x · Wᵀ.   x: (n_tok, w.n_cols), out: (n_tok, w.n_rows)
    virtual Status matmul(const DeviceWeight& w, const float* x, int64_t n_tok, float* out) = 0;
    // x[t] += b.   x: (n_tok, n), b: (n) F32 weight
    virtual Status add_bias(float* x, const DeviceWeight& b, int64_t n_tok, int64_t n) = 0;
    // Rotary embedding in place for positions pos0 .. pos0+n_tok-1.  x: (n_tok, n_head, head_dim)
    // freq_factors: null, or an F32 weight of n_rot/2 per-pair frequency divisors (RopeParams).
    virtual Status rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_dim, int64_t pos0,
                        const RopeParams& rope, const DeviceWeight* freq_factors) = 0;
    // Writes k, v rows into the cache at positions pos0 .. pos0+n_tok-1.  k, v: (n_tok, n_embd_kv)
    virtual Status store_kv(const float* k, const float* v, const KvView& kv, int64_t pos0, int64_t n_tok) = 0;
    // Causal grouped-query attention: token t (at position pos0+t) attends to cache positions
    // 0 .. pos0+t (the last `window` of them when p.window > 0). q: (n_tok, n_head, head_dim),
    // out: (n_tok, n_head, head_dim); query head h uses kv head h / (n_head / n_head_kv). Scores
    // are q·k · p.scale, soft-capped when p.softcap > 0; p.sinks joins each head's softmax
    // denominator (AttentionParams). `scratch` is the layout's attn_scores region.
    virtual Status attention(const float* q, const KvView& kv, int64_t pos0, int64_t n_tok,
                             int64_t n_head, int64_t n_head_kv, int64_t head_dim, const AttentionParams& p,
                             float* scratch, float* out) = 0;
    // out = silu(gate) * up, elementwise over n values (out may alias gate).
    virtual Status swiglu(const float* gate, const float* up, int64_t n, float* out) = 0;
    // out = gelu(gate) * up with GELU's tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
    // elementwise over n values (out may alias gate). Gemma's feed-forward.
    virtual Status geglu(const float* gate, const float* up, int64_t n, float* out) = 0;
    // Expert choice for each token (MoeRouting): logits (n_tok, r.n_expert) → ids and weights,
    // (n_tok, r.n_used) each, in order of decreasing choice score. selection_bias: the layer's
    // (n_expert) F32 choice bias on this device, or null.
    virtual Status moe_route(const float* logits, int64_t n_tok, const MoeRouting& r,
                             const DeviceWeight* selection_bias, int32_t* ids, float* weights) = 0;
    // out[t] = Σ_j weights[t, j] · down_e(act(gate_e · x[t] + bg_e, up_e · x[t] + bu_e)) + bd_e),
    // e = ids[t, j], over the n_used choices of each token (biases 0 where experts has none).
    // x, out: (n_tok, n_embd); ids, weights: (n_tok, n_used). Each expert's matrices are read
    // once per call, for all the tokens routed to it.
    virtual Status moe_ffn(const ExpertWeights& experts, FfnActivation act, const float* x, int64_t n_tok,
                           const int32_t* ids, const float* weights, int64_t n_used, const MoeScratch& s,
                           float* out) = 0;
    // x *= s, elementwise over n values (Gemma's embedding scale).
    virtual Status scale(float* x, float s, int64_t n) = 0;
    // x += y, elementwise over n values.
    virtual Status add(float* x, const float* y, int64_t n) = 0;
};

class Device {
public:
    virtual ~Device() = default;

    virtual const DeviceInfo& info() const = 0;
    const std::string& id() const { return info().id; }

    // Capacity the device allows this process (cap for virtual devices, driver free at creation
    // plus what we allocated for GPUs) and what is allocated now, by use.
    virtual uint64_t capacity() const = 0;
    virtual uint64_t allocated(MemoryUse use) const = 0;
    uint64_t allocated_total() const;

    virtual Result<std::unique_ptr<Buffer>> allocate(size_t bytes, MemoryUse use) = 0;
    // Prepares a weight for this device's kernels (copy/upload, maybe repack).
    virtual Result<std::unique_ptr<DeviceWeight>> upload_weight(const HostTensor& tensor) = 0;

    // Host ↔ device copies (blocking for the host side's memory: when they return, `src` may be
    // reused / `dst` holds the data).
    virtual Status copy_from_host(Buffer& dst, uint64_t dst_offset, const void* src, size_t n) = 0;
    virtual Status copy_to_host(void* dst, const Buffer& src, uint64_t src_offset, size_t n) = 0;
    // Waits for all enqueued work; reports a device failure that happened in it.
    virtual Status synchronize() = 0;

    virtual DeviceOps& ops() = 0;

    // Set while the device is in a failed state (a kernel or copy failed, or fault injection):
    // every later call returns ErrorCode::device_failure.
    virtual bool failed() const = 0;
};

// Moves a hidden-state buffer region from one device to another (or within one device).
// Blocking: when it returns, dst holds the data. Driven by the sending stage's thread.
class Transport {
public:
    virtual ~Transport() = default;
    virtual const char* kind() const = 0;  // "host copy", "peer copy", "nccl", "host staging"
    virtual Status copy(const Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset,
                        size_t n) = 0;
};

}  // namespace strata
