// Jinja's built-in filters that chat templates use, with transformers' `tojson`
// (json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <unordered_map>

#include "chat/jinja_call_args.h"
#include "chat/jinja_error.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_string_ops.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

// Jinja's attribute getter for `attribute=` ("a.b.0": dots walk, digits index).
Value get_path(Interpreter& in, const Value& obj, const std::string& path) {
    Value item = obj;
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        item = digits && part.size() < 18 ? in.get_item(item, Value::integer(std::atoll(part.c_str())))
                                          : in.get_item(item, Value::trusted_string(part));
        if (dot == std::string::npos) return item;
        start = dot + 1;
    }
}

std::vector<Value> sequence_of(Interpreter& in, const Value& v) {
    std::vector<Value> items = iterate(v);
    in.charge(items.size());
    return items;
}

Value lowered_for_compare(const Value& v, bool case_sensitive) {
    if (case_sensitive || !v.is_string()) return v;
    return Value::trusted_string(to_lower(v.str()));
}

size_t python_len(const Value& v) {
    switch (v.kind()) {
        case ValueKind::undefined: return 0;
        case ValueKind::string: return count_code_points(v.str());
        case ValueKind::list: return v.items().size();
        case ValueKind::dict: return v.dict_data().entries.size();
        default: throw_render_error("object of type '" + type_name(v) + "' has no len()");
    }
}

const std::string& require_string(const Value& v, const char* what) {
    if (!v.is_string()) throw_render_error(std::string(what) + " must be a string, not " + type_name(v));
    return v.str();
}

// ---- string filters ----

Value f_trim(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("trim", a, {"chars"});
    const Value* chars = args.string_or_null(0);
    return Value::string(strip_text(to_text(v), chars ? &chars->str() : nullptr, true, true), v.is_markup());
}
Value f_upper(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("upper", a, {});
    return Value::string(TrackedText::derived(to_upper(python_str(v)), contains_untrusted(v)));
}
Value f_lower(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("lower", a, {});
    return Value::string(TrackedText::derived(to_lower(python_str(v)), contains_untrusted(v)));
}
Value f_capitalize(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("capitalize", a, {});
    return Value::string(TrackedText::derived(python_capitalize(python_str(v)), contains_untrusted(v)));
}
Value f_title(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("title", a, {});
    return Value::string(TrackedText::derived(jinja_title(python_str(v)), contains_untrusted(v)));
}
Value f_string(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("string", a, {});
    return Value::string(to_text(v), v.is_markup());
}
Value f_safe(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("safe", a, {});
    return Value::string(to_text(v), true);
}
Value f_escape(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("escape", a, {});
    if (v.is_markup()) return v;
    return Value::string(TrackedText::derived(html_escape(python_str(v)), contains_untrusted(v)), true);
}
Value f_center(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("center", a, {"width"});
    const std::string text = python_str(v);
    const int64_t width = args.int_or(0, 80);
    const auto len = static_cast<int64_t>(count_code_points(text));
    if (width <= len) return Value::string(to_text(v), v.is_markup());
    const int64_t margin = width - len;
    const int64_t left = margin / 2 + (margin & width & 1);  // Python's str.center
    std::string out(static_cast<size_t>(left), ' ');
    out += text;
    out.append(static_cast<size_t>(margin - left), ' ');
    return Value::string(TrackedText::derived(std::move(out), contains_untrusted(v)));
}
// truncate(length=255, killwords=False, end='...', leeway=5): jinja2's rules, in code points.
Value f_truncate(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("truncate", a, {"length", "killwords", "end", "leeway"});
    const std::string& s = require_string(v, "truncate(): the value");
    const int64_t length = args.int_or(0, 255);
    const bool killwords = args.bool_or(1, false);
    const Value* end_v = args.string_or_null(2);
    const std::string end = end_v ? end_v->str() : "...";
    const int64_t leeway = args.int_or(3, 5);
    const auto end_len = static_cast<int64_t>(count_code_points(end));
    if (length < end_len) throw_render_error("expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
    if (leeway < 0) throw_render_error("expected leeway >= 0, got " + std::to_string(leeway));
    const auto offsets = code_point_offsets(s);
    const auto n = static_cast<int64_t>(offsets.size()) - 1;
    if (n <= length + leeway) return v;
    std::string head = s.substr(0, offsets[static_cast<size_t>(std::min(length - end_len, n))]);
    if (!killwords) {
        const size_t space = head.rfind(' ');
        if (space != std::string::npos) head.resize(space);
    }
    return Value::string(TrackedText::derived(head + end, contains_untrusted(v)));
}
Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("replace", a, {"old", "new", "count"});
    const int64_t count = args.int_or(2, -1);
    return Value::string(replace_text(to_text(v), python_str(args.require(0)), to_text(args.require(1)), count,
                                      in.max_string_bytes()));
}
Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("indent", a, {"width", "first", "blank"});
    const Value width = args.get_or(0, Value::integer(4));
    TrackedText indention;
    if (width.is_string()) indention = width.text();
    else indention = TrackedText(std::string(static_cast<size_t>(std::clamp<int64_t>(width.as_int(), 0, 1 << 16)), ' '));
    const bool first = args.bool_or(1, false);
    const bool blank = args.bool_or(2, false);
    TrackedText s = to_text(v);
    s.append("\n");  // Jinja appends a newline so a trailing one survives splitlines()
    const auto lines = split_lines(s);
    TrackedText out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            out.append("\n");
            if (blank || !lines[i].empty()) out.append(indention);
        }
        out.append(lines[i]);
        in.check_string(out.size());
    }
    if (first) {
        TrackedText prefixed = indention;
        prefixed.append(out);
        return Value::string(std::move(prefixed));
    }
    return Value::string(std::move(out));
}
Value f_format(Interpreter& in, const Value& v, CallArgs& a) {
    Value args_value;
    if (!a.keyword.empty()) {
        DictData d;
        for (auto& [k, val] : a.keyword) d.set(Value::trusted_string(k), val);
        args_value = Value::dict(std::move(d));
    } else {
        args_value = Value::list(a.positional, true);
    }
    return binary_op(in, Op::mod, Value::string(to_text(v)), args_value);
}
Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
    JsonOptions o;
    o.ensure_ascii = args.bool_or(0, false);
    if (const Value* indent = args.get(1); indent && !indent->is_none()) {
        if (indent->is_string()) o.indent = indent->str();
        else if (indent->is_int() || indent->is_bool()) o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(indent->as_int(), 0, 256)), ' ');
        else throw_render_error("tojson(): indent must be an integer or a string");
        o.item_separator = ",";
    }
    if (const Value* sep = args.get(2); sep && !sep->is_none()) {
        if (!sep->is_list() || sep->items().size() != 2 || !sep->items()[0].is_string() || !sep->items()[1].is_string())
            throw_render_error("tojson(): separators must be a pair of strings");
        o.item_separator = sep->items()[0].str();
        o.key_separator = sep->items()[1].str();
    }
    o.sort_keys = args.bool_or(3, false);
    std::string json = to_json(v, o);
    in.check_string(json.size());
    return Value::string(TrackedText::derived(std::move(json), contains_untrusted(v)));
}

