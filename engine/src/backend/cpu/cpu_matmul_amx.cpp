// AMX int8 prefill of the Q8_0X8 and Q4_0X8 layouts (the amx level of util/cpu_features.h).
//
// TDPBSSD multiplies tile A (M rows of K signed bytes) by tile B (K/4 rows; row c holds, for
// each of N columns, that column's bytes 4c..4c+3) into int32 tile C (M × N), exactly. One
// call here covers one 32-column quantization block of 16 tokens and 16 weight rows:
//   A: 16 tokens × 32 activation quants (the ActQ8 q of cpu_matmul's quantizer),
//   B: 8 rows × 64 bytes: row c = row group g's vector c, then group g + 1's vector c,
//   C: 16 tokens × 16 weight rows of the block sums Σ w·a.
// The X8 layouts hold a group's vectors in B's order already (vector c, byte 4r + i = row r's
// column 4c + i), so a "pair panel" puts two adjacent groups side by side per block (Q4_0's
// nibbles widened to the signed levels q − 8 on the way) next to the rows' scales as F32.
// Each block's C tile is stored and scaled in AVX-512 with the same float operations, in the
// same order, as the 512-bit VNNI kernels (acc = fma(float(Σ), wd · ad, acc)): the integer
// sums are exact in both, so every output is bitwise what the avx512_vnni level returns
// (tst_cpu_matmul_amx checks it). Token tiles are padded with zero tokens; a lone last row
// group is paired with itself and the copy's outputs dropped.
//
// Tile state: Linux hands out the tile data state per process (cpu_features() asks for it, and
// cpu_isa_runs(CpuIsa::amx) is false without it); the tile configuration is per thread, so each
// task loads it itself and releases the tiles when done (the OS then saves no tile state for it).
//
// This file alone is compiled with -mamx-tile -mamx-int8 (engine/CMakeLists.txt); the AVX-512
// parts carry a target attribute. Only a CPU at the amx level runs any of it.
#include "backend/cpu/cpu_matmul_internal.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "backend/cpu/cpu_row_split.h"
#include "util/thread_pool.h"

#if (defined(__x86_64__) && defined(__AMX_TILE__) && defined(__AMX_INT8__))
// GCC 12 reports -W(maybe-)uninitialized inside its own AVX-512 intrinsics (their "undefined"
// pass-through operands; GCC bug 105593): not about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

