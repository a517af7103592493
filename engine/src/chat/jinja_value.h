// Value: what a Jinja expression evaluates to, with Python's semantics where templates can see
// them (None/True/False, int vs float, insertion-ordered dicts, tuples, Undefined).
//
// Strings are TrackedText (they carry their untrusted byte ranges). Lists, tuples and dicts are
// immutable once built (the sandbox transformers uses forbids append/update), so they are
// shared by pointer; the only mutable objects are namespaces (`namespace(...)`, changed by
// `{% set ns.x = ... %}`) and loop objects, owned by the render that made them. A Value is used
// by one render on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "chat/tracked_text.h"

namespace strata::jinja {

class Value;
class Interpreter;
struct MacroNode;
struct Scope;

enum class ValueKind { undefined, none, boolean, integer, floating, string, list, dict, namespace_, callable, loop };

struct StringData {
    TrackedText text;
    bool markup = false;  // a Markup object (from |safe): `+` escapes the other operand
};

struct ListData {
    std::vector<Value> items;
    bool tuple = false;  // prints as (a, b)
    int depth = 1;       // nesting (set by Value::list), bounded by k_max_value_depth
};

// Insertion-ordered mapping; string keys also indexed by hash.
struct DictData {
    std::vector<std::pair<Value, Value>> entries;
    std::unordered_map<std::string, size_t> string_keys;
    int depth = 1;  // nesting (set by Value::dict), bounded by k_max_value_depth

    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    void set(Value key, Value value);  // replaces in place, or appends
};

struct NamespaceData {
    DictData attrs;
};

struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

// A macro, a call block's `caller`, a built-in function or a bound method.
struct Callable {
    std::string name;
    // Macro or caller: the node (owned by the compiled template, which outlives every render)
    // and the scope it was defined in (weak: scopes hold values, values must not hold scopes).
    const MacroNode* macro = nullptr;
    std::weak_ptr<Scope> closure;
    bool is_caller = false;
    // Built-in function or bound method.
    std::function<Value(Interpreter&, CallArgs&)> native;
};

// Per-iteration state behind `loop`.
struct LoopData {
    std::shared_ptr<const ListData> items;
    size_t index0 = 0;
    int depth0 = 0;
    // What loop.changed() saw last; shared by all iterations of one run of the loop.
    std::shared_ptr<std::optional<std::vector<Value>>> changed_last;
    // A `recursive` loop: loop(items) renders the loop again over `items`, one level deeper.
    std::function<Value(Interpreter&, CallArgs&)> recurse;
};

class Value {
public:
    Value() : payload_(UndefinedData{}) {}  // undefined, no hint
    static Value undefined(std::string hint);
    static Value none();
    static Value boolean(bool b);
    static Value integer(int64_t i);
    static Value floating(double d);
    static Value string(TrackedText text, bool markup = false);
    static Value trusted_string(std::string s) { return string(TrackedText(std::move(s))); }
    static Value list(std::vector<Value> items, bool tuple = false);
    static Value dict(DictData data);
    static Value make_namespace(std::shared_ptr<NamespaceData> ns);
    static Value callable(std::shared_ptr<const Callable> fn);
    static Value loop(std::shared_ptr<const LoopData> loop);

    ValueKind kind() const;
    bool is_undefined() const { return kind() == ValueKind::undefined; }
    bool is_none() const { return kind() == ValueKind::none; }
    bool is_bool() const { return kind() == ValueKind::boolean; }
    bool is_int() const { return kind() == ValueKind::integer; }
    bool is_float() const { return kind() == ValueKind::floating; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }  // bool is an int in Python
    bool is_string() const { return kind() == ValueKind::string; }
    bool is_list() const { return kind() == ValueKind::list; }
    bool is_dict() const { return kind() == ValueKind::dict; }
    bool is_namespace() const { return kind() == ValueKind::namespace_; }
    bool is_callable() const { return kind() == ValueKind::callable; }
    bool is_loop() const { return kind() == ValueKind::loop; }

    const std::string& undefined_hint() const;
    bool as_bool() const { return std::get<bool>(payload_); }
    int64_t as_int() const;     // int or bool
    double as_double() const;   // int, bool or float
    const TrackedText& text() const { return std::get<StringPtr>(payload_)->text; }
    const std::string& str() const { return text().str(); }
    bool is_markup() const { return is_string() && std::get<StringPtr>(payload_)->markup; }
    const std::vector<Value>& items() const { return std::get<ListPtr>(payload_)->items; }
    const std::shared_ptr<const ListData>& list_ptr() const { return std::get<ListPtr>(payload_); }
    bool is_tuple() const { return is_list() && std::get<ListPtr>(payload_)->tuple; }
    const DictData& dict_data() const { return *std::get<DictPtr>(payload_); }
    NamespaceData& ns() const { return *std::get<NamespacePtr>(payload_); }
    const Callable& fn() const { return *std::get<CallablePtr>(payload_); }
    const LoopData& loop_data() const { return *std::get<LoopPtr>(payload_); }

    // Python truthiness (Undefined is false).
    bool truthy() const;

    // How deeply lists and dicts nest inside (0 for anything else). Value::list and Value::dict
    // refuse to build past k_max_value_depth, so printing, comparing and destroying a value
    // never recurse deeper than that.
    int nesting_depth() const;

private:
    struct UndefinedData {
        std::shared_ptr<const std::string> hint;
    };
    struct NoneData {};
    using StringPtr = std::shared_ptr<const StringData>;
    using ListPtr = std::shared_ptr<const ListData>;
    using DictPtr = std::shared_ptr<const DictData>;
    using NamespacePtr = std::shared_ptr<NamespaceData>;
    using CallablePtr = std::shared_ptr<const Callable>;
    using LoopPtr = std::shared_ptr<const LoopData>;
    using Payload = std::variant<UndefinedData, NoneData, bool, int64_t, double, StringPtr, ListPtr, DictPtr,
                                 NamespacePtr, CallablePtr, LoopPtr>;
    explicit Value(Payload p) : payload_(std::move(p)) {}
    Payload payload_;
};

// Python's type name as error messages show it ("str", "int", "list", "dict", "NoneType", ...).
std::string type_name(const Value& v);

// Python ==, with 1 == 1.0 == True, element-wise lists and dicts. `depth` guards recursion.
bool values_equal(const Value& a, const Value& b, int depth = 0);

// Python <, for numbers, strings (code point order) and lists; throws a render error naming
// both types otherwise (`op` is the operator shown in that message).
bool value_less(const Value& a, const Value& b, const char* op, int depth = 0);

// Whether any string inside (keys included) carries untrusted bytes.
bool contains_untrusted(const Value& v, int depth = 0);

// The deepest nesting of lists and dicts a value may have (a template can build nested lists in
// a loop; printing, comparing and destroying them recurse, which must not overflow the stack).
inline constexpr int k_max_value_depth = 256;

}  // namespace strata::jinja
