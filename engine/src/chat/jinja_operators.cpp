// Arithmetic, `in`, slicing and iteration with Python's semantics: int vs float results,
// floor division and modulo rounding toward negative infinity, str/list repetition and
// concatenation, Markup escaping on `+`, slices with negative indexes and steps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "chat/jinja_error.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

[[noreturn]] void unsupported(Op op, const Value& a, const Value& b) {
    if (a.is_undefined()) throw_undefined(a);
    if (b.is_undefined()) throw_undefined(b);
    if (op == Op::add && (a.is_string() || a.is_list()))
        throw_render_error("can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
    throw_render_error(std::string("unsupported operand type(s) for ") + op_text(op) + ": '" + type_name(a) +
                       "' and '" + type_name(b) + "'");
}

int64_t checked(bool overflow, int64_t v) {
    if (overflow) throw_render_error("integer result too large (Strata's templates use 64-bit integers)");
    return v;
}

int64_t int_floordiv(int64_t a, int64_t b) {
    if (b == 0) throw_render_error("integer division or modulo by zero");
    if (a == INT64_MIN && b == -1) throw_render_error("integer result too large");
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

int64_t int_mod(int64_t a, int64_t b) {
    if (b == 0) throw_render_error("integer modulo by zero");
    if (b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

// Python's float divmod.
void float_divmod(double a, double b, double& div, double& mod) {
    if (b == 0.0) throw_render_error("float divmod by zero");
    mod = std::fmod(a, b);
    div = (a - mod) / b;
    if (mod != 0.0) {
        if ((b < 0) != (mod < 0)) {
            mod += b;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, b);
    }
    if (div != 0.0) {
        const double floordiv = std::floor(div);
        if (div - floordiv > 0.5) div = floordiv + 1.0;
        else div = floordiv;
    } else {
        div = std::copysign(0.0, a / b);
    }
}

Value repeat(Interpreter& in, const Value& seq, int64_t n) {
    if (n <= 0) return seq.is_string() ? Value::string({}, seq.is_markup()) : Value::list({}, seq.is_tuple());
    const auto count = static_cast<uint64_t>(n);
    const size_t unit = seq.is_string() ? seq.str().size() : seq.items().size();
    const size_t total = (unit != 0 && count > SIZE_MAX / unit) ? SIZE_MAX : unit * static_cast<size_t>(count);
    if (seq.is_string()) {
        in.check_string(total);
        if (!seq.text().has_untrusted()) {  // the common case, without per-copy range bookkeeping
            std::string out;
            out.reserve(total);
            for (uint64_t i = 0; i < count; ++i) out += seq.str();
            return Value::string(TrackedText(std::move(out)), seq.is_markup());
        }
        TrackedText out;
        for (uint64_t i = 0; i < count && unit != 0; ++i) out.append(seq.text());
        return Value::string(std::move(out), seq.is_markup());
    }
    in.check_list(total);
    in.charge(total);
    std::vector<Value> items;
    for (uint64_t i = 0; i < count; ++i) items.insert(items.end(), seq.items().begin(), seq.items().end());
    return Value::list(std::move(items), seq.is_tuple());
}

// printf-style `str % args` (the common conversions).
std::string percent_format(const std::string& fmt, const Value& args) {
    // As Python: a tuple gives the arguments; anything else, a dict included, is the one
    // argument (a dict also serves %(name)s lookups, and may go unused).
    std::vector<Value> positional;
    if (args.is_tuple()) positional = args.items();
    else positional.push_back(args);
    size_t next = 0;
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size()) throw_render_error("incomplete format");
        Value v;
        bool have = false;
        if (fmt[i] == '(') {
            const size_t close = fmt.find(')', i);
            if (close == std::string::npos || !args.is_dict()) throw_render_error("format requires a mapping");
            const Value* found = args.dict_data().find(fmt.substr(i + 1, close - i - 1));
            if (!found) throw_render_error("KeyError: '" + fmt.substr(i + 1, close - i - 1) + "'");
            v = *found;
            have = true;
            next = positional.size();  // as CPython: no positional argument after a %(name)
            i = close + 1;
        }
        std::string spec = "%";
        while (i < fmt.size() && std::string_view("-+ #0123456789.").find(fmt[i]) != std::string_view::npos) spec += fmt[i++];
        if (i >= fmt.size()) throw_render_error("incomplete format");
        const char conv = fmt[i];
        if (conv == '%') {
            out += '%';
            continue;
        }
        if (!have) {
            if (next >= positional.size()) throw_render_error("not enough arguments for format string");
            v = positional[next++];
        }
        char buf[512];
        switch (conv) {
            case 's':
            case 'r':
            case 'c': {
                std::string text;
                if (conv == 'c') {
                    if (v.is_string()) text = v.str();
                    else if (v.is_int() && v.as_int() >= 0 && v.as_int() <= 0x10FFFF) append_utf8(text, static_cast<uint32_t>(v.as_int()));
                    else throw_render_error("%c requires an int or a char");
                } else {
                    text = conv == 's' ? python_str(v) : python_repr(v);
                }
                // Flags, width and precision on strings: "-" pads right, ".N" truncates.
                const bool left = spec.find('-') != std::string::npos;
                const size_t dot = spec.find('.');
                const std::string width_digits = spec.substr(1, dot == std::string::npos ? std::string::npos : dot - 1);
                size_t width = 0;
                for (char d : width_digits)
                    if (d >= '0' && d <= '9') width = std::min<size_t>(width * 10 + static_cast<size_t>(d - '0'), 4096);
                if (dot != std::string::npos) {
                    const size_t precision = std::strtoul(spec.c_str() + dot + 1, nullptr, 10);
                    const auto offsets = code_point_offsets(text);
                    if (precision + 1 < offsets.size()) text.resize(offsets[precision]);
                }
                const size_t len = count_code_points(text);
                const std::string pad(width > len ? width - len : 0, ' ');
                out += left ? text + pad : pad + text;
                break;
            }
            case 'd':
            case 'i':
                if (!v.is_number()) throw_render_error("%d format: a real number is required, not " + type_name(v));
                std::snprintf(buf, sizeof buf, (spec + "lld").c_str(),
                              static_cast<long long>(v.is_float() ? std::trunc(v.as_double()) : v.as_int()));
                out += buf;
                break;
            case 'f':
            case 'F':
            case 'e':
            case 'g':
                if (!v.is_number()) throw_render_error("must be real number, not " + type_name(v));
                std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.as_double());
                out += buf;
                break;
            case 'x':
            case 'o':
                if (!v.is_int() && !v.is_bool()) throw_render_error("%x format: an integer is required");
                std::snprintf(buf, sizeof buf, (spec + "ll" + conv).c_str(), static_cast<long long>(v.as_int()));
                out += buf;
                break;
            default: throw_render_error(std::string("unsupported format character '") + conv + "'");
        }
    }
    if (!args.is_dict() && next < positional.size()) throw_render_error("not all arguments converted during string formatting");
    return out;
}

}  // namespace

