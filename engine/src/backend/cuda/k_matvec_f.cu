// Matrix × few vectors on F32 / F16 / BF16 weights (decode), float32 activations and
// accumulation (as the CPU's float kernels). One warp per output row; with rows of a multiple
// of 8 elements and 16-byte aligned activations each lane reads 16 bytes of weights per step,
// otherwise element by element.
#include "backend/cuda/cuda_common.cuh"

namespace strata::cuk {

namespace {

constexpr int kRowsPerBlock = 4;

// 8 consecutive weights of a row starting at element e (e % 8 == 0, vector path).
template <int T>
__device__ __forceinline__ void load8(const uint8_t* row, int64_t e, float (&w)[8]) {
    if constexpr (T == kF32) {
        const float4 a = __ldg(reinterpret_cast<const float4*>(row) + e / 4);
        const float4 b = __ldg(reinterpret_cast<const float4*>(row) + e / 4 + 1);
        w[0] = a.x; w[1] = a.y; w[2] = a.z; w[3] = a.w;
        w[4] = b.x; w[5] = b.y; w[6] = b.z; w[7] = b.w;
    } else {
        const uint4 v = __ldg(reinterpret_cast<const uint4*>(row + 2 * e));
        const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const uint16_t lo = static_cast<uint16_t>(words[k] & 0xffffu), hi = static_cast<uint16_t>(words[k] >> 16);
            w[2 * k] = T == kF16 ? h2f(lo) : bf2f(lo);
            w[2 * k + 1] = T == kF16 ? h2f(hi) : bf2f(hi);
        }
    }
}

template <int T>
__device__ __forceinline__ float load1(const uint8_t* row, int64_t e) {
    if constexpr (T == kF32) return __ldg(reinterpret_cast<const float*>(row) + e);
    const uint16_t h = __ldg(reinterpret_cast<const unsigned short*>(row) + e);
    return T == kF16 ? h2f(h) : bf2f(h);
}

template <int T, int NT, int EPI, bool VEC>
__global__ void __launch_bounds__(kRowsPerBlock * 32) matvec_f_kernel(const MatvecArgs a) {
    pdl_enter();
    const int lane = threadIdx.x % 32;
    const int64_t slot = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
    if (slot >= a.row_begin[a.n_mat]) return;
    const int m = slot < a.row_begin[1] ? 0 : slot < a.row_begin[2] ? 1 : 2;
    const WeightView w = m == 0 ? a.w[0] : m == 1 ? a.w[1] : a.w[2];
    const int64_t r = slot - (m == 0 ? 0 : m == 1 ? a.row_begin[1] : a.row_begin[2]);
    const int64_t n = a.n_cols;
    const uint8_t* row = w.main + r * w.row_bytes;
    const uint8_t* row2 = EPI == kEpiSwiglu ? a.w[1].main + r * a.w[1].row_bytes : nullptr;

    float acc[NT], acc2[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[t] = acc2[t] = 0.0f;

    if constexpr (VEC) {
        constexpr int kUnroll = NT <= 2 ? 4 : 2;  // several 16-byte loads in flight per lane
#pragma unroll kUnroll
        for (int64_t e = 8 * lane; e < n; e += 8 * 32) {
            float wv[8], wv2[8];
            load8<T>(row, e, wv);
            if constexpr (EPI == kEpiSwiglu) load8<T>(row2, e, wv2);
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const float4 x0 = __ldg(reinterpret_cast<const float4*>(a.x + t * n + e));
                const float4 x1 = __ldg(reinterpret_cast<const float4*>(a.x + t * n + e + 4));
                acc[t] += wv[0] * x0.x + wv[1] * x0.y + wv[2] * x0.z + wv[3] * x0.w +
                          wv[4] * x1.x + wv[5] * x1.y + wv[6] * x1.z + wv[7] * x1.w;
                if constexpr (EPI == kEpiSwiglu) {
                    acc2[t] += wv2[0] * x0.x + wv2[1] * x0.y + wv2[2] * x0.z + wv2[3] * x0.w +
                               wv2[4] * x1.x + wv2[5] * x1.y + wv2[6] * x1.z + wv2[7] * x1.w;
                }
            }
        }
    } else {
        for (int64_t e = lane; e < n; e += 32) {
            const float wv = load1<T>(row, e);
            const float wv2 = EPI == kEpiSwiglu ? load1<T>(row2, e) : 0.0f;
#pragma unroll
            for (int t = 0; t < NT; ++t) {
                const float xv = __ldg(a.x + t * n + e);
                acc[t] += wv * xv;
                if constexpr (EPI == kEpiSwiglu) acc2[t] += wv2 * xv;
            }
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

template <int T, int NT, bool VEC>
cudaError_t launch_epi(const MatvecArgs& a, LaunchOn stream) {
    const int64_t slots = a.epilogue == kEpiSwiglu ? a.row_begin[1] : a.row_begin[a.n_mat];
    if (slots <= 0) return cudaSuccess;
    const dim3 grid(grid_1d(slots, kRowsPerBlock)), block(kRowsPerBlock * 32);
    if (a.epilogue == kEpiSwiglu) {
        MatvecArgs b = a;
        b.n_mat = 1;
        launch_kernel(matvec_f_kernel<T, NT, kEpiSwiglu, VEC>, grid, block, 0, stream, b);
    } else if (a.epilogue == kEpiResidual) {
        launch_kernel(matvec_f_kernel<T, NT, kEpiResidual, VEC>, grid, block, 0, stream, a);
    } else {
        launch_kernel(matvec_f_kernel<T, NT, kEpiNone, VEC>, grid, block, 0, stream, a);
    }
    return cudaGetLastError();
}

template <int T, bool VEC>
cudaError_t launch_tok(const MatvecArgs& a, LaunchOn stream) {
    switch (a.n_tok) {
        case 1: return launch_epi<T, 1, VEC>(a, stream);
        case 2: return launch_epi<T, 2, VEC>(a, stream);
        case 3: return launch_epi<T, 3, VEC>(a, stream);
        case 4: return launch_epi<T, 4, VEC>(a, stream);
        case 5: return launch_epi<T, 5, VEC>(a, stream);
        case 6: return launch_epi<T, 6, VEC>(a, stream);
        case 7: return launch_epi<T, 7, VEC>(a, stream);
        case 8: return launch_epi<T, 8, VEC>(a, stream);
        default: return cudaErrorInvalidValue;
    }
}

template <int T>
cudaError_t launch_type(const MatvecArgs& a, LaunchOn stream) {
    // Vector loads need rows of whole 16-byte steps and 16-byte aligned rows of x.
    bool vec = a.n_cols % 8 == 0 && reinterpret_cast<uintptr_t>(a.x) % 16 == 0;
    for (int m = 0; m < a.n_mat; ++m) vec = vec && reinterpret_cast<uintptr_t>(a.w[m].main) % 16 == 0;
    return vec ? launch_tok<T, true>(a, stream) : launch_tok<T, false>(a, stream);
}

}  // namespace

cudaError_t launch_matvec_f(const MatvecArgs& a, LaunchOn stream) {
    switch (a.w[0].type) {
        case kF32: return launch_type<kF32>(a, stream);
        case kF16: return launch_type<kF16>(a, stream);
        case kBF16: return launch_type<kBF16>(a, stream);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace strata::cuk
