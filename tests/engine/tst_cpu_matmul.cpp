// cpu_matmul on every computable weight type, in the repacked and the row-major layouts, for
// decode and prefill token counts and odd row counts, on every dispatch path this machine can
// run; bitwise-identical results for 1, 2 and 3 threads; and bitwise-identical results at
// every level above avx2 (256-bit VNNI, the AVX-512 levels) and at avx2, but for BF16 weights on
// the vdpbf16ps kernels (avx512_bf16), which are checked against their own truth and for
// decode = prefill bitwise.
//
// Truth: double-precision products of the reference-dequantized weights with the activations
// quantized to vec_dot_type by the reference quantizer and dequantized again (F32 for the float
// weight types). Tolerance 2e-5 · Σ|w·â| per output (exact integer block sums, about n/32
// rounded float operations; for the float types n FMAs of relative 2^-24), plus for
// Q4_1/Q5_1 the f16 rounding of Q8_1's block sum. Against plain float activations the bound
// adds the activation quantization error Σ|w_i|·amax_b(i)/254 (half a quantization step).
// BF16 weights on the vdpbf16ps kernels (bf16_dot_route: avx512_bf16 and up) round the
// activations to BF16 (nearest even, 8 significant bits: |bf16(x) - x| <= 2^-8·|x|): their truth
// takes the rounded activations (same 2e-5 · Σ|w·x̂| bound: the products of two BF16 values are
// exact in F32, so what is left is F32 accumulation), and against plain float activations the
// bound adds 2^-8 · Σ|w_i·x_i|.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_matmul.h"
#include "backend/cpu/cpu_matmul_internal.h"
#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_dispatch.h"
#include "isa_scope.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

using namespace strata;
using strata::test::IsaScope;
using namespace strata::quant;

namespace {

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f, float mean = 0.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(mean, sigma);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

struct Problem {
    TensorType type;
    int64_t n_rows, n_cols, n_tok;
    std::vector<uint8_t> w;  // GGUF rows
    std::vector<float> x;    // (n_tok, n_cols)
};

Problem make_problem(TensorType t, int64_t n_rows, int64_t n_cols, int64_t n_tok, uint32_t seed) {
    Problem p{t, n_rows, n_cols, n_tok, {}, gaussian(size_t(n_tok * n_cols), seed + 1)};
    const auto wf = gaussian(size_t(n_rows * n_cols), seed, 0.5f, 0.1f);
    const size_t rb = tensor_row_bytes(t, n_cols);
    p.w.resize(rb * n_rows);
    for (int64_t r = 0; r < n_rows; ++r) quantize_row_ref(t, wf.data() + r * n_cols, p.w.data() + r * rb, n_cols);
    return p;
}

// x rounded to BF16, nearest even, as vcvtneps2bf16 rounds finite values (no NaN here).
float round_bf16(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    std::memcpy(&x, &u, 4);
    return x;
}

// Whether cpu_matmul at the current level runs this weight on the BF16 dot-product kernels.
bool runs_bf16_dots(const CpuWeight& w) {
    return w.layout() == kLayoutFloatX8 && bf16_dot_route(w.type(), w.n_cols(), cpu_isa());
}

// bf16_activations: `out` came from the vdpbf16ps kernels (see the top of this file).
void check_against_truth(const Problem& p, const std::vector<float>& out, bool bf16_activations = false) {
    const TensorType at = vec_dot_type(p.type);
    const size_t rb = tensor_row_bytes(p.type, p.n_cols), ab = tensor_row_bytes(at, p.n_cols);
    std::vector<float> wd(p.n_cols), ad(p.n_cols);
    std::vector<uint8_t> aq(ab);
    const int64_t abs_block = tensor_type_traits(at).block_size;
    for (int64_t t = 0; t < p.n_tok; ++t) {
        const float* xf = p.x.data() + t * p.n_cols;
        quantize_row_ref(at, xf, aq.data(), p.n_cols);
        dequantize_row_ref(at, aq.data(), ad.data(), p.n_cols);
        if (bf16_activations) {
            for (int64_t k = 0; k < p.n_cols; ++k) ad[k] = round_bf16(xf[k]);
        }
        for (int64_t r = 0; r < p.n_rows; ++r) {
            const uint8_t* wr = p.w.data() + r * rb;
            dequantize_row_ref(p.type, wr, wd.data(), p.n_cols);
            double truth = 0, truth_f = 0, cond = 0, quant_err = 0;
            for (int64_t k = 0; k < p.n_cols; ++k) {
                truth += double(wd[k]) * ad[k];
                truth_f += double(wd[k]) * xf[k];
                cond += std::fabs(double(wd[k]) * ad[k]);
            }
            if (bf16_activations) {
                for (int64_t k = 0; k < p.n_cols; ++k) quant_err += std::fabs(double(wd[k]) * xf[k]);
                quant_err = std::ldexp(quant_err, -8);
            } else if (at != TensorType::F32) {
                for (int64_t b0 = 0; b0 < p.n_cols; b0 += abs_block) {
                    double amax = 0;
                    for (int64_t k = b0; k < b0 + abs_block; ++k) amax = std::max(amax, std::fabs(double(xf[k])));
                    for (int64_t k = b0; k < b0 + abs_block; ++k) quant_err += std::fabs(double(wd[k])) * amax / 254.0;
                }
            }
            double tol = 2e-5 * cond;
            if (at == TensorType::Q8_1) {
                const auto* a1 = reinterpret_cast<const BlockQ8_1*>(aq.data());
                for (int64_t b = 0; b < p.n_cols / 32; ++b) {
                    const float m = p.type == TensorType::Q4_1 ? h2f(reinterpret_cast<const BlockQ4_1*>(wr)[b].m)
                                                               : h2f(reinterpret_cast<const BlockQ5_1*>(wr)[b].m);
                    tol += std::fabs(double(m) * h2f(a1[b].s)) * std::ldexp(1.0, -11);
                }
            }
            const float got = out[t * p.n_rows + r];
            if (!(std::fabs(got - truth) <= tol) || !(std::fabs(got - truth_f) <= tol + quant_err * 1.0001)) {
                QFAIL(qPrintable(QString("token %1 row %2: got %3, truth %4 (tol %5), float truth %6 (tol %7)")
                                     .arg(t).arg(r).arg(got, 0, 'g', 9).arg(truth, 0, 'g', 9).arg(tol)
                                     .arg(truth_f, 0, 'g', 9).arg(tol + quant_err)));
            }
        }
    }
}

const std::vector<TensorType> kTypes = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                        TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                        TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K,
                                        TensorType::Q6_K, TensorType::Q8_K, TensorType::IQ4_NL, TensorType::IQ4_XS,
                                        TensorType::MXFP4};

}  // namespace

