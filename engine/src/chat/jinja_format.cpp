#include "chat/jinja_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja_error.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

void check_depth(int depth) {
    if (depth > k_max_value_depth)
        throw_limit_error("value nested too deeply (more than " + std::to_string(k_max_value_depth) + " levels)");
}

void append_hex(std::string& out, uint32_t value, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*x", digits, value);
    out += buf;
}

}  // namespace

std::string python_float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
    // Shortest round-trip digits, as Python's repr picks them.
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    std::string sign;
    if (sci[0] == '-') {
        sign = "-";
        sci.erase(0, 1);
    }
    const size_t e_pos = sci.find('e');
    std::string digits = sci.substr(0, e_pos);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    const int exp10 = std::stoi(sci.substr(e_pos + 1));
    if (exp10 >= -4 && exp10 < 16) {
        std::string out = sign;
        if (exp10 >= 0) {
            const size_t int_len = static_cast<size_t>(exp10) + 1;
            if (digits.size() <= int_len) {
                out += digits + std::string(int_len - digits.size(), '0') + ".0";
            } else {
                out += digits.substr(0, int_len) + "." + digits.substr(int_len);
            }
        } else {
            out += "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
        }
        return out;
    }
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1, std::string::npos);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    return out + exp_buf;
}

std::string python_string_repr(const std::string& s) {
    const bool has_single = s.find('\'') != std::string::npos;
    const bool has_double = s.find('"') != std::string::npos;
    const char quote = (has_single && !has_double) ? '"' : '\'';
    std::string out(1, quote);
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        const uint32_t cp = decode_utf8_at(s, i, len);
        if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
            out += '\\';
            out += static_cast<char>(cp);
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (!is_python_printable(cp)) {
            if (cp <= 0xFF) { out += "\\x"; append_hex(out, cp, 2); }
            else if (cp <= 0xFFFF) { out += "\\u"; append_hex(out, cp, 4); }
            else { out += "\\U"; append_hex(out, cp, 8); }
        } else {
            out.append(s, i, len);
        }
        i += len;
    }
    out += quote;
    return out;
}

std::string python_repr(const Value& v, int depth) {
    check_depth(depth);
    switch (v.kind()) {
        case ValueKind::undefined: return "Undefined";
        case ValueKind::none: return "None";
        case ValueKind::boolean: return v.as_bool() ? "True" : "False";
        case ValueKind::integer: return std::to_string(v.as_int());
        case ValueKind::floating: return python_float_repr(v.as_double());
        case ValueKind::string:
            return v.is_markup() ? "Markup(" + python_string_repr(v.str()) + ")" : python_string_repr(v.str());
        case ValueKind::list: {
            std::string out = v.is_tuple() ? "(" : "[";
            const auto& items = v.items();
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += ", ";
                out += python_repr(items[i], depth + 1);
            }
            if (v.is_tuple() && items.size() == 1) out += ",";
            return out + (v.is_tuple() ? ")" : "]");
        }
        case ValueKind::dict:
        case ValueKind::namespace_: {
            const auto& entries = v.is_dict() ? v.dict_data().entries : v.ns().attrs.entries;
            std::string out = "{";
            for (size_t i = 0; i < entries.size(); ++i) {
                if (i) out += ", ";
                out += python_repr(entries[i].first, depth + 1) + ": " + python_repr(entries[i].second, depth + 1);
            }
            out += "}";
            return v.is_dict() ? out : "<Namespace " + out + ">";
        }
        case ValueKind::callable:
            if (v.fn().macro) return "<Macro '" + v.fn().name + "'>";
            return "<built-in function " + v.fn().name + ">";
        case ValueKind::loop: {
            const auto& l = v.loop_data();
            return "<LoopContext " + std::to_string(l.index0 + 1) + "/" + std::to_string(l.items->items.size()) + ">";
        }
    }
    return "?";
}

std::string python_str(const Value& v) {
    if (v.is_string()) return v.str();
    if (v.is_undefined()) return "";
    return python_repr(v);
}

TrackedText to_text(const Value& v) {
    if (v.is_string()) return v.text();
    return TrackedText::derived(python_str(v), contains_untrusted(v));
}

namespace {

void json_string(std::string& out, const std::string& s, bool ensure_ascii) {
    out += '"';
    for (size_t i = 0; i < s.size();) {
        size_t len = 1;
        const uint32_t cp = decode_utf8_at(s, i, len);
        switch (cp) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
                    if (cp > 0xFFFF) {
                        const uint32_t v = cp - 0x10000;
                        out += "\\u";
                        append_hex(out, 0xD800 + (v >> 10), 4);
                        out += "\\u";
                        append_hex(out, 0xDC00 + (v & 0x3FF), 4);
                    } else {
                        out += "\\u";
                        append_hex(out, cp, 4);
                    }
                } else {
                    out.append(s, i, len);
                }
        }
        i += len;
    }
    out += '"';
}

std::string json_float(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return python_float_repr(d);
}

std::string json_key(const Value& k) {
    switch (k.kind()) {
        case ValueKind::string: return k.str();
        case ValueKind::integer: return std::to_string(k.as_int());
        case ValueKind::floating: return json_float(k.as_double());
        case ValueKind::boolean: return k.as_bool() ? "true" : "false";
        case ValueKind::none: return "null";
        default:
            throw_render_error("keys must be str, int, float, bool or None, not " + type_name(k));
    }
}

void json_value(std::string& out, const Value& v, const JsonOptions& o, int level) {
    check_depth(level);
    auto newline = [&](int lvl) {
        out += '\n';
        for (int i = 0; i < lvl; ++i) out += *o.indent;
    };
    switch (v.kind()) {
        case ValueKind::none: out += "null"; return;
        case ValueKind::boolean: out += v.as_bool() ? "true" : "false"; return;
        case ValueKind::integer: out += std::to_string(v.as_int()); return;
        case ValueKind::floating: out += json_float(v.as_double()); return;
        case ValueKind::string: json_string(out, v.str(), o.ensure_ascii); return;
        case ValueKind::list: {
            const auto& items = v.items();
            if (items.empty()) { out += "[]"; return; }
            out += '[';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += o.indent ? std::string(o.item_separator) : o.item_separator;
                if (o.indent) newline(level + 1);
                json_value(out, items[i], o, level + 1);
            }
            if (o.indent) newline(level);
            out += ']';
            return;
        }
        case ValueKind::dict: {
            std::vector<const std::pair<Value, Value>*> entries;
            for (const auto& e : v.dict_data().entries) entries.push_back(&e);
            if (entries.empty()) { out += "{}"; return; }
            if (o.sort_keys) {
                std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
                    return value_less(a->first, b->first, "<");
                });
            }
            out += '{';
            for (size_t i = 0; i < entries.size(); ++i) {
                if (i) out += o.item_separator;
                if (o.indent) newline(level + 1);
                json_string(out, json_key(entries[i]->first), o.ensure_ascii);
                out += o.key_separator;
                json_value(out, entries[i]->second, o, level + 1);
            }
            if (o.indent) newline(level);
            out += '}';
            return;
        }
        default:
            throw_render_error("Object of type " + type_name(v) + " is not JSON serializable");
    }
}

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
    std::string out;
    json_value(out, v, options, 0);
    return out;
}

std::string html_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\'': out += "&#39;"; break;
            case '"': out += "&#34;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace strata::jinja
