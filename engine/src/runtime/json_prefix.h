// JsonPrefix: JSON mode's recogniser — the texts that can still become one JSON object (RFC 8259,
// the top level an object, whitespace around it allowed). It is JsonSchemaPrefix over the schema
// {"type": "object"} (any keys, any values), so JSON mode and structured output share one byte
// machine: the same nesting cap, whitespace caps (JsonSchemaPrefix::kMaxWhitespace, ...) and
// UTF-8 rules. Not thread-safe; one per generation.
#pragma once

#include "runtime/json_schema_prefix.h"

namespace strata {

// The compiled schema {"type": "object"}: built once, immutable, shared.
const JsonSchema& any_object_schema();

class JsonPrefix : public JsonSchemaPrefix {
public:
    JsonPrefix() : JsonSchemaPrefix(any_object_schema()) {}
};

}  // namespace strata
