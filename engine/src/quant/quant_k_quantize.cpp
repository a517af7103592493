// Reference quantizers of the K-quants. Each group's scale (and min) comes from the weighted
// least-squares search in quant_k_fit.cpp; the group scales are then quantized against one
// super-block scale, and the levels re-chosen for the scales as stored.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
namespace {

const float* sub(const float* w, int64_t off) { return w ? w + off : nullptr; }

// Affine formats: fit n_groups groups of `group` values with levels [0, nmax]; quantize the
// scales and mins to [0, smax] against d / dmin; write final levels to L.
void quantize_affine_superblock(const float* x, const float* w, int n_groups, int group, int nmax, int smax,
                                uint16_t* d_out, uint16_t* dmin_out, int* sc_q, int* mn_q, uint8_t* L) {
    float scales[16], mins[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int g = 0; g < n_groups; ++g) {
        scales[g] = fit_scale_min(x + g * group, sub(w, g * group), group, nmax, &mins[g], L + g * group);
        max_scale = std::max(max_scale, scales[g]);
        max_min = std::max(max_min, mins[g]);
    }
    *d_out = f2h(max_scale / static_cast<float>(smax));
    *dmin_out = f2h(max_min / static_cast<float>(smax));
    const float d = h2f(*d_out), dmin = h2f(*dmin_out);
    const float id = d > 0 ? 1.0f / d : 0.0f, idmin = dmin > 0 ? 1.0f / dmin : 0.0f;
    for (int g = 0; g < n_groups; ++g) {
        sc_q[g] = std::clamp(nearest_int(scales[g] * id), 0, smax);
        mn_q[g] = std::clamp(nearest_int(mins[g] * idmin), 0, smax);
        const float eff_d = d * static_cast<float>(sc_q[g]);
        const float eff_m = dmin * static_cast<float>(mn_q[g]);
        for (int i = 0; i < group; ++i) {
            const int l = eff_d > 0 ? nearest_int((x[g * group + i] + eff_m) / eff_d) : 0;
            L[g * group + i] = static_cast<uint8_t>(std::clamp(l, 0, nmax));
        }
    }
}

// Symmetric formats with 16 groups of 16: levels [-(nmax+1), nmax], signed group scales in
// [-(smax+1), smax] against d. Writes levels + (nmax+1) (unsigned) to U.
void quantize_sym_superblock(const float* x, const float* w, int nmax, int smax, uint16_t* d_out, int* sc_q,
                             uint8_t* U) {
    float scales[16];
    int8_t L[256];
    float amax = 0.0f, vmax = 0.0f;
    for (int g = 0; g < 16; ++g) {
        scales[g] = fit_scale_sym(x + 16 * g, sub(w, 16 * g), 16, nmax, L + 16 * g);
        if (std::fabs(scales[g]) > amax) {
            amax = std::fabs(scales[g]);
            vmax = scales[g];
        }
    }
    *d_out = f2h(vmax / static_cast<float>(-(smax + 1)));
    const float d = h2f(*d_out);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int g = 0; g < 16; ++g) {
        sc_q[g] = std::clamp(nearest_int(scales[g] * id), -(smax + 1), smax);
        const float eff = d * static_cast<float>(sc_q[g]);
        for (int i = 0; i < 16; ++i) {
            const int l = eff != 0.0f ? nearest_int(x[16 * g + i] / eff) : 0;
            U[16 * g + i] = static_cast<uint8_t>(std::clamp(l, -(nmax + 1), nmax) + nmax + 1);
        }
    }
}

}  // namespace

