// Quant formats: reference round trips on Gaussian data (RMSE per type within the usual range
// for its bit width), hand-built blocks checked against the published layouts, importance
// weights steering the K-quant scale search, and the fast dequantizers against the reference.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/quant.h"
#include "quant/quant_blocks.h"
#include "util/fp16.h"

using namespace strata;
using namespace strata::quant;

namespace {

std::vector<float> gaussian(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

std::vector<float> round_trip(TensorType t, const std::vector<float>& x, const float* importance = nullptr) {
    std::vector<uint8_t> q(tensor_row_bytes(t, static_cast<int64_t>(x.size())));
    quantize_row_ref(t, x.data(), q.data(), static_cast<int64_t>(x.size()), importance);
    std::vector<float> y(x.size());
    dequantize_row_ref(t, q.data(), y.data(), static_cast<int64_t>(x.size()));
    return y;
}

double rmse(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(s / static_cast<double>(a.size()));
}

}  // namespace

class TestQuantFormats : public QObject {
    Q_OBJECT
private slots:
    // RMSE of quantize → dequantize on N(0, 1) data, 64 rows of 4096 values. Bounds are about
    // 1.2x what this implementation measures, and match the usual figures for each bit width
    // (uniform step Δ gives Δ/√12): ~0.09 for 4-bit block-absmax formats down to ~0.004 for 8-bit.
    void roundTripRmse_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("maxRmse");
        QTest::newRow("F16") << int(TensorType::F16) << 3e-4;
        QTest::newRow("BF16") << int(TensorType::BF16) << 2.5e-3;
        QTest::newRow("Q8_0") << int(TensorType::Q8_0) << 0.0055;
        QTest::newRow("Q8_1") << int(TensorType::Q8_1) << 0.0055;
        QTest::newRow("Q8_K") << int(TensorType::Q8_K) << 0.0075;
        QTest::newRow("Q5_0") << int(TensorType::Q5_0) << 0.050;
        QTest::newRow("Q5_1") << int(TensorType::Q5_1) << 0.045;
        QTest::newRow("Q4_0") << int(TensorType::Q4_0) << 0.100;
        QTest::newRow("Q4_1") << int(TensorType::Q4_1) << 0.090;
        QTest::newRow("Q6_K") << int(TensorType::Q6_K) << 0.022;
        QTest::newRow("Q5_K") << int(TensorType::Q5_K) << 0.040;
        QTest::newRow("Q4_K") << int(TensorType::Q4_K) << 0.080;
        QTest::newRow("Q3_K") << int(TensorType::Q3_K) << 0.170;
        QTest::newRow("Q2_K") << int(TensorType::Q2_K) << 0.300;
        // Non-linear 4-bit levels: below Q4_0's error at the same width.
        QTest::newRow("IQ4_NL") << int(TensorType::IQ4_NL) << 0.088;
        QTest::newRow("IQ4_XS") << int(TensorType::IQ4_XS) << 0.089;
        // E2M1 codes under a power-of-two block scale: coarser than the 4-bit formats with a
        // free scale (the scale cannot fit the block's largest value exactly).
        QTest::newRow("MXFP4") << int(TensorType::MXFP4) << 0.133;
    }
    void roundTripRmse() {
        QFETCH(int, type);
        QFETCH(double, maxRmse);
        const auto t = static_cast<TensorType>(type);
        QVERIFY(can_quantize(t) && can_dequantize(t));
        const auto x = gaussian(64 * 4096, 1234u + type);
        const double e = rmse(x, round_trip(t, x));
        qInfo("%s RMSE %.5f (bound %.5f)", tensor_type_name(t), e, maxRmse);
        QVERIFY2(e > 0.0 || t == TensorType::F32, "a lossy format reproduced its input exactly: suspicious");
        QVERIFY2(e <= maxRmse, qPrintable(QString("RMSE %1 > %2").arg(e).arg(maxRmse)));
    }

