// AVX512-VNNI kernels of the integer 8-row interleaved layouts, two row groups at a time.
//
// A 512-bit vector holds the same 32-byte weight vector of two adjacent row groups (low half:
// group g, high half: group g + 1), so one int32 lane still belongs to one weight row and every
// activation broadcast is the same in both halves: a plain vpbroadcastd from memory, as in the
// 256-bit kernels. Each kernel follows its 256-bit VNNI twin (cpu_matmul_x8_vnni_body.inc) lane
// for lane: the integer sums are exact and the float operations per lane are the same, in the
// same order, so every row's result is bitwise what the AVX2 and 256-bit VNNI kernels return
// (tst_cpu_matmul checks exactly that). Where the weight operand is signed (Q8_0, the IQ4 and
// MXFP4 tables) there is no 512-bit vpsignb to move the sign onto the activations: the kernels
// multiply (w + 128) as unsigned bytes and take 128 · Σa off, which is the same exact sum.
//
// Compiled with a function target attribute, so a portable build carries it and only a CPU
// whose level is avx512_vnni or above (util/cpu_features.h) runs it.
#include "backend/cpu/cpu_matmul_internal.h"

#if defined(__x86_64__) || defined(__i386__)
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (their "undefined"
// pass-through operands; GCC bug 105593): not about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "quant/quant_blocks.h"

namespace strata {
namespace {

#define T512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
// Pins a vector in a register at this point (any of the 32): stops GCC from reassociating the
// integer accumulations into a tree of spilled temporaries.
#define KEEP_IN_REG(v) __asm__("" : "+v"(v))
#define DP(acc, u, s) _mm512_dpbusd_epi32((acc), (u), (s))

// The 32 bytes at p (group g) and at p + gs (group g + 1).
T512 inline __m512i load_pair(const uint8_t* p, size_t gs) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + gs)), 1);
}
// The 8 f16 values at p and at p + gs as 16 floats.
T512 inline __m512 f16_pair(const uint8_t* p, size_t gs) {
    const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + gs)), 1);
    return _mm512_cvtph_ps(h);
}
// The 8 bytes at p and at p + gs.
T512 inline __m128i bytes_pair(const uint8_t* p, size_t gs) {
    return _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + gs)));
}
T512 inline __m512i u8_pair_to_i32(const uint8_t* p, size_t gs) { return _mm512_cvtepu8_epi32(bytes_pair(p, gs)); }
T512 inline __m512i s8_pair_to_i32(const void* p, size_t gs) {
    return _mm512_cvtepi8_epi32(bytes_pair(static_cast<const uint8_t*>(p), gs));
}
// [b, b] as int16 in each int32 lane (the mins pass, as the 256-bit kernels).
T512 inline __m512i u8_pair_pairs16(const uint8_t* p, size_t gs) {
    const __m512i v = u8_pair_to_i32(p, gs);
    return _mm512_or_si512(v, _mm512_slli_epi32(v, 16));
}
// int16 pairs [p[r], p2[r]] per int32 lane (signed bytes), for both groups.
T512 inline __m512i s8_pairs16(const int8_t* p, const int8_t* p2, size_t gs) {
    return _mm512_or_si512(_mm512_and_si512(s8_pair_to_i32(p, gs), _mm512_set1_epi32(0xFFFF)),
                           _mm512_slli_epi32(s8_pair_to_i32(p2, gs), 16));
}
T512 inline __m512i bcast4(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}
T512 inline __m512i add_bit(__m512i levels, __m512i h, int bit, int to) {
    return _mm512_or_si512(levels, _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(h, bit), _mm512_set1_epi8(1)), to));
}

