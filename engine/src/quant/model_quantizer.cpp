#include "quant/model_quantizer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "gguf/gguf_writer.h"
#include "quant/quant.h"
#include "util/thread_pool.h"

namespace strata::quant {

namespace {

using Clock = std::chrono::steady_clock;

bool is_block_type(TensorType t) { return tensor_type_traits(t).block_size > 1; }

// The block count from "<arch>.block_count", else one more than the largest "blk.N." index.
int64_t model_layer_count(const gguf::GgufFile& in) {
    auto arch = in.get_string("general.architecture");
    if (arch.ok() && arch->has_value()) {
        auto n = in.get_int(**arch + ".block_count");
        if (n.ok() && n->has_value() && **n > 0) return **n;
    }
    int64_t n_layer = 0;
    for (const auto& t : in.tensors()) n_layer = std::max(n_layer, tensor_layer_index(t.name) + 1);
    return n_layer;
}

// n_head / n_head_kv when both are plain integers (some models store per-layer arrays), else 1.
int64_t model_gqa(const gguf::GgufFile& in) {
    auto arch = in.get_string("general.architecture");
    if (!arch.ok() || !arch->has_value()) return 1;
    auto n_head = in.get_int(**arch + ".attention.head_count");
    auto n_head_kv = in.get_int(**arch + ".attention.head_count_kv");
    if (!n_head.ok() || !n_head->has_value() || !n_head_kv.ok() || !n_head_kv->has_value()) return 1;
    if (**n_head <= 0 || **n_head_kv <= 0) return 1;
    return **n_head / **n_head_kv;
}

// Converts rows [r0, r1) of `t` from its source type to plan type `to`; `scratch` holds one row.
void convert_rows(const gguf::TensorInfo& t, TensorType to, int64_t r0, int64_t r1, float* scratch, uint8_t* dst) {
    const int64_t n_cols = t.ne[0];
    const size_t in_row = tensor_row_bytes(t.type, n_cols), out_row = tensor_row_bytes(to, n_cols);
    for (int64_t r = r0; r < r1; ++r) {
        dequantize_row_ref(t.type, t.data + static_cast<size_t>(r) * in_row, scratch, n_cols);
        quantize_row_ref(to, scratch, dst + static_cast<size_t>(r) * out_row, n_cols);
    }
}

}  // namespace

std::vector<const PlannedTensor*> QuantizePlan::fallbacks() const {
    std::vector<const PlannedTensor*> out;
    for (const auto& t : tensors) {
        if (t.choice.fell_back()) out.push_back(&t);
    }
    return out;
}

Result<QuantizePlan> plan_quantization(const gguf::GgufFile& in, const QuantMix& mix) {
    QuantizePlan plan;
    plan.mix = mix;
    plan.n_layer = model_layer_count(in);
    const int64_t n_gqa = model_gqa(in);
    const bool has_output = in.find_tensor("output.weight") != nullptr;
    for (const gguf::TensorInfo& t : in.tensors()) {
        PlannedTensor p;
        p.name = t.name;
        p.ne = t.ne;
        p.from = t.type;
        TensorSite site;
        site.name = t.name;
        site.n_dims = static_cast<int>(t.ne.size());
        site.row_length = t.ne[0];
        site.n_layer = plan.n_layer;
        site.n_gqa = n_gqa;
        site.has_output = has_output;
        p.choice = choose_tensor_type(mix, site);
        // A non-matrix tensor of a type we cannot convert (an I32 table, say) is kept as it is.
        if (!is_matrix_weight(site) && !can_dequantize(t.type)) p.choice = TypeChoice{t.type, t.type};
        // MXFP4 tensors (gpt-oss's experts, as OpenAI trained them) are copied whatever the mix:
        // they are already 4.25 bits per weight, and any conversion would round them again.
        if (t.type == TensorType::MXFP4) p.choice = TypeChoice{t.type, t.type};
        p.bytes_in = t.n_bytes;
        p.bytes_out = tensor_row_bytes(p.choice.type, t.ne[0]) * static_cast<uint64_t>(t.n_rows());
        if (p.choice.type != t.type) {
            if (!can_dequantize(t.type)) {
                return make_error(ErrorCode::unsupported,
                                  in.path() + ": tensor '" + t.name + "' has type " + tensor_type_traits(t.type).name +
                                      ", which Strata cannot dequantize (needed to convert it to " +
                                      tensor_type_name(p.choice.type) + ")");
            }
            if (is_block_type(t.type) &&
                std::find(plan.quantized_sources.begin(), plan.quantized_sources.end(), t.type) ==
                    plan.quantized_sources.end())
                plan.quantized_sources.push_back(t.type);
        }
        plan.tensors.push_back(std::move(p));
    }
    return plan;
}

bool same_file(const std::string& a, const std::string& b) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::equivalent(a, b, ec)) return true;  // false with ec set when either is absent
    const fs::path ca = fs::weakly_canonical(a, ec);
    if (ec) return false;
    const fs::path cb = fs::weakly_canonical(b, ec);
    return !ec && ca == cb;
}

