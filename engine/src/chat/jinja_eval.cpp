// Expressions: names, literals, attribute and item lookup, calls, filters, tests, operators.
#include "chat/jinja_error.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_utf8.h"

namespace strata::jinja {

namespace {

// How Jinja names an object in "'X' has no attribute 'y'" messages.
std::string object_description(const Value& obj) {
    if (obj.is_none()) return "None";
    return type_name(obj) + " object";
}

// (Built with append: GCC 12 warns falsely on "'" + s + "'" chains, bug 105329.)
Value missing_attribute(const Value& obj, const std::string& name) {
    std::string hint = "'";
    hint.append(object_description(obj)).append("' has no attribute '").append(name).append("'");
    return Value::undefined(std::move(hint));
}

Value missing_element(const Value& obj, const Value& key) {
    std::string hint = "'";
    hint.append(object_description(obj)).append("' has no element ").append(python_repr(key));
    return Value::undefined(std::move(hint));
}

Value loop_attribute(const LoopData& loop, const std::string& name) {
    const auto& items = loop.items->items;
    const auto n = static_cast<int64_t>(items.size());
    const auto i = static_cast<int64_t>(loop.index0);
    if (name == "index") return Value::integer(i + 1);
    if (name == "index0") return Value::integer(i);
    if (name == "revindex") return Value::integer(n - i);
    if (name == "revindex0") return Value::integer(n - i - 1);
    if (name == "first") return Value::boolean(i == 0);
    if (name == "last") return Value::boolean(i == n - 1);
    if (name == "length") return Value::integer(n);
    if (name == "depth") return Value::integer(loop.depth0 + 1);
    if (name == "depth0") return Value::integer(loop.depth0);
    if (name == "previtem")
        return i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item");
    if (name == "nextitem")
        return i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item");
    if (name == "changed") {
        // True when the arguments differ from the previous call's in this loop (first call: true).
        auto fn = std::make_shared<Callable>();
        fn->name = "changed";
        fn->native = [last = loop.changed_last](Interpreter&, CallArgs& args) -> Value {
            if (!args.keyword.empty()) throw_render_error("changed() takes no keyword arguments");
            bool same = last && last->has_value() && (*last)->size() == args.positional.size();
            for (size_t k = 0; same && k < args.positional.size(); ++k)
                same = values_equal((**last)[k], args.positional[k]);
            if (same) return Value::boolean(false);
            if (last) *last = args.positional;
            return Value::boolean(true);
        };
        return Value::callable(std::move(fn));
    }
    if (name == "cycle") {
        auto fn = std::make_shared<Callable>();
        fn->name = "cycle";
        const size_t index0 = loop.index0;
        fn->native = [index0](Interpreter&, CallArgs& args) -> Value {
            if (args.positional.empty()) throw_render_error("no items for cycling given");
            return args.positional[index0 % args.positional.size()];
        };
        return Value::callable(std::move(fn));
    }
    return Value::undefined("'LoopContext object' has no attribute '" + name + "'");
}

}  // namespace

Value Interpreter::get_attribute(const Value& obj, const std::string& name) {
    switch (obj.kind()) {
        case ValueKind::undefined: throw_undefined(obj);
        case ValueKind::dict: {
            // Python attribute first (a dict's methods), then the key: Jinja's getattr order.
            Value method;
            if (find_method(obj, name, method)) return method;
            if (const Value* v = obj.dict_data().find(name)) return *v;
            return missing_attribute(obj, name);
        }
        case ValueKind::namespace_:
            if (const Value* v = obj.ns().attrs.find(name)) return *v;
            return missing_attribute(obj, name);
        case ValueKind::loop: return loop_attribute(obj.loop_data(), name);
        default: {
            Value method;
            if (find_method(obj, name, method)) return method;
            return missing_attribute(obj, name);
        }
    }
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
    switch (obj.kind()) {
        case ValueKind::undefined: throw_undefined(obj);
        case ValueKind::dict:
            // The key first, then (for a string) the attribute: Jinja's getitem order.
            if (const Value* v = obj.dict_data().find(key)) return *v;
            if (key.is_string()) {
                Value method;
                if (find_method(obj, key.str(), method)) return method;
                return missing_attribute(obj, key.str());
            }
            return missing_element(obj, key);
        case ValueKind::list:
        case ValueKind::string: {
            if (key.is_string()) return get_attribute(obj, key.str());
            if (!key.is_int() && !key.is_bool()) return missing_element(obj, key);
            int64_t i = key.as_int();
            if (obj.is_list()) {
                const auto n = static_cast<int64_t>(obj.items().size());
                if (i < 0) i += n;
                if (i < 0 || i >= n) return missing_element(obj, key);
                return obj.items()[static_cast<size_t>(i)];
            }
            const auto offsets = code_point_offsets(obj.str());
            const auto n = static_cast<int64_t>(offsets.size()) - 1;
            if (i < 0) i += n;
            if (i < 0 || i >= n) return missing_element(obj, key);
            return Value::string(obj.text().substr(offsets[static_cast<size_t>(i)], offsets[static_cast<size_t>(i) + 1]));
        }
        case ValueKind::namespace_:
        case ValueKind::loop:
            if (key.is_string()) return get_attribute(obj, key.str());
            return missing_element(obj, key);
        default:
            if (key.is_string()) return get_attribute(obj, key.str());
            return missing_element(obj, key);
    }
}

Value Interpreter::eval(const Expr& e, const std::shared_ptr<Scope>& scope) {
    try {
        return eval_inner(e, scope);
    } catch (Error& err) {
        if (!err.has_pos()) err.set_pos(e.pos);
        throw;
    }
}

CallArgs Interpreter::eval_args(const Expr& e, size_t first, const std::shared_ptr<Scope>& scope) {
    CallArgs args;
    for (size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], scope));
    for (const auto& [key, expr] : e.kwargs) args.keyword.emplace_back(key, eval(*expr, scope));
    return args;
}