// ---- Q4_0X8 against ActQ8 -------------------------------------------------------------------
template <int T>
T512 void q4_0_t(const uint8_t* w, size_t gs, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += 144) {
        const __m512 wd = f16_pair(w, gs);
        __m512i i32[T];
        for (int t = 0; t < T; ++t) i32[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m512i v = load_pair(w + 16 + 32 * j, gs);
            const __m512i lo = _mm512_and_si512(v, m4);
            const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                const int8_t* q = act[t * as + b].q + 8 * j;
                i32[t] = DP(i32[t], lo, bcast4(q));
                i32[t] = DP(i32[t], hi, bcast4(q + 4));
                KEEP_IN_REG(i32[t]);
            }
        }
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
            const ActQ8& a = act[t * as + b];
            const __m512i s = _mm512_sub_epi32(i32[t], _mm512_set1_epi32(8 * a.sum));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, _mm512_set1_ps(a.d)), acc[t]);
        }
    }
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, acc[t]);
}

// ---- Q8_0X8 against ActQ8: dpbusd(w + 128, a) − 128 · Σa ------------------------------------
template <int T>
T512 void q8_0_t(const uint8_t* w, size_t gs, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += 272) {
        const __m512 wd = f16_pair(w, gs);
        __m512i i32[T];
        for (int t = 0; t < T; ++t) i32[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int c = 0; c < 8; ++c) {
            const __m512i u = _mm512_xor_si512(load_pair(w + 16 + 32 * c, gs), bias);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                i32[t] = DP(i32[t], u, bcast4(act[t * as + b].q + 4 * c));
                KEEP_IN_REG(i32[t]);
            }
        }
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
            const ActQ8& a = act[t * as + b];
            const __m512i s = _mm512_sub_epi32(i32[t], _mm512_set1_epi32(128 * a.sum));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, _mm512_set1_ps(a.d)), acc[t]);
        }
    }
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, acc[t]);
}

// ---- Q4_1X8 / Q5_0X8 / Q5_1X8 against ActQ8; running sums in the output tile ----------------
template <bool kMin, bool kFifth, int T>
T512 void legacy_t(const uint8_t* w, size_t gs, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    constexpr size_t kBytes = 16 + (kMin ? 16 : 0) + 128 + (kFifth ? 32 : 0);
    constexpr int kOffset = kMin ? 0 : 16;  // Q5_0 levels are q + 16
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, _mm512_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += kBytes) {
        const uint8_t* q = w + (kMin ? 32 : 16);
        __m512i h = _mm512_setzero_si512();
        if constexpr (kFifth) h = load_pair(q + 128, gs);
        __m512i i32[T];
        for (int t = 0; t < T; ++t) i32[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m512i v = load_pair(q + 32 * j, gs);
            __m512i lo = _mm512_and_si512(v, m4);
            __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            if constexpr (kFifth) {
                lo = add_bit(lo, h, j, 4);
                hi = add_bit(hi, h, 4 + j, 4);
            }
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                const int8_t* aq = act[t * as + b].q + 8 * j;
                i32[t] = DP(i32[t], lo, bcast4(aq));
                i32[t] = DP(i32[t], hi, bcast4(aq + 4));
                KEEP_IN_REG(i32[t]);
            }
        }
        const __m512 wd = f16_pair(w, gs);
        for (int t = 0; t < T; ++t) {
            const ActQ8& a = act[t * as + b];
            __m512i isum = i32[t];
            if constexpr (kOffset != 0) isum = _mm512_sub_epi32(isum, _mm512_set1_epi32(kOffset * a.sum));
            __m512 o = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(wd, _mm512_set1_ps(a.d)),
                                       _mm512_loadu_ps(out + 16 * t));
            if constexpr (kMin) {
                const __m512 wm = f16_pair(w + 16, gs);
                o = _mm512_fmadd_ps(wm, _mm512_set1_ps(a.d * static_cast<float>(a.sum)), o);
            }
            _mm512_storeu_ps(out + 16 * t, o);
        }
    }
}