// ---- sequence filters ----

Value f_length(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("length", a, {});
    return Value::integer(static_cast<int64_t>(python_len(v)));
}
Value f_list(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs("list", a, {});
    return Value::list(sequence_of(in, v));
}
// batch(linecount, fill_with=None): lists of `linecount` items, the last one filled up.
Value f_batch(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("batch", a, {"linecount", "fill_with"});
    const int64_t count = args.int_or(0, 0);
    if (!args.has(0)) throw_render_error("batch() missing required argument 'linecount'");
    if (count <= 0) throw_render_error("batch(): 'linecount' must be positive");
    const auto items = sequence_of(in, v);
    in.charge(items.size());
    std::vector<Value> out;
    for (size_t i = 0; i < items.size(); i += static_cast<size_t>(count)) {
        const size_t end = std::min(items.size(), i + static_cast<size_t>(count));
        std::vector<Value> row(items.begin() + static_cast<long>(i), items.begin() + static_cast<long>(end));
        if (const Value* fill = args.get(1); fill && !fill->is_none())
            while (row.size() < static_cast<size_t>(count)) row.push_back(*fill);
        out.push_back(Value::list(std::move(row)));
    }
    in.check_list(out.size());
    return Value::list(std::move(out));
}
// slice(slices, fill_with=None): `slices` columns, the first ones one longer; the shorter ones
// get `fill_with` appended when given.
Value f_slice(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("slice", a, {"slices", "fill_with"});
    if (!args.has(0)) throw_render_error("slice() missing required argument 'slices'");
    const int64_t slices = args.int_or(0, 0);
    if (slices <= 0) throw_render_error("slice(): 'slices' must be positive");
    const auto items = sequence_of(in, v);
    in.check_list(static_cast<size_t>(std::min<int64_t>(slices, int64_t(1) << 40)));
    in.charge(items.size() + static_cast<size_t>(slices));
    const size_t n = items.size();
    const size_t per = n / static_cast<size_t>(slices);
    const size_t extra = n % static_cast<size_t>(slices);
    const Value* fill = args.get(1);
    std::vector<Value> out;
    size_t start = 0;
    for (size_t k = 0; k < static_cast<size_t>(slices); ++k) {
        const size_t len = per + (k < extra ? 1 : 0);
        std::vector<Value> column(items.begin() + static_cast<long>(start), items.begin() + static_cast<long>(start + len));
        if (fill && !fill->is_none() && k >= extra) column.push_back(*fill);
        out.push_back(Value::list(std::move(column)));
        start += len;
    }
    return Value::list(std::move(out));
}
Value f_first(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs("first", a, {});
    if (v.is_list()) return v.items().empty() ? Value::undefined("No first item, sequence was empty.") : v.items().front();
    const auto items = sequence_of(in, v);
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}
Value f_last(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs("last", a, {});
    if (v.is_list()) return v.items().empty() ? Value::undefined("No last item, sequence was empty.") : v.items().back();
    const auto items = sequence_of(in, v);
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}
Value f_reverse(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs("reverse", a, {});
    auto items = sequence_of(in, v);
    std::reverse(items.begin(), items.end());
    if (!v.is_string()) return Value::list(std::move(items));
    TrackedText out;
    for (const auto& c : items) out.append(c.text());
    return Value::string(std::move(out));
}
Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("join", a, {"d", "attribute"});
    const TrackedText sep = args.has(0) ? to_text(*args.get(0)) : TrackedText();
    const Value* attribute = args.get(1);
    TrackedText out;
    bool first = true;
    for (const auto& item : sequence_of(in, v)) {
        if (!first) out.append(sep);
        first = false;
        out.append(to_text(attribute && !attribute->is_none() ? get_path(in, item, python_str(*attribute)) : item));
        in.check_string(out.size());
    }
    return Value::string(std::move(out));
}
Value f_default(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("default", a, {"default_value", "boolean"});
    const bool boolean = args.bool_or(1, false);
    if (v.is_undefined() || (boolean && !v.truthy())) return args.get_or(0, Value::trusted_string(""));
    return v;
}
Value f_items(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("items", a, {});
    if (v.is_undefined()) return Value::list({});
    if (!v.is_dict()) throw_render_error("Can only get item pairs from a mapping.");
    std::vector<Value> pairs;
    for (const auto& [k, val] : v.dict_data().entries) pairs.push_back(Value::list({k, val}, true));
    return Value::list(std::move(pairs));
}
Value f_dictsort(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("dictsort", a, {"case_sensitive", "by", "reverse"});
    if (!v.is_dict()) throw_render_error("dictsort(): expected a mapping, not " + type_name(v));
    const bool case_sensitive = args.bool_or(0, false);
    const Value* by = args.string_or_null(1);
    const bool by_value = by && by->str() == "value";
    if (by && !by_value && by->str() != "key") throw_render_error("You can only sort by either \"key\" or \"value\"");
    const bool reverse = args.bool_or(2, false);
    std::vector<Value> pairs;
    for (const auto& [k, val] : v.dict_data().entries) pairs.push_back(Value::list({k, val}, true));
    in.charge(pairs.size());
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
        const size_t i = by_value ? 1 : 0;
        const Value kx = lowered_for_compare(x.items()[i], case_sensitive);
        const Value ky = lowered_for_compare(y.items()[i], case_sensitive);
        return reverse ? value_less(ky, kx, "<") : value_less(kx, ky, "<");
    });
    return Value::list(std::move(pairs));
}
Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("sort", a, {"reverse", "case_sensitive", "attribute"});
    const bool reverse = args.bool_or(0, false);
    const bool case_sensitive = args.bool_or(1, false);
    const Value* attribute = args.get(2);
    auto items = sequence_of(in, v);
    auto key = [&](const Value& item) {
        return lowered_for_compare(attribute && !attribute->is_none() ? get_path(in, item, python_str(*attribute)) : item,
                                   case_sensitive);
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        return reverse ? value_less(key(y), key(x), "<") : value_less(key(x), key(y), "<");
    });
    return Value::list(std::move(items));
}
Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("unique", a, {"case_sensitive", "attribute"});
    const bool case_sensitive = args.bool_or(0, false);
    const Value* attribute = args.get(1);
    std::vector<Value> kept, seen;
    for (const auto& item : sequence_of(in, v)) {
        const Value key = lowered_for_compare(
            attribute && !attribute->is_none() ? get_path(in, item, python_str(*attribute)) : item, case_sensitive);
        in.charge(seen.size() / 64 + 1);
        if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, key); })) continue;
        seen.push_back(key);
        kept.push_back(item);
    }
    return Value::list(std::move(kept));
}
Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
    BoundArgs args(want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
    const bool case_sensitive = args.bool_or(0, false);
    const Value* attribute = args.get(1);
    const auto items = sequence_of(in, v);
    if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
    auto key = [&](const Value& item) {
        return lowered_for_compare(attribute && !attribute->is_none() ? get_path(in, item, python_str(*attribute)) : item,
                                   case_sensitive);
    };
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
        const bool better = want_max ? value_less(key(items[best]), key(items[i]), ">") : value_less(key(items[i]), key(items[best]), "<");
        if (better) best = i;
    }
    return items[best];
}
Value f_min(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, false); }
Value f_max(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, true); }
Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("sum", a, {"attribute", "start"});
    const Value* attribute = args.get(0);
    Value total = args.get_or(1, Value::integer(0));
    for (const auto& item : sequence_of(in, v))
        total = binary_op(in, Op::add, total, attribute && !attribute->is_none() ? get_path(in, item, python_str(*attribute)) : item);
    return total;
}
Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
    std::vector<Value> out;
    const auto items = sequence_of(in, v);
    const auto attr = std::find_if(a.keyword.begin(), a.keyword.end(), [](const auto& kv) { return kv.first == "attribute"; });
    if (attr != a.keyword.end()) {
        const std::string path = python_str(attr->second);
        const Value* fallback = nullptr;
        for (const auto& [k, val] : a.keyword) {
            if (k == "default") fallback = &val;
            else if (k != "attribute") throw_render_error("map(): unexpected keyword argument '" + k + "'");
        }
        for (const auto& item : items) {
            Value got = get_path(in, item, path);
            out.push_back(fallback && got.is_undefined() ? *fallback : std::move(got));
        }
        return Value::list(std::move(out));
    }
    if (a.positional.empty()) throw_render_error("map(): expected a filter name or attribute=");
    const std::string name = require_string(a.positional[0], "map(): the filter name");
    if (!is_known_filter(name)) throw_render_error("no filter named '" + name + "'");
    for (const auto& item : items) {
        CallArgs rest;
        rest.positional.assign(a.positional.begin() + 1, a.positional.end());
        rest.keyword = a.keyword;
        out.push_back(apply_filter(in, name, item, rest));
    }
    return Value::list(std::move(out));
}
Value select_like(Interpreter& in, const Value& v, CallArgs& a, bool by_attribute, bool keep_matches) {
    std::vector<Value> out;
    size_t next = 0;
    std::string attribute;
    if (by_attribute) {
        if (a.positional.empty()) throw_render_error("selectattr()/rejectattr(): missing the attribute name");
        attribute = python_str(a.positional[next++]);
    }
    std::string test;
    if (next < a.positional.size()) test = require_string(a.positional[next++], "the test name");
    if (!test.empty() && !is_known_test(test)) throw_render_error("no test named '" + test + "'");
    for (const auto& item : sequence_of(in, v)) {
        const Value subject = by_attribute ? get_path(in, item, attribute) : item;
        bool ok;
        if (test.empty()) {
            ok = subject.truthy();
        } else {
            CallArgs rest;
            rest.positional.assign(a.positional.begin() + static_cast<std::ptrdiff_t>(next), a.positional.end());
            rest.keyword = a.keyword;
            ok = apply_test(in, test, subject, rest);
        }
        if (ok == keep_matches) out.push_back(item);
    }
    return Value::list(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, CallArgs& a) { return select_like(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) { return select_like(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_like(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_like(in, v, a, true, false); }
Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
    BoundArgs args("attr", a, {"name"});
    const std::string name = python_str(args.require(0));
    // Python getattr only: a dict's keys are not attributes here (unlike `.` in templates).
    if (v.is_dict() || v.is_list() || v.is_string()) {
        Value method;
        if (find_method(v, name, method)) return method;
        return Value::undefined("'" + type_name(v) + " object' has no attribute '" + name + "'");
    }
    return in.get_attribute(v, name);
}

// ---- numbers ----

std::optional<double> parse_python_float(std::string s) {
    std::string t;
    for (char c : s)
        if (c != '_') t += c;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    size_t b = 0;
    while (b < t.size() && std::isspace(static_cast<unsigned char>(t[b]))) ++b;
    t = t.substr(b);
    if (t.empty()) return std::nullopt;
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (end != t.c_str() + t.size()) return std::nullopt;
    return d;
}

Value f_int(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("int", a, {"default", "base"});
    const Value fallback = args.get_or(0, Value::integer(0));
    const int64_t base = args.int_or(1, 10);
    if (v.is_int() || v.is_bool()) return Value::integer(v.as_int());
    if (v.is_float()) {
        if (!std::isfinite(v.as_double()) || std::fabs(v.as_double()) > 9.2e18) return fallback;
        return Value::integer(static_cast<int64_t>(std::trunc(v.as_double())));
    }
    if (v.is_string()) {
        std::string t;
        for (char c : v.str())
            if (c != '_' && !std::isspace(static_cast<unsigned char>(c))) t += c;
        if (!t.empty() && base >= 2 && base <= 36) {
            char* end = nullptr;
            errno = 0;
            const long long n = std::strtoll(t.c_str(), &end, static_cast<int>(base));
            if (end == t.c_str() + t.size() && errno == 0) return Value::integer(n);
        }
        if (const auto d = parse_python_float(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18)
            return Value::integer(static_cast<int64_t>(std::trunc(*d)));
    }
    return fallback;
}
Value f_float(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("float", a, {"default"});
    const Value fallback = args.get_or(0, Value::floating(0.0));
    if (v.is_number()) return Value::floating(v.as_double());
    if (v.is_string())
        if (const auto d = parse_python_float(v.str())) return Value::floating(*d);
    return fallback;
}
Value f_abs(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("abs", a, {});
    if (v.is_float()) return Value::floating(std::fabs(v.as_double()));
    if (v.is_int() || v.is_bool()) {
        if (v.as_int() == INT64_MIN) throw_render_error("integer result too large");
        return Value::integer(std::llabs(v.as_int()));
    }
    throw_render_error("bad operand type for abs(): '" + type_name(v) + "'");
}
Value f_round(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs args("round", a, {"precision", "method"});
    const int64_t precision = args.int_or(0, 0);
    const Value* method = args.string_or_null(1);
    const std::string m = method ? method->str() : "common";
    if (!v.is_number()) throw_render_error("round(): expected a number, not " + type_name(v));
    if (m == "common" && !v.is_float()) return Value::integer(v.as_int());  // round(int, n) stays an int
    if (m == "common" && precision >= 0 && precision <= 340) {
        // Python's round(x, n) rounds the double's exact decimal value (half to even on exact
        // ties), so round(2.675, 2) is 2.67 (2.675 is 2.67499999...). printf does the same on
        // the exact value; scaling by 10**n first would round 267.49999... up to 268.
        const int digits = static_cast<int>(precision);
        std::string buf(static_cast<size_t>(std::snprintf(nullptr, 0, "%.*f", digits, v.as_double())) + 1, '\0');
        std::snprintf(buf.data(), buf.size(), "%.*f", digits, v.as_double());
        return Value::floating(std::strtod(buf.c_str(), nullptr));
    }
    const double scale = std::pow(10.0, static_cast<double>(precision));
    const double x = v.as_double() * scale;
    double r;
    if (m == "common") r = std::nearbyint(x);  // Python rounds half to even
    else if (m == "ceil") r = std::ceil(x);
    else if (m == "floor") r = std::floor(x);
    else throw_render_error("method must be 'common', 'ceil' or 'floor'");
    return Value::floating(r / scale);
}
Value f_wordcount(Interpreter&, const Value& v, CallArgs& a) {
    BoundArgs("wordcount", a, {});
    int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : python_str(v)) {
        const bool word = std::isalnum(c) || c == '_' || c >= 0x80;
        if (word && !in_word) ++n;
        in_word = word;
    }
    return Value::integer(n);
}

const std::unordered_map<std::string, FilterFn>& filter_table() {
    // Built once, then only read (no mutable global state).
    static const std::unordered_map<std::string, FilterFn> table = {
        {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize}, {"center", f_center}, {"count", f_length},
        {"d", f_default}, {"default", f_default}, {"dictsort", f_dictsort}, {"e", f_escape},
        {"escape", f_escape}, {"first", f_first}, {"float", f_float}, {"format", f_format},
        {"indent", f_indent}, {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last},
        {"length", f_length}, {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max},
        {"min", f_min}, {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
        {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select}, {"slice", f_slice},
        {"selectattr", f_selectattr}, {"sort", f_sort}, {"string", f_string}, {"sum", f_sum},
        {"title", f_title}, {"tojson", f_tojson}, {"trim", f_trim}, {"truncate", f_truncate}, {"unique", f_unique},
        {"upper", f_upper}, {"wordcount", f_wordcount},
    };
    return table;
}

}  // namespace

bool is_known_filter(const std::string& name) { return filter_table().count(name) != 0; }

Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args) {
    const auto it = filter_table().find(name);
    if (it == filter_table().end()) throw_render_error("no filter named '" + name + "'");
    return it->second(in, operand, args);
}

}  // namespace strata::jinja
