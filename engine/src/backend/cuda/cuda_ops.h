// CudaOps: DeviceOps for a CudaDevice. Each call checks its arguments (so bad calls fail at
// once, as on the CPU) and records an Op; the work runs at the device's next flush.
#pragma once

#include <memory>

#include "backend/device.h"

namespace strata::cuda {

class CudaDevice;

class CudaOps final : public DeviceOps {
public:
    explicit CudaOps(CudaDevice& device);
    ~CudaOps() override;

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
    // Mixture-of-experts layers (cuda_moe.cpp, kernels in k_moe.cu): routing and the chosen
    // experts' FFN on the device. Experimental: compiled in CI, checked against the CPU by the
    // selftest on a GPU; the planner uses them only with STRATA_CUDA_MOE=1.
    Status moe_route(const float* logits, int64_t n_tok, const MoeRouting& r, const DeviceWeight* selection_bias,
                     int32_t* ids, float* weights) override;
    Status moe_ffn(const ExpertWeights& experts, FfnActivation act, const float* x, int64_t n_tok, const int32_t* ids,
                   const float* weights, int64_t n_used, const MoeScratch& s, float* out) override;
    Status scale(float* x, float s, int64_t n) override;
    Status add(float* x, const float* y, int64_t n) override;

private:
    CudaDevice& dev_;
    std::unique_ptr<class MoeExpertTables> moe_tables_;  // device tables of expert views (cuda_moe.cpp)
};

}  // namespace strata::cuda
