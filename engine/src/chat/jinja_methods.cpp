// Python methods templates call on values: str (startswith, split, strip, replace, format,
// find, ...), dict (get, items, keys, values) and list (index, count). Methods that would
// mutate a list or dict are refused as the ImmutableSandboxedEnvironment refuses them: the
// attribute is an Undefined whose use raises "access to attribute ... is unsafe".
#include <algorithm>
#include <unordered_map>

#include "chat/jinja_call_args.h"
#include "chat/jinja_error.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_string_ops.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

using MethodFn = Value (*)(Interpreter&, const Value& self, CallArgs&);

Value text_list(std::vector<TrackedText> parts) {
    std::vector<Value> items;
    items.reserve(parts.size());
    for (auto& p : parts) items.push_back(Value::string(std::move(p)));
    return Value::list(std::move(items));
}

const std::string* optional_string(const BoundArgs& args, size_t i) {
    const Value* v = args.string_or_null(i);
    return v ? &v->str() : nullptr;
}

// self[start:end] in code points, for startswith/endswith/find with bounds.
std::string bounded(const Value& self, const BoundArgs& args, size_t start_index, size_t& byte_offset) {
    const std::string& s = self.str();
    byte_offset = 0;
    if (!args.has(start_index) && !args.has(start_index + 1)) return s;
    const auto offsets = code_point_offsets(s);
    const auto n = static_cast<int64_t>(offsets.size()) - 1;
    auto clamp = [&](int64_t x) { return std::clamp<int64_t>(x < 0 ? x + n : x, 0, n); };
    const int64_t b = clamp(args.int_or(start_index, 0));
    const int64_t e = clamp(args.int_or(start_index + 1, n));
    if (e <= b) {
        byte_offset = offsets[static_cast<size_t>(b)];
        return {};
    }
    byte_offset = offsets[static_cast<size_t>(b)];
    return s.substr(offsets[static_cast<size_t>(b)], offsets[static_cast<size_t>(e)] - offsets[static_cast<size_t>(b)]);
}

bool affix_match(const Value& self, CallArgs& a, const char* name, bool suffix) {
    BoundArgs args(name, a, {"prefix", "start", "end"});
    size_t offset = 0;
    const std::string s = bounded(self, args, 1, offset);
    const Value& what = args.require(0);
    std::vector<Value> candidates = what.is_tuple() ? what.items() : std::vector<Value>{what};
    for (const auto& c : candidates) {
        if (!c.is_string())
            throw_render_error(std::string(name) + " first arg must be str or a tuple of str, not " + type_name(c));
        const std::string& p = c.str();
        if (p.size() > s.size()) continue;
        if (suffix ? s.compare(s.size() - p.size(), p.size(), p) == 0 : s.compare(0, p.size(), p) == 0) return true;
    }
    return false;
}

Value m_startswith(Interpreter&, const Value& self, CallArgs& a) { return Value::boolean(affix_match(self, a, "startswith", false)); }
Value m_endswith(Interpreter&, const Value& self, CallArgs& a) { return Value::boolean(affix_match(self, a, "endswith", true)); }

Value m_split(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs args("split", a, {"sep", "maxsplit"});
    auto parts = split_text(self.text(), optional_string(args, 0), args.int_or(1, -1));
    in.charge(parts.size());
    return text_list(std::move(parts));
}
Value m_rsplit(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs args("rsplit", a, {"sep", "maxsplit"});
    auto parts = rsplit_text(self.text(), optional_string(args, 0), args.int_or(1, -1));
    in.charge(parts.size());
    return text_list(std::move(parts));
}
Value m_splitlines(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs("splitlines", a, {});
    auto parts = split_lines(self.text());
    in.charge(parts.size());
    return text_list(std::move(parts));
}
Value strip_method(const Value& self, CallArgs& a, const char* name, bool left, bool right) {
    BoundArgs args(name, a, {"chars"});
    return Value::string(strip_text(self.text(), optional_string(args, 0), left, right));
}
Value m_strip(Interpreter&, const Value& self, CallArgs& a) { return strip_method(self, a, "strip", true, true); }
Value m_lstrip(Interpreter&, const Value& self, CallArgs& a) { return strip_method(self, a, "lstrip", true, false); }
Value m_rstrip(Interpreter&, const Value& self, CallArgs& a) { return strip_method(self, a, "rstrip", false, true); }

