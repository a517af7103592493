// The hyperparameters the Gemma, Mistral 3 and gpt-oss families add to the Llama block. Keys,
// defaults and the Gemma 27B query scale are those of the models' reference code and current
// GGUF converters (the converters leave most of them out and rely on these defaults).
#include <cmath>

#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "plan/sliding_window.h"

namespace strata {

namespace {

class ArchKeys {
public:
    ArchKeys(const gguf::GgufFile& f, const std::string& arch) : f_(f), p_(arch + ".") {}

    Result<double> number(const std::string& key, double fallback) const {
        auto v = f_.get_float(p_ + key);
        if (!v.ok()) return v.status();
        return v->value_or(fallback);
    }
    Status bad(const std::string& key, const std::string& why) const {
        return Status(ErrorCode::corrupt, f_.path() + ": key '" + p_ + key + "' " + why);
    }

private:
    const gguf::GgufFile& f_;
    std::string p_;
};

// A soft cap, a window or a pattern must be a sane positive number (a hostile file could make
// every score NaN or every layer slide over nothing).
Status check_range(const ArchKeys& k, const std::string& key, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) return k.bad(key, "is " + std::to_string(v) + ", outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return {};
}

Status read_gemma(const ArchKeys& k, HParams& hp) {
    const bool gemma2 = hp.arch == "gemma2";
    hp.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
    hp.post_norms = true;
    hp.gelu_ffn = true;
    // Gemma 2 caps attention scores at 50 and logits at 30 unless the file says otherwise;
    // Gemma 3 caps neither by default.
    STRATA_ASSIGN_OR_RETURN(const double attn_cap, k.number("attn_logit_softcapping", gemma2 ? 50.0 : 0.0));
    STRATA_ASSIGN_OR_RETURN(const double final_cap, k.number("final_logit_softcapping", gemma2 ? 30.0 : 0.0));
    STRATA_RETURN_IF_ERROR(check_range(k, "attn_logit_softcapping", attn_cap, 0.0, 1e4));
    STRATA_RETURN_IF_ERROR(check_range(k, "final_logit_softcapping", final_cap, 0.0, 1e4));
    hp.attn_softcap = gemma2 ? static_cast<float>(attn_cap) : 0.0f;
    hp.final_softcap = static_cast<float>(final_cap);

    // Gemma 3's sliding layers rotate with their own base (10000 unless the file says) and
    // without the global layers' scaling.
    if (!gemma2) {
        STRATA_ASSIGN_OR_RETURN(const double base_swa, k.number("rope.freq_base_swa", 10000.0));
        STRATA_RETURN_IF_ERROR(check_range(k, "rope.freq_base_swa", base_swa, 1.0 + 1e-6, 1e12));
        hp.rope_swa = hp.rope;
        hp.rope_swa.freq_base = static_cast<float>(base_swa);
        hp.rope_swa.freq_scale = 1.0f;
        hp.rope_swa.ext_factor = 0.0f;
        hp.rope_swa.mscale = 1.0f;
    }
    // Queries are scaled by 1/sqrt(key_length), except the 27B models (46 and 62 layers), whose
    // reference code scales by 1/sqrt(n_embd / n_head).
    if ((gemma2 && hp.n_layer == 46) || (!gemma2 && hp.n_layer == 62))
        hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.n_embd) / static_cast<float>(hp.n_head));
    return {};
}

}  // namespace

Status read_arch_features(const gguf::GgufFile& f, HParams& hp) {
    const ArchKeys k(f, hp.arch);
    // Sliding windows (Gemma, Phi-3): plan/sliding_window.cpp, shared with the planner's
    // footprint, so the runtime's rings and its masks follow one rule.
    STRATA_ASSIGN_OR_RETURN(hp.swa, read_sliding_window(
                                        hp.arch, [&](const std::string& key) { return f.get_int(key); }, f.path()));
    if (hp.arch == "gemma2" || hp.arch == "gemma3") return read_gemma(k, hp);
    if (hp.arch == "gpt-oss") {
        // gpt-oss has no keys for these: they are what its tensors (attn_sinks, attn_output.bias,
        // ffn_gate_inp.bias, ffn_*_exps.bias) and its reference code's activation mean. Its
        // windows (every even layer, 128 positions) come from read_sliding_window; its queries are
        // scaled by 1/sqrt(head_dim) like the others' (attention.key_length is 64, not
        // n_embd / n_head).
        hp.attn_sinks = true;
        hp.attn_out_bias = true;
        hp.expert_bias = true;
        hp.swiglu_oai = true;
    }
    if (hp.arch == "mistral3") {
        // Ministral 3's attention temperature: q scaled by 1 + β·ln(1 + floor(pos / n_ctx_orig)).
        STRATA_ASSIGN_OR_RETURN(const double beta, k.number("attention.temperature_scale", 0.0));
        STRATA_RETURN_IF_ERROR(check_range(k, "attention.temperature_scale", beta, 0.0, 100.0));
        hp.attn_temp_scale = static_cast<float>(beta);
    }
    return {};
}

}  // namespace strata
