// A straightforward double-precision Llama-family forward pass, read top to bottom like
// llama2.c's run.c, used by tests as the truth for the engine's optimised pipeline. It reads
// weights from a GGUF file through the scalar reference dequantizers. Slow; for tiny models.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace strata::test {

class ReferenceLlama {
public:
    // Loads every weight of `path` as doubles; returns nullptr and sets `error` on failure.
    // n_ctx: the context the engine runs at (LongRoPE picks its factors by it).
    static std::unique_ptr<ReferenceLlama> load(const std::string& path, std::string& error, long n_ctx = 0);
    ~ReferenceLlama();

    // Feeds one token at the next position; returns its logits (n_vocab).
    std::vector<double> step(int token);
    void reset();
    int n_vocab() const;
    // The last step's closest expert choice (GLM-4.5's sigmoid routing): over its MoE layers, the
    // smallest gap between the last chosen expert's choice key (score + bias) and the best
    // unchosen one's. Infinity for other models. A quantized engine may choose differently
    // where this is small, and its logits then legitimately jump.
    double last_choice_margin() const;

private:
    ReferenceLlama();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Largest |a - b| over the vector, and the largest |b|.
double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b);
double max_abs(const std::vector<double>& b);
int argmax(const std::vector<double>& v);
int argmax(const std::vector<float>& v);

}  // namespace strata::test