Value derived_string(const Value& self, std::string s) {
    return Value::string(TrackedText::derived(std::move(s), self.text().has_untrusted()));
}
Value m_upper(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("upper", a, {}); return derived_string(self, to_upper(self.str())); }
Value m_lower(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("lower", a, {}); return derived_string(self, to_lower(self.str())); }
Value m_title(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("title", a, {}); return derived_string(self, python_title(self.str())); }
Value m_capitalize(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs("capitalize", a, {});
    return derived_string(self, python_capitalize(self.str()));
}

// str.center / ljust / rjust: pad to `width` code points with one fill character, as Python does
// (center puts the odd extra on the left when both the margin and the width are odd).
void positional_only(const CallArgs& a, const char* name) {
    if (!a.keyword.empty()) throw_render_error(std::string("str.") + name + "() takes no keyword arguments");
}

Value pad_method(const Value& self, CallArgs& a, const char* name, char how) {
    positional_only(a, name);
    BoundArgs args(name, a, {"width", "fillchar"});
    if (!args.has(0)) throw_render_error(std::string(name) + "() missing required argument 'width'");
    const int64_t width = args.int_or(0, 0);
    std::string fill = " ";
    if (const Value* f = args.string_or_null(1)) {
        if (count_code_points(f->str()) != 1)
            throw_render_error("The fill character must be exactly one character long");
        fill = f->str();
    }
    const auto len = static_cast<int64_t>(count_code_points(self.str()));
    if (width <= len) return self;
    const int64_t margin = width - len;
    int64_t left = 0;
    if (how == 'c') left = margin / 2 + (margin & width & 1);
    else if (how == 'r') left = margin;
    const int64_t right = margin - left;
    std::string out;
    for (int64_t i = 0; i < left; ++i) out += fill;
    out += self.str();
    for (int64_t i = 0; i < right; ++i) out += fill;
    return derived_string(self, std::move(out));
}
Value m_center(Interpreter&, const Value& self, CallArgs& a) { return pad_method(self, a, "center", 'c'); }
Value m_ljust(Interpreter&, const Value& self, CallArgs& a) { return pad_method(self, a, "ljust", 'l'); }
Value m_rjust(Interpreter&, const Value& self, CallArgs& a) { return pad_method(self, a, "rjust", 'r'); }
Value m_zfill(Interpreter&, const Value& self, CallArgs& a) {
    positional_only(a, "zfill");
    BoundArgs args("zfill", a, {"width"});
    const int64_t width = args.int_or(0, 0);
    if (!args.has(0)) throw_render_error("zfill() missing required argument 'width'");
    const std::string& s = self.str();
    const auto len = static_cast<int64_t>(count_code_points(s));
    if (width <= len) return self;
    const size_t sign = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    return derived_string(self, s.substr(0, sign) + std::string(static_cast<size_t>(width - len), '0') + s.substr(sign));
}

Value m_replace(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs args("replace", a, {"old", "new", "count"});
    const Value& old_v = args.require(0);
    const Value& new_v = args.require(1);
    if (!old_v.is_string() || !new_v.is_string()) throw_render_error("replace() arguments must be str");
    return Value::string(replace_text(self.text(), old_v.str(), new_v.text(), args.int_or(2, -1), in.max_string_bytes()));
}

