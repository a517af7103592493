#include "strata/tensor_type.h"

#include <array>
#include <cctype>
#include <string>

namespace strata {
namespace {

// Block layouts are facts of the GGUF/ggml format (element counts and byte sizes per block).
constexpr TensorTypeTraits kUnknown{"unknown", 1, 0, false, false};

constexpr std::array<TensorTypeTraits, 40> make_table() {
    std::array<TensorTypeTraits, 40> t{};
    for (auto& e : t) e = kUnknown;
    t[0] = {"F32", 1, 4, true, true};
    t[1] = {"F16", 1, 2, true, true};
    t[2] = {"Q4_0", 32, 18, true, true};
    t[3] = {"Q4_1", 32, 20, true, true};
    t[6] = {"Q5_0", 32, 22, true, true};
    t[7] = {"Q5_1", 32, 24, true, true};
    t[8] = {"Q8_0", 32, 34, true, true};
    t[9] = {"Q8_1", 32, 36, true, false};
    t[10] = {"Q2_K", 256, 84, true, true};
    t[11] = {"Q3_K", 256, 110, true, true};
    t[12] = {"Q4_K", 256, 144, true, true};
    t[13] = {"Q5_K", 256, 176, true, true};
    t[14] = {"Q6_K", 256, 210, true, true};
    t[15] = {"Q8_K", 256, 292, true, true};
    t[16] = {"IQ2_XXS", 256, 66, true, false};
    t[17] = {"IQ2_XS", 256, 74, true, false};
    t[18] = {"IQ3_XXS", 256, 98, true, false};
    t[19] = {"IQ1_S", 256, 50, true, false};
    t[20] = {"IQ4_NL", 32, 18, true, true};
    t[21] = {"IQ3_S", 256, 110, true, false};
    t[22] = {"IQ2_S", 256, 82, true, false};
    t[23] = {"IQ4_XS", 256, 136, true, true};
    t[24] = {"I8", 1, 1, true, false};
    t[25] = {"I16", 1, 2, true, false};
    t[26] = {"I32", 1, 4, true, false};
    t[27] = {"I64", 1, 8, true, false};
    t[28] = {"F64", 1, 8, true, false};
    t[29] = {"IQ1_M", 256, 56, true, false};
    t[30] = {"BF16", 1, 2, true, true};
    t[34] = {"TQ1_0", 256, 54, true, false};
    t[35] = {"TQ2_0", 256, 66, true, false};
    t[39] = {"MXFP4", 32, 17, true, true};
    return t;
}

constexpr auto kTable = make_table();

}  // namespace

const TensorTypeTraits& tensor_type_traits(uint32_t type_id) {
    if (type_id >= kTable.size()) return kUnknown;
    return kTable[type_id];
}

std::optional<TensorType> parse_tensor_type(std::string_view name) {
    std::string upper(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (uint32_t id = 0; id < kTable.size(); ++id) {
        if (kTable[id].known && upper == kTable[id].name) return static_cast<TensorType>(id);
    }
    return std::nullopt;
}

}  // namespace strata
