// CpuOps: the CPU implementation of DeviceOps (see backend/device.h for each op's contract).
// Runs synchronously on the calling thread, spreading work over the device's ThreadPool. Work is
// split over independent outputs (rows, heads, tokens), never over a reduction, so results do
// not depend on the thread count.
#pragma once

#include "backend/device.h"

namespace strata {

class CpuDevice;
class CpuWeight;

// The CpuWeight inside a DeviceWeight made by a CpuDevice.
const CpuWeight& cpu_weight_of(const DeviceWeight& w);

class CpuOps final : public DeviceOps {
public:
    explicit CpuOps(CpuDevice& device);
    ~CpuOps() override;

    Status embed(const DeviceWeight& table, const int32_t* tokens, int64_t n_tok, float* out) override;
    Status rms_norm(const float* x, const DeviceWeight& w, float eps, int64_t n_tok, int64_t n,
                    float* out) override;
    Status matmul(const DeviceWeight& w, const float* x, int64_t n_tok, float* out) override;
    Status add_bias(float* x, const DeviceWeight& b, int64_t n_tok, int64_t n) override;
    Status rope(float* x, int64_t n_tok, int64_t n_head, int64_t head_dim, int64_t pos0,
                const RopeParams& rope, const DeviceWeight* freq_factors) override;
    Status store_kv(const float* k, const float* v, const KvView& kv, int64_t pos0, int64_t n_tok) override;
    Status attention(const float* q, const KvView& kv, int64_t pos0, int64_t n_tok, int64_t n_head,
                     int64_t n_head_kv, int64_t head_dim, const AttentionParams& p, float* scratch,
                     float* out) override;
    Status swiglu(const float* gate, const float* up, int64_t n, float* out) override;
    Status geglu(const float* gate, const float* up, int64_t n, float* out) override;
    Status moe_route(const float* logits, int64_t n_tok, const MoeRouting& r, const DeviceWeight* selection_bias,
                     int32_t* ids, float* weights) override;
    Status moe_ffn(const ExpertWeights& experts, FfnActivation act, const float* x, int64_t n_tok, const int32_t* ids,
                   const float* weights, int64_t n_used, const MoeScratch& s, float* out) override;
    Status scale(float* x, float s, int64_t n) override;
    Status add(float* x, const float* y, int64_t n) override;

private:
    CpuDevice& device_;
    struct Scratch;
    std::unique_ptr<Scratch> scratch_;
};

}  // namespace strata