// ---- Q4_KX8 / Q5_KX8 against Q8_K -----------------------------------------------------------
template <bool kFifthBit, int T>
T512 void q45_k_t(const uint8_t* w, size_t gs, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    constexpr size_t kGroupBytes = kFifthBit ? 160 : 128;
    constexpr size_t kSuperBlockBytes = 160 + 8 * kGroupBytes;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, _mm512_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += kSuperBlockBytes) {
        const BlockQ8_K* a[T];
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const __m512 wd = f16_pair(w, gs);
        const __m512 wm = f16_pair(w + 16, gs);
        {  // mins: Σ_g mn[g][r] · (bsums[2g] + bsums[2g+1])
            __m512i imin[T];
            for (int t = 0; t < T; ++t) imin[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int g = 0; g < 8; ++g) {
                const __m512i mn = u8_pair_pairs16(w + 96 + 8 * g, gs);
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    imin[t] = _mm512_add_epi32(imin[t], _mm512_madd_epi16(mn, bcast4(a[t]->bsums + 2 * g)));
                    KEEP_IN_REG(imin[t]);
                }
            }
            for (int t = 0; t < T; ++t) {
                const __m512 m = _mm512_mul_ps(wm, _mm512_set1_ps(a[t]->d));
                _mm512_storeu_ps(out + 16 * t,
                                 _mm512_fnmadd_ps(_mm512_cvtepi32_ps(imin[t]), m, _mm512_loadu_ps(out + 16 * t)));
            }
        }
        __m512i isum[T];
        for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
        for (int g = 0; g < 8; ++g) {
            const uint8_t* q = w + 160 + kGroupBytes * g;
            __m512i h = _mm512_setzero_si512();
            if constexpr (kFifthBit) h = load_pair(q + 128, gs);
            __m512i g32[T];
            for (int t = 0; t < T; ++t) g32[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const __m512i v = load_pair(q + 32 * j, gs);
                __m512i lo = _mm512_and_si512(v, m4);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                if constexpr (kFifthBit) {
                    lo = add_bit(lo, h, j, 4);
                    hi = add_bit(hi, h, 4 + j, 4);
                }
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    const int8_t* aq = a[t]->qs + 32 * g + 8 * j;
                    g32[t] = DP(g32[t], lo, bcast4(aq));
                    g32[t] = DP(g32[t], hi, bcast4(aq + 4));
                    KEEP_IN_REG(g32[t]);
                }
            }
            const __m512i sc = u8_pair_to_i32(w + 32 + 8 * g, gs);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(g32[t], sc));
                KEEP_IN_REG(isum[t]);
            }
        }
        for (int t = 0; t < T; ++t) {
            const __m512 d = _mm512_mul_ps(wd, _mm512_set1_ps(a[t]->d));
            _mm512_storeu_ps(out + 16 * t,
                             _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), d, _mm512_loadu_ps(out + 16 * t)));
        }
    }
}

// ---- Q6_KX8 against Q8_K --------------------------------------------------------------------
template <int T>
T512 void q6_k_t(const uint8_t* w, size_t gs, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(3);
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, _mm512_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += 1680) {
        const BlockQ8_K* a[T];
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const auto* sc8 = reinterpret_cast<const int8_t*>(w + 16);
        __m512i isum[T];
        for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
        for (int c = 0; c < 8; ++c) {
            const uint8_t* q = w + 144 + 192 * c;
            const __m512i h0 = load_pair(q + 128, gs);
            const __m512i h1 = load_pair(q + 160, gs);
            {  // level offset: isum -= 32 · (sc[2c]·bsums[2c] + sc[2c+1]·bsums[2c+1])
                const __m512i scp = s8_pairs16(sc8 + 8 * (2 * c), sc8 + 8 * (2 * c + 1), gs);
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    const __m512i off = _mm512_madd_epi16(scp, bcast4(a[t]->bsums + 2 * c));
                    isum[t] = _mm512_sub_epi32(isum[t], _mm512_slli_epi32(off, 5));
                    KEEP_IN_REG(isum[t]);
                }
            }
#pragma GCC unroll 2
            for (int half = 0; half < 2; ++half) {
                __m512i g32[T];
                for (int t = 0; t < T; ++t) g32[t] = _mm512_setzero_si512();
#pragma GCC unroll 2
                for (int jj = 0; jj < 2; ++jj) {
                    const int j = 2 * half + jj;
                    const __m512i v = load_pair(q + 32 * j, gs);
                    const __m512i lo = _mm512_or_si512(
                        _mm512_and_si512(v, m4), _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(h0, 2 * j), m2), 4));
                    const __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4),
                                                       _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(h1, 2 * j), m2), 4));
