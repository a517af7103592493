// Internals of cpu_matmul shared by its files: repacked layouts and their kernels.
//
// Layouts (CpuWeight::layout()):
//   kLayoutRows     GGUF row-major rows; kernels: quant::vec_dot per (row, token).
//   kLayoutFloatX8  F32/F16/BF16, rows in groups of 8 (zero rows pad the last group); inside
//                   a group, for each column k the 8 rows' values are contiguous (16 or 32 bytes).
//   kLayoutQ4_0X8   Q4_0, groups of 8 rows; per 32-column block: the 8 rows' f16 scales (16
//                   bytes), then 4 vectors of 32 bytes; vector j holds, in byte 4r+i, the level
//                   of row r at column 8j+i in its low nibble and at column 8j+4+i in its high.
//   kLayoutQ8_0X8   Q8_0, groups of 8 rows; per block: 8 f16 scales, then 8 vectors of 32 bytes;
//                   vector c holds in byte 4r+i the int8 quant of row r at column 4c+i.
//   kLayoutQ4_KX8   Q4_K, groups of 8 rows; per 256-column super-block (1184 bytes): d[8] and
//                   dmin[8] (f16), 6-bit scales sc[g][r] and mins mn[g][r] as bytes (g = 32-column
//                   group), then per group the 4 level vectors of the Q4_0X8 layout.
//   kLayoutQ5_KX8   Q5_K, as Q4_KX8 (1440 bytes) with a fifth vector per group: byte 4r+i holds in
//                   bit j the fifth bit of column 8j+i and in bit 4+j that of column 8j+4+i.
//   kLayoutQ6_KX8   Q6_K, 1680 bytes per super-block: see cpu_matmul_x8k_avx2.cpp.
//   kLayoutQ2_KX8   Q2_K (672 bytes) and kLayoutQ3_KX8 Q3_K (912 bytes): see cpu_matmul_x8k_avx2.cpp.
//   kLayoutQ4_1X8, kLayoutQ5_0X8, kLayoutQ5_1X8: as Q4_0X8 with the rows' f16 mins after the
//                   scales (Q4_1, Q5_1) and a fifth-bit vector after the nibbles (Q5_0, Q5_1):
//                   see cpu_matmul_x8_avx2.cpp. They take ActQ8 activations like Q4_0X8.
//   kLayoutIQ4_NLX8 IQ4_NL in the Q4_0X8 layout (the same block bytes); ActQ8 activations.
//   kLayoutIQ4_XSX8 IQ4_XS (1104 bytes per super-block; Q8_K activations): see
//                   cpu_matmul_x8_iq4.cpp.
//   kLayoutMXFP4X8  MXFP4, per block the 8 rows' E8M0 exponent bytes, then the 4 nibble vectors
//                   of Q4_0X8 (136 bytes: the file's 8 · 17); ActQ8 activations.
// K-quant X8 kernels take Q8_K activations.
// Every output is one accumulator summed over the columns in order, whatever the thread count
// or token tiling, so results are bitwise repeatable.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/cpu_matmul.h"
#include "util/cpu_features.h"

