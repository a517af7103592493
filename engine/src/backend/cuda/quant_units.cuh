// Decoding the quantized weight formats on the GPU, from the published GGUF block layouts (the
// reference dequantizers in engine/src/quant/ are the truth these match).
//
// A matrix row of n_cols weights is read as n_cols / 32 "units" of 32 weights. A unit is two
// runs of 16 consecutive weights (starting at row elements e0 and e1, both multiples of 16):
//     w[e0 + i] = s0 * q0[i] - m0,   w[e1 + i] = s1 * q1[i] - m1      (i = 0 .. 15)
// with q held as signed bytes packed four to a 32-bit word. Every format maps onto this:
//   Q4_0  unit = block b:  e0 = 32b, e1 = 32b + 16 (low / high nibbles), q = nibble - 8
//   Q8_0  unit = block b:  e0 = 32b, e1 = 32b + 16
//   Q4_K  super-block sb, chunk c (64 weights), half h:  e0 = 256sb + 64c + 16h (low nibbles,
//         group 2c), e1 = e0 + 32 (high nibbles, group 2c + 1); w = d*sc*q - dmin*m
//   Q5_K  as Q4_K, the fifth bit from qh[16h + i] bit 2c (resp. 2c + 1)
//   Q6_K  super-block sb, half hf, j, g:  e0 = 256sb + 128hf + 32j + 16g (low nibbles of
//         ql[64hf + 32j + 16g + i], qh bits 2j), e1 = e0 + 64 (high nibbles, qh bits 4 + 2j);
//         scales sc[8hf + 2j + g] and sc[8hf + 2j + g + 4]; q = 6 bits - 32
// Units are loaded with 16-byte loads from the matrix layouts described in kernels.h.
#pragma once

#include "backend/cuda/kernel_args.h"

// `#pragma unroll` spelled so host compilers (the CPU test of these decoders) do not warn.
#ifdef __CUDACC__
#define STRATA_UNROLL _Pragma("unroll")
#else
#define STRATA_UNROLL
#endif

#ifndef STRATA_CUDA_HOST_TEST  // tests compile these decoders for the CPU with stand-ins
#include "backend/cuda/cuda_common.cuh"
#endif