namespace strata {
namespace {

#define T512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

// One block of a pair panel or of an activation tile: 16 F32 scales (the 16 weight rows' or
// the 16 tokens'), then the 512 bytes of the B tile (8 rows × 64) or A tile (16 rows × 32).
constexpr size_t kBlockBytes = 64 + 512;
// Blocks of padding after the last pair panel and the last activation tile (pair_tile's
// pipeline loads up to 3 blocks ahead).
constexpr int64_t kPadBlocks = 3;
constexpr int kTileTokens = 16;
// Bytes of pair panels converted at once per task (several pairs share each activation tile
// while it is in L2): about half of a Sapphire Rapids core's 2 MiB L2.
constexpr size_t kPanelBudget = size_t(1) << 20;

// Tile registers: A tiles 0, 1 and B tiles 2, 3 alternate between blocks; C tiles 4..7 take
// the blocks in turn, so three blocks are in flight on the tile unit while one is scaled.
struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

TileConfig tile_config() {
    TileConfig c;
    for (int i = 0; i < 2; ++i) {
        c.rows[i] = kTileTokens, c.colsb[i] = 32;  // A: 16 tokens × 32 quants
        c.rows[2 + i] = 8, c.colsb[2 + i] = 64;    // B: 8 rows of 16 weight rows × 4 bytes
    }
    for (int i = 4; i < 8; ++i) c.rows[i] = kTileTokens, c.colsb[i] = 64;  // C: 16 tokens × 16 int32
    return c;
}

// Tile instructions as asm that names the memory it reads or writes (GCC's _tile_* macros name
// none, or clobber all memory, which makes GCC keep the 16 accumulators on the stack).
#define STRATA_TILE_LOAD(t, p, stride)                                                  \
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"(p), "r"(int64_t(stride)),    \
                     "m"(*reinterpret_cast<const uint8_t(*)[512]>(p)))
#define STRATA_TILE_STORE_C(t, p)                                                        \
    __asm__ volatile("tilestored %%tmm" #t ", (%1,%2,1)"                                 \
                     : "=m"(*reinterpret_cast<int32_t(*)[kTileTokens * 16]>(p))          \
                     : "r"(p), "r"(int64_t(64)))
#define STRATA_TILE_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define STRATA_TILE_DPBSSD(c, a, b) __asm__ volatile("tdpbssd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)

// Group a's and group b's block (Q8_0X8: 272 bytes, Q4_0X8: 144) as one panel block.
T512 void pair_block(int layout, const uint8_t* a, const uint8_t* b, uint8_t* dst) {
    const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
    _mm512_storeu_ps(dst, _mm512_cvtph_ps(h));
    uint8_t* rows = dst + 64;
    if (layout == kLayoutQ8_0X8) {
        for (int c = 0; c < 8; ++c) {
            std::memcpy(rows + 64 * c, a + 16 + 32 * c, 32);
            std::memcpy(rows + 64 * c + 32, b + 16 + 32 * c, 32);
        }
        return;
    }
    // Q4_0X8: vector j's low nibbles are the levels of columns 8j..8j+3 (B row 2j), its high
    // nibbles those of columns 8j+4..8j+7 (B row 2j + 1).
    const __m512i m4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
    for (int j = 0; j < 4; ++j) {
        const __m512i v = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 16 + 32 * j))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 + 32 * j)), 1);
        const __m512i lo = _mm512_sub_epi8(_mm512_and_si512(v, m4), eight);
        const __m512i hi = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), eight);
        _mm512_storeu_si512(rows + 128 * j, lo);
        _mm512_storeu_si512(rows + 128 * j + 64, hi);
    }
}

size_t layout_block_bytes(int layout) { return layout == kLayoutQ8_0X8 ? 272 : 144; }

// acc[t] += float(C[t]) · (wd · ad[t]) for the 16 tokens of one block. The token index is a
// pack expansion, so every acc[t] has a constant index from the start and GCC keeps the 16
// accumulators in registers (with a loop it kept them on the stack).
template <size_t... T>
T512 inline void scale_block(const int32_t* c, const uint8_t* w, const uint8_t* a, __m512* acc,
                             std::index_sequence<T...>) {
    const __m512 wd = _mm512_loadu_ps(w);
    const auto* ad = reinterpret_cast<const float*>(a);
    ((acc[T] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * T)),
                               _mm512_mul_ps(wd, _mm512_set1_ps(ad[T])), acc[T])),
     ...);
}
template <size_t... T>
T512 inline void zero_acc(__m512* acc, std::index_sequence<T...>) {
    ((acc[T] = _mm512_setzero_ps()), ...);
}
template <size_t... T>
T512 inline void store_acc(const __m512* acc, float* out, std::index_sequence<T...>) {
    (_mm512_storeu_ps(out + 16 * T, acc[T]), ...);
}
constexpr auto kTokens = std::make_index_sequence<kTileTokens>{};

