// The AMX int8 prefill (cpu_matmul_amx.cpp) of Q8_0 and Q4_0 weights: bitwise what the 512-bit
// VNNI kernels (the avx512_bf16 level) return, and within the truth tolerance of
// tst_cpu_matmul (2e-5 · Σ|w·â| per output: exact integer block sums, then about n/32 rounded
// float operations) on random non-zero data. Shapes leave a padded row group (29, 83 rows), a
// lone last group (21 rows), part token tiles (17, 40 tokens) and, at 16384 columns, several
// pair panels per task. Runs only where the CPU has AMX-INT8 and Linux grants the tile state;
// says so and skips elsewhere.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_matmul.h"
#include "backend/cpu/cpu_matmul_internal.h"
#include "isa_scope.h"
#include "quant/quant.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

using namespace strata;
using strata::test::IsaScope;

namespace {

struct Problem {
    TensorType type;
    int64_t n_rows, n_cols, n_tok;
    std::vector<uint8_t> w;  // GGUF rows
    std::vector<float> x;    // (n_tok, n_cols)
};

Problem make_problem(TensorType t, int64_t n_rows, int64_t n_cols, int64_t n_tok, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> wd(0.1f, 0.5f), xd(0.0f, 1.0f);
    Problem p{t, n_rows, n_cols, n_tok, {}, std::vector<float>(size_t(n_tok * n_cols))};
    for (auto& v : p.x) v = xd(rng);
    std::vector<float> row(static_cast<size_t>(n_cols));
    const size_t rb = tensor_row_bytes(t, n_cols);
    p.w.resize(rb * size_t(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        for (auto& v : row) v = wd(rng);
        quant::quantize_row_ref(t, row.data(), p.w.data() + r * rb, n_cols);
    }
    return p;
}

const char* skip_reason() {
    if (!cpu_isa_runs(CpuIsa::amx)) return "this CPU has no AMX-INT8 tiles (or Linux refused the tile state)";
    if (!amx_int8_supports(kLayoutQ8_0X8)) return "this build has no AMX kernels (compiler without -mamx-int8)";
    return nullptr;
}

// Double-precision truth on the reference-dequantized weights and Q8_0-quantized activations.
void check_against_truth(const Problem& p, const std::vector<float>& out) {
    const size_t rb = tensor_row_bytes(p.type, p.n_cols), ab = tensor_row_bytes(TensorType::Q8_0, p.n_cols);
    std::vector<float> wd(size_t(p.n_cols)), ad(size_t(p.n_cols));
    std::vector<uint8_t> aq(ab);
    for (int64_t t = 0; t < p.n_tok; ++t) {
        quant::quantize_row_ref(TensorType::Q8_0, p.x.data() + t * p.n_cols, aq.data(), p.n_cols);
        quant::dequantize_row_ref(TensorType::Q8_0, aq.data(), ad.data(), p.n_cols);
        for (int64_t r = 0; r < p.n_rows; ++r) {
            quant::dequantize_row_ref(p.type, p.w.data() + r * rb, wd.data(), p.n_cols);
            double truth = 0, cond = 0;
            for (int64_t k = 0; k < p.n_cols; ++k) {
                truth += double(wd[size_t(k)]) * ad[size_t(k)];
                cond += std::fabs(double(wd[size_t(k)]) * ad[size_t(k)]);
            }
            const float got = out[size_t(t * p.n_rows + r)];
            if (!(std::fabs(got - truth) <= 2e-5 * cond)) {
                QFAIL(qPrintable(QString("token %1 row %2: got %3, truth %4 (tol %5)")
                                     .arg(t).arg(r).arg(got, 0, 'g', 9).arg(truth, 0, 'g', 9).arg(2e-5 * cond)));
            }
        }
    }
}

void compare_bitwise(const std::vector<float>& got, const std::vector<float>& base, int64_t n_rows) {
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::memcmp(&got[i], &base[i], sizeof(float)) != 0) {
            QFAIL(qPrintable(QString("token %1 row %2: %3 on AMX, %4 on the VNNI kernels")
                                 .arg(i / n_rows).arg(i % n_rows).arg(got[i], 0, 'g', 9).arg(base[i], 0, 'g', 9)));
        }
    }
}

}  // namespace