namespace strata::cuk {

struct Unit {
    uint32_t q0[4], q1[4];
    float s0, s1, m0, m1;
    int64_t e0, e1;
};

template <int T> struct UnitTraits { static constexpr bool has_min = false; };
template <> struct UnitTraits<kQ4_K> { static constexpr bool has_min = true; };
template <> struct UnitTraits<kQ5_K> { static constexpr bool has_min = true; };

__device__ __forceinline__ uint32_t u4_word(const uint4& v, int k) {
    return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w;
}

// Q4_K / Q5_K: the 6-bit scales and mins of groups 2c and 2c + 1 from the 12 packed bytes in
// header bytes 4..15 (header = d, dmin, scales[12]; words hdr.y, hdr.z, hdr.w). Word-wide, for
// all four groups of a half at once: groups 0..3 have their scales in the low 6 bits of hdr.y's
// bytes and their mins in hdr.z's; groups 4..7 take 4 low bits from hdr.w's nibbles and the top
// 2 from the top bits of hdr.y (scales) / hdr.z (mins). Selects, not branches: c differs
// between the lanes of a warp.
__device__ __forceinline__ void k4_scale_min_pair(const uint4& hdr, int c, float& sc0, float& mn0, float& sc1,
                                                  float& mn1) {
    const uint32_t sc_lo = hdr.y & 0x3f3f3f3fu, mn_lo = hdr.z & 0x3f3f3f3fu;
    const uint32_t sc_hi = (hdr.w & 0x0f0f0f0fu) | ((hdr.y >> 2) & 0x30303030u);
    const uint32_t mn_hi = ((hdr.w >> 4) & 0x0f0f0f0fu) | ((hdr.z >> 2) & 0x30303030u);
    const int sh = 16 * (c & 1);
    const uint32_t sc = (c < 2 ? sc_lo : sc_hi) >> sh, mn = (c < 2 ? mn_lo : mn_hi) >> sh;
    sc0 = static_cast<float>(sc & 0xffu);
    sc1 = static_cast<float>((sc >> 8) & 0xffu);
    mn0 = static_cast<float>(mn & 0xffu);
    mn1 = static_cast<float>((mn >> 8) & 0xffu);
}

template <int T> __device__ __forceinline__ Unit load_unit(const WeightView& w, int64_t row, int64_t u);

template <> __device__ __forceinline__ Unit load_unit<kQ4_0>(const WeightView& w, int64_t row, int64_t u) {
    const uint8_t* rp = w.main + row * w.row_bytes;
    const uint4 raw = __ldg(reinterpret_cast<const uint4*>(rp + u * 16));
    const float d = h2f(__ldg(w.d + row * w.d_per_row + u));
    Unit r;
STRATA_UNROLL
    for (int k = 0; k < 4; ++k) {
        const uint32_t v = u4_word(raw, k);
        r.q0[k] = __vsub4(v & 0x0F0F0F0Fu, 0x08080808u);
        r.q1[k] = __vsub4((v >> 4) & 0x0F0F0F0Fu, 0x08080808u);
    }
    r.s0 = r.s1 = d;
    r.m0 = r.m1 = 0.0f;
    r.e0 = 32 * u;
    r.e1 = 32 * u + 16;
    return r;
}

template <> __device__ __forceinline__ Unit load_unit<kQ8_0>(const WeightView& w, int64_t row, int64_t u) {
    const uint8_t* rp = w.main + row * w.row_bytes + u * 32;
    const uint4 a = __ldg(reinterpret_cast<const uint4*>(rp));
    const uint4 b = __ldg(reinterpret_cast<const uint4*>(rp + 16));
    const float d = h2f(__ldg(w.d + row * w.d_per_row + u));
    Unit r;
STRATA_UNROLL
    for (int k = 0; k < 4; ++k) {
        r.q0[k] = u4_word(a, k);
        r.q1[k] = u4_word(b, k);
    }
    r.s0 = r.s1 = d;
    r.m0 = r.m1 = 0.0f;
    r.e0 = 32 * u;
    r.e1 = 32 * u + 16;
    return r;
}

template <> __device__ __forceinline__ Unit load_unit<kQ4_K>(const WeightView& w, int64_t row, int64_t u) {
    const int64_t sb = u >> 3;
    const int k = static_cast<int>(u & 7), c = k >> 1, h = k & 1;
    const uint8_t* blk = w.main + row * w.row_bytes + sb * 144;
    const uint4 hdr = __ldg(reinterpret_cast<const uint4*>(blk));
    const uint4 qs = __ldg(reinterpret_cast<const uint4*>(blk + 16 + 32 * c + 16 * h));
    const float d = h2f(static_cast<uint16_t>(hdr.x & 0xffffu)), dmin = h2f(static_cast<uint16_t>(hdr.x >> 16));
    float sc0, mn0, sc1, mn1;
    k4_scale_min_pair(hdr, c, sc0, mn0, sc1, mn1);
    Unit r;
STRATA_UNROLL
    for (int i = 0; i < 4; ++i) {
        const uint32_t v = u4_word(qs, i);
        r.q0[i] = v & 0x0F0F0F0Fu;
        r.q1[i] = (v >> 4) & 0x0F0F0F0Fu;
    }
    r.s0 = d * sc0;
    r.m0 = dmin * mn0;
    r.s1 = d * sc1;
    r.m1 = dmin * mn1;
    r.e0 = 256 * sb + 64 * c + 16 * h;
    r.e1 = r.e0 + 32;
    return r;
}

template <> __device__ __forceinline__ Unit load_unit<kQ5_K>(const WeightView& w, int64_t row, int64_t u) {
    const int64_t sb = u >> 3;
    const int k = static_cast<int>(u & 7), c = k >> 1, h = k & 1;
    const uint8_t* blk = w.main + row * w.row_bytes + sb * 176;
    const uint4 hdr = __ldg(reinterpret_cast<const uint4*>(blk));
    const uint4 qh = __ldg(reinterpret_cast<const uint4*>(blk + 16 + 16 * h));
    const uint4 qs = __ldg(reinterpret_cast<const uint4*>(blk + 48 + 32 * c + 16 * h));
    const float d = h2f(static_cast<uint16_t>(hdr.x & 0xffffu)), dmin = h2f(static_cast<uint16_t>(hdr.x >> 16));
    float sc0, mn0, sc1, mn1;
    k4_scale_min_pair(hdr, c, sc0, mn0, sc1, mn1);
    Unit r;
STRATA_UNROLL
    for (int i = 0; i < 4; ++i) {
        const uint32_t v = u4_word(qs, i), hb = u4_word(qh, i);
        r.q0[i] = (v & 0x0F0F0F0Fu) | (((hb >> (2 * c)) & 0x01010101u) << 4);
        r.q1[i] = ((v >> 4) & 0x0F0F0F0Fu) | (((hb >> (2 * c + 1)) & 0x01010101u) << 4);
    }
    r.s0 = d * sc0;
    r.m0 = dmin * mn0;
    r.s1 = d * sc1;
    r.m1 = dmin * mn1;
    r.e0 = 256 * sb + 64 * c + 16 * h;
    r.e1 = r.e0 + 32;
    return r;
}

template <> __device__ __forceinline__ Unit load_unit<kQ6_K>(const WeightView& w, int64_t row, int64_t u) {
    const int64_t sb = u >> 3;
    const int k = static_cast<int>(u & 7), hf = k >> 2, j = (k >> 1) & 1, g = k & 1;
    const uint8_t* blk = w.main + row * w.row_bytes + sb * 208;  // split layout: ql, qh, scales
    const uint4 ql = __ldg(reinterpret_cast<const uint4*>(blk + 16 * k));
    const uint4 qh = __ldg(reinterpret_cast<const uint4*>(blk + 128 + 32 * hf + 16 * g));
    const uint4 scv = __ldg(reinterpret_cast<const uint4*>(blk + 192));
    const float d = h2f(__ldg(w.d + row * w.d_per_row + sb));
    // Scales 8hf + 2j + g (word x or z, byte 2j + g) and the same + 4 (word y or w).
    const int sh = 8 * (2 * j + g);
    const float sa = static_cast<float>(static_cast<int8_t>(((hf ? scv.z : scv.x) >> sh) & 0xffu));
    const float sb_ = static_cast<float>(static_cast<int8_t>(((hf ? scv.w : scv.y) >> sh) & 0xffu));
    Unit r;
STRATA_UNROLL
    for (int i = 0; i < 4; ++i) {
        const uint32_t l = u4_word(ql, i), hb = u4_word(qh, i);
        r.q0[i] = __vsub4((l & 0x0F0F0F0Fu) | (((hb >> (2 * j)) & 0x03030303u) << 4), 0x20202020u);
        r.q1[i] = __vsub4(((l >> 4) & 0x0F0F0F0Fu) | (((hb >> (4 + 2 * j)) & 0x03030303u) << 4), 0x20202020u);
    }
    r.s0 = d * sa;
    r.s1 = d * sb_;
    r.m0 = r.m1 = 0.0f;
    r.e0 = 256 * sb + 128 * hf + 32 * j + 16 * g;
    r.e1 = r.e0 + 64;
    return r;
}

// Adds unit q's dot products with the NT activation rows of `act` (ActQ8, rows of n_cols) to
// acc: dp4a on the int8 quants, run scales in float. The min term of Q4_K / Q5_K needs Σ x over
// each whole 32-block; the unit whose first run starts a block (h = 0) adds it for both runs.
template <int T, int NT>
__device__ __forceinline__ void accumulate_unit(const Unit& q, const ActQ8& act, int64_t n_cols, float (&acc)[NT]) {
    const int64_t nb = n_cols / 32;
STRATA_UNROLL
    for (int t = 0; t < NT; ++t) {
        const int8_t* a = act.qs + t * n_cols;
        const int4 a0 = __ldg(reinterpret_cast<const int4*>(a + q.e0));
        const int4 a1 = __ldg(reinterpret_cast<const int4*>(a + q.e1));
        const float2 ds0 = __ldg(reinterpret_cast<const float2*>(act.ds) + t * nb + q.e0 / 32);
        const float2 ds1 = __ldg(reinterpret_cast<const float2*>(act.ds) + t * nb + q.e1 / 32);
        int i0 = __dp4a(static_cast<int>(q.q0[0]), a0.x, 0);
        i0 = __dp4a(static_cast<int>(q.q0[1]), a0.y, i0);
        i0 = __dp4a(static_cast<int>(q.q0[2]), a0.z, i0);
        i0 = __dp4a(static_cast<int>(q.q0[3]), a0.w, i0);
        int i1 = __dp4a(static_cast<int>(q.q1[0]), a1.x, 0);
        i1 = __dp4a(static_cast<int>(q.q1[1]), a1.y, i1);
        i1 = __dp4a(static_cast<int>(q.q1[2]), a1.z, i1);
        i1 = __dp4a(static_cast<int>(q.q1[3]), a1.w, i1);
        float v = q.s0 * ds0.x * static_cast<float>(i0) + q.s1 * ds1.x * static_cast<float>(i1);
        if constexpr (UnitTraits<T>::has_min) {
            if ((q.e0 & 31) == 0) v -= q.m0 * ds0.y + q.m1 * ds1.y;
        }
        acc[t] += v;
    }
}

// The row elements where unit u's two runs start (Unit::e0, Unit::e1 of load_unit<T>), without
// reading the weights: the grouped kernels load the activations of a unit beside its weights.
template <int T>
__device__ __forceinline__ void unit_offsets(int64_t u, int64_t& e0, int64_t& e1) {
    if constexpr (T == kQ4_0 || T == kQ8_0) {
        e0 = 32 * u;
        e1 = e0 + 16;
    } else if constexpr (T == kQ4_K || T == kQ5_K) {
        const int64_t sb = u >> 3;
        const int k = static_cast<int>(u & 7), c = k >> 1, h = k & 1;
        e0 = 256 * sb + 64 * c + 16 * h;
        e1 = e0 + 32;
    } else {  // kQ6_K
        const int64_t sb = u >> 3;
        const int k = static_cast<int>(u & 7), hf = k >> 2, j = (k >> 1) & 1, g = k & 1;
        e0 = 256 * sb + 128 * hf + 32 * j + 16 * g;
        e1 = e0 + 64;
    }
}

// What accumulate_unit adds for one activation row, from a unit held as plain values (the
// grouped kernels keep units and activation runs in shared memory): a0 / a1 are the row's 16
// int8 quants at e0 / e1 packed four to an int, ds0 / ds1 its (scale, scale · Σq) pairs of the
// blocks holding e0 and e1, `block_start` whether e0 starts a 32-block (the min term's unit).
template <int T>
__device__ __forceinline__ float unit_dot_act(const uint32_t (&q0)[4], const uint32_t (&q1)[4], float s0, float s1,
                                              float m0, float m1, bool block_start, const int (&a0)[4],
                                              const int (&a1)[4], float2 ds0, float2 ds1) {
    int i0 = __dp4a(static_cast<int>(q0[0]), a0[0], 0);
    i0 = __dp4a(static_cast<int>(q0[1]), a0[1], i0);
    i0 = __dp4a(static_cast<int>(q0[2]), a0[2], i0);
    i0 = __dp4a(static_cast<int>(q0[3]), a0[3], i0);
    int i1 = __dp4a(static_cast<int>(q1[0]), a1[0], 0);
    i1 = __dp4a(static_cast<int>(q1[1]), a1[1], i1);
    i1 = __dp4a(static_cast<int>(q1[2]), a1[2], i1);
    i1 = __dp4a(static_cast<int>(q1[3]), a1[3], i1);
    float v = s0 * ds0.x * static_cast<float>(i0) + s1 * ds1.x * static_cast<float>(i1);
    if constexpr (UnitTraits<T>::has_min) {
        if (block_start) v -= m0 * ds0.y + m1 * ds1.y;
    }
    return v;
}

// ---- element-wise dequantization from the native (GGUF) layout, for embedding rows --------
__device__ __forceinline__ uint16_t ld_u16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

// Element i of a native row of type t.
__device__ __forceinline__ float dequant_native(int t, const uint8_t* row, int64_t i) {
    switch (t) {
        case kF32: return reinterpret_cast<const float*>(row)[i];
        case kF16: return h2f(ld_u16(row + 2 * i));
        case kBF16: return bf2f(ld_u16(row + 2 * i));
        case kQ4_0: {
            const uint8_t* b = row + (i / 32) * 18;
            const int j = static_cast<int>(i % 32);
            const int q = j < 16 ? (b[2 + j] & 0xF) : (b[2 + j - 16] >> 4);
            return h2f(ld_u16(b)) * static_cast<float>(q - 8);
        }
        case kQ8_0: {
            const uint8_t* b = row + (i / 32) * 34;
            return h2f(ld_u16(b)) * static_cast<float>(static_cast<int8_t>(b[2 + i % 32]));
        }
        case kQ4_K:
        case kQ5_K: {
            const bool five = t == kQ5_K;
            const uint8_t* b = row + (i / 256) * (five ? 176 : 144);
            const int e = static_cast<int>(i % 256), c = e / 64, hi = (e % 64) / 32, l = e % 32;
            const int jg = 2 * c + hi;
            const uint8_t* s = b + 4;
            int sc, mn;
            if (jg < 4) {
                sc = s[jg] & 63;
                mn = s[jg + 4] & 63;
            } else {
                sc = (s[jg + 4] & 0xF) | ((s[jg - 4] >> 6) << 4);
                mn = (s[jg + 4] >> 4) | ((s[jg] >> 6) << 4);
            }
            const uint8_t* qs = b + (five ? 48 : 16) + 32 * c;
            int q = hi ? (qs[l] >> 4) : (qs[l] & 0xF);
            if (five) q |= ((b[16 + l] >> jg) & 1) << 4;
            return h2f(ld_u16(b)) * static_cast<float>(sc) * static_cast<float>(q) -
                   h2f(ld_u16(b + 2)) * static_cast<float>(mn);
        }
        case kQ6_K: {
            const uint8_t* b = row + (i / 256) * 210;
            const int e = static_cast<int>(i % 256), hf = e / 128, k = (e % 128) / 32, l = e % 32;
            const uint8_t* ql = b + 64 * hf + 32 * (k % 2);
            const int lo = k < 2 ? (ql[l] & 0xF) : (ql[l] >> 4);
            const int hb = (b[128 + 32 * hf + l] >> (2 * k)) & 3;
            const int sc = static_cast<int8_t>(b[192 + 8 * hf + 2 * k + l / 16]);
            return h2f(ld_u16(b + 208)) * static_cast<float>(sc) * static_cast<float>((lo | (hb << 4)) - 32);
        }
        default: return 0.0f;
    }
}

}  // namespace strata::cuk
