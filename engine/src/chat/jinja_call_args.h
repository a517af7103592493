// Binds a call's positional and keyword arguments to a built-in's parameter names, the way
// Python binds them, so filters, tests, methods and functions read `args.get(i)` whichever way
// the template passed them. A missing argument is nullptr; an unknown keyword, a duplicate or
// too many positional arguments is a render error naming the function.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "chat/jinja_error.h"
#include "chat/jinja_value.h"

namespace strata::jinja {

class BoundArgs {
public:
    BoundArgs(const std::string& function, const CallArgs& args, std::initializer_list<const char*> params)
        : function_(function), params_(params), values_(params.size(), nullptr) {
        if (args.positional.size() > params_.size())
            throw_render_error(function + "() takes at most " + std::to_string(params_.size()) + " argument(s) (" +
                               std::to_string(args.positional.size()) + " given)");
        for (size_t i = 0; i < args.positional.size(); ++i) values_[i] = &args.positional[i];
        for (const auto& [key, value] : args.keyword) {
            size_t i = 0;
            while (i < params_.size() && key != params_[i]) ++i;
            if (i == params_.size()) throw_render_error(function + "() got an unexpected keyword argument '" + key + "'");
            if (values_[i]) throw_render_error(function + "() got multiple values for argument '" + key + "'");
            values_[i] = &value;
        }
    }

    const Value* get(size_t i) const { return i < values_.size() ? values_[i] : nullptr; }
    bool has(size_t i) const { return get(i) != nullptr; }
    Value get_or(size_t i, Value fallback) const { return has(i) ? *get(i) : std::move(fallback); }

    const Value& require(size_t i) const {
        if (!has(i)) throw_render_error(function_ + "() missing required argument '" + params_[i] + "'");
        return *get(i);
    }

    // Typed readers: a render error names the parameter when the type is wrong.
    int64_t int_or(size_t i, int64_t fallback) const {
        const Value* v = get(i);
        if (!v || v->is_none()) return fallback;
        if (!v->is_int() && !v->is_bool()) throw_render_error(function_ + "(): '" + params_[i] + "' must be an integer");
        return v->as_int();
    }
    bool bool_or(size_t i, bool fallback) const {
        const Value* v = get(i);
        return v ? v->truthy() : fallback;
    }
    const Value* string_or_null(size_t i) const {
        const Value* v = get(i);
        if (!v || v->is_none()) return nullptr;
        if (!v->is_string()) throw_render_error(function_ + "(): '" + params_[i] + "' must be a string");
        return v;
    }

private:
    std::string function_;
    std::vector<const char*> params_;
    std::vector<const Value*> values_;
};

}  // namespace strata::jinja
