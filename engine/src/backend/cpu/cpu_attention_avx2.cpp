// AVX2 attention over an f16, f32 or q8_0 KV cache: for each query head of
// the group, scores against every cached key (8-wide FMAs over head_dim, one horizontal sum per
// position), a softmax, then the value rows weighted into head_dim accumulators held in
// registers, 64 dimensions at a time. Keys and values stream from the cache once per query head;
// a KV head's slice is small enough (n_pos × head_dim × 2 bytes) to stay in L2 across the group.
//
// Every output is computed by the same sequence of operations whatever the thread count, token
// tiling or split, so results stay bitwise repeatable.
#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_attention.h"
#include "quant/avx2_util.h"
#include "quant/quant_blocks.h"

namespace strata {
namespace {

#define AVX2 STRATA_AVX2

// Values d .. d+7 of a cache row slice as floats (d a multiple of 8).
template <KvCacheType kType>
AVX2 inline __m256 load8(const uint8_t* row, int64_t d) {
    if constexpr (kType == KvCacheType::f16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * d)));
    } else if constexpr (kType == KvCacheType::f32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + d);
    } else {  // q8_0: blocks of an f16 scale and 32 int8 values, as the reference dequantizer
        const auto& b = reinterpret_cast<const quant::BlockQ8_0*>(row)[d / 32];
        const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + d % 32)));
        return _mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(quant::h2f(b.d)));
    }
}

template <KvCacheType kType>
AVX2 void task(const AttentionTask& a) {
    const int64_t hd = a.head_dim;
    for (int64_t g = 0; g < a.group; ++g) {
        const float* qg = a.q + g * hd;
        float* sg = a.scores + g * a.scores_stride;
        // Scores: two accumulators per position break the FMA dependency chain for head_dim 64+.
        float max_score = -INFINITY;
        for (int64_t j = 0; j < a.n_pos; ++j) {
            const uint8_t* k = a.k_base + static_cast<size_t>(j) * a.row_bytes;
            __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
            int64_t d = 0;
            for (; d + 16 <= hd; d += 16) {
                s0 = _mm256_fmadd_ps(load8<kType>(k, d), _mm256_loadu_ps(qg + d), s0);
                s1 = _mm256_fmadd_ps(load8<kType>(k, d + 8), _mm256_loadu_ps(qg + d + 8), s1);
            }
            if (d < hd) s0 = _mm256_fmadd_ps(load8<kType>(k, d), _mm256_loadu_ps(qg + d), s0);
            const float s = quant::avx2::hsum(_mm256_add_ps(s0, s1)) * a.scale;
            sg[j] = s;
            max_score = std::max(max_score, s);
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < a.n_pos; ++j) {
            sg[j] = std::exp(sg[j] - max_score);
            sum += sg[j];
        }
        const float inv_sum = 1.0f / sum;
        // Weighted values, 64 dimensions (8 registers) per pass over the positions.
        float* og = a.out + g * hd;
        for (int64_t d0 = 0; d0 < hd; d0 += 64) {
            const int n_vec = static_cast<int>(std::min<int64_t>(64, hd - d0) / 8);
            __m256 acc[8];
            for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_ps();
            for (int64_t j = 0; j < a.n_pos; ++j) {
                const uint8_t* v = a.v_base + static_cast<size_t>(j) * a.row_bytes;
                const __m256 p = _mm256_set1_ps(sg[j]);
                if (n_vec == 8) {
#pragma GCC unroll 8
                    for (int i = 0; i < 8; ++i) acc[i] = _mm256_fmadd_ps(p, load8<kType>(v, d0 + 8 * i), acc[i]);
                } else {
                    for (int i = 0; i < n_vec; ++i) acc[i] = _mm256_fmadd_ps(p, load8<kType>(v, d0 + 8 * i), acc[i]);
                }
            }
            const __m256 scale = _mm256_set1_ps(inv_sum);
            for (int i = 0; i < n_vec; ++i) _mm256_storeu_ps(og + d0 + 8 * i, _mm256_mul_ps(acc[i], scale));
        }
    }
}

}  // namespace

bool attention_task_vectorised(KvCacheType type, int64_t head_dim, CpuIsa isa) {
    if (isa < CpuIsa::avx2) return false;
    // A q8_0 head slice must be whole blocks (it is whenever the cache itself is q8_0-sized per head).
    return type == KvCacheType::q8_0 ? head_dim % 32 == 0 : head_dim % 8 == 0;
}

void attention_task_avx2(const AttentionTask& t) {
    switch (t.type) {
        case KvCacheType::f16: return task<KvCacheType::f16>(t);
        case KvCacheType::f32: return task<KvCacheType::f32>(t);
        case KvCacheType::q8_0: return task<KvCacheType::q8_0>(t);
    }
}

}  // namespace strata