#pragma GCC unroll 8
                    for (int t = 0; t < T; ++t) {
                        const int8_t* aq = a[t]->qs + 32 * c + 8 * j;
                        g32[t] = DP(g32[t], lo, bcast4(aq));
                        g32[t] = DP(g32[t], hi, bcast4(aq + 4));
                        KEEP_IN_REG(g32[t]);
                    }
                }
                const __m512i sc = s8_pair_to_i32(sc8 + 8 * (2 * c + half), gs);
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(g32[t], sc));
                    KEEP_IN_REG(isum[t]);
                }
            }
        }
        const __m512 wd = f16_pair(w, gs);
        for (int t = 0; t < T; ++t) {
            const __m512 d = _mm512_mul_ps(wd, _mm512_set1_ps(a[t]->d));
            _mm512_storeu_ps(out + 16 * t,
                             _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), d, _mm512_loadu_ps(out + 16 * t)));
        }
    }
}

// ---- Q2_KX8 / Q3_KX8 against Q8_K -----------------------------------------------------------
template <bool kQ3, int T>
T512 void q23_k_t(const uint8_t* w, size_t gs, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    constexpr size_t kHead = kQ3 ? 144 : 160, kChunk = kQ3 ? 96 : 64, kBytes = kHead + 8 * kChunk;
    const __m512i m2 = _mm512_set1_epi8(3), m4_32 = _mm512_set1_epi32(0x0F);
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, _mm512_setzero_ps());
    for (int64_t b = 0; b < nb; ++b, w += kBytes) {
        const BlockQ8_K* a[T];
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const uint8_t* scb = w + (kQ3 ? 16 : 32);
        if constexpr (!kQ3) {  // mins: Σ_g mn[g][r] · bsums[g], taken off with dmin
            __m512i imin[T];
            for (int t = 0; t < T; ++t) imin[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int c = 0; c < 8; ++c) {
                const __m512i m0 = _mm512_srli_epi32(u8_pair_to_i32(scb + 16 * c, gs), 4);
                const __m512i m1 = _mm512_srli_epi32(u8_pair_to_i32(scb + 16 * c + 8, gs), 4);
                const __m512i mp = _mm512_or_si512(m0, _mm512_slli_epi32(m1, 16));
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    imin[t] = _mm512_add_epi32(imin[t], _mm512_madd_epi16(mp, bcast4(a[t]->bsums + 2 * c)));
                    KEEP_IN_REG(imin[t]);
                }
            }
            const __m512 wm = f16_pair(w + 16, gs);
            for (int t = 0; t < T; ++t) {
                const __m512 m = _mm512_mul_ps(wm, _mm512_set1_ps(a[t]->d));
                _mm512_storeu_ps(out + 16 * t,
                                 _mm512_fnmadd_ps(_mm512_cvtepi32_ps(imin[t]), m, _mm512_loadu_ps(out + 16 * t)));
            }
        }
        __m512i isum[T];
        for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
        for (int c = 0; c < 8; ++c) {
            const uint8_t* q = w + kHead + kChunk * c;
            const __m512i l0 = load_pair(q, gs);
            const __m512i l1 = load_pair(q + 32, gs);
            __m512i h = _mm512_setzero_si512();
            if constexpr (kQ3) {
                h = load_pair(q + 64, gs);
                // level offset 4: isum -= 4 · (sc[2c]·bsums[2c] + sc[2c+1]·bsums[2c+1])
                const auto* sc8 = reinterpret_cast<const int8_t*>(scb);
                const __m512i scp = s8_pairs16(sc8 + 16 * c, sc8 + 16 * c + 8, gs);
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    const __m512i off = _mm512_madd_epi16(scp, bcast4(a[t]->bsums + 2 * c));
                    isum[t] = _mm512_sub_epi32(isum[t], _mm512_slli_epi32(off, 2));
                    KEEP_IN_REG(isum[t]);
                }
            }
