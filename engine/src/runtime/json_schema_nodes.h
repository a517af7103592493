// The compiled form of a JSON Schema (strata/json_schema.h): a table of nodes, one per schema
// position, read by JsonSchemaPrefix. Immutable once compiled.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "strata/json_schema.h"

namespace strata {

// Value types, as bits of SchemaNode::types.
enum JsonTypeBit : uint8_t {
    kJsonObject = 1,
    kJsonArray = 2,
    kJsonString = 4,
    kJsonNumber = 8,   // any number (integers too)
    kJsonInteger = 16, // numbers without a fraction or exponent
    kJsonBoolean = 32,
    kJsonNull = 64,
    kJsonAnyType = 127,
};

struct SchemaNode {
    uint8_t types = kJsonAnyType;
    // enum / const: the allowed values, each as compact JSON text; empty: any value of `types`.
    std::vector<std::string> alternatives;
    // Objects: the properties (names as their JSON-escaped text, without quotes) and their
    // value nodes; `required` has a bit per property index; `additional` is the node of any
    // other key's value, or kNoAdditional.
    std::vector<std::string> keys;
    std::vector<int32_t> key_nodes;
    uint64_t required = 0;
    int32_t additional = 0;
    // Arrays.
    int32_t items = 0;
    int64_t min_items = 0;
    int64_t max_items = std::numeric_limits<int64_t>::max();
};

class JsonSchema {
public:
    static constexpr int32_t kNoAdditional = -1;
    static constexpr int32_t kAny = 0;  // node 0 accepts any JSON value
    static constexpr size_t kMaxProperties = 64;
    static constexpr int kMaxDepth = 32;

    std::vector<SchemaNode> nodes;  // nodes[kAny] is the any-value node
    int32_t root = kAny;
};

}  // namespace strata