Result<QuantizeReport> write_quantized(const gguf::GgufFile& in, const QuantizePlan& plan,
                                       const std::string& out_path, const QuantizeOptions& options) {
    if (same_file(in.path(), out_path)) {
        return make_error(ErrorCode::invalid_argument,
                          out_path + ": the output is the input file; write to a new file");
    }
    if (same_file(in.path(), out_path + ".partial")) {
        return make_error(ErrorCode::invalid_argument,
                          in.path() + ": the input is the output's temporary file " + out_path + ".partial");
    }
    if (plan.tensors.size() != in.tensors().size()) {
        return make_error(ErrorCode::internal, in.path() + ": the quantization plan is for another file");
    }
    const int n_threads = options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads();
    auto pool = std::make_unique<ThreadPool>(n_threads);
    QuantizeReport report;
    report.file_bytes_in = in.file_size();

    gguf::GgufWriter w(in.alignment());
    w.copy_metadata_from(in);
    w.set_u32("general.file_type", plan.mix.file_type);
    w.set_u32("general.quantization_version", 2);
    const size_t n_tensors = plan.tensors.size();
    for (size_t k = 0; k < n_tensors; ++k) {
        const gguf::TensorInfo& src = in.tensors()[k];
        const PlannedTensor& p = plan.tensors[k];
        if (p.name != src.name) return make_error(ErrorCode::internal, in.path() + ": plan and file disagree at " + p.name);
        report.tensor_bytes_in += src.n_bytes;
        report.tensor_bytes_out += p.bytes_out;
        report.n_elements += src.n_elements();
        const TensorType to = p.choice.type;
        Status st = w.add_tensor(p.name, to, p.ne, [&, k, to](uint8_t* dst, size_t n_bytes) -> Status {
            if (n_bytes != p.bytes_out) return make_error(ErrorCode::internal, "size mismatch writing " + p.name);
            const auto t0 = Clock::now();
            if (to == src.type) {
                std::memcpy(dst, src.data, n_bytes);
            } else {
                const int64_t n_rows = src.n_rows(), n_cols = src.ne[0];
                // About 64 tasks per thread for balance, each at least one row.
                const int64_t n_tasks = std::min<int64_t>(n_rows, int64_t{64} * pool->n_threads());
                std::vector<std::vector<float>> scratch(static_cast<size_t>(pool->n_threads()),
                                                        std::vector<float>(static_cast<size_t>(n_cols)));
                pool->parallel_for(n_tasks, [&](int64_t task, int thread) {
                    const int64_t r0 = n_rows * task / n_tasks, r1 = n_rows * (task + 1) / n_tasks;
                    convert_rows(src, to, r0, r1, scratch[static_cast<size_t>(thread)].data(), dst);
                });
            }
            if (options.on_tensor) {
                TensorProgress pr;
                pr.index = k;
                pr.n_tensors = n_tensors;
                pr.tensor = &p;
                pr.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
                options.on_tensor(pr);
            }
            return Status::success();
        });
        STRATA_RETURN_IF_ERROR(st);
    }
    const auto t0 = Clock::now();
    STRATA_RETURN_IF_ERROR(w.write(out_path));
    report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::error_code ec;
    report.file_bytes_out = std::filesystem::file_size(out_path, ec);
    return report;
}

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path, const QuantMix& mix,
                                      const QuantizeOptions& options) {
    if (same_file(in_path, out_path)) {
        return make_error(ErrorCode::invalid_argument, out_path + ": the output is the input file; write to a new file");
    }
    auto in = gguf::GgufFile::open(in_path);
    if (!in.ok()) return in.status();
    auto plan = plan_quantization(**in, mix);
    if (!plan.ok()) return plan.status();
    return write_quantized(**in, *plan, out_path, options);
}

}  // namespace strata::quant