#pragma GCC unroll 2
            for (int half = 0; half < 2; ++half) {
                __m512i g32[T];
                for (int t = 0; t < T; ++t) g32[t] = _mm512_setzero_si512();
#pragma GCC unroll 2
                for (int jj = 0; jj < 2; ++jj) {
                    const int j = 2 * half + jj;
                    __m512i lo = _mm512_and_si512(_mm512_srli_epi16(l0, 2 * j), m2);
                    __m512i hi = _mm512_and_si512(_mm512_srli_epi16(l1, 2 * j), m2);
                    if constexpr (kQ3) {
                        lo = add_bit(lo, h, j, 2);
                        hi = add_bit(hi, h, 4 + j, 2);
                    }
#pragma GCC unroll 8
                    for (int t = 0; t < T; ++t) {
                        const int8_t* aq = a[t]->qs + 32 * c + 8 * j;
                        g32[t] = DP(g32[t], lo, bcast4(aq));
                        g32[t] = DP(g32[t], hi, bcast4(aq + 4));
                        KEEP_IN_REG(g32[t]);
                    }
                }
                __m512i sc;
                if constexpr (kQ3) sc = s8_pair_to_i32(scb + 8 * (2 * c + half), gs);
                else sc = _mm512_and_si512(u8_pair_to_i32(scb + 8 * (2 * c + half), gs), m4_32);
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(g32[t], sc));
                    KEEP_IN_REG(isum[t]);
                }
            }
        }
        const __m512 wd = f16_pair(w, gs);
        for (int t = 0; t < T; ++t) {
            const __m512 d = _mm512_mul_ps(wd, _mm512_set1_ps(a[t]->d));
            _mm512_storeu_ps(out + 16 * t,
                             _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), d, _mm512_loadu_ps(out + 16 * t)));
        }
    }
}

// ---- IQ4_NL / MXFP4 (ActQ8) and IQ4_XS (Q8_K): table levels --------------------------------
// vpdpbusd needs one unsigned operand; the levels are signed, so the table holds level + 128
// (the byte's top bit flipped) and 128 · Σa comes off each block (group, for IQ4_XS) sum,
// which leaves the AVX2 kernels' exact Σ level · a.
T512 inline __m512i biased_table(const int8_t* levels) {
    // The zero-masked broadcast: GCC 12 warns that the plain one's undefined source is "used
    // uninitialized" (a false positive of its intrinsics header); all 16 lanes are written.
    return _mm512_xor_si512(_mm512_maskz_broadcast_i32x4(static_cast<__mmask16>(0xFFFF),
                                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(levels))),
                            _mm512_set1_epi8(static_cast<char>(0x80)));
}
// The 16 rows' MXFP4 scales 2^(e − 128) from their exponent bytes, bit for bit as the AVX2
// kernel builds them (exponent field e − 1 for e ≥ 2, the subnormals 2^-127, 2^-128 below).
T512 inline __m512 mxfp4_scales_pair(const uint8_t* e8, size_t gs) {
    const __m512i e = u8_pair_to_i32(e8, gs);
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i normal = _mm512_slli_epi32(_mm512_sub_epi32(e, one), 23);
    const __m512i subnormal = _mm512_sllv_epi32(_mm512_set1_epi32(0x00200000), e);
    return _mm512_castsi512_ps(_mm512_mask_blend_epi32(_mm512_cmpgt_epi32_mask(e, one), subnormal, normal));
}

