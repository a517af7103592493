// Rotary embedding for the double-precision reference, derived from a GGUF file's own keys and
// factor tensors the way each model's published code computes it (Hugging Face's Llama 3,
// YaRN and LongRoPE formulations), not through the engine's RopeParams mapping, so a wrong
// mapping shows up as a difference.
#pragma once

#include <string>
#include <vector>

namespace strata::gguf { class GgufFile; }

namespace strata::test {

struct ReferenceRope {
    int n_rot = 0;                 // rotated dims per head
    bool neox = false;             // pairs (i, i + n_rot/2) instead of (2i, 2i+1)
    std::vector<double> inv_freq;  // (n_rot/2) angle per position of each pair
    double mscale = 1.0;           // cos and sin are scaled by this

    // Reads `<arch>.rope.*` and rope_freqs / rope_factors_{short,long}; n_ctx picks LongRoPE's set
    // (long past the original context). False with `error` set on a file it cannot read.
    static bool load(const gguf::GgufFile& file, long n_ctx, ReferenceRope& out, std::string& error);

    // Rotates one head (head_dim values) for position `pos`.
    void apply(double* head, long pos) const;
};

}  // namespace strata::test