Value find_method_impl(const Value& self, CallArgs& a, const char* name, bool reverse, bool raise) {
    BoundArgs args(name, a, {"sub", "start", "end"});
    const Value& sub = args.require(0);
    if (!sub.is_string()) throw_render_error(std::string("must be str, not ") + type_name(sub));
    size_t offset = 0;
    const std::string s = bounded(self, args, 1, offset);
    const size_t found = reverse ? s.rfind(sub.str()) : s.find(sub.str());
    if (found == std::string::npos) {
        if (raise) throw_render_error("substring not found");
        return Value::integer(-1);
    }
    return Value::integer(code_point_index(self.str(), offset + found));
}
Value m_find(Interpreter&, const Value& self, CallArgs& a) { return find_method_impl(self, a, "find", false, false); }
Value m_rfind(Interpreter&, const Value& self, CallArgs& a) { return find_method_impl(self, a, "rfind", true, false); }
Value m_index(Interpreter&, const Value& self, CallArgs& a) { return find_method_impl(self, a, "index", false, true); }
Value m_rindex(Interpreter&, const Value& self, CallArgs& a) { return find_method_impl(self, a, "rindex", true, true); }

Value m_count(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs args("count", a, {"sub"});
    const Value& sub = args.require(0);
    if (self.is_list()) {
        return Value::integer(std::count_if(self.items().begin(), self.items().end(),
                                            [&](const Value& v) { return values_equal(v, sub); }));
    }
    if (!sub.is_string()) throw_render_error("must be str, not " + type_name(sub));
    if (sub.str().empty()) return Value::integer(static_cast<int64_t>(count_code_points(self.str())) + 1);
    int64_t n = 0;
    for (size_t p = self.str().find(sub.str()); p != std::string::npos; p = self.str().find(sub.str(), p + sub.str().size())) ++n;
    return Value::integer(n);
}

Value m_join(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs args("join", a, {"iterable"});
    TrackedText out;
    bool first = true;
    for (const auto& item : iterate(args.require(0))) {
        if (!item.is_string()) throw_render_error("sequence item: expected str instance, " + type_name(item) + " found");
        if (!first) out.append(self.text());
        first = false;
        out.append(item.text());
        in.check_string(out.size());
    }
    return Value::string(std::move(out));
}

Value char_class(const Value& self, bool (*pred)(uint32_t)) {
    const std::string& s = self.str();
    if (s.empty()) return Value::boolean(false);
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        if (!pred(decode_utf8_at(s, i, len))) return Value::boolean(false);
        i += len;
    }
    return Value::boolean(true);
}
bool is_digit_cp(uint32_t cp) { return cp >= '0' && cp <= '9'; }
bool is_alpha_cp(uint32_t cp) { return (cp < 0x80 && std::isalpha(static_cast<int>(cp))) || (cp >= 0x80 && is_cased_letter(cp)); }
bool is_alnum_cp(uint32_t cp) { return is_digit_cp(cp) || is_alpha_cp(cp); }
Value m_isdigit(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("isdigit", a, {}); return char_class(self, is_digit_cp); }
Value m_isalpha(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("isalpha", a, {}); return char_class(self, is_alpha_cp); }
Value m_isalnum(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("isalnum", a, {}); return char_class(self, is_alnum_cp); }
Value m_isspace(Interpreter&, const Value& self, CallArgs& a) { BoundArgs("isspace", a, {}); return char_class(self, is_python_space); }
Value m_islower(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs("islower", a, {});
    const std::string& s = self.str();
    return Value::boolean(to_lower(s) == s && to_upper(s) != s);
}
Value m_isupper(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs("isupper", a, {});
    const std::string& s = self.str();
    return Value::boolean(to_upper(s) == s && to_lower(s) != s);
}