template <int T, bool kMx>
T512 void table4_t(const uint8_t* w, size_t gs, int64_t nb, const ActQ8* act, int64_t as, float* out) {
    constexpr int64_t kHead = kMx ? 8 : 16;
    const __m512i table = biased_table(kMx ? quant::kMxfp4Levels : quant::kIq4Levels);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kHead + 128) {
        const __m512 wd = kMx ? mxfp4_scales_pair(w, gs) : f16_pair(w, gs);
        __m512i i32[T];
        for (int t = 0; t < T; ++t) i32[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            const __m512i v = load_pair(w + kHead + 32 * j, gs);
            const __m512i lo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, m4));
            const __m512i hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                const int8_t* q = act[t * as + b].q + 8 * j;
                i32[t] = DP(i32[t], lo, bcast4(q));
                i32[t] = DP(i32[t], hi, bcast4(q + 4));
                KEEP_IN_REG(i32[t]);
            }
        }
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
            const ActQ8& a = act[t * as + b];
            const __m512i s = _mm512_sub_epi32(i32[t], _mm512_set1_epi32(128 * a.sum));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, _mm512_set1_ps(a.d)), acc[t]);
        }
    }
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, acc[t]);
}

template <int T>
T512 void iq4_xs_t(const uint8_t* w, size_t gs, int64_t nb, const uint8_t* act, size_t arb, float* out) {
    using quant::BlockQ8_K;
    constexpr size_t kSuperBlockBytes = 16 + 64 + 8 * 128;
    const __m512i table = biased_table(quant::kIq4Levels);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, w += kSuperBlockBytes) {
        const BlockQ8_K* a[T];
        for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + t * arb) + b;
        const __m512 wd = f16_pair(w, gs);
        __m512i isum[T];
        for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
        for (int g = 0; g < 8; ++g) {
            __m512i g32[T];
            for (int t = 0; t < T; ++t) {
                const int bias = 128 * (a[t]->bsums[2 * g] + a[t]->bsums[2 * g + 1]);
                g32[t] = _mm512_set1_epi32(-bias);
            }
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                const __m512i v = load_pair(w + 80 + 128 * g + 32 * j, gs);
                const __m512i lo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, m4));
                const __m512i hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    const int8_t* aq = a[t]->qs + 32 * g + 8 * j;
                    g32[t] = DP(g32[t], lo, bcast4(aq));
                    g32[t] = DP(g32[t], hi, bcast4(aq + 4));
                    KEEP_IN_REG(g32[t]);
                }
            }
            const __m512i sc = s8_pair_to_i32(w + 16 + 8 * g, gs);
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) {
                isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(g32[t], sc));
                KEEP_IN_REG(isum[t]);
            }
        }
        for (int t = 0; t < T; ++t)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(wd, _mm512_set1_ps(a[t]->d)), acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(out + 16 * t, acc[t]);
}

// Token-count dispatch: tiles of up to kX16TileTokens tokens.
template <int T>
void iq4_nl_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    table4_t<T, false>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void mxfp4_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    table4_t<T, true>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void iq4_xs_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    iq4_xs_t<T>(w, gs, nb, static_cast<const uint8_t*>(a), arb, out);
}
template <int T>
void q4_0_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q4_0_t<T>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void q8_0_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q8_0_t<T>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void q4_1_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    legacy_t<true, false, T>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void q5_0_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    legacy_t<false, true, T>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void q5_1_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    legacy_t<true, true, T>(w, gs, nb, static_cast<const ActQ8*>(a), static_cast<int64_t>(arb / sizeof(ActQ8)), out);
}
template <int T>
void q2_k_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q23_k_t<false, T>(w, gs, nb, static_cast<const uint8_t*>(a), arb, out);
}
template <int T>
void q3_k_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q23_k_t<true, T>(w, gs, nb, static_cast<const uint8_t*>(a), arb, out);
}
template <int T>
void q4_k_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q45_k_t<false, T>(w, gs, nb, static_cast<const uint8_t*>(a), arb, out);
}
template <int T>
void q5_k_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q45_k_t<true, T>(w, gs, nb, static_cast<const uint8_t*>(a), arb, out);
}
template <int T>
void q6_k_n(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, float* out) {
    q6_k_t<T>(w, gs, nb, static_cast<const uint8_t*>(a), arb, out);
}

