#include "chat/jinja_value.h"

#include <algorithm>
#include <cmath>

#include "chat/jinja_error.h"

namespace strata::jinja {

namespace {

void check_depth(int depth) {
    if (depth > k_max_value_depth) throw_limit_error("value nested too deeply (more than " + std::to_string(k_max_value_depth) + " levels)");
}

}  // namespace

const Value* DictData::find(std::string_view key) const {
    const auto it = string_keys.find(std::string(key));
    return it == string_keys.end() ? nullptr : &entries[it->second].second;
}

const Value* DictData::find(const Value& key) const {
    if (key.is_string()) return find(key.str());
    for (const auto& [k, v] : entries)
        if (values_equal(k, key)) return &v;
    return nullptr;
}

void DictData::set(Value key, Value value) {
    if (key.is_string()) {
        const auto it = string_keys.find(key.str());
        if (it != string_keys.end()) {
            entries[it->second].second = std::move(value);
            return;
        }
        string_keys.emplace(key.str(), entries.size());
        entries.emplace_back(std::move(key), std::move(value));
        return;
    }
    for (auto& [k, v] : entries) {
        if (values_equal(k, key)) {
            v = std::move(value);
            return;
        }
    }
    entries.emplace_back(std::move(key), std::move(value));
}

Value Value::undefined(std::string hint) {
    return Value(UndefinedData{std::make_shared<const std::string>(std::move(hint))});
}
Value Value::none() { return Value(NoneData{}); }
Value Value::boolean(bool b) { return Value(Payload(b)); }
Value Value::integer(int64_t i) { return Value(Payload(i)); }
Value Value::floating(double d) { return Value(Payload(d)); }
Value Value::string(TrackedText text, bool markup) {
    return Value(Payload(std::make_shared<const StringData>(StringData{std::move(text), markup})));
}
Value Value::list(std::vector<Value> items, bool tuple) {
    int depth = 0;
    for (const auto& item : items) depth = std::max(depth, item.nesting_depth());
    check_depth(depth + 1);
    return Value(Payload(std::make_shared<const ListData>(ListData{std::move(items), tuple, depth + 1})));
}
Value Value::dict(DictData data) {
    int depth = 0;
    for (const auto& [k, v] : data.entries) depth = std::max({depth, k.nesting_depth(), v.nesting_depth()});
    check_depth(depth + 1);
    data.depth = depth + 1;
    return Value(Payload(std::make_shared<const DictData>(std::move(data))));
}

int Value::nesting_depth() const {
    if (is_list()) return std::get<ListPtr>(payload_)->depth;
    if (is_dict()) return std::get<DictPtr>(payload_)->depth;
    return 0;
}
Value Value::make_namespace(std::shared_ptr<NamespaceData> ns) { return Value(Payload(std::move(ns))); }
Value Value::callable(std::shared_ptr<const Callable> fn) { return Value(Payload(std::move(fn))); }
Value Value::loop(std::shared_ptr<const LoopData> loop) { return Value(Payload(std::move(loop))); }

ValueKind Value::kind() const { return static_cast<ValueKind>(payload_.index()); }

const std::string& Value::undefined_hint() const {
    static const std::string none;  // immutable
    const auto& u = std::get<UndefinedData>(payload_);
    return u.hint ? *u.hint : none;
}

int64_t Value::as_int() const {
    if (is_bool()) return as_bool() ? 1 : 0;
    return std::get<int64_t>(payload_);
}

double Value::as_double() const {
    if (is_float()) return std::get<double>(payload_);
    return static_cast<double>(as_int());
}

bool Value::truthy() const {
    switch (kind()) {
        case ValueKind::undefined:
        case ValueKind::none: return false;
        case ValueKind::boolean: return as_bool();
        case ValueKind::integer: return as_int() != 0;
        case ValueKind::floating: return as_double() != 0.0;
        case ValueKind::string: return !str().empty();
        case ValueKind::list: return !items().empty();
        case ValueKind::dict: return !dict_data().entries.empty();
        default: return true;
    }
}

std::string type_name(const Value& v) {
    switch (v.kind()) {
        case ValueKind::undefined: return "Undefined";
        case ValueKind::none: return "NoneType";
        case ValueKind::boolean: return "bool";
        case ValueKind::integer: return "int";
        case ValueKind::floating: return "float";
        case ValueKind::string: return v.is_markup() ? "Markup" : "str";
        case ValueKind::list: return v.is_tuple() ? "tuple" : "list";
        case ValueKind::dict: return "dict";
        case ValueKind::namespace_: return "Namespace";
        case ValueKind::callable: return v.fn().macro ? "Macro" : "builtin_function_or_method";
        case ValueKind::loop: return "LoopContext";
    }
    return "object";
}

bool values_equal(const Value& a, const Value& b, int depth) {
    check_depth(depth);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case ValueKind::undefined:
        case ValueKind::none: return true;
        case ValueKind::string: return a.str() == b.str();
        case ValueKind::list: {
            if (a.is_tuple() != b.is_tuple() || a.items().size() != b.items().size()) return false;
            for (size_t i = 0; i < a.items().size(); ++i)
                if (!values_equal(a.items()[i], b.items()[i], depth + 1)) return false;
            return true;
        }
        case ValueKind::dict: {
            const auto& da = a.dict_data();
            const auto& db = b.dict_data();
            if (da.entries.size() != db.entries.size()) return false;
            for (const auto& [k, v] : da.entries) {
                const Value* other = db.find(k);
                if (!other || !values_equal(v, *other, depth + 1)) return false;
            }
            return true;
        }
        case ValueKind::namespace_: return &a.ns() == &b.ns();
        case ValueKind::callable: return &a.fn() == &b.fn();
        case ValueKind::loop: return &a.loop_data() == &b.loop_data();
        default: return false;
    }
}

bool value_less(const Value& a, const Value& b, const char* op, int depth) {
    check_depth(depth);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
        return a.as_int() < b.as_int();
    }
    if (a.is_string() && b.is_string()) return a.str() < b.str();  // UTF-8 byte order = code point order
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
        const auto& x = a.items();
        const auto& y = b.items();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (values_equal(x[i], y[i], depth + 1)) continue;
            return value_less(x[i], y[i], op, depth + 1);
        }
        return x.size() < y.size();
    }
    if (a.is_undefined() || b.is_undefined()) {
        const Value& u = a.is_undefined() ? a : b;
        throw_render_error(u.undefined_hint().empty() ? "undefined value compared with '" + std::string(op) + "'"
                                                      : u.undefined_hint());
    }
    throw_render_error("'" + std::string(op) + "' not supported between instances of '" + type_name(a) + "' and '" +
                       type_name(b) + "'");
}

bool contains_untrusted(const Value& v, int depth) {
    check_depth(depth);
    switch (v.kind()) {
        case ValueKind::string: return v.text().has_untrusted();
        case ValueKind::list:
            for (const auto& item : v.items())
                if (contains_untrusted(item, depth + 1)) return true;
            return false;
        case ValueKind::dict:
            for (const auto& [k, item] : v.dict_data().entries)
                if (contains_untrusted(k, depth + 1) || contains_untrusted(item, depth + 1)) return true;
            return false;
        case ValueKind::namespace_:
            for (const auto& [k, item] : v.ns().attrs.entries)
                if (contains_untrusted(k, depth + 1) || contains_untrusted(item, depth + 1)) return true;
            return false;
        default: return false;
    }
}

}  // namespace strata::jinja