Value m_removeprefix(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs args("removeprefix", a, {"prefix"});
    const std::string& p = python_str(args.require(0));
    if (self.str().compare(0, p.size(), p) == 0 && p.size() <= self.str().size())
        return Value::string(self.text().substr(p.size(), self.str().size()));
    return self;
}
Value m_removesuffix(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs args("removesuffix", a, {"suffix"});
    const std::string& p = python_str(args.require(0));
    const std::string& s = self.str();
    if (!p.empty() && p.size() <= s.size() && s.compare(s.size() - p.size(), p.size(), p) == 0)
        return Value::string(self.text().substr(0, s.size() - p.size()));
    return self;
}
Value partition_impl(const Value& self, CallArgs& a, bool reverse) {
    BoundArgs args(reverse ? "rpartition" : "partition", a, {"sep"});
    const Value& sep = args.require(0);
    if (!sep.is_string() || sep.str().empty()) throw_render_error("partition(): the separator must be a non-empty str");
    const std::string& s = self.str();
    const size_t p = reverse ? s.rfind(sep.str()) : s.find(sep.str());
    const Value empty = Value::trusted_string("");
    if (p == std::string::npos)
        return reverse ? Value::list({empty, empty, self}, true) : Value::list({self, empty, empty}, true);
    return Value::list({Value::string(self.text().substr(0, p)), Value::string(self.text().substr(p, p + sep.str().size())),
                        Value::string(self.text().substr(p + sep.str().size(), s.size()))},
                       true);
}
Value m_partition(Interpreter&, const Value& self, CallArgs& a) { return partition_impl(self, a, false); }
Value m_rpartition(Interpreter&, const Value& self, CallArgs& a) { return partition_impl(self, a, true); }

