// Matrix × few vectors on quantized weights (decode): out[t, r] = Σ_k W[r, k] · x[t, k] for
// n_tok ≤ kMaxMatvecTokens, with x in ActQ8 form (int8 blocks of 32).
//
// One warp per output row (per row pair for the SwiGLU epilogue); the 32 lanes take consecutive
// 32-weight units, so a warp reads 16 bytes per lane per unit and consecutive lanes read
// consecutive memory. Dot products use dp4a on the int8 quants; the per-run scales are applied
// in float. Each weight byte is read once for all tokens. Several matrices with the same input
// (q, k, v) share one launch; rows of the group are numbered consecutively.
#include "backend/cuda/quant_units.cuh"

namespace strata::cuk {

namespace {

constexpr int kRowsPerBlock = 4;  // warps per block

template <int T, int NT, int EPI>
__global__ void __launch_bounds__(kRowsPerBlock * 32) matvec_q_kernel(const MatvecArgs a) {
    const int lane = threadIdx.x % 32;
    const int64_t slot = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
    const bool live = slot < a.row_begin[a.n_mat];
    const int m = slot < a.row_begin[1] ? 0 : slot < a.row_begin[2] ? 1 : 2;
    const WeightView w = m == 0 ? a.w[0] : m == 1 ? a.w[1] : a.w[2];
    const int64_t r = slot - (m == 0 ? 0 : m == 1 ? a.row_begin[1] : a.row_begin[2]);
    if (live) {  // the weights do not depend on earlier launches: fetch them while those finish
        prefetch_l2(w.main + r * w.row_bytes, w.row_bytes, lane);
        if (w.d) prefetch_l2(w.d + r * w.d_per_row, 2 * w.d_per_row, lane);
        if constexpr (EPI == kEpiSwiglu) {
            prefetch_l2(a.w[1].main + r * a.w[1].row_bytes, a.w[1].row_bytes, lane);
            if (a.w[1].d) prefetch_l2(a.w[1].d + r * a.w[1].d_per_row, 2 * a.w[1].d_per_row, lane);
        }
    }
    pdl_enter();
    if (!live) return;  // whole warp leaves together
    const int64_t n_units = a.n_cols / 32;

    float acc[NT], acc2[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[t] = acc2[t] = 0.0f;

    // Several units' loads in flight per lane (one round trip covers a 4096-column row).
    constexpr int kUnroll = NT <= 2 ? 4 : 2;
#pragma unroll kUnroll
    for (int64_t u = lane; u < n_units; u += 32) {
        const Unit q = load_unit<T>(w, r, u);
        if constexpr (EPI == kEpiSwiglu) {
            const Unit q2 = load_unit<T>(a.w[1], r, u);
            accumulate_unit<T, NT>(q, a.act, a.n_cols, acc);
            accumulate_unit<T, NT>(q2, a.act, a.n_cols, acc2);
        } else {
            accumulate_unit<T, NT>(q, a.act, a.n_cols, acc);
        }
    }
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        acc[t] = warp_sum(acc[t]);
        if constexpr (EPI == kEpiSwiglu) acc2[t] = warp_sum(acc2[t]);
    }
    if (lane != 0) return;
    const int64_t n_rows = w.n_rows;
    float* out = m == 0 ? a.out[0] : m == 1 ? a.out[1] : a.out[2];
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const int64_t o = t * n_rows + r;
        if constexpr (EPI == kEpiSwiglu) {
            const float g = acc[t], up = acc2[t];
            a.out[0][o] = g / (1.0f + expf(-g)) * up;
            a.out[1][o] = up;
        } else {
            out[o] = acc[t];
            if constexpr (EPI == kEpiResidual) a.residual[o] += acc[t];
        }
    }
}

template <int T, int NT>
cudaError_t launch_epi(const MatvecArgs& a, LaunchOn stream) {
    // The SwiGLU pair computes both matrices per row slot: slots = rows of the first.
    const int64_t slots = a.epilogue == kEpiSwiglu ? a.row_begin[1] : a.row_begin[a.n_mat];
    if (slots <= 0) return cudaSuccess;
    const dim3 grid(grid_1d(slots, kRowsPerBlock)), block(kRowsPerBlock * 32);
    if (a.epilogue == kEpiSwiglu) {
        MatvecArgs b = a;
        b.n_mat = 1;  // slot → row mapping uses matrix 0 only
        launch_kernel(matvec_q_kernel<T, NT, kEpiSwiglu>, grid, block, 0, stream, b);
    } else if (a.epilogue == kEpiResidual) {
        launch_kernel(matvec_q_kernel<T, NT, kEpiResidual>, grid, block, 0, stream, a);
    } else {
        launch_kernel(matvec_q_kernel<T, NT, kEpiNone>, grid, block, 0, stream, a);
    }
    return cudaGetLastError();
}

template <int T>
cudaError_t launch_type(const MatvecArgs& a, LaunchOn stream) {
    switch (a.n_tok) {
        case 1: return launch_epi<T, 1>(a, stream);
        case 2: return launch_epi<T, 2>(a, stream);
        case 3: return launch_epi<T, 3>(a, stream);
        case 4: return launch_epi<T, 4>(a, stream);
        case 5: return launch_epi<T, 5>(a, stream);
        case 6: return launch_epi<T, 6>(a, stream);
        case 7: return launch_epi<T, 7>(a, stream);
        case 8: return launch_epi<T, 8>(a, stream);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace

cudaError_t launch_matvec_q(const MatvecArgs& a, LaunchOn stream) {
    switch (a.w[0].type) {
        case kQ4_0: return launch_type<kQ4_0>(a, stream);
        case kQ8_0: return launch_type<kQ8_0>(a, stream);
        case kQ4_K: return launch_type<kQ4_K>(a, stream);
        case kQ5_K: return launch_type<kQ5_K>(a, stream);
        case kQ6_K: return launch_type<kQ6_K>(a, stream);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace strata::cuk
