// inspect_model() / inspect_model_file(): a GGUF file's architecture, sizes, tokenizer, tensor
// types and footprint, read from the header and tensor directory alone (the weights themselves
// are not touched), with one opening of the file.
#include "strata/model_info.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <new>

#include "gguf/file_type.h"
#include "gguf/gguf_file.h"
#include "gguf/split_set.h"
#include "model/hparams.h"
#include "model/model_inspection.h"
#include "model/model_support.h"
#include "plan/model_footprint.h"

namespace strata {

namespace {

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0) name.resize(name.size() - 5);
    return name;
}

// Reads the `<arch>.` hyperparameters. For a supported architecture a missing required key or a
// value of the wrong type is an error naming the key; for others, what cannot be read stays 0.
class HparamReader {
public:
    HparamReader(const gguf::GgufFile& f, const std::string& arch, bool strict)
        : f_(f), arch_(arch), strict_(strict) {}

    Status read_u32(const char* suffix, bool required, uint32_t& out) {
        const std::string key = arch_ + "." + suffix;
        auto r = f_.get_int(key);
        if (!r.ok()) return strict_ ? r.status() : Status::success();
        if (!r->has_value()) {
            if (required && strict_) {
                return make_error(ErrorCode::corrupt, f_.path() + ": missing required key '" + key + "'");
            }
            return Status::success();
        }
        const int64_t v = **r;
        if (v < 0 || v > int64_t(UINT32_MAX)) {
            if (!strict_) return Status::success();
            return make_error(ErrorCode::corrupt,
                              f_.path() + ": key '" + key + "' value " + std::to_string(v) + " is out of range");
        }
        out = static_cast<uint32_t>(v);
        return Status::success();
    }

    Status read_f32(const char* suffix, float& out) {
        const std::string key = arch_ + "." + suffix;
        auto r = f_.get_float(key);
        if (!r.ok()) return strict_ ? r.status() : Status::success();
        if (r->has_value()) out = static_cast<float>(**r);
        return Status::success();
    }

private:
    const gguf::GgufFile& f_;
    const std::string& arch_;
    bool strict_;
};

Status fill_hparams(const gguf::GgufFile& f, ModelInfo& info) {
    HparamReader h(f, info.architecture, info.architecture_supported);
    STRATA_RETURN_IF_ERROR(h.read_u32("context_length", true, info.context_length));
    STRATA_RETURN_IF_ERROR(h.read_u32("embedding_length", true, info.n_embd));
    STRATA_RETURN_IF_ERROR(h.read_u32("block_count", true, info.n_layer));
    STRATA_RETURN_IF_ERROR(h.read_u32("feed_forward_length", true, info.n_ff));
    STRATA_RETURN_IF_ERROR(h.read_u32("expert_count", false, info.n_expert));
    STRATA_RETURN_IF_ERROR(h.read_u32("expert_used_count", false, info.n_expert_used));
    STRATA_RETURN_IF_ERROR(h.read_u32("expert_feed_forward_length", false, info.n_ff_exp));
    STRATA_RETURN_IF_ERROR(h.read_u32("expert_shared_count", false, info.n_expert_shared));
    STRATA_RETURN_IF_ERROR(h.read_u32("leading_dense_block_count", false, info.n_layer_dense_lead));
    STRATA_RETURN_IF_ERROR(h.read_u32("nextn_predict_layers", false, info.n_layer_nextn));
    STRATA_RETURN_IF_ERROR(h.read_u32("attention.head_count", true, info.n_head));
    info.n_head_kv = info.n_head;
    STRATA_RETURN_IF_ERROR(h.read_u32("attention.head_count_kv", false, info.n_head_kv));
    // The head size: attention.key_length where the file gives it (GLM-4.5: 128 with 96 heads of
    // a 4096 embedding, not a divisor of it), else n_embd / n_head.
    if (info.n_head > 0) info.head_dim = info.n_embd / info.n_head;
    STRATA_RETURN_IF_ERROR(h.read_u32("attention.key_length", false, info.head_dim));
    const auto key_length = f.get_int(info.architecture + ".attention.key_length");
    const bool explicit_head = key_length.ok() && key_length->has_value();
    info.n_rot = info.head_dim;
    STRATA_RETURN_IF_ERROR(h.read_u32("rope.dimension_count", false, info.n_rot));
    STRATA_RETURN_IF_ERROR(h.read_f32("rope.freq_base", info.rope_freq_base));
    STRATA_RETURN_IF_ERROR(h.read_f32("attention.layer_norm_rms_epsilon", info.rms_norm_eps));
    if (info.architecture_supported && (info.n_head == 0 || info.n_head_kv == 0 ||
                                        (!explicit_head && info.n_embd % info.n_head != 0) ||
                                        info.n_head % info.n_head_kv != 0)) {
        return make_error(ErrorCode::corrupt, f.path() + ": inconsistent attention shape: " +
                                                  std::to_string(info.n_embd) + " embedding, " +
                                                  std::to_string(info.n_head) + " heads, " +
                                                  std::to_string(info.n_head_kv) + " kv heads");
    }
    return Status::success();
}