class TestCpuMatmul : public QObject {
    Q_OBJECT
private slots:
    // The BF16 dot-product kernels are off by default (util/cpu_features.h): every test here
    // runs with them on, so they are tested wherever the CPU has AVX512-BF16.
    void initTestCase() { cpu_bf16_dots_set(true); }
    void cleanupTestCase() { cpu_bf16_dots_set(false); }

    void matchesReference_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("nRows");
        QTest::addColumn<int>("nCols");
        QTest::addColumn<int>("nTok");
        QTest::addColumn<bool>("repack");
        QTest::addColumn<QString>("isa");
        QStringList isas{"scalar"};
        if (cpu_isa_supported() != CpuIsa::scalar) isas << "best";
        if (cpu_isa_supported() > CpuIsa::avx2) isas << "avx2";  // below the best path too
        // and the 256-bit VNNI level below the 512-bit ones
        if (cpu_isa_supported() > CpuIsa::avx2_vnni && cpu_isa_runs(CpuIsa::avx2_vnni)) isas << "avx2_vnni";
        for (TensorType t : kTypes) {
            const bool k = tensor_type_traits(t).block_size == 256;
            for (const QString& isa : isas) {
                for (bool repack : {true, false}) {
                    for (int n_tok : {1, 3, 17}) {
                        const int n_cols = k ? (n_tok == 3 ? 768 : 256) : (n_tok == 3 ? 96 : 256);
                        const int n_rows = n_tok == 17 ? 64 : 37;
                        QTest::newRow(qPrintable(QString("%1/%2x%3/tok%4/%5/%6")
                                                     .arg(tensor_type_name(t)).arg(n_rows).arg(n_cols).arg(n_tok)
                                                     .arg(repack ? "repack" : "rows").arg(isa)))
                            << int(t) << n_rows << n_cols << n_tok << repack << isa;
                    }
                }
            }
        }
    }
    void matchesReference() {
        QFETCH(int, type);
        QFETCH(int, nRows);
        QFETCH(int, nCols);
        QFETCH(int, nTok);
        QFETCH(bool, repack);
        QFETCH(QString, isa);
        IsaScope scope(isa);
        const auto t = static_cast<TensorType>(type);
        const Problem p = make_problem(t, nRows, nCols, nTok, 500u + type * 31u + nRows + nCols + nTok);
        auto w = CpuWeight::prepare(t, p.w.data(), nRows, nCols, repack);
        QVERIFY2(w.ok(), w.status().message().c_str());
        ThreadPool pool(2);
        MatmulScratch scratch;
        std::vector<float> out(size_t(nTok * nRows), NAN);
        cpu_matmul(pool, *w, p.x.data(), nTok, out.data(), scratch);
        check_against_truth(p, out, runs_bf16_dots(*w));
    }

    // MXFP4 blocks with the exponents whose scales are subnormal floats (e = 0, 1: 2^-128,
    // 2^-127) and the first normal ones, which the repacked kernels build from bits: every
    // dispatch path, both layouts, against the truth.
    void mxfp4SmallExponents() {
        const int64_t n_rows = 19, n_cols = 128, n_tok = 5;
        Problem p{TensorType::MXFP4, n_rows, n_cols, n_tok, {}, gaussian(size_t(n_tok * n_cols), 7)};
        p.w.resize(tensor_row_bytes(TensorType::MXFP4, n_cols) * n_rows);
        std::mt19937 rng(3);
        auto* blocks = reinterpret_cast<BlockMXFP4*>(p.w.data());
        for (int64_t i = 0; i < n_rows * n_cols / 32; ++i) {
            blocks[i].e = static_cast<uint8_t>(i % 4);
            for (auto& q : blocks[i].qs) q = static_cast<uint8_t>(rng());
        }
        QStringList isas{"scalar"};
        if (cpu_isa_supported() != CpuIsa::scalar) isas << "best";
        for (const QString& isa : isas) {
            IsaScope scope(isa);
            for (bool repack : {true, false}) {
                auto w = CpuWeight::prepare(TensorType::MXFP4, p.w.data(), n_rows, n_cols, repack);
                QVERIFY(w.ok());
                ThreadPool pool(2);
                MatmulScratch scratch;
                std::vector<float> out(size_t(n_tok * n_rows), NAN);
                cpu_matmul(pool, *w, p.x.data(), n_tok, out.data(), scratch);
                check_against_truth(p, out);
                for (float v : out) QVERIFY(v != 0.0f && std::fabs(v) < 1e-30f);  // tiny, not flushed
            }
        }
    }

    void bitwiseAcrossThreadCounts_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<bool>("repack");
        for (TensorType t : kTypes) QTest::newRow(tensor_type_name(t)) << int(t) << true;
        for (TensorType t : {TensorType::F16, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q4_K})
            QTest::newRow(qPrintable(QString("%1/rows").arg(tensor_type_name(t)))) << int(t) << false;
    }
    void bitwiseAcrossThreadCounts() {
        QFETCH(int, type);
        QFETCH(bool, repack);
        const auto t = static_cast<TensorType>(type);
        const int64_t n_rows = 333, n_cols = 512, n_tok = 13;
        const Problem p = make_problem(t, n_rows, n_cols, n_tok, 77u + type);
        auto w = CpuWeight::prepare(t, p.w.data(), n_rows, n_cols, repack);
        QVERIFY(w.ok());
        std::vector<std::vector<float>> outs;
        for (int n_threads : {1, 2, 3}) {
            ThreadPool pool(n_threads);
            MatmulScratch scratch;
            for (int64_t n : {int64_t(1), n_tok}) {
                std::vector<float> out(size_t(n * n_rows));
                cpu_matmul(pool, *w, p.x.data(), n, out.data(), scratch);
                outs.push_back(std::move(out));
            }
        }
        for (size_t i = 2; i < outs.size(); ++i) {
            QVERIFY(std::memcmp(outs[i].data(), outs[i % 2].data(), outs[i].size() * sizeof(float)) == 0);
        }
        // A token's result does not depend on how many tokens share the call (tiling is fixed
        // per output), so decode and prefill agree bitwise too.
        QVERIFY(std::memcmp(outs[0].data(), outs[1].data(), n_rows * sizeof(float)) == 0);
    }

    // The VNNI kernels against the AVX2 ones, bitwise (their integer sums are exact in both),
    // and through cpu_matmul's truth check: the emulated form on any AVX2 machine, the real
    // instructions where the CPU has them.
    void vnniKernelsMatchAvx2_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("form");
        QTest::addColumn<int>("nCols");
        const CpuFeatures& f = cpu_features();
        QList<std::pair<VnniForm, QString>> forms{{VnniForm::emulated, "emulated"}};
        if (cpu_isa_runs(CpuIsa::avx2_vnni) && f.avx_vnni) forms.append({VnniForm::avx_vnni, "avx-vnni"});
        if (cpu_isa_runs(CpuIsa::avx2_vnni) && f.avx512vnni && f.avx512vl && f.os_avx512)
            forms.append({VnniForm::avx512_vnni, "avx512-vnni"});
        for (TensorType t : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                             TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
            const bool k = tensor_type_traits(t).block_size == 256;
            for (const auto& [form, name] : forms) {
                for (int n_cols : k ? QList<int>{256, 1280} : QList<int>{96, 544}) {
                    QTest::newRow(qPrintable(QString("%1/%2/%3").arg(tensor_type_name(t)).arg(name).arg(n_cols)))
                        << int(t) << int(form) << n_cols;
                }
            }
        }
    }
    void vnniKernelsMatchAvx2() {
        QFETCH(int, type);
        QFETCH(int, form);
        QFETCH(int, nCols);
        if (cpu_isa_supported() < CpuIsa::avx2) QSKIP("this CPU has no AVX2: neither kernel can run here");
        const auto t = static_cast<TensorType>(type);
        const int64_t n_rows = 29, n_tok = 9;  // odd: the last row group is padded
        const Problem p = make_problem(t, n_rows, nCols, n_tok, 900u + type * 7u + nCols);
        auto w = CpuWeight::prepare(t, p.w.data(), n_rows, nCols, true);
        QVERIFY2(w.ok(), w.status().message().c_str());
        const int layout = w->layout();
        const QuantX8Kernel avx2 = quant_x8_kernel(layout, CpuIsa::avx2);
        const QuantX8Kernel vnni = quant_x8_kernel_vnni(layout, static_cast<VnniForm>(form));
        QVERIFY(avx2 && vnni);
        // Activations as cpu_matmul makes them.
        const bool k_quant = x8_takes_q8_k(layout);
        const int64_t nb = nCols / (k_quant ? 256 : 32);
        const size_t arb = k_quant ? tensor_row_bytes(TensorType::Q8_K, nCols) : size_t(nb) * sizeof(ActQ8);
        std::vector<uint8_t> act(arb * n_tok);
        for (int64_t i = 0; i < n_tok; ++i) {
            if (k_quant) quantize_row_ref(TensorType::Q8_K, p.x.data() + i * nCols, act.data() + i * arb, nCols);
            else quantize_act_q8(p.x.data() + i * nCols, nCols, reinterpret_cast<ActQ8*>(act.data() + i * arb), CpuIsa::avx2);
        }
        const size_t group_bytes = x8_group_bytes(layout, t, nCols);
        const auto* data = static_cast<const uint8_t*>(w->data());
        std::vector<float> out(size_t(n_tok * n_rows), NAN);
        for (int64_t g = 0; g < (n_rows + 7) / 8; ++g) {
            for (int64_t t0 = 0; t0 < n_tok; t0 += 4) {
                const int n_t = int(std::min<int64_t>(4, n_tok - t0));
                alignas(32) float a[4 * 8], b[4 * 8];
                avx2(data + g * group_bytes, nb, act.data() + t0 * arb, arb, n_t, a);
                vnni(data + g * group_bytes, nb, act.data() + t0 * arb, arb, n_t, b);
                QVERIFY2(std::memcmp(a, b, sizeof(float) * 8 * n_t) == 0,
                         qPrintable(QString("group %1, tokens %2..%3 differ: %4 vs %5")
                                        .arg(g).arg(t0).arg(t0 + n_t - 1).arg(a[0], 0, 'g', 9).arg(b[0], 0, 'g', 9)));
                for (int i = 0; i < n_t; ++i)
                    for (int r = 0; r < 8 && g * 8 + r < n_rows; ++r) out[size_t((t0 + i) * n_rows + g * 8 + r)] = b[i * 8 + r];
            }
        }
        check_against_truth(p, out);
    }

    // Every dispatch level this machine runs above avx2 (avx2_vnni, avx512, avx512_vnni, ...:
    // the 256-bit VNNI kernels, the 512-bit pair-of-groups kernels with a lone last group on
    // the 256-bit ones, the 512-bit float prefill on pair panels) returns bitwise what the avx2
    // level returns, through cpu_matmul, and both pass the truth check. Row counts leave a
    // lone or padded group in a panel (29, 45, 83, 21 rows), columns are not multiples of the
    // 512-bit kernels' reach, token counts cover decode, part tiles and several tiles.
    // Except BF16 weights at avx512_bf16 and above: those run vdpbf16ps on BF16-rounded
    // activations, so they must differ from avx2 and pass the BF16 truth check instead.
    void everyLevelMatchesAvx2_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("level");
        QTest::addColumn<int>("nRows");
        QTest::addColumn<int>("nCols");
        QTest::addColumn<int>("nTok");
        QList<CpuIsa> levels;
        for (CpuIsa l : {CpuIsa::avx2_vnni, CpuIsa::avx512, CpuIsa::avx512_vnni, CpuIsa::avx512_bf16, CpuIsa::amx})
            if (cpu_isa_runs(l)) levels << l;
        if (levels.isEmpty()) QSKIP("this CPU runs no level above avx2");
        struct Shape { int rows, cols_legacy, cols_k, tok; };
        // (the last: float prefill in two column blocks of the 512-bit route, 1024 + 96)
        const Shape shapes[] = {{29, 96, 256, 1}, {45, 160, 768, 7}, {83, 544, 512, 13}, {21, 1120, 1280, 13}};
        for (TensorType t : kTypes) {
            const bool k = tensor_type_traits(t).block_size == 256;
            for (CpuIsa l : levels) {
                for (const Shape& sh : shapes) {
                    const int n_cols = k ? sh.cols_k : sh.cols_legacy;
                    QTest::newRow(qPrintable(QString("%1/%2/%3x%4/tok%5").arg(tensor_type_name(t))
                                                 .arg(cpu_isa_env_name(l)).arg(sh.rows).arg(n_cols).arg(sh.tok)))
                        << int(t) << int(l) << sh.rows << n_cols << sh.tok;
                }
            }
        }
    }
    void everyLevelMatchesAvx2() {
        QFETCH(int, type);
        QFETCH(int, level);
        QFETCH(int, nRows);
        QFETCH(int, nCols);
        QFETCH(int, nTok);
        const auto t = static_cast<TensorType>(type);
        const Problem p = make_problem(t, nRows, nCols, nTok, 1300u + type * 13u + nRows + nCols + nTok);
        auto w = CpuWeight::prepare(t, p.w.data(), nRows, nCols, true);
        QVERIFY2(w.ok(), w.status().message().c_str());
        // The 512-bit pair kernels exist for every repacked integer layout at avx512_vnni (so
        // this test exercises them there), for none below it.
        if (w->layout() != kLayoutRows && w->layout() != kLayoutFloatX8)
            QCOMPARE(quant_x16_kernel(w->layout(), static_cast<CpuIsa>(level)) != nullptr,
                     static_cast<CpuIsa>(level) >= CpuIsa::avx512_vnni);
        ThreadPool pool(2);
        MatmulScratch scratch;
        std::vector<float> base(size_t(nTok * nRows), NAN), got(size_t(nTok * nRows), NAN);
        {
            IsaScope scope("avx2");
            QCOMPARE(cpu_isa(), CpuIsa::avx2);
            cpu_matmul(pool, *w, p.x.data(), nTok, base.data(), scratch);
        }
        bool bf16_dots = false;
        {
            IsaScope scope(cpu_isa_env_name(static_cast<CpuIsa>(level)));
            QCOMPARE(int(cpu_isa()), level);
            bf16_dots = runs_bf16_dots(*w);
            cpu_matmul(pool, *w, p.x.data(), nTok, got.data(), scratch);
        }
        QCOMPARE(bf16_dots, t == TensorType::BF16 && static_cast<CpuIsa>(level) >= CpuIsa::avx512_bf16);
        if (bf16_dots) {
            // vdpbf16ps rounds the activations to BF16: not the avx2 results (identical ones on
            // random data would mean the F32 route ran), within the BF16 truth bound.
            QVERIFY2(std::memcmp(got.data(), base.data(), got.size() * sizeof(float)) != 0,
                     "the BF16 dot-product route returned the F32 route's results bit for bit");
            check_against_truth(p, got, true);
            return;
        }
        for (size_t i = 0; i < got.size(); ++i) {
            if (std::memcmp(&got[i], &base[i], sizeof(float)) != 0) {
                QFAIL(qPrintable(QString("token %1 row %2: %3 at this level, %4 at avx2")
                                     .arg(i / nRows).arg(i % nRows).arg(got[i], 0, 'g', 9).arg(base[i], 0, 'g', 9)));
            }
        }
        check_against_truth(p, got);
    }

    // The vdpbf16ps kernels for BF16 weights (cpu_matmul_bf16_avx512.cpp), where the CPU has
    // AVX512-BF16 (with STRATA_CPU_BF16_DOTS=1; without it, the F32 route): against the BF16 truth; each token alone (decode, the direct kernel) bitwise
    // equal to its row of the whole call (prefill: pair panels and token tiles from 6 tokens on),
    // and 1, 2 and 3 threads bitwise equal. Shapes: lone groups, panels of 7 and 8 groups, rows
    // beyond one panel, column counts that leave a part of 16 in the activation rounding, two
    // and three column blocks (kBf16ColBlock = 2048); tokens 1..5 (direct), 6, 12, 13, 29.
    // An odd column count keeps the F32 route (bitwise the avx2 results).
    void bf16DotKernels_data() {
        QTest::addColumn<int>("nRows");
        QTest::addColumn<int>("nCols");
        QTest::addColumn<int>("nTok");
        struct Shape { int rows, cols, tok; };
        const Shape shapes[] = {{1, 2, 1},     {8, 18, 2},     {21, 34, 5},    {13, 160, 6},  {45, 96, 3},
                                {56, 256, 12}, {64, 1030, 13}, {83, 544, 4},   {130, 2050, 7}, {37, 4098, 29},
                                {29, 4096, 1}, {9, 6150, 13},  {37, 33, 1},    {37, 33, 13}};
        for (const Shape& sh : shapes) {
            QTest::newRow(qPrintable(QString("%1x%2/tok%3").arg(sh.rows).arg(sh.cols).arg(sh.tok)))
                << sh.rows << sh.cols << sh.tok;
        }
    }
    void bf16DotKernels() {
        QFETCH(int, nRows);
        QFETCH(int, nCols);
        QFETCH(int, nTok);
        if (!cpu_isa_runs(CpuIsa::avx512_bf16))
            QSKIP("this CPU has no AVX512-BF16 (vdpbf16ps): the BF16 dot-product kernels cannot run here "
                  "(BF16 weights take the F32 route, tested at every level above)");
        const Problem p = make_problem(TensorType::BF16, nRows, nCols, nTok, 2100u + nRows + nCols + nTok);
        auto w = CpuWeight::prepare(TensorType::BF16, p.w.data(), nRows, nCols, true, nullptr);
        QVERIFY2(w.ok(), w.status().message().c_str());
        std::vector<float> base(size_t(nTok * nRows), NAN);
        if (nCols % 2 != 0) {
            ThreadPool pool(2);
            MatmulScratch scratch;
            IsaScope scope("avx2");
            cpu_matmul(pool, *w, p.x.data(), nTok, base.data(), scratch);
        }
        IsaScope scope(cpu_isa_env_name(CpuIsa::avx512_bf16));
        QCOMPARE(runs_bf16_dots(*w), nCols % 2 == 0);
        std::vector<std::vector<float>> outs;
        for (int n_threads : {2, 1, 3}) {
            ThreadPool pool(n_threads);
            MatmulScratch scratch;
            std::vector<float> out(size_t(nTok * nRows), NAN);
            cpu_matmul(pool, *w, p.x.data(), nTok, out.data(), scratch);
            outs.push_back(std::move(out));
        }
        if (nCols % 2 != 0) {
            QVERIFY(std::memcmp(outs[0].data(), base.data(), base.size() * sizeof(float)) == 0);
            return check_against_truth(p, outs[0]);
        }
        check_against_truth(p, outs[0], true);
        for (size_t i = 1; i < outs.size(); ++i)
            QVERIFY2(std::memcmp(outs[i].data(), outs[0].data(), outs[0].size() * sizeof(float)) == 0,
                     "thread counts differ");
        ThreadPool pool(2);
        MatmulScratch scratch;
        std::vector<float> one(static_cast<size_t>(nRows));
        for (int t = 0; t < nTok; ++t) {
            cpu_matmul(pool, *w, p.x.data() + size_t(t) * nCols, 1, one.data(), scratch);
            QVERIFY2(std::memcmp(one.data(), outs[0].data() + size_t(t) * nRows, one.size() * sizeof(float)) == 0,
                     qPrintable(QString("token %1 alone differs from its row of the %2-token call").arg(t).arg(nTok)));
        }
        // Without STRATA_CPU_BF16_DOTS=1 the same level keeps the F32 route: bitwise the avx2 results.
        std::vector<float> avx2(outs[0].size(), NAN), off(outs[0].size(), NAN);
        {
            IsaScope avx2_scope("avx2");
            cpu_matmul(pool, *w, p.x.data(), nTok, avx2.data(), scratch);
        }
        {
            strata::test::Bf16DotsScope dots_off(false);
            QVERIFY(!runs_bf16_dots(*w));
            cpu_matmul(pool, *w, p.x.data(), nTok, off.data(), scratch);
        }
        QVERIFY(std::memcmp(off.data(), avx2.data(), off.size() * sizeof(float)) == 0);
    }

    // STRATA_CPU_ISA caps the level to the highest one this machine runs at or below the name;
    // an unknown name caps nothing.
    // The activation quantizers (Q8_0 and Q8_K rows, and the X8 kernels' ActQ8 blocks) write
    // bitwise the same bytes at every level this CPU runs (the 512-bit ones at avx512 and up)
    // as the scalar reference and the AVX2 version, on random rows at ragged sizes (1 block, odd
    // block counts, more than one 64-block chunk of quantize_act_q8), with blocks of very
    // different magnitude, one exactly zero block and one of evenly spaced values.
    void activationQuantizersMatchAcrossLevels() {
        QList<CpuIsa> levels = {CpuIsa::scalar};
        for (CpuIsa l : {CpuIsa::avx2, CpuIsa::avx512, CpuIsa::avx512_vnni, CpuIsa::avx512_bf16})
            if (cpu_isa_runs(l)) levels << l;
        if (levels.size() < 2) QSKIP("this CPU runs no vector level");
        std::mt19937 rng(4242);
        std::uniform_real_distribution<float> scale_dist(-6.0f, 3.0f);
        for (int64_t n : {int64_t(32), int64_t(96), int64_t(256), int64_t(2080), int64_t(2816), int64_t(4352)}) {
            std::vector<float> x = gaussian(size_t(n), uint32_t(n) * 7u);
            for (int64_t b = 0; b < n / 32; ++b) {  // per-block magnitudes from 1e-6 to 1e3
                const float s = std::pow(10.0f, scale_dist(rng));
                for (int64_t j = 0; j < 32; ++j) x[size_t(b * 32 + j)] *= s;
            }
            if (n >= 96) {
                for (int64_t j = 32; j < 64; ++j) x[size_t(j)] = 0.0f;                 // an all-zero block
                for (int64_t j = 64; j < 96; ++j) x[size_t(j)] = float(j - 80) * 0.5f;  // evenly spaced
            }
            for (TensorType t : {TensorType::Q8_0, TensorType::Q8_K}) {
                if (n % tensor_type_traits(t).block_size != 0) continue;
                const size_t bytes = tensor_row_bytes(t, n);
                std::vector<uint8_t> ref(bytes), got(bytes);
                quantize_row_fn(t, CpuIsa::scalar)(x.data(), ref.data(), n);
                for (CpuIsa l : levels) {
                    std::fill(got.begin(), got.end(), uint8_t(0xAB));
                    quantize_row_fn(t, l)(x.data(), got.data(), n);
                    QVERIFY2(std::memcmp(got.data(), ref.data(), bytes) == 0,
                             qPrintable(QString("%1 at %2, %3 values").arg(tensor_type_name(t)).arg(cpu_isa_name(l)).arg(n)));
                }
            }
            std::vector<ActQ8> ref(size_t(n / 32)), got(size_t(n / 32));
            quantize_act_q8(x.data(), n, ref.data(), CpuIsa::scalar);
            for (CpuIsa l : levels) {
                std::memset(got.data(), 0xAB, got.size() * sizeof(ActQ8));
                quantize_act_q8(x.data(), n, got.data(), l);
                QVERIFY2(std::memcmp(got.data(), ref.data(), got.size() * sizeof(ActQ8)) == 0,
                         qPrintable(QString("ActQ8 at %1, %2 values").arg(cpu_isa_name(l)).arg(n)));
            }
        }
    }

    void isaCapPicksRunnableLevel() {
        const CpuIsa best = cpu_isa_supported();
        QVERIFY(cpu_isa_runs(best));
        for (CpuIsa cap : {CpuIsa::scalar, CpuIsa::avx2, CpuIsa::avx2_vnni, CpuIsa::avx512, CpuIsa::avx512_vnni,
                           CpuIsa::avx512_bf16, CpuIsa::amx}) {
            CpuIsa named = CpuIsa::scalar;
            QVERIFY(cpu_isa_from_name(cpu_isa_env_name(cap), named));
            QCOMPARE(named, cap);
            IsaScope scope(cpu_isa_env_name(cap));
            const CpuIsa got = cpu_isa();
            QVERIFY(got <= cap);
            QVERIFY(cpu_isa_runs(got));
            if (cpu_isa_runs(cap)) QCOMPARE(got, cap);
        }
        // What STRATA_CPU_ISA gives at start-up, read without writing the environment.
        QCOMPARE(cpu_isa_for_cap_name("no-such-level"), best);
        QCOMPARE(cpu_isa_for_cap_name(""), best);
        QCOMPARE(cpu_isa_for_cap_name(nullptr), best);
        QCOMPARE(cpu_isa_for_cap_name("scalar"), CpuIsa::scalar);
        if (cpu_isa_runs(CpuIsa::avx2)) QCOMPARE(cpu_isa_for_cap_name("avx2"), CpuIsa::avx2);
    }

    // The pool runs every task exactly once per call, across bursts (workers spinning) and pauses
    // longer than the spin window (workers asleep, woken by the condition variable).
    void threadPoolRunsEveryTaskOnce() {
        for (int n_threads : {1, 2, 3}) {
            ThreadPool pool(n_threads);
            std::vector<std::atomic<int>> hits(257);
            for (int call = 0; call < 400; ++call) {
                const int64_t n_tasks = 1 + (call * 37) % 257;
                for (int64_t i = 0; i < n_tasks; ++i) hits[size_t(i)].store(0);
                std::atomic<int> bad_thread{0};
                pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
                    if (thread < 0 || thread >= n_threads) bad_thread.store(1);
                    hits[size_t(task)].fetch_add(1);
                });
                for (int64_t i = 0; i < n_tasks; ++i) QCOMPARE(hits[size_t(i)].load(), 1);
                QCOMPARE(bad_thread.load(), 0);
                if (call % 100 == 99) {
                    std::this_thread::sleep_for(std::chrono::microseconds(2 * ThreadPool::kSpinMicros + 1000));
                }
            }
        }
    }

    // A task that throws on a worker thread: the exception reaches the caller of parallel_for
    // (never std::terminate on the worker), and the pool keeps working afterwards.
    void threadPoolHandsATasksExceptionToTheCaller() {
        for (int n_threads : {1, 2, 3}) {
            ThreadPool pool(n_threads);
            for (int round = 0; round < 20; ++round) {
                bool caught = false;
                try {
                    pool.parallel_for(64, [&](int64_t task, int) {
                        if (task == 7 + round) throw std::bad_alloc();
                    });
                } catch (const std::bad_alloc&) {
                    caught = true;
                }
                QVERIFY(caught);
                std::atomic<int> ran{0};
                pool.parallel_for(32, [&](int64_t, int) { ran.fetch_add(1); });
                QCOMPARE(ran.load(), 32);
            }
        }
    }

    void rejectsBadShapes() {
        std::vector<uint8_t> buf(4096);
        auto r = CpuWeight::prepare(TensorType::Q4_K, buf.data(), 2, 172);
        QVERIFY(!r.ok());
        QVERIFY(r.status().message().find("172") != std::string::npos);
        QVERIFY(!CpuWeight::prepare(TensorType::IQ2_XS, buf.data(), 2, 256).ok());
        QVERIFY(!CpuWeight::prepare(TensorType::F16, nullptr, 2, 256).ok());
        auto ok = CpuWeight::prepare(TensorType::Q4_0, buf.data(), 3, 64);
        QVERIFY(ok.ok());
        QVERIFY(ok->owned_bytes() > 0);  // repacked copy
        QCOMPARE(CpuWeight::prepare(TensorType::Q4_0, buf.data(), 3, 64, false)->owned_bytes(), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestCpuMatmul)
#include "tst_cpu_matmul.moc"