namespace strata {

enum : int { kLayoutRows = 0, kLayoutFloatX8 = 1, kLayoutQ4_0X8 = 2, kLayoutQ8_0X8 = 3, kLayoutQ4_KX8 = 4,
             kLayoutQ5_KX8 = 5, kLayoutQ6_KX8 = 6, kLayoutQ2_KX8 = 7, kLayoutQ3_KX8 = 8,
             kLayoutQ4_1X8 = 9, kLayoutQ5_0X8 = 10, kLayoutQ5_1X8 = 11, kLayoutIQ4_NLX8 = 12,
             kLayoutIQ4_XSX8 = 13, kLayoutMXFP4X8 = 14 };
// Layouts whose kernels take Q8_K activations (256-column super-blocks): the K-quants and IQ4_XS.
inline bool x8_takes_q8_k(int layout) {
    return (layout >= kLayoutQ4_KX8 && layout <= kLayoutQ3_KX8) || layout == kLayoutIQ4_XSX8;
}

struct CpuWeightAccess {
    static void set(CpuWeight& w, TensorType type, const void* data, int64_t n_rows, int64_t n_cols, int layout,
                    std::shared_ptr<uint8_t> owned, size_t owned_size) {
        w.type_ = type;
        w.data_ = data;
        w.n_rows_ = n_rows;
        w.n_cols_ = n_cols;
        w.layout_ = layout;
        w.owned_ = std::move(owned);
        w.owned_size_ = owned_size;
    }
};

// One quantized activation block for the X8 integer kernels: Q8_0 (same quants and f16-rounded
// scale as quant::quantize_row(Q8_0)), with Σq and |q| precomputed.
struct ActQ8 {
    float d;
    int32_t sum;
    int8_t q[32];
    uint8_t aq[32];  // |q|
};
static_assert(sizeof(ActQ8) == 72);

// ---- repacking (cpu_matmul_repack.cpp) ----------------------------------------------------
// Bytes of one group of 8 rows in the given X8 layout.
size_t x8_group_bytes(int layout, TensorType type, int64_t n_cols);
// Repacks n_rows GGUF rows into the layout (output sized n_groups * x8_group_bytes).
void repack_x8(int layout, TensorType type, const void* src, int64_t n_rows, int64_t n_cols, uint8_t* dst);
// Quantizes one token row (n_cols floats) into n_cols/32 ActQ8 blocks; at avx512 and above
// through quantize_act_q8_avx512 (cpu_act_quant_avx512.cpp), bitwise the same blocks.
void quantize_act_q8(const float* x, int64_t n_cols, ActQ8* out, CpuIsa isa);
void quantize_act_q8_avx512(const float* x, int64_t n_cols, ActQ8* out);

// ---- X8 kernels: one group of 8 rows × n_tok tokens (n_tok <= kMaxTileTokens) ---------------
// out (n_tok, 8): written densely, row-group-local.
constexpr int kMaxTileTokens = 6;
// Token t's activation at column k is x[t * x_tok_stride + k * x_col_stride].
using FloatX8Kernel = void (*)(const uint8_t* const* groups, int n_groups, int64_t n_cols, const float* x,
                               int64_t x_tok_stride, int64_t x_col_stride, int n_tok, float* out);
// act: token rows of activation blocks (ActQ8 for Q4_0X8/Q8_0X8, quant Q8_K for Q4_KX8),
// act_row_bytes apart.
using QuantX8Kernel = void (*)(const uint8_t* group, int64_t n_blocks, const void* act, size_t act_row_bytes,
                               int n_tok, float* out);
// n_groups <= kFloatMaxGroups groups (same n_cols) × n_tok tokens; out (n_tok, 8 * n_groups).
constexpr int kFloatMaxGroups = 8;
// Prefill tile of the float kernels: kFloatTileGroups groups × up to kMaxTileTokens tokens
// (R·T accumulators + R weight vectors + 1 broadcast within the 16 vector registers).
constexpr int kFloatTileGroups = 2;
FloatX8Kernel float_x8_kernel(TensorType type, CpuIsa isa);
QuantX8Kernel quant_x8_kernel(int layout, CpuIsa isa);

// VNNI kernels (cpu_matmul_x8_vnni.cpp) for every integer X8 layout (Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, Q2_K..Q6_K): the AVX2 kernels with vpdpbusd in place of vpmaddubsw + vpmaddwd. Their
// integer sums are exact in both (neither saturates on these formats), so they return bitwise
// what the AVX2 kernels return.
// `emulated` builds the same kernels on an exact AVX2 emulation of vpdpbusd, so machines without
// VNNI (CI's) test everything but the one instruction. nullptr for other layouts.
enum class VnniForm { avx_vnni, avx512_vnni, emulated };
QuantX8Kernel quant_x8_kernel_vnni(int layout, VnniForm form);
// IQ4_NL / IQ4_XS / MXFP4 kernels (cpu_matmul_x8_iq4.cpp): AVX2 or scalar, no VNNI form yet;
// nullptr for other layouts.
QuantX8Kernel iq4_x8_kernel(int layout, CpuIsa isa);
// Token tile the kernels are fastest at (for prefill) per layout.
int x8_token_tile(int layout);

// ---- 512-bit kernels: two adjacent row groups (16 rows) per call -----------------------------
// The groups at `group` and `group + group_bytes`, in the same X8 layout as above; out (n_tok,
// 16): the first group's 8 rows, then the second's. Each row's result is bitwise what the
// QuantX8Kernel of the same layout returns at avx2 (tests check it), so the choice between
// them (pairs here, a lone last group there) never shows in the results.
// Token tile of these kernels: 8 tokens' accumulators fit the 32 vector registers.
constexpr int kX16TileTokens = 8;
using QuantX16Kernel = void (*)(const uint8_t* group, size_t group_bytes, int64_t n_blocks, const void* act,
                                size_t act_row_bytes, int n_tok, float* out);
// AVX512-VNNI kernels (cpu_matmul_x16_vnni512.cpp) for the integer layouts Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS, MXFP4; nullptr for the others.
QuantX16Kernel quant_x16_kernel_vnni512(int layout);
// The 512-bit kernel for this layout at this level; nullptr where there is none (below
// avx512_vnni, or a layout without one): then cpu_matmul runs quant_x8_kernel per group.
QuantX16Kernel quant_x16_kernel(int layout, CpuIsa isa);

// Float prefill on 512-bit vectors (cpu_matmul_float_avx512.cpp; run only at avx512 and above).
// float_pair_to_f32_avx512 converts row groups a and b (kLayoutFloatX8 of `type`) into one F32
// pair panel: column k's 16 floats (a's 8 rows, then b's) at dst + 16k. float_x16_avx512 runs
// n_pairs (1..kFloatX16TilePairs) pair panels × n_tok (1..kFloatX16TileTokens) tokens, token t's
// activation at column k being x[t * xs + k * xk]; out (n_tok, 16 * n_pairs), which with
// `accumulate` also holds the sums to continue from (a previous column block's). Each row's
// result is bitwise that of the AVX2 float kernel.
// 2 pairs × 12 tokens: 24 accumulators, 2 weight vectors and a broadcast in 32 registers; the
// activations come packed in tiles of kFloatX16TileTokens.
constexpr int kFloatX16TilePairs = 2;
constexpr int kFloatX16TileTokens = 12;
void float_pair_to_f32_avx512(TensorType type, const uint8_t* a, const uint8_t* b, int64_t n_cols, float* dst);
void float_x16_avx512(const float* const* pairs, int n_pairs, int64_t n_cols, const float* x, int64_t xs, int64_t xk,
                      int n_tok, float* out, bool accumulate);

// ---- AMX int8 prefill (cpu_matmul_amx.cpp; run only at the amx level) ------------------------
// Layouts with an AMX route: Q8_0X8 and Q4_0X8 (false for every layout where the build has no
// AMX compiler support).
bool amx_int8_supports(int layout);
// Prefill from this many tokens on (one full 16-token tile); fewer run the VNNI kernels, as
// decode always does (memory-bound: tiles would not make it faster).
constexpr int64_t kAmxMinTokens = 16;
// Bytes of the activation tiles amx_int8_matmul packs for n_tok tokens of nb blocks.
size_t amx_act_bytes(int64_t n_tok, int64_t nb);
// out (n_tok, n_rows) = the weight (`layout`, groups group_bytes apart) × act (n_tok ActQ8 rows
// of nb blocks), bitwise what the 512-bit VNNI kernels return. act_tiles: amx_act_bytes of
// scratch, 64-byte aligned. Two parallel_for calls on `pool` (pack the tokens, then the row
// split of cpu_row_split.h); each task configures and releases the tiles of its thread.
void amx_int8_matmul(ThreadPool& pool, int layout, const uint8_t* data, size_t group_bytes, int64_t n_rows,
                     int64_t nb, const ActQ8* act, int64_t n_tok, uint8_t* act_tiles, float* out);

// ---- BF16 weights on vdpbf16ps (cpu_matmul_bf16_avx512.cpp; run only at avx512_bf16 and up) ---
// Whether cpu_matmul runs a kLayoutFloatX8 weight of this type and width on the BF16 dot-product
// kernels at this level: BF16 weights with an even column count (a lane takes column pairs) at
// avx512_bf16 and above, when cpu_bf16_dots() (off by default: see util/cpu_features.h). They
// round the activations to BF16, so their results differ from the F32 route's by the rounding
// (at most 2^-8 relative per activation); decode and prefill still agree bitwise with each other.
inline bool bf16_dot_route(TensorType type, int64_t n_cols, CpuIsa isa) {
    return type == TensorType::BF16 && n_cols % 2 == 0 && isa >= CpuIsa::avx512_bf16 && cpu_bf16_dots();
}
// Activations: x (n_tok, n_cols) rounded to BF16 (nearest even) as one token tile laid out
// (n_cols / 2, n_tok) of uint32 pairs (low half column 2p, high half 2p + 1).
void bf16_pack_tile_avx512(const float* x, int64_t n_cols, int n_tok, uint32_t* dst);
// Decode and up to kBf16DirectMaxTokens tokens straight from the stored layout: n_groups
// (1..kFloatMaxGroups) groups at groups[i] × n_tok tokens of a packed tile x; out (n_tok,
// 8 * n_groups), dense as a FloatX8Kernel writes it.
constexpr int kBf16DirectMaxTokens = 5;
void bf16_x8_direct_avx512(const uint8_t* const* groups, int n_groups, int64_t n_cols, const uint32_t* x, int n_tok,
                           float* out);
// Prefill: groups a and b (n_cols columns from the same column) → one panel of n_cols / 2 column
// pairs × 16 lanes (a's rows, then b's) of BF16 pairs, 64 bytes per column pair. Then n_panels
// (1..kBf16TilePanels) panels × n_tok (1..kBf16TileTokens) tokens of a packed tile x; out (n_tok,
// 16 * n_panels), which with `accumulate` also holds the sums to continue from.
constexpr int kBf16TilePanels = 2;
constexpr int kBf16TileTokens = 12;
void bf16_pair_panel_avx512(const uint8_t* a, const uint8_t* b, int64_t n_cols, uint32_t* dst);
void bf16_x16_avx512(const uint32_t* const* panels, int n_panels, int64_t n_cols, const uint32_t* x, int n_tok,
                     float* out, bool accumulate);

}  // namespace strata
