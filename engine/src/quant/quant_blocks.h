// Block layouts of the GGUF/ggml quantization formats (public format facts), as C++ structs
// whose sizes match tensor_type.cpp, plus small helpers shared by the reference code and kernels.
//
// Naming of the stored quants follows the format: `d` block scale, `m`/`dmin` min, `qs` low
// bits, `qh`/`hmask` high bits. All multi-byte fields are little-endian IEEE halves or floats.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "util/fp16.h"

namespace strata::quant {

constexpr int kQK = 32;    // legacy block size
constexpr int kQKK = 256;  // K-quant super-block size

struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };                         // q = nibble - 8
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };                      // w = d*q + m
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };          // q = 5 bits - 16
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };       // w = d*q + m
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ8_1 { uint16_t d, s; int8_t qs[32]; };                       // s = d * Σ qs

// Q2_K: 16 groups of 16; scales[g] low nibble = scale, high nibble = min.
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; };
// Q3_K: 16 groups of 16; 6-bit signed scales (stored +32) packed in 12 bytes.
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
// Q4_K: 8 groups of 32; 6-bit scales and mins packed in 12 bytes.
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
// Q6_K: 16 groups of 16; q = 6 bits - 32; int8 scales.
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
// Q8_K: the activation format of the K-quants; bsums[g] = Σ of qs in group g of 16.
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };

// IQ4_NL / IQ4_XS: 4-bit indices into a fixed non-linear table of int8 levels (kIq4Levels,
// denser near zero, where weights cluster). IQ4_NL: blocks of 32 with one fp16 scale, nibbles
// laid out as in Q4_0. IQ4_XS: super-blocks of 256 in 8 groups of 32, each with a 6-bit scale
// (stored +32: low 4 bits in scales_l, nibble g % 2 of byte g / 2; high 2 bits in scales_h,
// bits 2g..2g+1) times the fp16 d.
struct BlockIQ4_NL { uint16_t d; uint8_t qs[16]; };
struct BlockIQ4_XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };
inline constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};
inline int iq4xs_scale(const BlockIQ4_XS& b, int g) {
    const int lo = (b.scales_l[g / 2] >> (4 * (g % 2))) & 0xF;
    const int hi = (b.scales_h >> (2 * g)) & 3;
    return (lo | (hi << 4)) - 32;
}

// MXFP4 (OCP microscaling FP4): blocks of 32 with one shared E8M0 exponent byte `e` and 32
// E2M1 codes packed as in Q4_0 (element j in the low nibble of qs[j], element j+16 in its high
// nibble). A code's value is kMxfp4Levels[code] / 2 · 2^(e − 127): the table holds the E2M1
// values (0, 0.5, 1, 1.5, 2, 3, 4, 6, then the negatives) doubled, so they are int8 and the
// scale is 2^(e − 128) (mxfp4_scale). ggml's layout and value table; e = 255 is 2^127 there
// (not NaN as in the OCP text), and so here.
struct BlockMXFP4 { uint8_t e; uint8_t qs[16]; };
inline constexpr int8_t kMxfp4Levels[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
// 2^(e − 128) built from its bits (it is called once per block in the dot kernels): an exponent
// field of e − 1 for e ≥ 2, and the subnormals 2^-127 and 2^-128 for e = 1 and 0.
inline float mxfp4_scale(uint8_t e) {
    const uint32_t bits = e >= 2 ? static_cast<uint32_t>(e - 1) << 23 : 0x00200000u << e;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockMXFP4) == 17);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// Q4_K/Q5_K: 6-bit (scale, min) of group j (0..7) from the 12 packed bytes. Groups 0..3 use
// the low 6 bits of bytes j and j+4; groups 4..7 take their low 4 bits from byte j+4 (scale:
// low nibble, min: high nibble) and their top 2 bits from the top 2 bits of bytes j-4 / j.
inline void k4_scale_min(const uint8_t* s, int j, int& sc, int& mn) {
    if (j < 4) {
        sc = s[j] & 63;
        mn = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}
inline void k4_pack_scale_min(uint8_t* s, int j, int sc, int mn) {
    if (j < 4) {
        s[j] = static_cast<uint8_t>((s[j] & 0xC0) | sc);
        s[j + 4] = static_cast<uint8_t>((s[j + 4] & 0xC0) | mn);
    } else {
        s[j + 4] = static_cast<uint8_t>((sc & 0xF) | ((mn & 0xF) << 4));
        s[j - 4] = static_cast<uint8_t>((s[j - 4] & 0x3F) | ((sc >> 4) << 6));
        s[j] = static_cast<uint8_t>((s[j] & 0x3F) | ((mn >> 4) << 6));
    }
}

// Q3_K: 6-bit scale of group i (0..15), stored +32. Low 4 bits: nibble (i / 8) of byte i % 8;
// high 2 bits: bits 2*(i / 4) of byte 8 + i % 4.
inline int k3_scale(const uint8_t* s, int i) {
    const int lo = (s[i % 8] >> (4 * (i / 8))) & 0xF;
    const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

// Q3_K: the level (-4..3) of element e (0..255). With half = e / 128, j = e % 128 / 32,
// l = e % 32: its 2 low bits are plane j of qs[32·half + l]; bit 4·half + j of hmask[l] set
// means no offset, clear means -4.
inline int k3_level(const BlockQ3_K& b, int e) {
    const int half = e / 128, j = (e % 128) / 32, l = e % 32;
    const int lo = (b.qs[32 * half + l] >> (2 * j)) & 3;
    return lo - (((b.hmask[l] >> (4 * half + j)) & 1) ? 0 : 4);
}

// Q6_K: ORs u = level + 32 (0..63) of element e into zeroed ql/qh. With half, j, l as above:
// the low 4 bits go to nibble j / 2 of ql[64·half + 32·(j % 2) + l], the high 2 to bits 2j of
// qh[32·half + l].
inline void k6_put_level(BlockQ6_K& b, int e, int u) {
    const int half = e / 128, j = (e % 128) / 32, l = e % 32;
    b.ql[64 * half + 32 * (j % 2) + l] |= static_cast<uint8_t>((u & 0xF) << (4 * (j / 2)));
    b.qh[32 * half + l] |= static_cast<uint8_t>((u >> 4) << (2 * j));
}

inline float h2f(uint16_t h) { return fp16_to_fp32(h); }
inline uint16_t f2h(float f) { return fp32_to_fp16(f); }
// Round half away from zero, exactly as lroundf for |x| < 2^31, but inline (lroundf is a libm
// call, 15% of a K-quant quantization's time): a float plus 0.5 is exact in double, and the
// conversion truncates toward zero.
inline int nearest_int(float x) {
    const double d = x;
    return static_cast<int>(d >= 0.0 ? d + 0.5 : d - 0.5);
}

}  // namespace strata::quant
