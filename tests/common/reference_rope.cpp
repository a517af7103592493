#include "reference_rope.h"

#include <algorithm>
#include <cmath>

#include "gguf/gguf_file.h"
#include "quant/quant.h"

namespace strata::test {

namespace {

double key_number(const gguf::GgufFile& f, const std::string& key, double fallback) {
    auto v = f.get_float(key);
    return v.ok() && v->has_value() ? **v : fallback;
}

bool read_factors(const gguf::GgufFile& f, const std::string& name, int n, std::vector<double>& out) {
    const gguf::TensorInfo* t = f.find_tensor(name);
    if (!t || t->n_elements() != n) return false;
    std::vector<float> v(static_cast<size_t>(n));
    quant::dequantize_row_ref(t->type, t->data, v.data(), n);
    out.assign(v.begin(), v.end());
    return true;
}

}  // namespace

bool ReferenceRope::load(const gguf::GgufFile& f, long n_ctx, ReferenceRope& r, std::string& error) {
    auto arch_v = f.get_string("general.architecture");
    if (!arch_v.ok() || !arch_v->has_value()) { error = "no architecture"; return false; }
    const std::string arch = **arch_v, p = arch + ".";
    const double n_embd = key_number(f, p + "embedding_length", 0), n_head = key_number(f, p + "attention.head_count", 1);
    const double head_dim = key_number(f, p + "attention.key_length", n_embd / n_head);
    r.n_rot = static_cast<int>(key_number(f, p + "rope.dimension_count", head_dim));
    r.neox = arch != "llama" && arch != "mistral3";  // their converters permute q and k for pairs (2i, 2i+1)
    const double base = key_number(f, p + "rope.freq_base", 10000.0);
    const double factor = key_number(f, p + "rope.scaling.factor", 1.0);
    const double n_ctx_train = key_number(f, p + "context_length", 2048);
    const double orig = key_number(f, p + "rope.scaling.original_context_length", n_ctx_train);
    auto type_v = f.get_string(p + "rope.scaling.type");
    const std::string type = type_v.ok() && type_v->has_value() ? **type_v : (factor > 1.0 ? "linear" : "none");

    const int half = r.n_rot / 2;
    r.inv_freq.assign(static_cast<size_t>(half), 0.0);
    for (int i = 0; i < half; ++i) r.inv_freq[static_cast<size_t>(i)] = 1.0 / std::pow(base, 2.0 * i / r.n_rot);
    r.mscale = key_number(f, p + "rope.scaling.attn_factor", 1.0);

    std::vector<double> fac;
    if (read_factors(f, "rope_factors_long.weight", half, fac)) {
        // LongRoPE: inv_freq = 1 / (ext_factor_i · base^(2i/d)), long factors past the original context.
        if (n_ctx <= static_cast<long>(orig) && !read_factors(f, "rope_factors_short.weight", half, fac)) {
            error = "rope_factors_short.weight missing";
            return false;
        }
        for (int i = 0; i < half; ++i) r.inv_freq[static_cast<size_t>(i)] /= fac[static_cast<size_t>(i)];
    } else if (read_factors(f, "rope_freqs.weight", half, fac)) {
        // Llama 3.1: the converter stored the per-pair divisors of its rope_scaling.
        for (int i = 0; i < half; ++i) r.inv_freq[static_cast<size_t>(i)] /= fac[static_cast<size_t>(i)];
    } else if (type == "linear") {
        for (double& v : r.inv_freq) v /= factor;
    } else if (type == "yarn") {
        // YaRN (Peng et al.): extrapolated frequencies for pairs that turn more than beta_fast
        // times over the original context, interpolated ones below beta_slow turns, a linear
        // ramp between; cos and sin scaled by 0.1·ln(factor) + 1.
        const double beta_fast = key_number(f, p + "rope.scaling.yarn_beta_fast", 32.0);
        const double beta_slow = key_number(f, p + "rope.scaling.yarn_beta_slow", 1.0);
        auto correction_dim = [&](double turns) { return r.n_rot * std::log(orig / (turns * 2 * M_PI)) / (2 * std::log(base)); };
        // gpt-oss's configuration has truncate: false, and its code keeps the range fractional.
        const bool truncate = arch != "gpt-oss";
        const double lo = correction_dim(beta_fast), hi = correction_dim(beta_slow);
        const double low = std::max(0.0, truncate ? std::floor(lo) : lo);
        double high = std::min(static_cast<double>(r.n_rot - 1), truncate ? std::ceil(hi) : hi);
        if (high == low) high += 0.001;
        for (int i = 0; i < half; ++i) {
            const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
            const double extrapolation = 1.0 - ramp;
            const double extrap = r.inv_freq[static_cast<size_t>(i)], interp = extrap / factor;
            r.inv_freq[static_cast<size_t>(i)] = interp * (1.0 - extrapolation) + extrap * extrapolation;
        }
        // Hugging Face's attention_factor: the configured one, else mscale(f, 1) / mscale(f,
        // mscale_all_dim) (stored as yarn_log_multiplier), else mscale(f) = 0.1·ln f + 1.
        auto mscale = [&](double m) { return factor <= 1.0 ? 1.0 : 0.1 * m * std::log(factor) + 1.0; };
        const double log_mul = key_number(f, p + "rope.scaling.yarn_log_multiplier", 0.0);
        double attention_factor = log_mul != 0.0 ? mscale(1.0) / mscale(log_mul) : mscale(1.0);
        attention_factor = key_number(f, p + "rope.scaling.yarn_attn_factor", attention_factor);
        r.mscale *= attention_factor;
    }
    return true;
}

void ReferenceRope::apply(double* v, long pos) const {
    const int half = n_rot / 2;
    for (int i = 0; i < half; ++i) {
        const double th = static_cast<double>(pos) * inv_freq[static_cast<size_t>(i)];
        const double c = std::cos(th) * mscale, s = std::sin(th) * mscale;
        const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        const double x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
    }
}

}  // namespace strata::test
