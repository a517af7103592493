// Host-callable launchers of the CUDA kernels (one kernel per .cu file); their argument structs
// are in kernel_args.h. Every launcher enqueues on `stream` and returns cudaGetLastError() after
// the launch (cudaSuccess when nothing was launched because there was no work).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "backend/cuda/kernel_args.h"

namespace strata::cuk {

// Where a launcher enqueues its kernel. With `pdl` (programmatic dependent launch, compute
// capability 9.0 and later) the kernel may be scheduled while the previous kernel in the stream
// is still running: every kernel of this backend starts with griddepcontrol.wait (pdl_enter()
// in cuda_common.cuh) before it touches memory another launch writes, so only the launch
// latency and the prologue (the matvecs' weight prefetch) overlap. Converts from a plain stream
// (no overlap), which is what the probes and any second stream use.
struct LaunchOn {
    cudaStream_t stream = nullptr;
    bool pdl = false;
    LaunchOn(cudaStream_t s, bool overlap = false) : stream(s), pdl(overlap) {}  // NOLINT: implicit on purpose
};

// ---- launchers (one .cu each) ------------------------------------------------------------------
cudaError_t launch_embed(const WeightView& table, const int32_t* tokens, int64_t n_tok, float* out,
                         int* bad_token_flag, LaunchOn stream);
// out = x / rms(x) * w per row; optionally also `act` (n % 32 == 0).
cudaError_t launch_rms_norm(const float* x, const float* w, float eps, int64_t n_rows, int64_t n, float* out,
                            ActQ8 act, LaunchOn stream);
cudaError_t launch_quantize_act(const float* x, int64_t n_rows, int64_t n, ActQ8 act, LaunchOn stream);
cudaError_t launch_matvec_q(const MatvecArgs& a, LaunchOn stream);
cudaError_t launch_matvec_f(const MatvecArgs& a, LaunchOn stream);
// Dequantizes rows [r0, r0 + n_rows) × columns [c0, c0 + n_cols) of w into an F16 tile with
// leading dimension n_cols. c0 and n_cols are multiples of the type's block (256 for K-quants).
cudaError_t launch_dequant_tile(const WeightView& w, int64_t r0, int64_t n_rows, int64_t c0, int64_t n_cols,
                                void* tile_f16, LaunchOn stream);
// F32 → F16 with saturation to ±65504.
cudaError_t launch_f32_to_f16(const float* x, int64_t n, void* out_f16, LaunchOn stream);
cudaError_t launch_add_bias(float* x, const float* b, int64_t n_tok, int64_t n, LaunchOn stream);
cudaError_t launch_rope_store(const RopeStoreArgs& a, LaunchOn stream);
cudaError_t launch_attention_partial(const AttnArgs& a, LaunchOn stream);
cudaError_t launch_attention_combine(const AttnArgs& a, LaunchOn stream);
cudaError_t launch_attention_prefill(const AttnArgs& a, LaunchOn stream);
bool attention_prefill_supported(int64_t head_dim);  // head_dim ≤ 256
// The register-blocked prefill attention for head sizes 64 and 128.
cudaError_t launch_attention_prefill_hd(const AttnArgs& a, LaunchOn stream);
bool attention_prefill_hd_supported(int64_t head_dim);
// The tensor-core prefill attention for an f16 cache and head sizes 64, 128. Compute capability
// 8.0 or later only: the caller checks (the device knows it; no query per launch).
cudaError_t launch_attention_prefill_mma(const AttnArgs& a, LaunchOn stream);
bool attention_prefill_mma_supported(int64_t head_dim, int kv_type);
cudaError_t launch_swiglu(const float* gate, const float* up, int64_t n, float* out, LaunchOn stream);
cudaError_t launch_geglu(const float* gate, const float* up, int64_t n, float* out, LaunchOn stream);
cudaError_t launch_scale(float* x, float s, int64_t n, LaunchOn stream);
cudaError_t launch_add(float* x, const float* y, int64_t n, LaunchOn stream);
// Mixture of experts: routing on the device, then the chosen experts' FFN (k_moe.cu). The FFN
// quantizes x and h itself when its matrices are quantized (several launches per token group).
cudaError_t launch_moe_route(const MoeRouteArgs& a, LaunchOn stream);
cudaError_t launch_moe_ffn(const MoeFfnArgs& a, LaunchOn stream);
bool moe_type_supported(int dev_type);  // every DevType the matvec kernels read
// Probes: fills with pseudo-random values; reads every 16 bytes of a buffer once.
cudaError_t launch_fill_random_f16(void* p, int64_t n, uint32_t seed, cudaStream_t stream);
cudaError_t launch_read_probe(const void* p, size_t bytes, float* sink, cudaStream_t stream);
// A kernel that does nothing: detection checks that this build has code for the GPU.
const void* noop_kernel_address();

}  // namespace strata::cuk
