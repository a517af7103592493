// The expert keys of mixture-of-experts files. Defaults are the families' published settings:
// Mixtral, Qwen3-MoE and gpt-oss all weight the chosen experts by their softmax renormalized
// over the chosen ones (Qwen3-MoE's norm_topk_prob is true in every released config); a
// Mixtral or Qwen3-MoE file that says otherwise with expert_weights_norm wins. GLM-4.5 scores
// experts with a sigmoid (expert_gating_func 2, its default when the key is absent), chooses on
// score + exp_probs_b, renormalizes (norm_topk_prob) and scales by routed_scaling_factor
// (expert_weights_scale); its leading_dense_block_count first layers have a dense FFN, its
// expert_shared_count shared experts run for every token, and its nextn_predict_layers last
// blocks are the multi-token-prediction head, which generation does not use.
#include "gguf/gguf_file.h"
#include "model/hparams.h"

namespace strata {

namespace {
constexpr int64_t kMaxExperts = 1024;
// expert_gating_func values as GGUF writers store them.
constexpr int64_t kGatingDefault = 0, kGatingSoftmax = 1, kGatingSigmoid = 2, kGatingSoftmaxWeight = 3;
}  // namespace

Status read_moe_features(const gguf::GgufFile& f, HParams& hp) {
    const std::string p = hp.arch + ".";
    auto bad = [&](const std::string& key, const std::string& why) {
        return Status(ErrorCode::corrupt, f.path() + ": key '" + p + key + "' " + why);
    };
    auto unsupported = [&](const std::string& key, const std::string& why) {
        return Status(ErrorCode::unsupported, f.path() + ": key '" + p + key + "' " + why);
    };
    auto int_key = [&](const std::string& key, int64_t fallback) -> Result<int64_t> {
        auto v = f.get_int(p + key);
        if (!v.ok()) return v.status();
        return v->value_or(fallback);
    };
    const ExpertSupport support = architecture_experts(hp.arch);

    // NextN blocks come after the ones that run and are counted in block_count.
    STRATA_ASSIGN_OR_RETURN(const int64_t n_nextn, int_key("nextn_predict_layers", 0));
    if (n_nextn < 0 || n_nextn >= hp.n_layer)
        return bad("nextn_predict_layers", "is " + std::to_string(n_nextn) + ", but block_count is " +
                                               std::to_string(hp.n_layer) + " (it counts them, and at least one block must run)");
    hp.n_layer_nextn = n_nextn;
    hp.n_layer -= n_nextn;

    STRATA_ASSIGN_OR_RETURN(const int64_t n_expert, int_key("expert_count", 0));
    if (n_expert < 0 || n_expert > kMaxExperts)
        return bad("expert_count", "is " + std::to_string(n_expert) + ", outside 0.." + std::to_string(kMaxExperts));
    if (n_expert <= 1) {  // 0 or 1 expert: a dense model (some converters write 0)
        if (support == ExpertSupport::required)
            return bad("expert_count", "is missing or below 2 in a " + hp.arch + " file");
        return {};
    }
    if (support == ExpertSupport::none)
        return unsupported("expert_count", "is " + std::to_string(n_expert) + ": Strata runs " + hp.arch + " without experts only");
    auto used = f.get_int(p + "expert_used_count");
    if (!used.ok()) return used.status();
    if (!used->has_value()) return bad("expert_used_count", "is missing (the file has " + std::to_string(n_expert) + " experts)");
    const int64_t n_used = **used;
    if (n_used < 1 || n_used > n_expert)
        return bad("expert_used_count", "is " + std::to_string(n_used) + ", outside 1.." + std::to_string(n_expert));
    STRATA_ASSIGN_OR_RETURN(const int64_t n_ff_exp, int_key("expert_feed_forward_length", hp.n_ff));
    if (n_ff_exp < 1 || n_ff_exp > (int64_t{1} << 22))
        return bad("expert_feed_forward_length", "is " + std::to_string(n_ff_exp));
    auto norm = f.get_bool(p + "expert_weights_norm");
    if (!norm.ok()) return norm.status();
    auto scale = f.get_float(p + "expert_weights_scale");
    if (!scale.ok()) return scale.status();
    const double s = scale->value_or(1.0);
    if (!(s > 0.0 && s < 1e6)) return bad("expert_weights_scale", "is " + std::to_string(s));

    // Scores: a softmax, except GLM-4.5's sigmoid. Softmax-weight (top-k logits, then a softmax
    // among them) is the softmax renormalized over the chosen experts.
    const bool glm = hp.arch == "glm4moe";
    STRATA_ASSIGN_OR_RETURN(int64_t gating, int_key("expert_gating_func", kGatingDefault));
    if (gating == kGatingDefault) gating = glm ? kGatingSigmoid : kGatingSoftmax;
    if (gating != kGatingSoftmax && gating != kGatingSigmoid && gating != kGatingSoftmaxWeight)
        return unsupported("expert_gating_func", "is " + std::to_string(gating) +
                                                     "; Strata routes with a softmax (1, 3) or a sigmoid (2)");
    if (gating == kGatingSigmoid && !glm)
        return unsupported("expert_gating_func", "asks for sigmoid routing, which Strata runs for glm4moe only");

    // DeepSeek-V3-style group-limited choice: experts of the best groups only. GLM-4.5 has one
    // group (no limit), which is what Strata runs.
    STRATA_ASSIGN_OR_RETURN(const int64_t n_group, int_key("expert_group_count", 1));
    STRATA_ASSIGN_OR_RETURN(const int64_t n_group_used, int_key("expert_group_used_count", n_group));
    if (n_group > 1 && n_group_used < n_group)
        return unsupported("expert_group_used_count", "is " + std::to_string(n_group_used) + " of " + std::to_string(n_group) +
                                                          " expert groups; Strata does not run group-limited routing");

    STRATA_ASSIGN_OR_RETURN(const int64_t n_shared, int_key("expert_shared_count", 0));
    if (n_shared < 0 || n_shared > 64) return bad("expert_shared_count", "is " + std::to_string(n_shared));
    if (n_shared > 0 && !architecture_runs_shared_experts(hp.arch))
        return unsupported("expert_shared_count", "is " + std::to_string(n_shared) + "; Strata runs shared experts for glm4moe only");
    STRATA_ASSIGN_OR_RETURN(const int64_t n_ff_shexp, int_key("expert_shared_feed_forward_length", n_ff_exp * n_shared));
    if (n_shared > 0 && (n_ff_shexp < 1 || n_ff_shexp > (int64_t{1} << 22)))
        return bad("expert_shared_feed_forward_length", "is " + std::to_string(n_ff_shexp));

    STRATA_ASSIGN_OR_RETURN(const int64_t n_dense, int_key("leading_dense_block_count", 0));
    if (n_dense < 0 || n_dense >= hp.n_layer)
        return bad("leading_dense_block_count", "is " + std::to_string(n_dense) + ", but " + std::to_string(hp.n_layer) +
                                                    " blocks run (a MoE model needs at least one MoE block)");
    if (n_dense > 0 && !glm)
        return unsupported("leading_dense_block_count", "is " + std::to_string(n_dense) +
                                                            "; Strata runs leading dense blocks for glm4moe only");

    hp.n_expert = n_expert;
    hp.n_ff_exp = n_ff_exp;
    hp.moe.n_expert = n_expert;
    hp.moe.n_used = n_used;
    hp.moe.gating = gating == kGatingSigmoid ? MoeGating::sigmoid : MoeGating::softmax;
    // gpt-oss takes the softmax of the chosen experts' logits (llama.cpp's SOFTMAX_WEIGHT gating),
    // which is the full softmax renormalized over them whatever the file says.
    hp.moe.normalize = hp.arch == "gpt-oss" || gating == kGatingSoftmaxWeight || norm->value_or(true);
    hp.moe.scale = static_cast<float>(s);
    hp.n_layer_dense_lead = n_dense;
    hp.n_expert_shared = n_shared;
    hp.n_ff_shexp = n_shared > 0 ? n_ff_shexp : 0;
    hp.expert_selection_bias = glm;
    return {};
}

}  // namespace strata