Status fill_tokenizer(const gguf::GgufFile& f, ModelInfo& info) {
    const bool strict = info.architecture_supported;
    if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens")) {
        if (tokens->type == gguf::ValueType::ARRAY && tokens->array_type == gguf::ValueType::STRING) {
            info.n_vocab = static_cast<uint32_t>(std::min<uint64_t>(tokens->array_size, UINT32_MAX));
        } else if (strict) {
            return f.get_string_array("tokenizer.ggml.tokens").status();
        }
    }
    if (info.n_vocab == 0) {
        uint32_t n = 0;
        HparamReader h(f, info.architecture, strict);
        STRATA_RETURN_IF_ERROR(h.read_u32("vocab_size", false, n));
        info.n_vocab = n;
    }
    if (info.n_vocab == 0) {
        if (const gguf::TensorInfo* emb = f.find_tensor("token_embd.weight"); emb && emb->ne.size() >= 2) {
            info.n_vocab = static_cast<uint32_t>(std::min<int64_t>(emb->ne[1], UINT32_MAX));
        }
    }
    if (info.n_vocab == 0 && strict) {
        return make_error(ErrorCode::corrupt, f.path() + ": missing required key 'tokenizer.ggml.tokens' "
                                                         "(and no '" + info.architecture + ".vocab_size')");
    }
    auto model = f.get_string("tokenizer.ggml.model");
    if (!model.ok() && strict) return model.status();
    if (model.ok() && model->has_value()) info.tokenizer_model = **model;
    auto tmpl = f.get_string("tokenizer.chat_template");
    if (!tmpl.ok() && strict) return tmpl.status();
    if (tmpl.ok() && tmpl->has_value()) {
        info.has_chat_template = true;
        info.chat_template = **tmpl;
    }
    return Status::success();
}

void fill_tensor_totals(const gguf::GgufFile& f, ModelInfo& info) {
    std::map<uint32_t, TensorTypeTotal> by_type;
    for (const gguf::TensorInfo& t : f.tensors()) {
        TensorTypeTotal& tot = by_type[static_cast<uint32_t>(t.type)];
        tot.type = t.type;
        tot.n_tensors += 1;
        tot.n_bytes += t.n_bytes;
        info.n_params += static_cast<uint64_t>(t.n_elements());
        info.weight_bytes += t.n_bytes;
    }
    for (const auto& [id, tot] : by_type) info.type_totals.push_back(tot);
    std::stable_sort(info.type_totals.begin(), info.type_totals.end(),
                     [](const TensorTypeTotal& a, const TensorTypeTotal& b) { return a.n_bytes > b.n_bytes; });
}

// Opens `path` once and hands the file to `read`; exceptions become a Status naming the file.
template <class T, class Read>
Result<T> with_open_file(const std::string& path, Read read) {
    try {
        STRATA_ASSIGN_OR_RETURN(auto file, gguf::GgufFile::open(path));
        return read(*file);
    } catch (const std::bad_alloc&) {
        return make_error(ErrorCode::out_of_memory, path + ": out of memory while reading the model header");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::internal, path + ": " + e.what());
    }
}

}  // namespace

Result<ModelInfo> read_model_info(const gguf::GgufFile& f) {
    const std::string& path = f.path();
    ModelInfo info;
    info.path = f.path();             // a split set's first part, whichever part was opened
    info.file_size = f.file_size();   // all parts together
    info.gguf_version = f.version();

    STRATA_ASSIGN_OR_RETURN(auto arch, f.get_string("general.architecture"));
    if (!arch || arch->empty()) {
        return make_error(ErrorCode::corrupt, path + ": missing required key 'general.architecture'");
    }
    info.architecture = *arch;
    info.architecture_supported = is_supported_architecture(info.architecture);
    auto name = f.get_string("general.name");
    // A name that is only the architecture ("llama", as some converters write) tells people
    // less than the file name does.
    const bool useful_name = name.ok() && name->has_value() && !(*name)->empty() && **name != info.architecture;
    info.name = useful_name ? **name : base_name(f.path());

    STRATA_RETURN_IF_ERROR(fill_hparams(f, info));
    STRATA_RETURN_IF_ERROR(fill_tokenizer(f, info));
    fill_tensor_totals(f, info);
    info.support = judge_support(f, info.architecture);
    info.notes = model_notes(f);

    info.quantization = gguf::quantization_label(f.metadata(), f.tensors());
    return info;
}

Result<ModelInspection> inspect_open_model(const gguf::GgufFile& file) {
    STRATA_ASSIGN_OR_RETURN(ModelInfo info, read_model_info(file));
    ModelInspection out;
    out.info = std::move(info);
    out.footprint = model_footprint(file);
    return out;
}

Result<ModelInfo> inspect_model(const std::string& path) {
    return with_open_file<ModelInfo>(path, [](const gguf::GgufFile& f) { return read_model_info(f); });
}

Result<ModelInspection> inspect_model_file(const std::string& path) {
    return with_open_file<ModelInspection>(path, [](const gguf::GgufFile& f) { return inspect_open_model(f); });
}

std::string model_set_path(const std::string& path) {
    return gguf::split_first_part_path(path).value_or(path);
}

}  // namespace strata
