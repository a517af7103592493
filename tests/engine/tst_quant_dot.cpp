// Fast dot kernels and activation quantizers against the scalar reference, on every dispatch
// path this machine can run (each case runs once with STRATA_CPU_ISA=scalar and once with the
// best level).
//
// Truth: a double-precision dot of the reference-dequantized weights with the reference-
// dequantized activations. Tolerances:
//  - vs that truth: 2e-5 · Σ|w_i·a_i| (the kernels sum exact integer block dots and then round
//    about n/32 float products and sums: ~n/32 · 2^-24 relative, far inside the bound), plus
//    for Q4_1/Q5_1 the Q8_1 block sum s stored as f16 (relative rounding ≤ 2^-11 of |m·s|).
//  - vs plain float activations: the activation quantization error, bounded element-wise by
//    half a step, amax(block)/254, so |Σ w (a - â)| ≤ Σ|w_i|·amax_b(i)/254, plus the above.
#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "quant/quant_dispatch.h"
#include "isa_scope.h"
#include "util/cpu_features.h"

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

void add_isa_rows(const char* name, int type, const std::vector<int>& sizes) {
    QStringList isas{"scalar"};
    if (cpu_isa_supported() != CpuIsa::scalar) isas << "best";
    for (const QString& isa : isas) {
        for (int n : sizes) {
            QTest::newRow(qPrintable(QString("%1/n%2/%3").arg(name).arg(n).arg(isa))) << type << n << isa;
        }
    }
}

const std::vector<TensorType> kWeightTypes = {
    TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1,
    TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K, TensorType::Q3_K,
    TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::Q8_K, TensorType::IQ4_NL,
    TensorType::IQ4_XS, TensorType::MXFP4};

}  // namespace

class TestQuantDot : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qInfo("kernel ISA: %s; CPU: %s", cpu_kernel_isa().c_str(), cpu_features_string().c_str()); }

    void vecDot_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("n");
        QTest::addColumn<QString>("isa");
        for (TensorType t : kWeightTypes) {
            const auto bs = tensor_type_traits(t).block_size;
            if (bs == 256) add_isa_rows(tensor_type_name(t), int(t), {256, 768, 4096});
            else if (bs == 32) add_isa_rows(tensor_type_name(t), int(t), {32, 96, 4096});
            else add_isa_rows(tensor_type_name(t), int(t), {37, 96, 4096});
        }
    }
    void vecDot() {
        QFETCH(int, type);
        QFETCH(int, n);
        QFETCH(QString, isa);
        IsaScope scope(isa);
        const auto wt = static_cast<TensorType>(type);
        const TensorType at = vec_dot_type(wt);
        // Offset weights so the formats with a min (Q4_1, Q5_1, K-quant mins) get exercised.
        const auto wf = gaussian(n, 1000u + type * 7u + n, 1.0f, 0.3f);
        const auto af = gaussian(n, 2000u + type * 13u + n);
        std::vector<uint8_t> wq(tensor_row_bytes(wt, n)), aq(tensor_row_bytes(at, n));
        quantize_row_ref(wt, wf.data(), wq.data(), n);
        quantize_row(at, af.data(), aq.data(), n);
        std::vector<float> wd(n), ad(n);
        dequantize_row_ref(wt, wq.data(), wd.data(), n);
        dequantize_row_ref(at, aq.data(), ad.data(), n);

        double truth = 0, cond = 0, truth_f = 0, quant_err = 0;
        const int64_t abs_block = tensor_type_traits(at).block_size;
        for (int i = 0; i < n; ++i) {
            truth += double(wd[i]) * ad[i];
            truth_f += double(wd[i]) * af[i];
            cond += std::fabs(double(wd[i]) * ad[i]);
        }
        if (at != TensorType::F32) {
            for (int b0 = 0; b0 < n; b0 += int(abs_block)) {
                double amax = 0;
                for (int i = b0; i < b0 + abs_block; ++i) amax = std::max(amax, std::fabs(double(af[i])));
                for (int i = b0; i < b0 + abs_block; ++i) quant_err += std::fabs(double(wd[i])) * amax / 254.0;
            }
        }
        double tol = 2e-5 * cond;
        if (at == TensorType::Q8_1) {  // s = d·Σq stored as f16
            const auto* a1 = reinterpret_cast<const BlockQ8_1*>(aq.data());
            for (int b = 0; b < n / 32; ++b) {
                const float m = wt == TensorType::Q4_1 ? h2f(reinterpret_cast<const BlockQ4_1*>(wq.data())[b].m)
                                                       : h2f(reinterpret_cast<const BlockQ5_1*>(wq.data())[b].m);
                tol += std::fabs(double(m) * h2f(a1[b].s)) * std::ldexp(1.0, -11);
            }
        }
        const float got = vec_dot(wt, n, wq.data(), aq.data());
        QVERIFY2(std::fabs(got - truth) <= tol,
                 qPrintable(QString("got %1, truth %2, tol %3").arg(got, 0, 'g', 9).arg(truth, 0, 'g', 9).arg(tol)));
        const double tol_f = tol + quant_err * 1.0001;
        QVERIFY2(std::fabs(got - truth_f) <= tol_f,
                 qPrintable(QString("got %1, float truth %2, tol %3").arg(got).arg(truth_f).arg(tol_f)));
        // The scalar path and the best path agree within the same bound.
        const float scalar = vec_dot_fn(wt, CpuIsa::scalar)(n, wq.data(), aq.data());
        QVERIFY(std::fabs(got - scalar) <= 2 * tol + 1e-30);
    }

    // The dispatched activation quantizers are bit-identical to the reference ones.
    void activationQuantizers_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("n");
        QTest::addColumn<QString>("isa");
        add_isa_rows("Q8_0", int(TensorType::Q8_0), {32, 4096});
        add_isa_rows("Q8_1", int(TensorType::Q8_1), {32, 4096});
        add_isa_rows("Q8_K", int(TensorType::Q8_K), {256, 4096});
    }
    void activationQuantizers() {
        QFETCH(int, type);
        QFETCH(int, n);
        QFETCH(QString, isa);
        IsaScope scope(isa);
        const auto t = static_cast<TensorType>(type);
        auto x = gaussian(n, 31u + n, 3.0f);
        std::fill(x.begin() + 64 % n, x.begin() + std::min(n, 64 % n + 32), 0.0f);  // an all-zero block
        std::vector<uint8_t> a(tensor_row_bytes(t, n)), b(tensor_row_bytes(t, n));
        quantize_row_ref(t, x.data(), a.data(), n);
        quantize_row(t, x.data(), b.data(), n);
        QVERIFY(std::memcmp(a.data(), b.data(), a.size()) == 0);
    }
};

QTEST_GUILESS_MAIN(TestQuantDot)
#include "tst_quant_dot.moc"