// One pair panel × one activation tile over nb blocks; out (16 tokens, 16 rows).
// Software pipeline: at step b block b's sums (stored at step b - 1) are scaled, block b + 1's
// tile is stored and block b + 3's product issued; a tile is reused two steps after its last
// use, so no step waits for the tile unit's latency.
T512 void pair_tile(const uint8_t* w, const uint8_t* a, int64_t nb, float* out) {
    alignas(64) int32_t c[2][kTileTokens * 16];
    __m512 acc[kTileTokens];
    zero_acc(acc, kTokens);
#define STRATA_AMX_ISSUE(A, B, C, blk)                                \
    do {                                                              \
        STRATA_TILE_LOAD(A, a + (blk) * kBlockBytes + 64, 32);        \
        STRATA_TILE_LOAD(B, w + (blk) * kBlockBytes + 64, 64);        \
        STRATA_TILE_ZERO(C);                                          \
        STRATA_TILE_DPBSSD(C, A, B);                                  \
    } while (0)
    // Step of block bb (≡ k mod 4): store C tile of bb + 1, issue bb + 3 on A/B set (bb + 1) % 2.
#define STRATA_AMX_STEP(bb, C_NEXT, A3, B3, C3)                                               \
    do {                                                                                      \
        if ((bb) + 1 < nb) STRATA_TILE_STORE_C(C_NEXT, c[((bb) + 1) & 1]);                    \
        if ((bb) + 3 < nb) STRATA_AMX_ISSUE(A3, B3, C3, (bb) + 3);                            \
        scale_block(c[(bb) & 1], w + (bb) * kBlockBytes, a + (bb) * kBlockBytes, acc, kTokens);        \
    } while (0)
    STRATA_AMX_ISSUE(0, 2, 4, 0);
    if (nb > 1) STRATA_AMX_ISSUE(1, 3, 5, 1);
    STRATA_TILE_STORE_C(4, c[0]);
    if (nb > 2) STRATA_AMX_ISSUE(0, 2, 6, 2);
    int64_t b = 0;
    // Steady state without branches (they made GCC spill the accumulators around them): issues
    // reach up to 3 blocks past nb, which the buffers hold as padding (kPadBlocks); those
    // blocks' sums are stored but never scaled.
    for (; b + 4 <= nb; b += 4) {
#define STRATA_AMX_STEP_ALL(bb, C_NEXT, A3, B3, C3)                                           \
    do {                                                                                      \
        STRATA_TILE_STORE_C(C_NEXT, c[((bb) + 1) & 1]);                                       \
        STRATA_AMX_ISSUE(A3, B3, C3, (bb) + 3);                                               \
        scale_block(c[(bb) & 1], w + (bb) * kBlockBytes, a + (bb) * kBlockBytes, acc, kTokens);        \
    } while (0)
        STRATA_AMX_STEP_ALL(b, 5, 1, 3, 7);
        STRATA_AMX_STEP_ALL(b + 1, 6, 0, 2, 4);
        STRATA_AMX_STEP_ALL(b + 2, 7, 1, 3, 5);
        STRATA_AMX_STEP_ALL(b + 3, 4, 0, 2, 6);
#undef STRATA_AMX_STEP_ALL
    }
    if (b < nb) STRATA_AMX_STEP(b, 5, 1, 3, 7);  // the last 1..3 blocks
    if (b + 1 < nb) STRATA_AMX_STEP(b + 1, 6, 0, 2, 4);
    if (b + 2 < nb) STRATA_AMX_STEP(b + 2, 7, 1, 3, 5);
#undef STRATA_AMX_STEP
#undef STRATA_AMX_ISSUE
    store_acc(acc, out, kTokens);
}

// Activation tile of tokens t0..t0+n_t-1 (ActQ8 rows of nb blocks): per block the 16 tokens'
// scales, then their 32 quants each; missing tokens are zero.
void pack_act_tile(const ActQ8* act, int64_t nb, int64_t t0, int n_t, uint8_t* dst) {
    for (int64_t b = 0; b < nb; ++b) {
        uint8_t* blk = dst + b * kBlockBytes;
        std::memset(blk, 0, kBlockBytes);
        auto* d = reinterpret_cast<float*>(blk);
        for (int t = 0; t < n_t; ++t) {
            const ActQ8& x = act[(t0 + t) * nb + b];
            d[t] = x.d;
            std::memcpy(blk + 64 + 32 * t, x.q, 32);
        }
    }
}

}  // namespace

bool amx_int8_supports(int layout) { return layout == kLayoutQ8_0X8 || layout == kLayoutQ4_0X8; }

size_t amx_act_bytes(int64_t n_tok, int64_t nb) {
    return static_cast<size_t>((n_tok + kTileTokens - 1) / kTileTokens * nb + kPadBlocks) * kBlockBytes;
}

