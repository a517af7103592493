#include "runtime/json_prefix.h"

namespace strata {

const JsonSchema& any_object_schema() {
    static const std::shared_ptr<const JsonSchema> schema = *compile_json_schema({{"type", "object"}});
    return *schema;
}

}  // namespace strata
