// strata-cli info MODEL.gguf [--all] — what a GGUF model is: architecture, sizes, tokenizer,
// quantization and tensor types; --all adds every metadata key and every tensor. Any part of a
// split set describes the whole set: its first part's path, the total size and each part.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "gguf/gguf_file.h"
#include "strata/model_info.h"

namespace strata::cli {

namespace {

void row(const char* label, const std::string& value) { std::printf("%-16s %s\n", label, value.c_str()); }

std::string shape_text(const std::vector<int64_t>& ne) {
    std::string s = "[";
    for (size_t d = 0; d < ne.size(); ++d) s += (d ? ", " : "") + std::to_string(ne[d]);
    return s + "]";
}

std::string file_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

void print_summary(const ModelInfo& m, const gguf::GgufFile& f) {
    row("file", m.path);
    row("size", format_bytes(m.file_size) + " (" + std::to_string(m.file_size) + " bytes)");
    if (f.is_split()) {
        row("parts", std::to_string(f.parts().size()) + " (a split set)");
        for (const gguf::GgufPart& p : f.parts()) {
            row("", file_name(p.path) + "  " + format_bytes(p.file_size) + ", " + std::to_string(p.n_tensors) +
                        " tensors");
        }
    }
    row("GGUF version", std::to_string(m.gguf_version));
    row("name", m.name);
    row("architecture", m.architecture + (m.architecture_supported ? "" : " (not supported yet)"));
    if (!m.support.ok()) row("can run", "no: " + m.support.message);
    for (const std::string& note : m.notes) row("note", note);
    row("parameters", format_param_count(m.n_params) + " (" + std::to_string(m.n_params) + ")");
    row("context length", std::to_string(m.context_length));
    row("layers", std::to_string(m.n_layer) +
                      (m.n_layer_nextn > 0 ? " (" + std::to_string(m.n_layer_nextn) +
                                                 " of them NextN / multi-token prediction at the end, not run)"
                                           : std::string()));
    row("embedding", std::to_string(m.n_embd));
    row("FFN", std::to_string(m.n_ff));
    if (m.n_expert > 1)
        row("experts", std::to_string(m.n_expert) + " per layer, " + std::to_string(m.n_expert_used) + " per token" +
                           (m.n_ff_exp > 0 ? ", FFN " + std::to_string(m.n_ff_exp) + " each" : std::string()) +
                           (m.n_expert_shared > 0 ? ", " + std::to_string(m.n_expert_shared) + " shared" : std::string()) +
                           (m.n_layer_dense_lead > 0 ? "; leading dense layers: " + std::to_string(m.n_layer_dense_lead)
                                                     : std::string()));
    row("heads", std::to_string(m.n_head) + " (kv heads " + std::to_string(m.n_head_kv) + ")");
    char base[32];
    std::snprintf(base, sizeof base, "%g", static_cast<double>(m.rope_freq_base));
    row("rope", std::to_string(m.n_rot) + " dims, base " + base);
    row("vocab", std::to_string(m.n_vocab) + " (tokenizer " +
                     (m.tokenizer_model.empty() ? std::string("unknown") : m.tokenizer_model) + ")");
    row("chat template", m.has_chat_template ? "yes (" + std::to_string(m.chat_template.size()) + " bytes)" : "none");
    row("quantization", m.quantization.empty() ? "unknown" : m.quantization);
    row("weights", format_bytes(m.weight_bytes));
    std::printf("\n%-10s %8s %12s\n", "type", "tensors", "bytes");
    for (const TensorTypeTotal& t : m.type_totals) {
        std::printf("%-10s %8llu %12s\n", tensor_type_name(t.type), static_cast<unsigned long long>(t.n_tensors),
                    format_bytes(t.n_bytes).c_str());
    }
}

void print_all(const gguf::GgufFile& f) {
    std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
    for (const gguf::KeyValue& kv : f.metadata()) {
        std::printf("  %-44s %s\n", kv.key.c_str(), kv.value.to_display_string().c_str());
    }
    if (f.is_split()) {
        // Each part has its own data section; the part column says where a tensor lives.
        std::printf("\ntensors (%zu in %zu parts, alignment %llu):\n", f.tensors().size(), f.parts().size(),
                    static_cast<unsigned long long>(f.alignment()));
    } else {
        std::printf("\ntensors (%zu, data at offset %llu, alignment %llu):\n", f.tensors().size(),
                    static_cast<unsigned long long>(f.data_offset()), static_cast<unsigned long long>(f.alignment()));
    }
    for (const gguf::TensorInfo& t : f.tensors()) {
        std::printf("  %-36s %-8s %-24s %12s", t.name.c_str(), tensor_type_name(t.type), shape_text(t.ne).c_str(),
                    format_bytes(t.n_bytes).c_str());
        if (f.is_split()) std::printf("  part %u", t.part + 1);
        std::printf("\n");
    }
}

}  // namespace

int cmd_info(Args& args) {
    const bool all = args.flag({"--all", "-a"});
    const bool help = args.flag({"--help", "-h"});
    std::vector<std::string> pos;
    std::string err;
    if (help || !args.finish(pos, err) || pos.size() != 1) {
        if (!err.empty()) std::fprintf(stderr, "error: %s\n", err.c_str());
        std::fprintf(stderr,
                     "usage: strata-cli info MODEL.gguf [--all]\n"
                     "  --all, -a   also list every metadata key and every tensor\n"
                     "Any part of a split set (NAME-00002-of-00003.gguf) describes the whole set.\n");
        return help ? 0 : 2;
    }
    auto info = inspect_model(pos[0]);
    if (!info.ok()) {
        std::fprintf(stderr, "error: %s\n", info.status().message().c_str());
        return 1;
    }
    auto file = gguf::GgufFile::open(pos[0]);  // the parts and, with --all, every key and tensor
    if (!file.ok()) {
        std::fprintf(stderr, "error: %s\n", file.status().message().c_str());
        return 1;
    }
    print_summary(*info, **file);
    if (all) print_all(**file);
    return 0;
}

}  // namespace strata::cli
