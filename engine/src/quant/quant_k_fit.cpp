// Scale search for the K-quant quantizers: for one group of values, try a fan of candidate
// scales around the min/max one, assign the nearest levels for each, refit the scale (and
// min) by weighted least squares for that assignment, and keep the lowest weighted error.
#include <algorithm>
#include <cmath>

#include "quant/quant_blocks.h"
#include "quant/quant_internal.h"

namespace strata::quant {
namespace {
constexpr int kSteps = 8;            // candidates on each side of the min/max scale
constexpr float kStepSize = 0.1f;    // in units of one quantization level
inline float weight(const float* w, int i) { return w ? w[i] : 1.0f; }
}  // namespace

float fit_scale_min(const float* x, const float* w, int n, int nmax, float* min_out, uint8_t* q) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, 0.0f);  // the format subtracts a non-negative min
    if (hi <= lo) {
        for (int i = 0; i < n; ++i) q[i] = 0;
        *min_out = -lo;
        return 0.0f;
    }
    float best_err = INFINITY, best_scale = (hi - lo) / static_cast<float>(nmax), best_off = lo;
    uint8_t cand[256];
    for (int step = -kSteps; step <= kSteps; ++step) {
        const float iscale = (static_cast<float>(nmax) + kStepSize * static_cast<float>(step)) / (hi - lo);
        double sw = 0, sq = 0, sqq = 0, sx = 0, sqx = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * (x[i] - lo)), 0, nmax);
            cand[i] = static_cast<uint8_t>(l);
            const double wi = weight(w, i);
            sw += wi;
            sq += wi * l;
            sqq += wi * l * l;
            sx += wi * x[i];
            sqx += wi * l * x[i];
        }
        const double det = sw * sqq - sq * sq;
        double a, b;  // x ≈ a*q + b
        if (det > 0) {
            a = (sw * sqx - sq * sx) / det;
            b = (sqq * sx - sq * sqx) / det;
        } else {
            a = 0;
            b = sw > 0 ? sx / sw : 0;
        }
        if (b > 0) {  // offset must be <= 0
            b = 0;
            a = sqq > 0 ? sqx / sqq : 0;
        }
        if (a < 0) continue;
        double err = 0;
        for (int i = 0; i < n; ++i) {
            const double e = a * cand[i] + b - x[i];
            err += weight(w, i) * e * e;
        }
        if (err < best_err) {
            best_err = static_cast<float>(err);
            best_scale = static_cast<float>(a);
            best_off = static_cast<float>(b);
            std::copy(cand, cand + n, q);
        }
    }
    if (!(best_err < INFINITY)) {  // no candidate: plain min/max levels
        const float id = 1.0f / best_scale;
        for (int i = 0; i < n; ++i) q[i] = static_cast<uint8_t>(std::clamp(nearest_int(id * (x[i] - lo)), 0, nmax));
    }
    *min_out = -best_off;
    return best_scale;
}

float fit_scale_sym(const float* x, const float* w, int n, int nmax, int8_t* q) {
    float amax = 0.0f, vmax = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            vmax = x[i];
        }
    }
    if (amax == 0.0f) {
        for (int i = 0; i < n; ++i) q[i] = 0;
        return 0.0f;
    }
    const int nmin = -(nmax + 1);
    float best_err = INFINITY, best_scale = 0.0f;
    int8_t cand[256];
    // Candidates map vmax to about -(nmax+1) (using the extra negative level) or to about nmax.
    for (int side = 0; side < 2; ++side) {
        const float target = side == 0 ? static_cast<float>(nmin) : static_cast<float>(nmax);
        for (int step = -kSteps; step <= kSteps; ++step) {
            const float iscale = (target + (side == 0 ? -1.0f : 1.0f) * kStepSize * static_cast<float>(step)) / vmax;
            double sqq = 0, sqx = 0, sxx = 0;
            for (int i = 0; i < n; ++i) {
                const int l = std::clamp(nearest_int(iscale * x[i]), nmin, nmax);
                cand[i] = static_cast<int8_t>(l);
                const double wi = weight(w, i);
                sqq += wi * l * l;
                sqx += wi * l * x[i];
                sxx += wi * x[i] * x[i];
            }
            if (sqq <= 0) continue;
            const double err = sxx - sqx * sqx / sqq;
            if (err < best_err) {
                best_err = static_cast<float>(err);
                best_scale = static_cast<float>(sqx / sqq);
                std::copy(cand, cand + n, q);
            }
        }
    }
    return best_scale;
}

}  // namespace strata::quant
