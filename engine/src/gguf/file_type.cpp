// general.file_type names and the quantization label of a model (gguf/file_type.h).
#include "gguf/file_type.h"

#include <map>

namespace strata::gguf {

const char* file_type_label(int64_t ft) {
    switch (ft) {
        case 0: return "F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 4: return "Q4_1_SOME_F16";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K";
        case 11: return "Q3_K_S";
        case 12: return "Q3_K_M";
        case 13: return "Q3_K_L";
        case 14: return "Q4_K_S";
        case 15: return "Q4_K_M";
        case 16: return "Q5_K_S";
        case 17: return "Q5_K_M";
        case 18: return "Q6_K";
        case 19: return "IQ2_XXS";
        case 20: return "IQ2_XS";
        case 21: return "Q2_K_S";
        case 22: return "IQ3_XS";
        case 23: return "IQ3_XXS";
        case 24: return "IQ1_S";
        case 25: return "IQ4_NL";
        case 26: return "IQ3_S";
        case 27: return "IQ3_M";
        case 28: return "IQ2_S";
        case 29: return "IQ2_M";
        case 30: return "IQ4_XS";
        case 31: return "IQ1_M";
        case 32: return "BF16";
        case 36: return "TQ1_0";
        case 37: return "TQ2_0";
        case 38: return "MXFP4_MOE";
    }
    return nullptr;
}

std::string quantization_label(const std::vector<KeyValue>& metadata, const std::vector<TensorInfo>& tensors) {
    for (const KeyValue& kv : metadata) {
        if (kv.key != "general.file_type") continue;
        const Value& v = kv.value;
        const bool is_unsigned = v.type == ValueType::UINT8 || v.type == ValueType::UINT16 ||
                                 v.type == ValueType::UINT32 || v.type == ValueType::UINT64;
        const bool is_signed = v.type == ValueType::INT8 || v.type == ValueType::INT16 ||
                               v.type == ValueType::INT32 || v.type == ValueType::INT64;
        const int64_t ft = is_unsigned ? (v.u > 1000 ? -1 : static_cast<int64_t>(v.u)) : is_signed ? v.i : -1;
        if (const char* label = (is_unsigned || is_signed) ? file_type_label(ft) : nullptr) return label;
        break;
    }
    std::map<uint32_t, uint64_t> bytes;  // by type id: ties go to the lower id
    for (const TensorInfo& t : tensors) bytes[static_cast<uint32_t>(t.type)] += t.n_bytes;
    uint32_t best = 0;
    uint64_t most = 0;
    bool any = false;
    for (const auto& [id, n] : bytes)
        if (!any || n > most) {
            best = id;
            most = n;
            any = true;
        }
    return any ? tensor_type_name(static_cast<TensorType>(best)) : std::string();
}

}  // namespace strata::gguf
