// JSON Schema for constrained decoding (OpenAI's response_format {"type": "json_schema"}): a
// schema is compiled once, then GenerateParams::json_schema makes every sampled token keep the
// output a prefix of a JSON value that the schema accepts (the generation ends when it is whole).
//
// The subset people use for structured output: "type" (a name or a list of them: object,
// array, string, number, integer, boolean, null), "properties", "required",
// "additionalProperties" (false, true, or a schema; absent means true), "items", "minItems",
// "maxItems", "enum" and "const" (any JSON values, matched in their compact form). Annotations
// ("title", "description", "default", "examples", "$schema", "format") are ignored. Anything
// else ("$ref", "anyOf", "pattern", "minimum", ...) is refused by name, never silently ignored.
// The top level must be an object.
//
// Threading: a compiled schema is immutable and may be shared by any number of generations.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "strata/status.h"

namespace strata {

class JsonSchema;  // the compiled form (engine-internal)

// Fails with invalid_argument naming the keyword or path that cannot be honoured.
Result<std::shared_ptr<const JsonSchema>> compile_json_schema(const nlohmann::ordered_json& schema);

}  // namespace strata
