#include "model/rope_config.h"

#include <algorithm>
#include <cmath>

#include "gguf/gguf_file.h"

namespace strata {

const char* rope_scaling_name(RopeScaling s) {
    switch (s) {
        case RopeScaling::none: return "none";
        case RopeScaling::linear: return "linear";
        case RopeScaling::yarn: return "yarn";
        case RopeScaling::longrope: return "longrope";
    }
    return "?";
}

void yarn_correction_range(int n_rot, int64_t n_ctx_orig, float freq_base, float beta_fast, float beta_slow,
                           float& low, float& high, bool truncate) {
    // The pair index whose wavelength turns `n_turns` times over the original context:
    // solve n_ctx_orig / (2π · base^(2i/n_rot)) = n_turns for i.
    auto dim_for = [&](double n_turns) {
        return n_rot * std::log(static_cast<double>(n_ctx_orig) / (n_turns * 2.0 * M_PI)) /
               (2.0 * std::log(static_cast<double>(freq_base)));
    };
    const double lo = dim_for(beta_fast), hi = dim_for(beta_slow);
    low = static_cast<float>(std::max(0.0, truncate ? std::floor(lo) : lo));
    high = static_cast<float>(std::min(static_cast<double>(n_rot - 1), truncate ? std::ceil(hi) : hi));
}

Result<RopeConfig> read_rope_config(const gguf::GgufFile& f, const std::string& arch, int n_rot,
                                    int64_t n_ctx_train, RopeStyle style) {
    const std::string p = arch + ".rope.";
    auto number = [&](const std::string& key, double fallback) -> Result<double> {
        auto v = f.get_float(p + key);
        if (!v.ok()) return v.status();
        return v->value_or(fallback);
    };
    auto bad = [&](const std::string& key, const std::string& why) {
        return Status(ErrorCode::corrupt, f.path() + ": key '" + p + key + "' " + why);
    };

    RopeConfig rc;
    rc.params.n_rot = n_rot;
    rc.params.style = style;
    STRATA_ASSIGN_OR_RETURN(const double base, number("freq_base", 10000.0));
    if (!(base > 1.0) || !std::isfinite(base)) return bad("freq_base", "must be above 1, is " + std::to_string(base));
    rc.params.freq_base = static_cast<float>(base);

    STRATA_ASSIGN_OR_RETURN(const double factor, number("scaling.factor", 0.0));
    auto type = f.get_string(p + "scaling.type");
    if (!type.ok()) return type.status();
    const std::string type_name = type->value_or(factor > 0.0 ? "linear" : "none");
    if (type_name == "none") rc.scaling = RopeScaling::none;
    else if (type_name == "linear") rc.scaling = RopeScaling::linear;
    else if (type_name == "yarn") rc.scaling = RopeScaling::yarn;
    else if (type_name == "longrope") rc.scaling = RopeScaling::longrope;
    else return bad("scaling.type", "names '" + type_name + "', which Strata does not know (none, linear, yarn, longrope)");
    if (factor != 0.0 && (!(factor >= 1.0) || !std::isfinite(factor) || factor > 1024.0))
        return bad("scaling.factor", "must be between 1 and 1024, is " + std::to_string(factor));
    rc.factor = factor > 0.0 ? static_cast<float>(factor) : 1.0f;

    int64_t n_ctx_orig = n_ctx_train;
    auto orig = f.get_int(p + "scaling.original_context_length");
    if (!orig.ok()) return orig.status();
    if (orig->has_value()) {
        if (**orig <= 0) return bad("scaling.original_context_length", "must be positive");
        n_ctx_orig = **orig;
    }
    rc.n_ctx_orig = n_ctx_orig;

    // rope.scaling.attn_factor multiplies cos and sin (LongRoPE writes its attention factor here).
    STRATA_ASSIGN_OR_RETURN(const double attn_factor, number("scaling.attn_factor", 1.0));
    if (!(attn_factor > 0.0) || !(attn_factor < 100.0)) return bad("scaling.attn_factor", "is out of range");
    rc.params.mscale = static_cast<float>(attn_factor);

    switch (rc.scaling) {
        case RopeScaling::none:
        case RopeScaling::longrope:  // factors come from tensors; positions are not scaled
            break;
        case RopeScaling::linear:
            rc.params.freq_scale = 1.0f / rc.factor;
            break;
        case RopeScaling::yarn: {
            rc.params.freq_scale = 1.0f / rc.factor;
            STRATA_ASSIGN_OR_RETURN(const double ext, number("scaling.yarn_ext_factor", 1.0));
            STRATA_ASSIGN_OR_RETURN(const double beta_fast, number("scaling.yarn_beta_fast", 32.0));
            STRATA_ASSIGN_OR_RETURN(const double beta_slow, number("scaling.yarn_beta_slow", 1.0));
            STRATA_ASSIGN_OR_RETURN(const double log_mul, number("scaling.yarn_log_multiplier", 0.0));
            auto explicit_attn = f.get_float(p + "scaling.yarn_attn_factor");
            if (!explicit_attn.ok()) return explicit_attn.status();
            if (!(ext >= 0.0 && ext <= 1.0)) return bad("scaling.yarn_ext_factor", "must be between 0 and 1");
            if (!(beta_fast > 0.0 && beta_slow > 0.0)) return bad("scaling.yarn_beta_fast", "and yarn_beta_slow must be positive");
            if (!(log_mul >= 0.0 && log_mul < 100.0)) return bad("scaling.yarn_log_multiplier", "is out of range");
            rc.params.ext_factor = static_cast<float>(ext);
            yarn_correction_range(n_rot, n_ctx_orig, rc.params.freq_base, static_cast<float>(beta_fast),
                                  static_cast<float>(beta_slow), rc.params.corr_low, rc.params.corr_high,
                                  /*truncate=*/arch != "gpt-oss");
            // The magnitude of cos and sin, as the model's own code sets its attention factor:
            // the file's yarn_attn_factor when given; else mscale(f, 1) / mscale(f, log_mul) with
            // mscale(f, m) = 1 + 0.1·m·ln f (DeepSeek-style files, Ministral 3: log_mul 1 makes
            // it 1); else YaRN's 1 + 0.1·ln f.
            const double lf = std::log(static_cast<double>(rc.factor));
            double m = 1.0 + 0.1 * lf;
            if (explicit_attn->has_value()) {
                if (!(**explicit_attn > 0.0 && **explicit_attn < 100.0)) return bad("scaling.yarn_attn_factor", "is out of range");
                m = **explicit_attn;
            } else if (log_mul != 0.0) {
                m = (1.0 + 0.1 * lf) / (1.0 + 0.1 * log_mul * lf);
            }
            m *= attn_factor;
            rc.params.mscale = static_cast<float>(m);
            break;
        }
    }
    return rc;
}

}  // namespace strata