Value unary_op(Op op, const Value& a) {
    if (a.is_undefined()) throw_undefined(a);
    if (a.is_float()) return Value::floating(op == Op::neg ? -a.as_double() : a.as_double());
    if (a.is_int() || a.is_bool()) {
        if (op == Op::neg && a.as_int() == INT64_MIN) throw_render_error("integer result too large");
        return Value::integer(op == Op::neg ? -a.as_int() : a.as_int());
    }
    throw_render_error(std::string("bad operand type for unary ") + op_text(op) + ": '" + type_name(a) + "'");
}

Value binary_op(Interpreter& in, Op op, const Value& a, const Value& b) {
    const bool numbers = a.is_number() && b.is_number();
    const bool floats = numbers && (a.is_float() || b.is_float());
    switch (op) {
        case Op::add:
            if (floats) return Value::floating(a.as_double() + b.as_double());
            if (numbers) {
                int64_t r = 0;
                const bool overflow = __builtin_add_overflow(a.as_int(), b.as_int(), &r);
                return Value::integer(checked(overflow, r));
            }
            if (a.is_string() && b.is_string()) {
                in.check_string(a.str().size() + b.str().size());
                if (a.is_markup() == b.is_markup()) {
                    TrackedText out = a.text();
                    out.append(b.text());
                    return Value::string(std::move(out), a.is_markup());
                }
                // Markup + str escapes the str (and str + Markup too, via Markup.__radd__).
                const Value& plain = a.is_markup() ? b : a;
                const TrackedText escaped = TrackedText::derived(html_escape(plain.str()), plain.text().has_untrusted());
                TrackedText out = a.is_markup() ? a.text() : escaped;
                out.append(a.is_markup() ? escaped : b.text());
                return Value::string(std::move(out), true);
            }
            if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
                in.check_list(a.items().size() + b.items().size());
                std::vector<Value> items = a.items();
                items.insert(items.end(), b.items().begin(), b.items().end());
                return Value::list(std::move(items), a.is_tuple());
            }
            unsupported(op, a, b);
        case Op::sub:
            if (floats) return Value::floating(a.as_double() - b.as_double());
            if (numbers) {
                int64_t r = 0;
                const bool overflow = __builtin_sub_overflow(a.as_int(), b.as_int(), &r);
                return Value::integer(checked(overflow, r));
            }
            unsupported(op, a, b);
        case Op::mul:
            if (floats) return Value::floating(a.as_double() * b.as_double());
            if (numbers) {
                int64_t r = 0;
                const bool overflow = __builtin_mul_overflow(a.as_int(), b.as_int(), &r);
                return Value::integer(checked(overflow, r));
            }
            if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(in, a, b.as_int());
            if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(in, b, a.as_int());
            unsupported(op, a, b);
        case Op::div:
            if (numbers) {
                if (b.as_double() == 0.0) throw_render_error("division by zero");
                return Value::floating(a.as_double() / b.as_double());
            }
            unsupported(op, a, b);
        case Op::floordiv:
            if (floats) {
                double div, mod;
                float_divmod(a.as_double(), b.as_double(), div, mod);
                return Value::floating(div);
            }
            if (numbers) return Value::integer(int_floordiv(a.as_int(), b.as_int()));
            unsupported(op, a, b);
        case Op::mod:
            if (floats) {
                double div, mod;
                float_divmod(a.as_double(), b.as_double(), div, mod);
                return Value::floating(mod);
            }
            if (numbers) return Value::integer(int_mod(a.as_int(), b.as_int()));
            if (a.is_string()) {
                std::string s = percent_format(a.str(), b);
                in.check_string(s.size());
                return Value::string(TrackedText::derived(std::move(s), a.text().has_untrusted() || contains_untrusted(b)));
            }
            unsupported(op, a, b);
        case Op::pow:
            if (floats || (numbers && b.as_int() < 0)) {
                if (a.as_double() == 0.0 && b.as_double() < 0) throw_render_error("0.0 cannot be raised to a negative power");
                return Value::floating(std::pow(a.as_double(), b.as_double()));
            }
            if (numbers) {
                int64_t result = 1, base = a.as_int(), e = b.as_int();
                while (e > 0) {
                    if ((e & 1) && __builtin_mul_overflow(result, base, &result)) checked(true, 0);
                    e >>= 1;
                    if (e && __builtin_mul_overflow(base, base, &base)) checked(true, 0);
                }
                return Value::integer(result);
            }
            unsupported(op, a, b);
        default: break;
    }
    throw_render_error("unknown operator");
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
        case ValueKind::undefined: return false;
        case ValueKind::string:
            if (!item.is_string())
                throw_render_error("'in <string>' requires string as left operand, not " + type_name(item));
            return container.str().find(item.str()) != std::string::npos;
        case ValueKind::list:
            for (const auto& v : container.items())
                if (values_equal(v, item)) return true;
            return false;
        case ValueKind::dict: return container.dict_data().find(item) != nullptr;
        default: throw_render_error("argument of type '" + type_name(container) + "' is not iterable");
    }
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind()) {
        case ValueKind::undefined: return {};
        case ValueKind::list: return v.items();
        case ValueKind::dict: {
            std::vector<Value> keys;
            keys.reserve(v.dict_data().entries.size());
            for (const auto& [k, value] : v.dict_data().entries) keys.push_back(k);
            return keys;
        }
        case ValueKind::string: {
            std::vector<Value> chars;
            const auto offsets = code_point_offsets(v.str());
            for (size_t i = 0; i + 1 < offsets.size(); ++i)
                chars.push_back(Value::string(v.text().substr(offsets[i], offsets[i + 1])));
            return chars;
        }
        default: throw_render_error("'" + type_name(v) + "' object is not iterable");
    }
}