static_assert(kX16TileTokens == 8);
#define STRATA_X16_TILES(name, fn)                                                                          \
    void name(const uint8_t* w, size_t gs, int64_t nb, const void* a, size_t arb, int n_tok, float* out) { \
        switch (n_tok) {                                                                                    \
            case 1: return fn<1>(w, gs, nb, a, arb, out);                                                   \
            case 2: return fn<2>(w, gs, nb, a, arb, out);                                                   \
            case 3: return fn<3>(w, gs, nb, a, arb, out);                                                   \
            case 4: return fn<4>(w, gs, nb, a, arb, out);                                                   \
            case 5: return fn<5>(w, gs, nb, a, arb, out);                                                   \
            case 6: return fn<6>(w, gs, nb, a, arb, out);                                                   \
            case 7: return fn<7>(w, gs, nb, a, arb, out);                                                   \
            default: return fn<8>(w, gs, nb, a, arb, out);                                                  \
        }                                                                                                   \
    }
STRATA_X16_TILES(q4_0_tiles, q4_0_n)
STRATA_X16_TILES(q8_0_tiles, q8_0_n)
STRATA_X16_TILES(q4_1_tiles, q4_1_n)
STRATA_X16_TILES(q5_0_tiles, q5_0_n)
STRATA_X16_TILES(q5_1_tiles, q5_1_n)
STRATA_X16_TILES(q2_k_tiles, q2_k_n)
STRATA_X16_TILES(q3_k_tiles, q3_k_n)
STRATA_X16_TILES(q4_k_tiles, q4_k_n)
STRATA_X16_TILES(q5_k_tiles, q5_k_n)
STRATA_X16_TILES(q6_k_tiles, q6_k_n)
STRATA_X16_TILES(iq4_nl_tiles, iq4_nl_n)
STRATA_X16_TILES(mxfp4_tiles, mxfp4_n)
STRATA_X16_TILES(iq4_xs_tiles, iq4_xs_n)
#undef STRATA_X16_TILES

}  // namespace

QuantX16Kernel quant_x16_kernel_vnni512(int layout) {
    switch (layout) {
        case kLayoutQ4_0X8: return q4_0_tiles;
        case kLayoutQ8_0X8: return q8_0_tiles;
        case kLayoutQ4_1X8: return q4_1_tiles;
        case kLayoutQ5_0X8: return q5_0_tiles;
        case kLayoutQ5_1X8: return q5_1_tiles;
        case kLayoutQ2_KX8: return q2_k_tiles;
        case kLayoutQ3_KX8: return q3_k_tiles;
        case kLayoutQ4_KX8: return q4_k_tiles;
        case kLayoutQ5_KX8: return q5_k_tiles;
        case kLayoutQ6_KX8: return q6_k_tiles;
        case kLayoutIQ4_NLX8: return iq4_nl_tiles;
        case kLayoutMXFP4X8: return mxfp4_tiles;
        case kLayoutIQ4_XSX8: return iq4_xs_tiles;
        default: return nullptr;
    }
}

}  // namespace strata

#else

namespace strata {
QuantX16Kernel quant_x16_kernel_vnni512(int) { return nullptr; }
}  // namespace strata

#endif
