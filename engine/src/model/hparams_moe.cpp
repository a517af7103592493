// The expert keys of mixture-of-experts files. Defaults are the families' published settings:
// Mixtral, Qwen3-MoE and gpt-oss all weight the chosen experts by their softmax renormalized
// over the chosen ones (Qwen3-MoE's norm_topk_prob is true in every released config); a
// Mixtral or Qwen3-MoE file that says otherwise with expert_weights_norm wins.
#include "gguf/gguf_file.h"
#include "model/hparams.h"

namespace strata {

namespace {
constexpr int64_t kMaxExperts = 1024;
}  // namespace

Status read_moe_features(const gguf::GgufFile& f, HParams& hp) {
    const std::string p = hp.arch + ".";
    auto bad = [&](const std::string& key, const std::string& why) {
        return Status(ErrorCode::corrupt, f.path() + ": key '" + p + key + "' " + why);
    };
    auto count = f.get_int(p + "expert_count");
    if (!count.ok()) return count.status();
    const int64_t n_expert = count->value_or(0);
    if (n_expert < 0 || n_expert > kMaxExperts)
        return bad("expert_count", "is " + std::to_string(n_expert) + ", outside 0.." + std::to_string(kMaxExperts));
    if (n_expert <= 1) {  // 0 or 1 expert: a dense model (some converters write 0)
        if (hp.arch == "qwen3moe" || hp.arch == "gpt-oss")
            return bad("expert_count", "is missing or below 2 in a " + hp.arch + " file");
        return {};
    }
    auto used = f.get_int(p + "expert_used_count");
    if (!used.ok()) return used.status();
    if (!used->has_value()) return bad("expert_used_count", "is missing (the file has " + std::to_string(n_expert) + " experts)");
    const int64_t n_used = **used;
    if (n_used < 1 || n_used > n_expert)
        return bad("expert_used_count", "is " + std::to_string(n_used) + ", outside 1.." + std::to_string(n_expert));
    auto ff = f.get_int(p + "expert_feed_forward_length");
    if (!ff.ok()) return ff.status();
    const int64_t n_ff_exp = ff->value_or(hp.n_ff);
    if (n_ff_exp < 1 || n_ff_exp > (int64_t{1} << 22))
        return bad("expert_feed_forward_length", "is " + std::to_string(n_ff_exp));
    auto norm = f.get_bool(p + "expert_weights_norm");
    if (!norm.ok()) return norm.status();
    auto scale = f.get_float(p + "expert_weights_scale");
    if (!scale.ok()) return scale.status();
    const double s = scale->value_or(1.0);
    if (!(s > 0.0 && s < 1e6)) return bad("expert_weights_scale", "is " + std::to_string(s));

    hp.n_expert = n_expert;
    hp.n_ff_exp = n_ff_exp;
    hp.moe.n_expert = n_expert;
    hp.moe.n_used = n_used;
    // gpt-oss takes the softmax of the chosen experts' logits (llama.cpp's SOFTMAX_WEIGHT gating),
    // which is the full softmax renormalized over them whatever the file says.
    hp.moe.normalize = hp.arch == "gpt-oss" || norm->value_or(true);
    hp.moe.scale = static_cast<float>(s);
    return {};
}

}  // namespace strata