Value slice_value(Interpreter& in, const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
    if (obj.is_undefined()) throw_undefined(obj);
    if (!obj.is_string() && !obj.is_list()) throw_render_error("'" + type_name(obj) + "' object is not subscriptable");
    auto index = [](const Value& v) -> std::optional<int64_t> {
        if (v.is_none()) return std::nullopt;
        if (!v.is_int() && !v.is_bool()) throw_render_error("slice indices must be integers or None");
        return v.as_int();
    };
    const auto step_opt = index(step_v);
    const int64_t step = step_opt.value_or(1);
    if (step == 0) throw_render_error("slice step cannot be zero");
    std::vector<size_t> offsets;
    if (obj.is_string()) offsets = code_point_offsets(obj.str());
    const int64_t len = obj.is_string() ? static_cast<int64_t>(offsets.size()) - 1 : static_cast<int64_t>(obj.items().size());
    const int64_t lower = step > 0 ? 0 : -1;
    const int64_t upper = step > 0 ? len : len - 1;
    auto clamp = [&](std::optional<int64_t> v, int64_t fallback) {
        if (!v) return fallback;
        int64_t x = *v;
        if (x < 0) {
            x += len;
            if (x < lower) x = lower;
        } else if (x > upper) {
            x = upper;
        }
        return x;
    };
    const int64_t start = clamp(index(start_v), step > 0 ? lower : upper);
    const int64_t stop = clamp(index(stop_v), step > 0 ? upper : lower);
    if (obj.is_string()) {
        if (step == 1) return Value::string(obj.text().substr(offsets[static_cast<size_t>(start)],
                                                              offsets[static_cast<size_t>(std::max(start, stop))]));
        TrackedText out;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
            out.append(obj.text().substr(offsets[static_cast<size_t>(i)], offsets[static_cast<size_t>(i) + 1]));
        return Value::string(std::move(out));
    }
    std::vector<Value> items;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.push_back(obj.items()[static_cast<size_t>(i)]);
    in.charge(items.size());
    return Value::list(std::move(items), obj.is_tuple());
}

}  // namespace strata::jinja
