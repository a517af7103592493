// ModelInfo: what a GGUF model file is, read from its header without loading weights.
// Used by `strata-cli info`, the app's model library (validation on drop) and the planner.
// ModelInspection adds what the planner needs, from the same single read of the header.
// Plain value types; inspect_model() and inspect_model_file() are safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/format.h"  // format_bytes / format_param_count, for the callers that show a ModelInfo
#include "strata/plan.h"
#include "strata/status.h"
#include "strata/tensor_type.h"

namespace strata {

struct TensorTypeTotal {
    TensorType type = TensorType::F32;
    uint64_t n_tensors = 0;
    uint64_t n_bytes = 0;
};

// Why Strata cannot run a model, decided from the header when the file is opened (so a library
// refuses it on drop, not minutes into a load). Callers switch on `reason`; `message` says it
// for people and names what is missing.
enum class Unsupported {
    none,
    architecture,        // general.architecture is not one Strata computes (detail: its name)
    mixture_of_experts,  // expert tensors / expert_count (detail: "8 experts, 2 per token")
    tokenizer,           // tokenizer.ggml.model is neither SentencePiece nor BPE (detail: its name)
    pre_tokenizer,       // a BPE pre-tokenizer Strata does not implement (detail: its name)
};

struct SupportVerdict {
    Unsupported reason = Unsupported::none;
    std::string detail;
    std::string message;  // "Gemma 3n (gemma3n) is not supported yet; Strata runs ..."
    bool ok() const { return reason == Unsupported::none; }
};

struct ModelInfo {
    std::string path;        // for a split set, its first part's (whichever part was inspected)
    uint64_t file_size = 0;  // for a split set, all parts together
    uint32_t gguf_version = 0;

    std::string name;           // general.name, or the file's base name when that is absent or
                                // only the architecture's name
    std::string architecture;   // general.architecture: "llama", "qwen2", ...
    bool architecture_supported = false;  // Strata computes this architecture
    SupportVerdict support;     // whether Strata can run the file as a whole, and if not why
    uint64_t n_params = 0;      // sum of all tensors' element counts

    uint32_t context_length = 0;   // trained context (<arch>.context_length)
    uint32_t n_layer = 0;          // block_count: the file's blocks, NextN ones included
    uint32_t n_layer_nextn = 0;    // GLM-4.5: NextN (multi-token prediction) blocks, not run
    uint32_t n_embd = 0;
    uint32_t n_ff = 0;
    uint32_t n_expert = 0;        // mixture of experts: experts per layer (0 = dense)
    uint32_t n_expert_used = 0;   // experts a token runs through
    uint32_t n_ff_exp = 0;        // rows of each expert's FFN
    uint32_t n_expert_shared = 0; // GLM-4.5: shared experts every token runs
    uint32_t n_layer_dense_lead = 0;  // GLM-4.5: leading layers with a dense FFN
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;         // attention.key_length, else n_embd / n_head
    uint32_t n_rot = 0;            // rope dimension count (defaults to head dim)
    float rope_freq_base = 10000.0f;
    float rms_norm_eps = 1e-5f;

    uint32_t n_vocab = 0;
    std::string tokenizer_model;   // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (BPE)
    bool has_chat_template = false;
    std::string chat_template;

    std::string quantization;      // "Q4_K_M" from general.file_type, else the dominant type
    std::vector<TensorTypeTotal> type_totals;  // by bytes, largest first
    uint64_t weight_bytes = 0;     // sum of all tensor bytes
    // What Strata leaves out of the file, said for people: "its vision tower (439 tensors,
    // 812 MiB) is not used: Strata runs the text model".
    std::vector<std::string> notes;
};

// Opens and validates the file's header and tensor directory (not the weights' values); any
// part of a split set describes the whole set.
// Errors name the file and what is wrong (not GGUF, truncated, unknown tensor type, ...); the
// faults a library explains to people are also Status::fault() (strata/status.h FileFault).
Result<ModelInfo> inspect_model(const std::string& path);

// Everything Strata reads from a model file's header, read once: what the file is and what the
// planner needs to place it (the app's library reads each dropped file once with this, for its
// columns, its refusal and its Fit column alike).
struct ModelInspection {
    ModelInfo info;
    // The footprint, or why it cannot be computed. It is computed for every file whose info
    // could be read, supported or not, and is never the reason the inspection fails: a file
    // whose architecture Strata does not run (info.support says why) may have no footprint,
    // and a caller that refuses such files checks info.support first and needs no footprint.
    // A default-constructed inspection holds ErrorCode::not_found here ("not read").
    Result<ModelFootprint> footprint{Status(ErrorCode::not_found, "the footprint was not read")};
};

// inspect_model() and read_model_footprint() (strata/engine.h) of one opening of the file.
// Fails as inspect_model() does; a footprint error is carried in the result, not returned.
Result<ModelInspection> inspect_model_file(const std::string& path);

// The path a model is known by: a split set's first part when `path` is named like any part
// of one ("<prefix>-00002-of-00003.gguf"), else `path` itself. By name only.
std::string model_set_path(const std::string& path);

}  // namespace strata
