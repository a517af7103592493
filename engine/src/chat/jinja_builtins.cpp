// Global functions a chat template can call: Jinja's range, namespace, dict and joiner, and
// the two transformers adds: raise_exception(message) and strftime_now(format).
#include <ctime>

#include "chat/jinja_call_args.h"
#include "chat/jinja_error.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"

namespace strata::jinja {

namespace {

// The sandbox's MAX_RANGE: larger ranges are refused, not built.
constexpr int64_t k_max_range = 100000;

Value builtin_range(Interpreter& in, CallArgs& a) {
    if (!a.keyword.empty()) throw_render_error("range() takes no keyword arguments");
    if (a.positional.empty() || a.positional.size() > 3)
        throw_render_error("range expected 1 to 3 arguments, got " + std::to_string(a.positional.size()));
    for (const auto& v : a.positional)
        if (!v.is_int() && !v.is_bool())
            throw_render_error("'" + type_name(v) + "' object cannot be interpreted as an integer");
    int64_t start = 0, stop = 0, step = 1;
    if (a.positional.size() == 1) {
        stop = a.positional[0].as_int();
    } else {
        start = a.positional[0].as_int();
        stop = a.positional[1].as_int();
        if (a.positional.size() == 3) step = a.positional[2].as_int();
    }
    if (step == 0) throw_render_error("range() arg 3 must not be zero");
    const __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
    const __int128 abs_step = step > 0 ? step : -static_cast<__int128>(step);
    const __int128 n = span <= 0 ? 0 : (span + abs_step - 1) / abs_step;
    if (n > k_max_range)
        throw_render_error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    in.charge(static_cast<uint64_t>(n));
    std::vector<Value> items;
    items.reserve(static_cast<size_t>(n));
    for (__int128 i = 0; i < n; ++i) items.push_back(Value::integer(static_cast<int64_t>(start + i * step)));
    return Value::list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs), as namespace() and dict() take their initial contents.
DictData dict_from_args(const char* name, CallArgs& a) {
    DictData d;
    if (a.positional.size() > 1) throw_render_error(std::string(name) + "() takes at most 1 positional argument");
    if (!a.positional.empty()) {
        const Value& init = a.positional[0];
        if (init.is_dict()) {
            d = init.dict_data();
        } else if (init.is_list()) {
            for (const auto& pair : init.items()) {
                if (!pair.is_list() || pair.items().size() != 2)
                    throw_render_error(std::string(name) + "(): each element must be a pair");
                d.set(pair.items()[0], pair.items()[1]);
            }
        } else {
            throw_render_error(std::string(name) + "(): '" + type_name(init) + "' object is not iterable");
        }
    }
    for (auto& [k, v] : a.keyword) d.set(Value::trusted_string(k), v);
    return d;
}

Value builtin_namespace(Interpreter& in, CallArgs& a) {
    Value ns = in.make_namespace();
    ns.ns().attrs = dict_from_args("namespace", a);
    return ns;
}

Value builtin_dict(Interpreter&, CallArgs& a) { return Value::dict(dict_from_args("dict", a)); }

Value builtin_raise_exception(Interpreter&, CallArgs& a) {
    BoundArgs args("raise_exception", a, {"message"});
    throw Error(ErrorKind::raised, {}, python_str(args.get_or(0, Value::trusted_string(""))));
}

Value builtin_strftime_now(Interpreter& in, CallArgs& a) {
    BoundArgs args("strftime_now", a, {"format"});
    const Value& fmt = args.require(0);
    if (!fmt.is_string()) throw_render_error("strftime_now() argument must be str, not " + type_name(fmt));
    // The time is naive (no zone), as Python's datetime.now(): %z and %Z print nothing.
    std::string f;
    const std::string& s = fmt.str();
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 1 < s.size() && (s[i + 1] == 'z' || s[i + 1] == 'Z')) {
            ++i;
            continue;
        }
        if (s[i] == '%' && i + 1 < s.size()) {
            f += s[i];
            f += s[++i];
            continue;
        }
        f += s[i];
    }
    if (f.empty()) return Value::trusted_string("");
    std::string out(256 + f.size() * 8, '\0');
    const size_t n = std::strftime(out.data(), out.size(), f.c_str(), &in.now());
    out.resize(n);
    return Value::trusted_string(out);
}

Value builtin_joiner(Interpreter&, CallArgs& a) {
    BoundArgs args("joiner", a, {"sep"});
    auto fn = std::make_shared<Callable>();
    fn->name = "joiner";
    const Value sep = args.get_or(0, Value::trusted_string(", "));
    auto used = std::make_shared<bool>(false);
    fn->native = [sep, used](Interpreter&, CallArgs&) -> Value {
        if (!*used) {
            *used = true;
            return Value::trusted_string("");
        }
        return sep;
    };
    return Value::callable(std::move(fn));
}

void add(Scope& scope, const char* name, Value (*impl)(Interpreter&, CallArgs&)) {
    auto fn = std::make_shared<Callable>();
    fn->name = name;
    fn->native = impl;
    scope.vars[name] = Value::callable(std::move(fn));
}

}  // namespace

void install_builtins(Scope& globals) {
    add(globals, "range", builtin_range);
    add(globals, "namespace", builtin_namespace);
    add(globals, "dict", builtin_dict);
    add(globals, "joiner", builtin_joiner);
    add(globals, "raise_exception", builtin_raise_exception);
    add(globals, "strftime_now", builtin_strftime_now);
}

}  // namespace strata::jinja