void quantize_row_q2_k(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockQ2_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int sc[16], mn[16];
        uint8_t L[256];
        quantize_affine_superblock(src, sub(importance, i * kQKK), 16, 16, 3, 15, &b[i].d, &b[i].dmin, sc, mn, L);
        for (int g = 0; g < 16; ++g) b[i].scales[g] = static_cast<uint8_t>(sc[g] | (mn[g] << 4));
        std::memset(b[i].qs, 0, sizeof b[i].qs);
        for (int e = 0; e < kQKK; ++e) {
            const int half = e / 128, j = (e % 128) / 32, l = e % 32;
            b[i].qs[32 * half + l] |= static_cast<uint8_t>(L[e] << (2 * j));
        }
    }
}

void quantize_row_q3_k(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockQ3_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int sc[16];
        uint8_t U[256];  // level + 4, in [0, 7]
        quantize_sym_superblock(src, sub(importance, i * kQKK), 3, 31, &b[i].d, sc, U);
        std::memset(b[i].scales, 0, sizeof b[i].scales);
        for (int g = 0; g < 16; ++g) {
            const int v = sc[g] + 32;
            b[i].scales[g % 8] |= static_cast<uint8_t>((v & 0xF) << (4 * (g / 8)));
            b[i].scales[8 + g % 4] |= static_cast<uint8_t>((v >> 4) << (2 * (g / 4)));
        }
        std::memset(b[i].qs, 0, sizeof b[i].qs);
        std::memset(b[i].hmask, 0, sizeof b[i].hmask);
        for (int e = 0; e < kQKK; ++e) {
            const int half = e / 128, j = (e % 128) / 32, l = e % 32;
            b[i].qs[32 * half + l] |= static_cast<uint8_t>((U[e] & 3) << (2 * j));
            b[i].hmask[l] |= static_cast<uint8_t>((U[e] >> 2) << (4 * half + j));
        }
    }
}

void quantize_row_q4_k(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockQ4_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int sc[8], mn[8];
        uint8_t L[256];
        quantize_affine_superblock(src, sub(importance, i * kQKK), 8, 32, 15, 63, &b[i].d, &b[i].dmin, sc, mn, L);
        std::memset(b[i].scales, 0, sizeof b[i].scales);
        for (int g = 0; g < 8; ++g) k4_pack_scale_min(b[i].scales, g, sc[g], mn[g]);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                b[i].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
            }
        }
    }
}

void quantize_row_q5_k(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockQ5_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int sc[8], mn[8];
        uint8_t L[256];
        quantize_affine_superblock(src, sub(importance, i * kQKK), 8, 32, 31, 63, &b[i].d, &b[i].dmin, sc, mn, L);
        std::memset(b[i].scales, 0, sizeof b[i].scales);
        for (int g = 0; g < 8; ++g) k4_pack_scale_min(b[i].scales, g, sc[g], mn[g]);
        std::memset(b[i].qh, 0, sizeof b[i].qh);
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                const int v0 = L[64 * c + l], v1 = L[64 * c + 32 + l];
                b[i].qs[32 * c + l] = static_cast<uint8_t>((v0 & 0xF) | ((v1 & 0xF) << 4));
                b[i].qh[l] |= static_cast<uint8_t>(((v0 >> 4) << (2 * c)) | ((v1 >> 4) << (2 * c + 1)));
            }
        }
    }
}

void quantize_row_q6_k(const float* src, void* dst, int64_t n, const float* importance) {
    auto* b = static_cast<BlockQ6_K*>(dst);
    for (int64_t i = 0; i < n / kQKK; ++i, src += kQKK) {
        int sc[16];
        uint8_t U[256];  // level + 32, in [0, 63]
        quantize_sym_superblock(src, sub(importance, i * kQKK), 31, 127, &b[i].d, sc, U);
        for (int g = 0; g < 16; ++g) b[i].scales[g] = static_cast<int8_t>(sc[g]);
        std::memset(b[i].ql, 0, sizeof b[i].ql);
        std::memset(b[i].qh, 0, sizeof b[i].qh);
        for (int e = 0; e < kQKK; ++e) k6_put_level(b[i], e, U[e]);
    }
}

}  // namespace strata::quant