    // Importance weights must lower the error where they are high: weight the first half of
    // every group of 16 by 100 and compare the error there with the unweighted quantization.
    void importanceSteersScales_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : {TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,
                             TensorType::IQ4_NL, TensorType::IQ4_XS})
            QTest::newRow(tensor_type_name(t)) << int(t);
    }
    void importanceSteersScales() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const auto x = gaussian(16 * 4096, 99u + type);
        std::vector<float> imp(x.size());
        for (size_t i = 0; i < imp.size(); ++i) imp[i] = (i % 16) < 8 ? 100.0f : 1.0f;
        const auto plain = round_trip(t, x), weighted = round_trip(t, x, imp.data());
        double e_plain = 0, e_weighted = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            if (imp[i] < 2.0f) continue;
            e_plain += (plain[i] - x[i]) * (plain[i] - x[i]);
            e_weighted += (weighted[i] - x[i]) * (weighted[i] - x[i]);
        }
        qInfo("%s important-half squared error: uniform %.2f, weighted %.2f", tensor_type_name(t), e_plain, e_weighted);
        QVERIFY(e_weighted < 0.95 * e_plain);
    }

    // Blocks built byte by byte from the published layouts; expected values worked out by hand.
    void handBuiltBlocks() {
        const uint16_t one = fp32_to_fp16(1.0f);
        {   // Q4_0: element j = low nibble of qs[j] - 8, element j+16 = high nibble - 8.
            BlockQ4_0 b{};
            b.d = one;
            b.qs[3] = 0xA5;
            float y[32];
            dequantize_row_ref(TensorType::Q4_0, &b, y, 32);
            QCOMPARE(y[3], -3.0f);
            QCOMPARE(y[19], 2.0f);
            QCOMPARE(y[0], -8.0f);
        }
        {   // Q4_1: d*q + m.
            BlockQ4_1 b{};
            b.d = one;
            b.m = fp32_to_fp16(-2.0f);
            b.qs[3] = 0xA5;
            float y[32];
            dequantize_row_ref(TensorType::Q4_1, &b, y, 32);
            QCOMPARE(y[3], 3.0f);
            QCOMPARE(y[19], 8.0f);
        }
        {   // MXFP4: E2M1 value of each nibble (0, .5, 1, 1.5, 2, 3, 4, 6, then negatives) ×
            // 2^(e - 127); nibbles as in Q4_0; code 8 is -0.
            BlockMXFP4 b{};
            b.e = 127;          // scale 1
            b.qs[0] = 0xF7;     // element 0: 6; element 16: -6
            b.qs[5] = 0x19;     // element 5: -0.5; element 21: 0.5
            b.qs[9] = 0x8A;     // element 9: -1; element 25: -0
            float y[32];
            dequantize_row_ref(TensorType::MXFP4, &b, y, 32);
            QCOMPARE(y[0], 6.0f);
            QCOMPARE(y[16], -6.0f);
            QCOMPARE(y[5], -0.5f);
            QCOMPARE(y[21], 0.5f);
            QCOMPARE(y[9], -1.0f);
            QCOMPARE(y[25], 0.0f);
            QCOMPARE(y[1], 0.0f);  // code 0 is zero
            b.e = 130;          // scale 8
            dequantize_row_ref(TensorType::MXFP4, &b, y, 32);
            QCOMPARE(y[0], 48.0f);
            b.e = 0;            // 2^-127 · 6 and 2^-127 · 0.5 (a subnormal float)
            dequantize_row_ref(TensorType::MXFP4, &b, y, 32);
            QCOMPARE(y[0], std::ldexp(6.0f, -127));
            QCOMPARE(y[21], std::ldexp(1.0f, -128));
            b.e = 255;          // ggml reads 255 as 2^128 (not NaN)
            dequantize_row_ref(TensorType::MXFP4, &b, y, 32);
            QCOMPARE(y[21], std::ldexp(1.0f, 127));
        }
        {   // IQ4_NL: d × level[nibble], nibbles as in Q4_0; levels -127 -104 ... 89 113.
            BlockIQ4_NL b{};
            b.d = fp32_to_fp16(0.5f);
            b.qs[3] = 0xF0;   // element 3: level 0 = -127; element 19: level 15 = 113
            b.qs[7] = 0x89;   // element 7: level 9 = 13; element 23: level 8 = 1
            float y[32];
            dequantize_row_ref(TensorType::IQ4_NL, &b, y, 32);
            QCOMPARE(y[3], -63.5f);
            QCOMPARE(y[19], 56.5f);
            QCOMPARE(y[7], 6.5f);
            QCOMPARE(y[23], 0.5f);
            QCOMPARE(y[0], -63.5f);  // all-zero nibbles are level 0, not zero
        }
        {   // IQ4_XS: group g's scale is (6 bits) - 32: low 4 bits in nibble g % 2 of
            // scales_l[g / 2], high 2 bits at bits 2g of scales_h.
            BlockIQ4_XS b{};
            b.d = fp32_to_fp16(0.25f);
            b.scales_l[0] = 0x3F;   // group 0: low 0xF; group 1: low 0x3
            b.scales_h = 0x2 | (0x3 << 2) | (0x2 << 14);  // group 0 high 2 → 0x2F = 47; group 1 high 3 → 0x33 = 51;
                                                         // group 7 high 2, low 0 → 0x20 = 32
            b.qs[0] = 0xE9;         // group 0, element 0: level 9 = 13; element 16: level 14 = 89
            b.qs[16 + 5] = 0x07;    // group 1, element 5: level 7 = -10; element 21: level 0 = -127
            b.qs[16 * 7 + 2] = 0x5F;  // group 7: scale 0, so every value is 0
            float y[256];
            dequantize_row_ref(TensorType::IQ4_XS, &b, y, 256);
            QCOMPARE(y[0], 0.25f * 15 * 13);
            QCOMPARE(y[16], 0.25f * 15 * 89);
            QCOMPARE(y[32 + 5], 0.25f * 19 * -10);
            QCOMPARE(y[32 + 21], 0.25f * 19 * -127);
            QCOMPARE(y[64], 0.25f * (0x0 - 32) * -127);  // group 2: scale bits 0 → -32
            QCOMPARE(y[224 + 2], 0.0f);
            QCOMPARE(y[224 + 18], 0.0f);
        }
        {   // Q5_0: fifth bit of element j is bit j of the little-endian qh.
            BlockQ5_0 b{};
            b.d = fp32_to_fp16(0.5f);
            b.qh[2] = 0x08;  // bit 19
            b.qs[3] = 0xA5;
            float y[32];
            dequantize_row_ref(TensorType::Q5_0, &b, y, 32);
            QCOMPARE(y[19], 5.0f);   // (10 | 16) - 16 = 10
            QCOMPARE(y[3], -5.5f);   // 5 - 16
        }
        {   // Q5_1
            BlockQ5_1 b{};
            b.d = one;
            b.m = fp32_to_fp16(1.0f);
            b.qh[0] = 0x01;  // bit 0
            b.qs[0] = 0x02;
            float y[32];
            dequantize_row_ref(TensorType::Q5_1, &b, y, 32);
            QCOMPARE(y[0], 19.0f);  // (2 | 16) + 1
        }
        {   // Q2_K: element 81 = half 0, j 2, l 17: bits 4..5 of qs[17]; group 5 = scales[5].
            BlockQ2_K b{};
            b.d = one;
            b.dmin = fp32_to_fp16(0.5f);
            b.scales[5] = 0x3A;  // scale 10, min 3
            b.qs[17] = 2 << 4;
            float y[256];
            dequantize_row_ref(TensorType::Q2_K, &b, y, 256);
            QCOMPARE(y[81], 18.5f);  // 10*2 - 0.5*3
            QCOMPARE(y[80], -1.5f);  // level 0
        }
        {   // Q3_K: element 229 = half 1, j 3, l 5: bits 6..7 of qs[37], hmask[5] bit 7; group 14:
            // low nibble = high nibble of scales[6], top bits = bits 6..7 of scales[10].
            BlockQ3_K b{};
            b.d = fp32_to_fp16(0.25f);
            b.qs[37] = 1 << 6;
            b.hmask[5] = 0x80;
            b.scales[6] = 0x70;
            b.scales[10] = 0x80;  // 7 | 2<<4 = 39 → 39 - 32 = 7
            float y[256];
            dequantize_row_ref(TensorType::Q3_K, &b, y, 256);
            QCOMPARE(y[229], 1.75f);  // 0.25 * 7 * 1
            // element 228: same group, level 0 - 4 (hmask bit clear)
            QCOMPARE(y[228], -7.0f);
        }
        {   // Q4_K: group 5 (chunk 2, high nibbles): scale = (s[9]&15) | (s[1]>>6)<<4,
            // min = (s[9]>>4) | (s[5]>>6)<<4; group 1: s[1]&63, s[5]&63.
            BlockQ4_K b{};
            b.d = one;
            b.dmin = fp32_to_fp16(0.125f);
            b.scales[9] = 0x21;
            b.scales[1] = 0x45;  // group 1 scale 5, top bits 01
            b.scales[5] = 0xC3;  // group 1 min 3, top bits 11
            b.qs[64 + 7] = 0x90;
            b.qs[2] = 0x40;
            float y[256];
            dequantize_row_ref(TensorType::Q4_K, &b, y, 256);
            QCOMPARE(y[167], 146.75f);  // 17*9 - 0.125*50
            QCOMPARE(y[34], 19.625f);   // 5*4 - 0.125*3
            BlockQ5_K c{};
            c.d = b.d;
            c.dmin = b.dmin;
            std::memcpy(c.scales, b.scales, 12);
            std::memcpy(c.qs, b.qs, 128);
            c.qh[7] = 1 << 5;  // element 167 is in chunk 2's high half → bit 5
            dequantize_row_ref(TensorType::Q5_K, &c, y, 256);
            QCOMPARE(y[167], 418.75f);  // 17*25 - 6.25
            QCOMPARE(y[34], 19.625f);
        }
        {   // Q6_K: element 212 = half 1, k 2, l 20: high nibble of ql[84], bits 4..5 of qh[52]; group 13.
            BlockQ6_K b{};
            b.d = fp32_to_fp16(2.0f);
            b.ql[84] = 0x70;
            b.qh[52] = 0x20;
            b.scales[13] = -3;
            float y[256];
            dequantize_row_ref(TensorType::Q6_K, &b, y, 256);
            QCOMPARE(y[212], -42.0f);  // 2 * -3 * ((7 | 2<<4) - 32)
        }
        {   // Q8_K: float d, int8 quants; bsums are group sums.
            const auto x = gaussian(256, 5);
            BlockQ8_K b{};
            quantize_row_ref(TensorType::Q8_K, x.data(), &b, 256);
            for (int g = 0; g < 16; ++g) {
                int s = 0;
                for (int l = 0; l < 16; ++l) s += b.qs[16 * g + l];
                QCOMPARE(int(b.bsums[g]), s);
            }
        }
    }

    // transcode_row re-encodes level for level: the target dequantizes to exactly the source's
    // values (IQ4_XS: each group's scale d·s rounded to fp16, so within 2^-11 of each value).
    void transcodeKeepsValues_data() {
        QTest::addColumn<int>("from");
        QTest::addColumn<int>("to");
        QTest::newRow("Q3_K->Q6_K") << int(TensorType::Q3_K) << int(TensorType::Q6_K);
        QTest::newRow("Q5_0->Q8_0") << int(TensorType::Q5_0) << int(TensorType::Q8_0);
        QTest::newRow("IQ4_NL->Q8_0") << int(TensorType::IQ4_NL) << int(TensorType::Q8_0);
        QTest::newRow("IQ4_XS->Q8_0") << int(TensorType::IQ4_XS) << int(TensorType::Q8_0);
        QTest::newRow("MXFP4->Q8_0") << int(TensorType::MXFP4) << int(TensorType::Q8_0);
    }
    void transcodeKeepsValues() {
        QFETCH(int, from);
        QFETCH(int, to);
        const auto f = static_cast<TensorType>(from), t = static_cast<TensorType>(to);
        QVERIFY(can_transcode(f, t));
        const int64_t n = 8 * 256;
        const auto x = gaussian(n, 4321u + from);
        std::vector<uint8_t> a(tensor_row_bytes(f, n)), b(tensor_row_bytes(t, n));
        quantize_row_ref(f, x.data(), a.data(), n);
        QVERIFY(transcode_row(f, t, a.data(), b.data(), n));
        std::vector<float> va(n), vb(n);
        dequantize_row_ref(f, a.data(), va.data(), n);
        dequantize_row_ref(t, b.data(), vb.data(), n);
        int differ = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double tol = f == TensorType::IQ4_XS ? std::ldexp(std::fabs(double(va[i])), -11) : 0.0;
            if (std::fabs(double(va[i]) - vb[i]) > tol) ++differ;
        }
        QCOMPARE(differ, 0);
        QVERIFY(!can_transcode(TensorType::Q2_K, TensorType::Q8_0));  // has a min: no level map
        QVERIFY(!transcode_row(TensorType::Q4_1, TensorType::Q8_0, a.data(), b.data(), 32));
    }

    // dequantize_row (dispatched) must equal dequantize_row_ref exactly on every path.
    void fastDequantizeMatchesReference_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : {TensorType::F16, TensorType::BF16, TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K,
                             TensorType::Q6_K, TensorType::IQ4_NL, TensorType::IQ4_XS, TensorType::MXFP4})
            QTest::newRow(tensor_type_name(t)) << int(t);
    }
    // MXFP4 blocks: the quantizer picks the best of its candidate exponents (never worse than
    // the exponent that just fits the largest value, nor than a brute-force search over all),
    // keeps zeros and signs, and survives zero, tiny, huge and non-finite blocks.
    void mxfp4Quantizer() {
        const auto x = gaussian(32 * 512, 555u);
        std::vector<BlockMXFP4> q(512), alt(1);
        quantize_row_ref(TensorType::MXFP4, x.data(), q.data(), static_cast<int64_t>(x.size()));
        float y[32];
        for (int i = 0; i < 512; ++i) {
            const float* xb = x.data() + 32 * i;
            auto err = [&](const BlockMXFP4& b) {
                dequantize_row_ref(TensorType::MXFP4, &b, y, 32);
                double e = 0;
                for (int j = 0; j < 32; ++j) e += (double(y[j]) - xb[j]) * (double(y[j]) - xb[j]);
                return e;
            };
            const double got = err(q[static_cast<size_t>(i)]);
            // Brute force over every exponent with nearest codes: the quantizer must match it.
            double best = INFINITY;
            for (int e = 0; e < 256; ++e) {
                alt[0].e = static_cast<uint8_t>(e);
                const float scale = std::ldexp(1.0f, e - 127);
                for (int j = 0; j < 16; ++j) {
                    auto code = [&](float v) {
                        static const float mag[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
                        int m = 0;
                        for (int k = 1; k < 8; ++k)
                            if (std::fabs(std::fabs(v) / scale - mag[k]) < std::fabs(std::fabs(v) / scale - mag[m])) m = k;
                        return m == 0 ? 0 : (v < 0 ? m + 8 : m);
                    };
                    alt[0].qs[j] = static_cast<uint8_t>(code(xb[j]) | (code(xb[j + 16]) << 4));
                }
                best = std::min(best, err(alt[0]));
            }
            QVERIFY2(got <= best * (1 + 1e-6) + 1e-30, qPrintable(QString("block %1: error %2, best %3").arg(i).arg(got).arg(best)));
            for (int j = 0; j < 32; ++j)
                if (y[j] != 0.0f) QVERIFY((y[j] > 0) == (xb[j] > 0));
        }
        std::vector<float> odd(32 * 4, 0.0f);
        odd[32] = 1e-30f;               // block 1: tiny
        odd[64] = 3e38f;                // block 2: huge
        odd[96] = NAN;                  // block 3: NaN and infinity
        odd[97] = INFINITY;
        odd[98] = 1.0f;
        std::vector<BlockMXFP4> ob(4);
        quantize_row_ref(TensorType::MXFP4, odd.data(), ob.data(), 128);
        std::vector<float> back(128);
        dequantize_row_ref(TensorType::MXFP4, ob.data(), back.data(), 128);
        for (int j = 0; j < 32; ++j) QCOMPARE(back[size_t(j)], 0.0f);  // zeros stay zeros
        QVERIFY(std::fabs(back[64] - 3e38f) <= 0.25f * 3e38f);
        QVERIFY(back[32] >= 0.0f && back[32] <= 2e-30f);
    }

    void fastDequantizeMatchesReference() {
        QFETCH(int, type);
        const auto t = static_cast<TensorType>(type);
        const int64_t n = 768;
        const auto x = gaussian(n, 77);
        std::vector<uint8_t> q(tensor_row_bytes(t, n));
        quantize_row_ref(t, x.data(), q.data(), n);
        std::vector<float> a(n), b(n);
        dequantize_row_ref(t, q.data(), a.data(), n);
        dequantize_row(t, q.data(), b.data(), n);
        QVERIFY(std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0);
    }
};

QTEST_GUILESS_MAIN(TestQuantFormats)
#include "tst_quant_formats.moc"
