// Jinja's built-in tests (`x is defined`, `x is divisibleby 3`, ...), with Python's type rules:
// a bool is a number, Undefined is iterable and a sequence, a dict is a sequence.
#include <cmath>
#include <unordered_map>

#include "chat/jinja_error.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, CallArgs&);

const Value& one_arg(const char* name, CallArgs& a) {
    if (a.positional.size() + a.keyword.size() != 1)
        throw_render_error(std::string(name) + "() takes exactly one argument");
    return a.positional.empty() ? a.keyword[0].second : a.positional[0];
}

void no_args(const char* name, CallArgs& a) {
    if (!a.positional.empty() || !a.keyword.empty()) throw_render_error(std::string(name) + "() takes no arguments");
}

bool python_mod_is_zero(const Value& v, const Value& m, const char* name) {
    if (v.is_undefined()) throw_undefined(v);
    if (!v.is_number() || !m.is_number())
        throw_render_error(std::string("'") + name + "' test: unsupported operand type(s) for %: '" + type_name(v) +
                           "' and '" + type_name(m) + "'");
    if (m.as_double() == 0.0) throw_render_error("integer modulo by zero");
    if (v.is_float() || m.is_float()) return std::fmod(v.as_double(), m.as_double()) == 0.0;
    return v.as_int() % m.as_int() == 0;
}

bool t_defined(Interpreter&, const Value& v, CallArgs& a) { no_args("defined", a); return !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, CallArgs& a) { no_args("undefined", a); return v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, CallArgs& a) { no_args("none", a); return v.is_none(); }
bool t_boolean(Interpreter&, const Value& v, CallArgs& a) { no_args("boolean", a); return v.is_bool(); }
bool t_true(Interpreter&, const Value& v, CallArgs& a) { no_args("true", a); return v.is_bool() && v.as_bool(); }
bool t_false(Interpreter&, const Value& v, CallArgs& a) { no_args("false", a); return v.is_bool() && !v.as_bool(); }
bool t_integer(Interpreter&, const Value& v, CallArgs& a) { no_args("integer", a); return v.is_int(); }
bool t_float(Interpreter&, const Value& v, CallArgs& a) { no_args("float", a); return v.is_float(); }
bool t_number(Interpreter&, const Value& v, CallArgs& a) { no_args("number", a); return v.is_number(); }
bool t_string(Interpreter&, const Value& v, CallArgs& a) { no_args("string", a); return v.is_string(); }
bool t_mapping(Interpreter&, const Value& v, CallArgs& a) { no_args("mapping", a); return v.is_dict(); }
bool t_iterable(Interpreter&, const Value& v, CallArgs& a) {
    no_args("iterable", a);
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_sequence(Interpreter&, const Value& v, CallArgs& a) {
    no_args("sequence", a);
    return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool t_callable(Interpreter&, const Value& v, CallArgs& a) { no_args("callable", a); return v.is_callable(); }
bool t_escaped(Interpreter&, const Value& v, CallArgs& a) { no_args("escaped", a); return v.is_markup(); }
bool t_odd(Interpreter&, const Value& v, CallArgs& a) {
    no_args("odd", a);
    return !python_mod_is_zero(v, Value::integer(2), "odd");
}
bool t_even(Interpreter&, const Value& v, CallArgs& a) {
    no_args("even", a);
    return python_mod_is_zero(v, Value::integer(2), "even");
}
bool t_divisibleby(Interpreter&, const Value& v, CallArgs& a) {
    return python_mod_is_zero(v, one_arg("divisibleby", a), "divisibleby");
}
bool t_eq(Interpreter&, const Value& v, CallArgs& a) { return values_equal(v, one_arg("eq", a)); }
bool t_ne(Interpreter&, const Value& v, CallArgs& a) { return !values_equal(v, one_arg("ne", a)); }
bool t_lt(Interpreter&, const Value& v, CallArgs& a) { return value_less(v, one_arg("lt", a), "<"); }
bool t_le(Interpreter&, const Value& v, CallArgs& a) { return !value_less(one_arg("le", a), v, "<="); }
bool t_gt(Interpreter&, const Value& v, CallArgs& a) { return value_less(one_arg("gt", a), v, ">"); }
bool t_ge(Interpreter&, const Value& v, CallArgs& a) { return !value_less(v, one_arg("ge", a), ">="); }
bool t_in(Interpreter&, const Value& v, CallArgs& a) { return contains(one_arg("in", a), v); }
bool t_sameas(Interpreter&, const Value& v, CallArgs& a) {
    const Value& other = one_arg("sameas", a);
    // Python identity: singletons and small ints are shared; containers only with themselves.
    if (v.kind() != other.kind()) return false;
    if (v.is_none() || v.is_bool() || v.is_int()) return values_equal(v, other);
    if (v.is_list()) return v.list_ptr() == other.list_ptr();
    if (v.is_namespace()) return &v.ns() == &other.ns();
    return false;
}
bool t_lower(Interpreter&, const Value& v, CallArgs& a) {
    no_args("lower", a);
    const std::string s = python_str(v);
    return to_lower(s) == s && to_upper(s) != s;
}
bool t_upper(Interpreter&, const Value& v, CallArgs& a) {
    no_args("upper", a);
    const std::string s = python_str(v);
    return to_upper(s) == s && to_lower(s) != s;
}
bool t_filter(Interpreter&, const Value& v, CallArgs& a) { no_args("filter", a); return v.is_string() && is_known_filter(v.str()); }
bool t_test(Interpreter&, const Value& v, CallArgs& a) { no_args("test", a); return v.is_string() && is_known_test(v.str()); }

const std::unordered_map<std::string, TestFn>& test_table() {
    // Built once, then only read (no mutable global state).
    static const std::unordered_map<std::string, TestFn> table = {
        {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"boolean", t_boolean},
        {"true", t_true}, {"false", t_false}, {"integer", t_integer}, {"float", t_float},
        {"number", t_number}, {"string", t_string}, {"mapping", t_mapping}, {"iterable", t_iterable},
        {"sequence", t_sequence}, {"callable", t_callable}, {"escaped", t_escaped}, {"odd", t_odd},
        {"even", t_even}, {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq},
        {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le},
        {"<=", t_le}, {"gt", t_gt}, {"greaterthan", t_gt}, {">", t_gt}, {"ge", t_ge}, {">=", t_ge},
        {"in", t_in}, {"sameas", t_sameas}, {"lower", t_lower}, {"upper", t_upper}, {"filter", t_filter},
        {"test", t_test},
    };
    return table;
}

}  // namespace

bool is_known_test(const std::string& name) { return test_table().count(name) != 0; }

bool apply_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args) {
    const auto it = test_table().find(name);
    if (it == test_table().end()) throw_render_error("no test named '" + name + "'");
    return it->second(in, operand, args);
}

}  // namespace strata::jinja
