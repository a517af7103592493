// strata-cli quantize IN.gguf OUT.gguf TYPE [--threads N]: rewrites a model with the tensor
// types of a quantization mix (quant/quant_mix.h). Progress and warnings go to stderr, the
// summary to stdout. Exit codes: 0 done, 1 error, 2 usage.
#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>

#include "cli_common.h"
#include "gguf/gguf_file.h"
#include "quant/model_quantizer.h"
#include "quant/quant_mix.h"

namespace strata::cli {

namespace {

// llama.cpp's quantize also takes the bare K-quant names for its medium mixes (Q3_K means
// Q3_K_M, Q4_K means Q4_K_M, Q5_K means Q5_K_M); people copy those commands, so accept them.
std::string resolve_mix_alias(std::string_view name) {
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "Q3_K" || upper == "Q4_K" || upper == "Q5_K") return upper + "_M";
    return std::string(name);
}

void print_usage() {
    std::string names;
    for (const auto& m : quant::quant_mixes()) names += std::string(names.empty() ? "" : " ") + m.name;
    std::fprintf(stderr,
                 "usage: strata-cli quantize IN.gguf OUT.gguf TYPE [--threads N]\n\n"
                 "  TYPE            %s\n"
                 "                  (Q3_K, Q4_K and Q5_K mean the _M mixes, as in llama.cpp)\n"
                 "  --threads N     worker threads (default: all cores)\n\n"
                 "Writes OUT.gguf.partial and renames it when complete. Tensors whose row length does not\n"
                 "divide into the type's block fall back to the nearest type that fits; the summary lists them.\n",
                 names.c_str());
}

std::string mib(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

std::string shape(const std::vector<int64_t>& ne) {
    std::string s;
    for (int64_t d : ne) {
        if (!s.empty()) s += 'x';
        s += std::to_string(d);
    }
    return s;
}

}  // namespace

int cmd_quantize(Args& args) {
    if (args.flag({"-h", "--help"})) {
        print_usage();
        return 0;
    }
    long long n_threads = 0;
    if (auto v = args.value({"--threads", "-t"})) {
        if (!Args::to_int(*v, "--threads", n_threads)) return 2;
        if (n_threads < 1 || n_threads > 1024) {
            std::fprintf(stderr, "error: --threads must be between 1 and 1024, got %lld\n", n_threads);
            return 2;
        }
    }
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err)) {
        std::fprintf(stderr, "error: %s\n", err.c_str());
        return 2;
    }
    if (pos.size() != 3) {
        print_usage();
        return 2;
    }
    const std::string &in_path = pos[0], &out_path = pos[1];
    const auto mix = quant::find_quant_mix(resolve_mix_alias(pos[2]));
    if (!mix) {
        std::fprintf(stderr, "error: unknown quantization type '%s' (see strata-cli quantize --help)\n", pos[2].c_str());
        return 2;
    }
    if (quant::same_file(in_path, out_path)) {
        std::fprintf(stderr, "error: %s: the output is the input file; write to a new file\n", out_path.c_str());
        return 2;
    }

    auto in = gguf::GgufFile::open(in_path);
    if (!in.ok()) {
        std::fprintf(stderr, "error: %s\n", in.status().message().c_str());
        return 1;
    }
    // A split set's other parts are inputs too: writing over one would break the set.
    for (const gguf::GgufPart& part : (*in)->parts()) {
        if (quant::same_file(part.path, out_path)) {
            std::fprintf(stderr, "error: %s: the output is a part of the input split set; write to a new file\n",
                         out_path.c_str());
            return 2;
        }
    }
    auto plan = quant::plan_quantization(**in, *mix);
    if (!plan.ok()) {
        std::fprintf(stderr, "error: %s\n", plan.status().message().c_str());
        return 1;
    }
    if (!plan->quantized_sources.empty()) {
        std::string types;
        for (TensorType t : plan->quantized_sources) types += std::string(types.empty() ? "" : ", ") + tensor_type_name(t);
        std::fprintf(stderr,
                     "warning: %s is already quantized (%s): requantizing adds rounding error to rounding error;\n"
                     "         for the best quality quantize from the F16/BF16/F32 original\n",
                     in_path.c_str(), types.c_str());
    }

    quant::QuantizeOptions opts;
    opts.n_threads = static_cast<int>(n_threads);
    const int width = static_cast<int>(std::to_string(plan->tensors.size()).size());
    opts.on_tensor = [&](const quant::TensorProgress& p) {
        const quant::PlannedTensor& t = *p.tensor;
        const double mb_s = p.seconds > 0 ? static_cast<double>(t.bytes_in) / 1e6 / p.seconds : 0.0;
        std::fprintf(stderr, "[%*zu/%zu] %-32s %-12s %5s -> %-5s", width, p.index + 1, p.n_tensors, t.name.c_str(),
                     shape(t.ne).c_str(), tensor_type_name(t.from), tensor_type_name(t.choice.type));
        if (t.from == t.choice.type) {
            std::fprintf(stderr, "  copied\n");
        } else {
            std::fprintf(stderr, "  %8.1f MB/s%s\n", mb_s, t.choice.fell_back() ? "  (fallback)" : "");
        }
    };
    auto report = quant::write_quantized(**in, *plan, out_path, opts);
    if (!report.ok()) {
        std::fprintf(stderr, "error: %s\n", report.status().message().c_str());
        return 1;
    }

    const quant::QuantizeReport& r = *report;
    std::printf("quantized %s -> %s as %s (general.file_type %u) in %.1f s\n", in_path.c_str(), out_path.c_str(),
                mix->name, mix->file_type, r.seconds);
    std::printf("size: %s -> %s (%.1f%%)\n", mib(r.file_bytes_in).c_str(), mib(r.file_bytes_out).c_str(),
                r.file_bytes_in ? 100.0 * static_cast<double>(r.file_bytes_out) / static_cast<double>(r.file_bytes_in)
                                : 0.0);
    std::printf("bits per weight: %.2f -> %.2f\n", r.bits_per_weight_in(), r.bits_per_weight_out());
    const auto fallbacks = plan->fallbacks();
    if (fallbacks.empty()) {
        std::printf("fallbacks: none\n");
    } else {
        std::printf("fallbacks: %zu tensors whose row length does not divide into the wanted type's block:\n",
                    fallbacks.size());
        for (const quant::PlannedTensor* t : fallbacks) {
            std::printf("  %-32s row %-6lld %s -> %s\n", t->name.c_str(), static_cast<long long>(t->ne[0]),
                        tensor_type_name(t->choice.wanted), tensor_type_name(t->choice.type));
        }
    }
    return 0;
}

}  // namespace strata::cli