class TestCpuMatmulAmx : public QObject {
    Q_OBJECT
private slots:
    // Through cpu_matmul: the amx level against the avx512_bf16 level, bitwise, and the truth.
    void amxMatchesVnni_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("nRows");
        QTest::addColumn<int>("nCols");
        QTest::addColumn<int>("nTok");
        QTest::addColumn<int>("nThreads");
        QTest::addColumn<bool>("truth");
        struct Shape { int rows, cols, tok, threads; bool truth; };
        const Shape shapes[] = {{29, 96, 16, 2, true},   {21, 544, 17, 2, true},   {83, 1120, 40, 2, true},
                                {64, 256, 64, 3, true},  {45, 160, 15, 2, true},   {256, 2048, 33, 1, false},
                                {1024, 16384, 17, 1, false}};
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
            for (const Shape& s : shapes) {
                QTest::newRow(qPrintable(QString("%1/%2x%3/tok%4/threads%5").arg(tensor_type_name(t))
                                             .arg(s.rows).arg(s.cols).arg(s.tok).arg(s.threads)))
                    << int(t) << s.rows << s.cols << s.tok << s.threads << s.truth;
            }
        }
    }
    void amxMatchesVnni() {
        if (const char* why = skip_reason()) QSKIP(why);
        QFETCH(int, type);
        QFETCH(int, nRows);
        QFETCH(int, nCols);
        QFETCH(int, nTok);
        QFETCH(int, nThreads);
        QFETCH(bool, truth);
        const auto t = static_cast<TensorType>(type);
        const Problem p = make_problem(t, nRows, nCols, nTok, 4000u + uint32_t(type * 17 + nRows + nCols + nTok));
        auto w = CpuWeight::prepare(t, p.w.data(), nRows, nCols, true);
        QVERIFY2(w.ok(), w.status().message().c_str());
        QVERIFY(amx_int8_supports(w->layout()));
        ThreadPool pool(nThreads);
        MatmulScratch scratch;
        std::vector<float> base(size_t(nTok * nRows), NAN), got(size_t(nTok * nRows), NAN);
        {
            IsaScope scope("avx512_bf16");
            QCOMPARE(cpu_isa(), CpuIsa::avx512_bf16);
            cpu_matmul(pool, *w, p.x.data(), nTok, base.data(), scratch);
        }
        {
            IsaScope scope("amx");
            QCOMPARE(cpu_isa(), CpuIsa::amx);
            cpu_matmul(pool, *w, p.x.data(), nTok, got.data(), scratch);
        }
        compare_bitwise(got, base, nRows);
        if (truth) check_against_truth(p, got);
    }

    // amx_int8_matmul called directly (so the tile kernels surely run, also below the
    // kAmxMinTokens that cpu_matmul applies): token counts of 1..16 are one zero-padded tile.
    void amxKernelDirect_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("nTok");
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0})
            for (int n_tok : {1, 5, 16, 31})
                QTest::newRow(qPrintable(QString("%1/tok%2").arg(tensor_type_name(t)).arg(n_tok))) << int(t) << n_tok;
    }
    void amxKernelDirect() {
        if (const char* why = skip_reason()) QSKIP(why);
        QFETCH(int, type);
        QFETCH(int, nTok);
        const auto t = static_cast<TensorType>(type);
        const int64_t n_rows = 37, n_cols = 352;  // 5 groups (the last padded and lone), 11 blocks
        const Problem p = make_problem(t, n_rows, n_cols, nTok, 77u + uint32_t(type + nTok));
        auto w = CpuWeight::prepare(t, p.w.data(), n_rows, n_cols, true);
        QVERIFY(w.ok());
        ThreadPool pool(2);
        MatmulScratch scratch;
        std::vector<float> base(size_t(nTok * n_rows), NAN), got(size_t(nTok * n_rows), NAN);
        {
            IsaScope scope("avx512_bf16");
            cpu_matmul(pool, *w, p.x.data(), nTok, base.data(), scratch);
        }
        const int64_t nb = n_cols / 32;
        std::vector<ActQ8> act(size_t(nTok * nb));
        for (int64_t i = 0; i < nTok; ++i)
            quantize_act_q8(p.x.data() + i * n_cols, n_cols, act.data() + i * nb, CpuIsa::avx512_bf16);
        std::vector<uint8_t> tiles(amx_act_bytes(nTok, nb) + 64);
        uint8_t* aligned = tiles.data() + (64 - reinterpret_cast<uintptr_t>(tiles.data()) % 64) % 64;
        amx_int8_matmul(pool, w->layout(), static_cast<const uint8_t*>(w->data()),
                        x8_group_bytes(w->layout(), t, n_cols), n_rows, nb, act.data(), nTok, aligned, got.data());
        compare_bitwise(got, base, n_rows);
        check_against_truth(p, got);
    }
};

QTEST_GUILESS_MAIN(TestCpuMatmulAmx)
#include "tst_cpu_matmul_amx.moc"
