// SequenceImpl: a conversation's tokens and KV slot on a LoadedModel; generation loop with
// sampling, stop strings, streaming detokenization and cancellation between tokens.
#pragma once

#include "strata/engine.h"

namespace strata {

class LoadedModel;

class SequenceImpl final : public Sequence {
public:
    SequenceImpl(LoadedModel& model, int slot);
    ~SequenceImpl() override;

    const std::vector<int32_t>& tokens() const override { return tokens_; }
    Result<GenerateStats> generate(const std::vector<int32_t>& prompt, const GenerateParams& params,
                                   const TextCallback& on_text, const std::atomic<bool>* cancel,
                                   const LogitsCallback& on_logits) override;
    Status eval(const std::vector<int32_t>& tokens, std::vector<float>* logits) override;
    Status eval_all(const std::vector<int32_t>& tokens, std::vector<float>* logits) override;
    void truncate(size_t n) override;

private:
    // Computes KV for tokens_[n_cached_ ..] in n_batch chunks; logits of the last into `logits`
    // (of each of them, in order, with all_rows).
    Status process_pending(std::vector<float>* logits, bool all_rows = false);
    void check_epoch();

    LoadedModel& model_;
    int slot_;
    std::vector<int32_t> tokens_;
    // After n_cached_ moved back: keeps it only where the cache still holds what it needs.
    void settle_cache();

    size_t n_cached_ = 0;   // tokens_[0 .. n_cached_) have KV entries in this epoch
    size_t n_written_ = 0;  // highest position + 1 written to the KV cache since it was last empty
    uint64_t epoch_ = 0;
};

}  // namespace strata
