// compile_json_schema: a JSON Schema's supported subset to SchemaNodes (runtime/json_schema_nodes.h).
#include <algorithm>
#include <set>

#include "runtime/json_schema_nodes.h"

namespace strata {

namespace {

using json = nlohmann::ordered_json;

const std::set<std::string> kIgnored = {"title", "description", "default", "examples", "$schema", "format",
                                        "$id", "$comment", "strict"};

struct Compiler {
    JsonSchema& out;
    std::string error;

    bool fail(const std::string& path, const std::string& why) {
        error = "json_schema at " + (path.empty() ? std::string("the top level") : path) + ": " + why;
        return false;
    }

    static bool type_bit(const std::string& name, uint8_t& bit) {
        static const std::pair<const char*, uint8_t> kNames[] = {
            {"object", kJsonObject}, {"array", kJsonArray},     {"string", kJsonString}, {"number", kJsonNumber},
            {"integer", kJsonInteger}, {"boolean", kJsonBoolean}, {"null", kJsonNull}};
        for (const auto& [n, b] : kNames)
            if (name == n) {
                bit = b;
                return true;
            }
        return false;
    }

    // Compiles `schema` at `path` (depth levels of containers above it) into a new node.
    bool compile(const json& schema, const std::string& path, int depth, int32_t& index) {
        if (depth >= JsonSchema::kMaxDepth) return fail(path, "nested deeper than " + std::to_string(JsonSchema::kMaxDepth) + " levels");
        if (schema.is_boolean()) {
            if (!schema.get<bool>()) return fail(path, "a 'false' schema accepts nothing");
            index = JsonSchema::kAny;
            return true;
        }
        if (!schema.is_object()) return fail(path, "a schema must be an object");
        index = static_cast<int32_t>(out.nodes.size());
        out.nodes.emplace_back();
        SchemaNode node;
        node.additional = JsonSchema::kAny;
        node.items = JsonSchema::kAny;
        for (const auto& [key, value] : schema.items()) {
            if (kIgnored.count(key)) continue;
            if (key == "type") {
                node.types = 0;
                const json list = value.is_array() ? value : json::array({value});
                for (const json& t : list) {
                    uint8_t bit = 0;
                    if (!t.is_string() || !type_bit(t.get<std::string>(), bit))
                        return fail(path, "unknown type " + t.dump() +
                                              " (object, array, string, number, integer, boolean or null)");
                    node.types |= bit;
                }
                if (node.types == 0) return fail(path, "an empty type list accepts nothing");
            } else if (key == "enum" || key == "const") {
                const json list = key == "const" ? json::array({value}) : value;
                if (!list.is_array() || list.empty()) return fail(path, "'enum' must be a non-empty array");
                for (const json& v : list) node.alternatives.push_back(v.dump());
            } else if (key == "properties") {
                if (!value.is_object()) return fail(path, "'properties' must be an object");
                if (value.size() > JsonSchema::kMaxProperties)
                    return fail(path, "more than " + std::to_string(JsonSchema::kMaxProperties) + " properties");
                for (const auto& [name, sub] : value.items()) {
                    int32_t child = 0;
                    if (!compile(sub, path + "." + name, depth + 1, child)) return false;
                    const std::string quoted = json(name).dump();  // the key as it is written
                    node.keys.push_back(quoted.substr(1, quoted.size() - 2));
                    node.key_nodes.push_back(child);
                }
            } else if (key == "additionalProperties") {
                if (value.is_boolean()) {
                    node.additional = value.get<bool>() ? JsonSchema::kAny : JsonSchema::kNoAdditional;
                } else if (!compile(value, path + ".additionalProperties", depth + 1, node.additional)) {
                    return false;
                }
            } else if (key == "items") {
                if (!compile(value, path + "[]", depth + 1, node.items)) return false;
            } else if (key == "minItems" || key == "maxItems") {
                if (!value.is_number_integer() || value.get<int64_t>() < 0)
                    return fail(path, "'" + key + "' must be a whole number of 0 or more");
                (key == "minItems" ? node.min_items : node.max_items) = value.get<int64_t>();
            } else if (key != "required") {
                return fail(path, "'" + key +
                                      "' is not supported (supported: type, properties, required, "
                                      "additionalProperties, items, minItems, maxItems, enum, const)");
            }
        }
        if (auto it = schema.find("required"); it != schema.end()) {
            if (!it->is_array()) return fail(path, "'required' must be an array of property names");
            for (const json& name : *it) {
                const std::string quoted = name.is_string() ? json(name.get<std::string>()).dump() : std::string();
                const std::string text = quoted.size() >= 2 ? quoted.substr(1, quoted.size() - 2) : std::string();
                const auto at = std::find(node.keys.begin(), node.keys.end(), text);
                if (!name.is_string() || at == node.keys.end())
                    return fail(path, "required property " + name.dump() + " is not among its 'properties'");
                node.required |= uint64_t{1} << (at - node.keys.begin());
            }
        }
        if (node.min_items > node.max_items) return fail(path, "'minItems' is larger than 'maxItems'");
        out.nodes[static_cast<size_t>(index)] = std::move(node);
        return true;
    }
};

}  // namespace

Result<std::shared_ptr<const JsonSchema>> compile_json_schema(const nlohmann::ordered_json& schema) {
    auto out = std::make_shared<JsonSchema>();
    out->nodes.emplace_back();  // kAny: any value; objects take any keys, arrays any items
    Compiler c{*out, {}};
    int32_t root = 0;
    if (!c.compile(schema, "", 0, root)) return Status(ErrorCode::invalid_argument, c.error);
    const SchemaNode& top = out->nodes[static_cast<size_t>(root)];
    if (top.types != kJsonObject || !top.alternatives.empty())
        return Status(ErrorCode::invalid_argument, "json_schema: the top level must be {\"type\": \"object\", ...}");
    out->root = root;
    return std::shared_ptr<const JsonSchema>(std::move(out));
}

}  // namespace strata