Value Interpreter::eval_call(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* caller) {
    const Value fn = eval(*e.args[0], scope);
    CallArgs args = eval_args(e, 1, scope);
    if (caller) args.keyword.emplace_back("caller", *caller);
    return call(fn, args);
}

Value Interpreter::eval_filter(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* block_input) {
    Value operand;
    if (!e.args[0]) operand = *block_input;
    else if (e.args[0]->kind == ExprKind::filter) operand = eval_filter(*e.args[0], scope, block_input);
    else operand = eval(*e.args[0], scope);
    CallArgs args = eval_args(e, 1, scope);
    try {
        return apply_filter(*this, e.name, operand, args);
    } catch (Error& err) {
        if (!err.has_pos()) err.set_pos(e.pos);
        throw;
    }
}

Value Interpreter::eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope) {
    Value left = eval(*e.args[0], scope);
    for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], scope);
        bool result = false;
        switch (e.ops[i]) {
            case Op::eq: result = values_equal(left, right); break;
            case Op::ne: result = !values_equal(left, right); break;
            case Op::lt: result = value_less(left, right, "<"); break;
            case Op::gt: result = value_less(right, left, ">"); break;
            case Op::le: result = !value_less(right, left, "<="); break;
            case Op::ge: result = !value_less(left, right, ">="); break;
            case Op::in: result = contains(right, left); break;
            case Op::not_in: result = !contains(right, left); break;
            default: break;
        }
        if (!result) return Value::boolean(false);
        left = std::move(right);
    }
    return Value::boolean(true);
}

Value Interpreter::eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope) {
    switch (e.kind) {
        case ExprKind::literal: return e.value;
        case ExprKind::name: {
            if (const Value* v = scope->find(e.name)) return *v;
            return Value::undefined("'" + e.name + "' is undefined");
        }
        case ExprKind::list: {
            std::vector<Value> items;
            items.reserve(e.args.size());
            for (const auto& a : e.args) items.push_back(eval(*a, scope));
            return Value::list(std::move(items), e.tuple);
        }
        case ExprKind::dict: {
            DictData d;
            for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                Value key = eval(*e.args[i], scope);
                if (key.is_list() && !key.is_tuple()) throw_render_error("unhashable type: 'list'");
                if (key.is_dict()) throw_render_error("unhashable type: 'dict'");
                d.set(std::move(key), eval(*e.args[i + 1], scope));
            }
            return Value::dict(std::move(d));
        }
        case ExprKind::attribute: return get_attribute(eval(*e.args[0], scope), e.name);
        case ExprKind::subscript: {
            const Value obj = eval(*e.args[0], scope);
            return get_item(obj, eval(*e.args[1], scope));
        }
        case ExprKind::slice: {
            const Value obj = eval(*e.args[0], scope);
            auto part = [&](size_t i) { return e.args[i] ? eval(*e.args[i], scope) : Value::none(); };
            const Value start = part(1), stop = part(2), step = part(3);
            return slice_value(*this, obj, start, stop, step);
        }
        case ExprKind::call: return eval_call(e, scope, nullptr);
        case ExprKind::filter: return eval_filter(e, scope, nullptr);
        case ExprKind::test: {
            const Value operand = eval(*e.args[0], scope);
            CallArgs args = eval_args(e, 1, scope);
            const bool result = apply_test(*this, e.name, operand, args);
            return Value::boolean(result != e.negated);
        }
        case ExprKind::unary: {
            const Value v = eval(*e.args[0], scope);
            if (e.op == Op::not_) return Value::boolean(!v.truthy());
            return unary_op(e.op, v);
        }
        case ExprKind::binary: {
            Value left = eval(*e.args[0], scope);
            if (e.op == Op::and_) return left.truthy() ? eval(*e.args[1], scope) : left;
            if (e.op == Op::or_) return left.truthy() ? left : eval(*e.args[1], scope);
            const Value right = eval(*e.args[1], scope);
            return binary_op(*this, e.op, left, right);
        }
        case ExprKind::compare: return eval_compare(e, scope);
        case ExprKind::concat: {
            TrackedText out;
            for (const auto& a : e.args) {
                out.append(to_text(eval(*a, scope)));
                check_string(out.size());
            }
            return Value::string(std::move(out));
        }
        case ExprKind::conditional: {
            if (eval(*e.args[0], scope).truthy()) return eval(*e.args[1], scope);
            if (e.args[2]) return eval(*e.args[2], scope);
            return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
        }
    }
    return Value();
}

}  // namespace strata::jinja
