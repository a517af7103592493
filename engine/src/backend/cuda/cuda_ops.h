// CudaOps: DeviceOps for a CudaDevice. Each call checks its arguments (so bad calls fail at
// once, as on the CPU) and records an Op; the work runs at the device's next flush.
#pragma once

#include "backend/device.h"

namespace strata::cuda {

class CudaDevice;

class CudaOps final : public DeviceOps {
public:
    explicit CudaOps(CudaDevice& device) : dev_(device) {}

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
    // Mixture-of-experts layers: no CUDA kernels yet. The planner places every expert on the CPU
    // when a GPU runs a MoE layer's attention (plan/expert_placement), so these only report it.
    Status moe_route(const float* logits, int64_t n_tok, const MoeRouting& r, const DeviceWeight* selection_bias,
                     int32_t* ids, float* weights) override;
    Status moe_ffn(const ExpertWeights& experts, FfnActivation act, const float* x, int64_t n_tok, const int32_t* ids,
                   const float* weights, int64_t n_used, const MoeScratch& s, float* out) override;
    Status scale(float* x, float s, int64_t n) override;
    Status add(float* x, const float* y, int64_t n) override;

private:
    CudaDevice& dev_;
};

}  // namespace strata::cuda
