#include "runtime/sequence_impl.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "runtime/json_prefix.h"
#include "runtime/loaded_model.h"
#include "runtime/sampler.h"
#include "tokenizer/vocab.h"

namespace strata {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Holds back the tail of generated text that might be the start of a stop string.
class StopMatcher {
public:
    explicit StopMatcher(const std::vector<std::string>& stops) : stops_(stops) {}

    // Adds text; returns what can be emitted now. Sets `stopped` when a stop string completed
    // (the stop string and anything after it are not emitted).
    std::string push(std::string_view text, bool& stopped) {
        pending_ += text;
        for (const auto& s : stops_) {
            if (s.empty()) continue;
            const size_t at = pending_.find(s);
            if (at != std::string::npos) {
                stopped = true;
                std::string out = pending_.substr(0, at);
                pending_.clear();
                return out;
            }
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        size_t keep = 0;
        for (const auto& s : stops_) {
            for (size_t len = std::min(s.size() - (s.empty() ? 0 : 1), pending_.size()); len > keep; --len) {
                if (pending_.compare(pending_.size() - len, len, s, 0, len) == 0) {
                    keep = len;
                    break;
                }
            }
        }
        std::string out = pending_.substr(0, pending_.size() - keep);
        pending_.erase(0, pending_.size() - keep);
        return out;
    }
    std::string flush() { return std::exchange(pending_, {}); }

private:
    const std::vector<std::string>& stops_;
    std::string pending_;
};
}  // namespace

SequenceImpl::SequenceImpl(LoadedModel& model, int slot) : model_(model), slot_(slot), epoch_(model.epoch()) {}

SequenceImpl::~SequenceImpl() { model_.release_slot(slot_); }

void SequenceImpl::check_epoch() {
    if (epoch_ != model_.epoch()) {  // the pipeline was rebuilt: our KV cache is gone
        epoch_ = model_.epoch();
        n_cached_ = 0;
        n_written_ = 0;
    }
}

void SequenceImpl::truncate(size_t n) {
    if (n < tokens_.size()) tokens_.resize(n);
    n_cached_ = std::min(n_cached_, tokens_.size());
    settle_cache();
}

void SequenceImpl::settle_cache() {
    // A sliding window's ring has overwritten the rows just below a deep cut: start again.
    if (!model_.kv_keeps_history() && n_cached_ + static_cast<size_t>(model_.n_batch()) < n_written_) n_cached_ = 0;
    if (n_cached_ == 0) n_written_ = 0;
}

Status SequenceImpl::process_pending(std::vector<float>* logits, bool all_rows) {
    check_epoch();
    const int64_t n_vocab = model_.n_vocab();
    for (int32_t id : tokens_) {
        if (id < 0 || id >= n_vocab) {
            return Status(ErrorCode::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                                           std::to_string(n_vocab) + " tokens)");
        }
    }
    if (static_cast<int64_t>(tokens_.size()) > model_.n_ctx()) {
        return Status(ErrorCode::invalid_argument, "the sequence has " + std::to_string(tokens_.size()) +
                                                       " tokens but the context holds " + std::to_string(model_.n_ctx()));
    }
    const size_t first = n_cached_;
    if (logits) logits->resize(static_cast<size_t>(n_vocab) * (all_rows ? tokens_.size() - first : 1));
    while (n_cached_ < tokens_.size()) {
        // The scheduler runs as much of what is asked as its next step has room for; logits come
        // with the last token. all_rows asks in batch-sized pieces (each runs whole).
        int64_t n = static_cast<int64_t>(tokens_.size() - n_cached_);
        if (all_rows) n = std::min<int64_t>(n, model_.n_batch());
        float* out = nullptr;
        if (logits && all_rows) out = logits->data() + (n_cached_ - first) * static_cast<size_t>(n_vocab);
        else if (logits) out = logits->data();
        auto ran = model_.run_tokens(slot_, tokens_.data() + n_cached_, n, static_cast<int64_t>(n_cached_), out, all_rows);
        if (!ran.ok()) return ran.status();
        n_cached_ += static_cast<size_t>(*ran);
        n_written_ = std::max(n_written_, n_cached_);
    }
    return {};
}

Status SequenceImpl::eval(const std::vector<int32_t>& tokens, std::vector<float>* logits) {
    check_epoch();
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    Status st = process_pending(logits);
    if (!st.ok()) truncate(n_cached_);
    return st;
}

Status SequenceImpl::eval_all(const std::vector<int32_t>& tokens, std::vector<float>* logits) {
    check_epoch();
    if (n_cached_ < tokens_.size()) {  // rows for exactly the given tokens: settle earlier ones first
        Status st = process_pending(nullptr);
        if (!st.ok()) {
            truncate(n_cached_);
            return st;
        }
    }
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    Status st = process_pending(logits, /*all_rows=*/true);
    if (!st.ok()) truncate(n_cached_);
    return st;
}

Result<GenerateStats> SequenceImpl::generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                                             const TextCallback& on_text, const std::atomic<bool>* cancel,
                                             const LogitsCallback& on_logits) {
    const auto t_start = Clock::now();
    GenerateStats stats;
    if (prompt.empty()) return Status(ErrorCode::invalid_argument, "the prompt is empty (it needs at least BOS)");
    check_epoch();
    // While generating, the model's scheduler batches this sequence's steps with other
    // sequences' (and waits briefly for its next token).
    struct Generating {
        LoadedModel& model;
        int slot;
        ~Generating() { model.end_generation(slot); }
    } generating{model_, slot_};
    model_.begin_generation(slot_);

    // Reuse the KV cache of the longest common prefix; always re-run at least the last prompt
    // token so its logits exist.
    size_t common = 0;
    while (common < n_cached_ && common < prompt.size() && tokens_[common] == prompt[common]) ++common;
    common = std::min(common, prompt.size() - 1);
    tokens_ = prompt;
    n_cached_ = common;
    settle_cache();
    common = n_cached_;
    stats.n_reused = static_cast<int>(common);
    stats.n_prompt = static_cast<int>(prompt.size() - common);

    std::vector<float> logits;
    Status st = process_pending(&logits);
    stats.prompt_seconds = since(t_start);
    if (!st.ok()) {
        truncate(n_cached_);
        return st;
    }

    const auto& vocab = model_.vocab();
    Sampler sampler(params.sampler);
    StreamingDetokenizer detok(vocab, /*strip_leading_space=*/prompt.back() == vocab->bos(), params.control_token_text);
    StopMatcher stops(params.stop_strings);
    // JSON mode: a token is allowed when its bytes keep the text a prefix of one JSON object;
    // end-of-generation only once the object has closed (generation stops there by itself).
    // JSON mode and structured output: a token is allowed when its bytes keep the text a prefix of
    // a value the schema accepts (any object in JSON mode); end-of-generation only once the value
    // is whole (generation stops there by itself).
    std::optional<JsonSchemaPrefix> json;
    if (params.json_schema) json.emplace(*params.json_schema);
    else if (params.json_object) json.emplace(any_object_schema());
    Sampler::TokenFilter allow;
    if (json) {
        allow = [&](int32_t id) {
            if (vocab->is_eog(id)) return json->complete();
            if (vocab->is_control(id)) return false;
            const std::string bytes = vocab->token_to_bytes(id);
            return !bytes.empty() && json->accepts(bytes);
        };
    }
    const auto t_gen = Clock::now();
    auto emit = [&](const std::string& text) {
        if (!text.empty() && on_text) on_text(text);
    };
    stats.stop = StopReason::max_tokens;
    while (stats.n_generated < params.max_tokens) {
        if (cancel && cancel->load()) {
            stats.stop = StopReason::cancelled;
            break;
        }
        if (static_cast<int64_t>(tokens_.size()) >= model_.n_ctx()) {
            stats.stop = StopReason::context_full;  // no position left for another token
            break;
        }
        if (on_logits) on_logits(logits.data(), static_cast<int64_t>(logits.size()));
        const int32_t next = sampler.sample(logits.data(), static_cast<int64_t>(logits.size()), tokens_, allow);
        if (next < 0) {
            stats.generate_seconds = since(t_gen);
            return Status(ErrorCode::unsupported, "JSON mode: no token of this model's vocabulary continues the JSON");
        }
        ++stats.n_generated;
        if (stats.n_generated == 1) stats.time_to_first_token = since(t_start);
        if (params.stop_at_eos && vocab->is_eog(next)) {
            stats.stop = StopReason::eos;
            break;
        }
        tokens_.push_back(next);
        if (json) json->feed(vocab->token_to_bytes(next));  // allowed, so accepted
        bool stopped = false;
        emit(stops.push(detok.push(next), stopped));
        if (stopped) {
            stats.stop = StopReason::stop_string;
            break;
        }
        if (json && json->complete()) {
            stats.stop = StopReason::eos;  // the object is whole: as if the model had ended it
            break;
        }
        if (stats.n_generated >= params.max_tokens) break;  // the last token is evaluated next turn
        st = process_pending(&logits);
        if (!st.ok()) {
            truncate(n_cached_);
            stats.generate_seconds = since(t_gen);
            return st;
        }
    }
    if (stats.stop != StopReason::stop_string) {
        bool unused = false;
        emit(stops.push(detok.flush(), unused));
        emit(stops.flush());
    }
    stats.generate_seconds = since(t_gen);
    return stats;
}

}  // namespace strata