// str.format with "{}", "{0}", "{name}", "!r"/"!s" and no format specs beyond the empty one.
Value m_format(Interpreter& in, const Value& self, CallArgs& a) {
    const std::string& f = self.str();
    std::string out;
    size_t auto_index = 0;
    bool untrusted = self.text().has_untrusted();
    for (size_t i = 0; i < f.size(); ++i) {
        const char c = f[i];
        if (c == '}' ) {
            if (i + 1 < f.size() && f[i + 1] == '}') ++i;
            else throw_render_error("Single '}' encountered in format string");
            out += '}';
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < f.size() && f[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        const size_t close = f.find('}', i);
        if (close == std::string::npos) throw_render_error("Single '{' encountered in format string");
        std::string field = f.substr(i + 1, close - i - 1);
        i = close;
        char conversion = 's';
        if (const size_t bang = field.find('!'); bang != std::string::npos) {
            conversion = bang + 1 < field.size() ? field[bang + 1] : 's';
            field = field.substr(0, bang);
        }
        if (field.find(':') != std::string::npos) throw_render_error("format specs in str.format() are not supported");
        const Value* arg = nullptr;
        if (field.empty()) {
            if (auto_index >= a.positional.size()) throw_render_error("Replacement index " + std::to_string(auto_index) + " out of range");
            arg = &a.positional[auto_index++];
        } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
            const size_t index = std::stoul(field);
            if (index >= a.positional.size()) throw_render_error("Replacement index " + field + " out of range");
            arg = &a.positional[index];
        } else {
            for (const auto& [k, v] : a.keyword)
                if (k == field) arg = &v;
            if (!arg) throw_render_error("KeyError: '" + field + "'");
        }
        untrusted = untrusted || contains_untrusted(*arg);
        out += conversion == 'r' ? python_repr(*arg) : python_str(*arg);
        in.check_string(out.size());
    }
    return Value::string(TrackedText::derived(std::move(out), untrusted));
}

// ---- dict ----

Value m_get(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs args("get", a, {"key", "default"});
    if (const Value* v = self.dict_data().find(args.require(0))) return *v;
    return args.get_or(1, Value::none());
}
Value m_items(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs("items", a, {});
    std::vector<Value> pairs;
    for (const auto& [k, v] : self.dict_data().entries) pairs.push_back(Value::list({k, v}, true));
    in.charge(pairs.size());
    return Value::list(std::move(pairs));
}
Value m_keys(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs("keys", a, {});
    std::vector<Value> keys;
    for (const auto& [k, v] : self.dict_data().entries) keys.push_back(k);
    in.charge(keys.size());
    return Value::list(std::move(keys));
}
Value m_values(Interpreter& in, const Value& self, CallArgs& a) {
    BoundArgs("values", a, {});
    std::vector<Value> values;
    for (const auto& [k, v] : self.dict_data().entries) values.push_back(v);
    in.charge(values.size());
    return Value::list(std::move(values));
}
Value m_copy(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs("copy", a, {});
    return self;  // values are immutable: a copy is the same value
}

// ---- list ----

Value m_list_index(Interpreter&, const Value& self, CallArgs& a) {
    BoundArgs args("index", a, {"value"});
    const auto& items = self.items();
    for (size_t i = 0; i < items.size(); ++i)
        if (values_equal(items[i], args.require(0))) return Value::integer(static_cast<int64_t>(i));
    throw_render_error(python_repr(args.require(0)) + " is not in list");
}

const std::unordered_map<std::string, MethodFn>& string_methods() {
    static const std::unordered_map<std::string, MethodFn> table = {
        {"startswith", m_startswith}, {"endswith", m_endswith}, {"split", m_split}, {"rsplit", m_rsplit},
        {"splitlines", m_splitlines}, {"strip", m_strip}, {"lstrip", m_lstrip}, {"rstrip", m_rstrip},
        {"upper", m_upper}, {"lower", m_lower}, {"title", m_title}, {"capitalize", m_capitalize},
        {"replace", m_replace}, {"find", m_find}, {"rfind", m_rfind}, {"index", m_index}, {"rindex", m_rindex},
        {"count", m_count}, {"join", m_join}, {"isdigit", m_isdigit}, {"isalpha", m_isalpha},
        {"isalnum", m_isalnum}, {"isspace", m_isspace}, {"islower", m_islower}, {"isupper", m_isupper},
        {"removeprefix", m_removeprefix}, {"removesuffix", m_removesuffix}, {"partition", m_partition},
        {"rpartition", m_rpartition}, {"format", m_format}, {"center", m_center}, {"ljust", m_ljust},
        {"rjust", m_rjust}, {"zfill", m_zfill},
    };
    return table;
}

const std::unordered_map<std::string, MethodFn>& dict_methods() {
    static const std::unordered_map<std::string, MethodFn> table = {
        {"get", m_get}, {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"copy", m_copy},
    };
    return table;
}

const std::unordered_map<std::string, MethodFn>& list_methods() {
    static const std::unordered_map<std::string, MethodFn> table = {{"index", m_list_index}, {"count", m_count}};
    return table;
}

bool is_mutating(const Value& obj, const std::string& name) {
    static constexpr const char* dict_mutators[] = {"clear", "pop", "popitem", "setdefault", "update"};
    static constexpr const char* list_mutators[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};
    if (obj.is_dict()) return std::any_of(std::begin(dict_mutators), std::end(dict_mutators), [&](const char* m) { return name == m; });
    if (obj.is_list() && !obj.is_tuple())
        return std::any_of(std::begin(list_mutators), std::end(list_mutators), [&](const char* m) { return name == m; });
    return false;
}

}  // namespace

bool find_method(const Value& obj, const std::string& name, Value& method) {
    const std::unordered_map<std::string, MethodFn>* table = nullptr;
    if (obj.is_string()) table = &string_methods();
    else if (obj.is_dict()) table = &dict_methods();
    else if (obj.is_list()) table = &list_methods();
    if (!table) return false;
    const auto it = table->find(name);
    if (it == table->end()) {
        if (!is_mutating(obj, name)) return false;
        method = Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.");
        return true;
    }
    auto fn = std::make_shared<Callable>();
    fn->name = name;
    const MethodFn impl = it->second;
    fn->native = [self = obj, impl](Interpreter& in, CallArgs& args) { return impl(in, self, args); };
    method = Value::callable(std::move(fn));
    return true;
}

}  // namespace strata::jinja