void amx_int8_matmul(ThreadPool& pool, int layout, const uint8_t* data, size_t group_bytes, int64_t n_rows,
                     int64_t nb, const ActQ8* act, int64_t n_tok, uint8_t* act_tiles, float* out) {
    const int64_t n_tiles = (n_tok + kTileTokens - 1) / kTileTokens;
    const size_t tile_bytes = static_cast<size_t>(nb) * kBlockBytes;
    pool.parallel_for(n_tiles, [&](int64_t i, int) {
        const int n_t = static_cast<int>(std::min<int64_t>(kTileTokens, n_tok - i * kTileTokens));
        pack_act_tile(act, nb, i * kTileTokens, n_t, act_tiles + i * tile_bytes);
    });
    const size_t src_block = layout_block_bytes(layout);
    const int64_t n_groups = (n_rows + 7) / 8;
    const int64_t panel_pairs = std::max<int64_t>(1, static_cast<int64_t>(kPanelBudget / tile_bytes));
    const int64_t n_parts = row_split_parts(n_rows, pool.n_threads());
    pool.parallel_for(n_parts, [&](int64_t part, int) {
        const RowRange r = row_split_part(n_rows, n_parts, part);
        const int64_t gb = r.begin / 8, ge = std::min(n_groups, (r.end + 7) / 8);  // gb even: parts start at 16 rows
        thread_local std::vector<uint8_t> panel;
        const TileConfig cfg = tile_config();
        _tile_loadconfig(&cfg);
        // The tile loads read panels and activation tiles written before through plain stores.
        __asm__ volatile("" ::: "memory");
        alignas(64) float res[kTileTokens * 16];
        for (int64_t p0 = gb; p0 < ge; p0 += 2 * panel_pairs) {
            const int64_t p1 = std::min(ge, p0 + 2 * panel_pairs);
            const int64_t n_pairs = (p1 - p0 + 1) / 2;
            panel.resize(static_cast<size_t>(n_pairs) * tile_bytes + kPadBlocks * kBlockBytes + 64);
            uint8_t* base = panel.data() + (64 - reinterpret_cast<uintptr_t>(panel.data()) % 64) % 64;
            for (int64_t p = 0; p < n_pairs; ++p) {
                const int64_t g = p0 + 2 * p;
                const uint8_t* ga = data + static_cast<size_t>(g) * group_bytes;
                const uint8_t* gb2 = g + 1 < p1 ? ga + group_bytes : ga;  // a lone last group: with itself
                for (int64_t b = 0; b < nb; ++b)
                    pair_block(layout, ga + b * src_block, gb2 + b * src_block, base + p * tile_bytes + b * kBlockBytes);
            }
            for (int64_t i = 0; i < n_tiles; ++i) {
                const int n_t = static_cast<int>(std::min<int64_t>(kTileTokens, n_tok - i * kTileTokens));
                for (int64_t p = 0; p < n_pairs; ++p) {
                    pair_tile(base + p * tile_bytes, act_tiles + i * tile_bytes, nb, res);
                    const int64_t row0 = (p0 + 2 * p) * 8;
                    const int64_t n_valid = std::min<int64_t>({16, n_rows - row0, (p1 - p0 - 2 * p) * 8});
                    for (int t = 0; t < n_t; ++t)
                        std::memcpy(out + (i * kTileTokens + t) * n_rows + row0, res + 16 * t,
                                    static_cast<size_t>(n_valid) * sizeof(float));
                }
            }
        }
        _tile_release();
    });
}

}  // namespace strata

#else  // no AMX in this build: the amx level falls back to the avx512_bf16 kernels

namespace strata {
bool amx_int8_supports(int) { return false; }
size_t amx_act_bytes(int64_t, int64_t) { return 0; }
void amx_int8_matmul(ThreadPool&, int, const uint8_t*, size_t, int64_t, int64_t, const ActQ8*, int64_t, uint8_t*,
                     float*) {}
}  // namespace strata

#endif
