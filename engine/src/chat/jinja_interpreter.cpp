// Statements: text, output, if, for, set, macros and calls, filter/with/generation blocks.
// Expressions are in jinja_eval.cpp.
#include "chat/jinja_interpreter.h"

#include "chat/jinja_error.h"
#include "chat/jinja_format.h"

namespace strata::jinja {

const Value* Scope::find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get()) {
        const auto it = s->vars.find(name);
        if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
}

[[noreturn]] void throw_undefined(const Value& undefined) {
    const std::string& hint = undefined.undefined_hint();
    throw_render_error(hint.empty() ? "undefined value used" : hint);
}

Interpreter::Interpreter(const Program& program, const RenderLimits& limits, std::tm now)
    : program_(program), limits_(limits), now_(now) {}

Interpreter::~Interpreter() {
    // Namespaces may hold each other (or themselves): clear them so no cycle outlives the render.
    for (auto& ns : namespaces_) {
        ns->attrs.entries.clear();
        ns->attrs.string_keys.clear();
    }
}

Value Interpreter::make_namespace() {
    auto ns = std::make_shared<NamespaceData>();
    namespaces_.push_back(ns);
    return Value::make_namespace(std::move(ns));
}

void Interpreter::charge(uint64_t work) {
    steps_ += work;
    if (steps_ > limits_.max_steps)
        throw_limit_error("template did too much work (more than " + std::to_string(limits_.max_steps) +
                          " loop iterations, macro calls and items processed)");
}

void Interpreter::check_string(size_t bytes) const {
    if (bytes > limits_.max_output_bytes)
        throw_limit_error("template built a string larger than " + std::to_string(limits_.max_output_bytes) + " bytes");
}

void Interpreter::check_list(size_t items) const {
    if (items > limits_.max_list_items)
        throw_limit_error("template built a list longer than " + std::to_string(limits_.max_list_items) + " items");
}

void Interpreter::write(TrackedText& out, const TrackedText& text) const {
    check_string(out.size() + text.size());
    out.append(text);
}

TrackedText Interpreter::render(const std::unordered_map<std::string, Value>& variables) {
    globals_ = std::make_shared<Scope>();
    install_builtins(*globals_);
    root_ = std::make_shared<Scope>();
    root_->parent = globals_;
    root_->vars = variables;
    TrackedText out;
    exec(program_.body, root_, out);
    return out;
}

Interpreter::Flow Interpreter::exec(const Body& body, const std::shared_ptr<Scope>& scope, TrackedText& out) {
    for (const auto& node : body) {
        const Flow flow = exec_node(*node, scope, out);
        if (flow != Flow::normal) return flow;
    }
    return Flow::normal;
}

Interpreter::Flow Interpreter::exec_node(const Node& node, const std::shared_ptr<Scope>& scope, TrackedText& out) {
    try {
        switch (node.kind) {
            case NodeKind::text:
                write(out, TrackedText(static_cast<const TextNode&>(node).text));
                return Flow::normal;
            case NodeKind::output:
                write(out, to_text(eval(*static_cast<const OutputNode&>(node).expr, scope)));
                return Flow::normal;
            case NodeKind::if_: {
                const auto& n = static_cast<const IfNode&>(node);
                for (const auto& [cond, body] : n.branches)
                    if (eval(*cond, scope).truthy()) return exec(body, scope, out);
                return exec(n.else_body, scope, out);
            }
            case NodeKind::for_: return exec_for(static_cast<const ForNode&>(node), scope, out);
            case NodeKind::set: {
                const auto& n = static_cast<const SetNode&>(node);
                assign(n.target, eval(*n.value, scope), *scope);
                return Flow::normal;
            }
            case NodeKind::set_block: {
                const auto& n = static_cast<const SetBlockNode&>(node);
                TrackedText body;
                exec(n.body, scope, body);
                Value v = Value::string(std::move(body));
                if (n.filter) v = eval_filter(*n.filter, scope, &v);
                assign(n.target, std::move(v), *scope);
                return Flow::normal;
            }
            case NodeKind::macro: {
                const auto& n = static_cast<const MacroNode&>(node);
                auto fn = std::make_shared<Callable>();
                fn->name = n.name;
                fn->macro = &n;
                fn->closure = scope;
                scope->vars[n.name] = Value::callable(std::move(fn));
                return Flow::normal;
            }
            case NodeKind::call_block:
                exec_call_block(static_cast<const CallBlockNode&>(node), scope, out);
                return Flow::normal;
            case NodeKind::filter_block: {
                const auto& n = static_cast<const FilterBlockNode&>(node);
                TrackedText body;
                exec(n.body, scope, body);
                const Value input = Value::string(std::move(body));
                write(out, to_text(eval_filter(*n.filter, scope, &input)));
                return Flow::normal;
            }
            case NodeKind::with: {
                const auto& n = static_cast<const WithNode&>(node);
                auto inner = std::make_shared<Scope>();
                inner->parent = scope;
                std::vector<Value> values;
                for (const auto& [target, expr] : n.assignments) values.push_back(eval(*expr, scope));
                for (size_t i = 0; i < values.size(); ++i) assign(n.assignments[i].first, values[i], *inner);
                return exec(n.body, inner, out);
            }
            case NodeKind::scope: {
                auto inner = std::make_shared<Scope>();
                inner->parent = scope;
                exec(static_cast<const ScopeNode&>(node).body, inner, out);
                return Flow::normal;
            }
            case NodeKind::break_: return Flow::break_loop;
            case NodeKind::continue_: return Flow::continue_loop;
        }
    } catch (Error& e) {
        if (!e.has_pos()) e.set_pos(node.pos);
        throw;
    }
    return Flow::normal;
}

void Interpreter::assign(const Target& target, Value value, Scope& scope) {
    if (!target.attribute.empty()) {
        const Value* ns = scope.find(target.name);
        if (!ns || !ns->is_namespace())
            throw_render_error("cannot assign attribute '" + target.attribute + "' on '" + target.name +
                               "': it is not a namespace");
        ns->ns().attrs.set(Value::trusted_string(target.attribute), std::move(value));
        return;
    }
    if (target.names.empty()) {
        scope.vars[target.name] = std::move(value);
        return;
    }
    const std::vector<Value> items = iterate(value);
    if (items.size() != target.names.size())
        throw_render_error(items.size() > target.names.size()
                               ? "too many values to unpack (expected " + std::to_string(target.names.size()) + ")"
                               : "not enough values to unpack (expected " + std::to_string(target.names.size()) +
                                     ", got " + std::to_string(items.size()) + ")");
    for (size_t i = 0; i < items.size(); ++i) scope.vars[target.names[i]] = items[i];
}

Interpreter::Flow Interpreter::exec_for(const ForNode& node, const std::shared_ptr<Scope>& scope, TrackedText& out) {
    run_for(node, scope, eval(*node.iterable, scope), 0, out);
    return Flow::normal;  // break and continue end at their own loop
}

void Interpreter::run_for(const ForNode& node, const std::shared_ptr<Scope>& scope, const Value& iterable, int depth0,
                          TrackedText& out) {
    if (!iterable.is_undefined() && !iterable.is_list() && !iterable.is_dict() && !iterable.is_string())
        throw_render_error("'" + type_name(iterable) + "' object is not iterable");
    std::vector<Value> items = iterate(iterable);
    charge(items.size());
    if (node.filter) {  // `for x in xs if cond`: loop.length counts only what passes
        std::vector<Value> kept;
        for (auto& item : items) {
            auto probe = std::make_shared<Scope>();
            probe->parent = scope;
            assign(node.target, item, *probe);
            if (eval(*node.filter, probe).truthy()) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        exec(node.else_body, scope, out);
        return;
    }

    // A recursive loop's body may call loop(items): the same loop, over those items, one level
    // deeper (else block and filter included, as in Jinja), rendered into a string.
    std::function<Value(Interpreter&, CallArgs&)> recurse;
    if (node.recursive) {
        // A weak reference: a loop object stored in a namespace of that scope must not keep it
        // alive in a cycle. The scope outlives every call made while the loop runs.
        recurse = [&node, weak = std::weak_ptr<Scope>(scope), depth0](Interpreter& in, CallArgs& args) -> Value {
            if (args.positional.size() != 1 || !args.keyword.empty())
                throw_render_error("loop() takes exactly one argument, the items to loop over");
            const std::shared_ptr<Scope> scope = weak.lock();
            if (!scope) throw_render_error("loop() called after its loop ended");
            in.charge(1);
            if (in.call_depth_ >= in.limits_.max_call_depth)
                throw_limit_error("recursive loop nested too deeply (more than " +
                                  std::to_string(in.limits_.max_call_depth) + " levels)");
            ++in.call_depth_;
            TrackedText inner;
            try {
                in.run_for(node, scope, args.positional[0], depth0 + 1, inner);
            } catch (...) {
                --in.call_depth_;
                throw;
            }
            --in.call_depth_;
            return Value::string(std::move(inner));
        };
    }
    auto changed_last = std::make_shared<std::optional<std::vector<Value>>>();
    auto shared_items = std::make_shared<const ListData>(ListData{std::move(items), false});
    for (size_t i = 0; i < shared_items->items.size(); ++i) {
        charge(1);
        auto iteration = std::make_shared<Scope>();  // fresh per iteration, as in Jinja
        iteration->parent = scope;
        assign(node.target, shared_items->items[i], *iteration);
        auto loop = std::make_shared<LoopData>();
        loop->items = shared_items;
        loop->index0 = i;
        loop->depth0 = depth0;
        loop->changed_last = changed_last;
        loop->recurse = recurse;
        iteration->vars["loop"] = Value::loop(std::move(loop));
        const Flow flow = exec(node.body, iteration, out);
        if (flow == Flow::break_loop) break;
    }
}

void Interpreter::exec_call_block(const CallBlockNode& node, const std::shared_ptr<Scope>& scope, TrackedText& out) {
    auto caller = std::make_shared<Callable>();
    caller->name = "caller";
    caller->macro = node.caller.get();
    caller->closure = scope;
    caller->is_caller = true;
    const Value caller_value = Value::callable(std::move(caller));
    write(out, to_text(eval_call(*node.call, scope, &caller_value)));
}

Value Interpreter::call(const Value& fn, CallArgs& args) {
    if (fn.is_undefined()) throw_undefined(fn);
    if (fn.is_loop()) {
        if (!fn.loop_data().recurse) throw_render_error("The loop must be recursive to call loop(): add 'recursive' to the for tag");
        return fn.loop_data().recurse(*this, args);
    }
    if (!fn.is_callable()) throw_render_error("'" + type_name(fn) + "' object is not callable");
    const Callable& c = fn.fn();
    if (c.macro) return call_macro(c, args);
    return c.native(*this, args);
}

Value Interpreter::call_macro(const Callable& fn, CallArgs& args) {
    charge(1);
    if (call_depth_ >= limits_.max_call_depth)
        throw_limit_error("macro calls nested too deeply (more than " + std::to_string(limits_.max_call_depth) +
                          " levels): is '" + fn.name + "' recursive?");
    struct DepthGuard {
        int& d;
        explicit DepthGuard(int& depth) : d(depth) { ++d; }
        ~DepthGuard() { --d; }
    } guard(call_depth_);

    const MacroNode& m = *fn.macro;
    auto scope = std::make_shared<Scope>();
    scope->parent = fn.closure.lock();
    if (!scope->parent) scope->parent = root_;

    std::vector<Value> extra_positional;
    for (size_t i = 0; i < args.positional.size(); ++i) {
        if (i < m.params.size()) scope->vars[m.params[i].name] = args.positional[i];
        else extra_positional.push_back(args.positional[i]);
    }
    if (!extra_positional.empty() && !m.uses_varargs)
        throw_render_error("macro '" + fn.name + "' takes not more than " + std::to_string(m.params.size()) +
                           " argument(s)");
    DictData extra_keywords;
    for (auto& [key, value] : args.keyword) {
        if (key == "caller" && !fn.is_caller && m.uses_caller) {
            scope->vars["caller"] = value;
            continue;
        }
        bool bound = false;
        for (size_t i = 0; i < m.params.size(); ++i) {
            if (m.params[i].name != key) continue;
            if (i < args.positional.size())
                throw_render_error("macro '" + fn.name + "' got multiple values for argument '" + key + "'");
            scope->vars[key] = value;
            bound = true;
        }
        if (bound) continue;
        if (!m.uses_kwargs) throw_render_error("macro '" + fn.name + "' takes no keyword argument '" + key + "'");
        extra_keywords.set(Value::trusted_string(key), value);
    }
    for (const auto& p : m.params) {
        if (scope->vars.count(p.name)) continue;
        // Defaults are evaluated in the macro's scope, so they may use earlier parameters.
        scope->vars[p.name] = p.default_value ? eval(*p.default_value, scope)
                                              : Value::undefined("'" + p.name + "' is undefined");
    }
    if (m.uses_varargs) scope->vars["varargs"] = Value::list(std::move(extra_positional), true);
    if (m.uses_kwargs) scope->vars["kwargs"] = Value::dict(std::move(extra_keywords));

    TrackedText out;
    exec(m.body, scope, out);
    return Value::string(std::move(out));
}

}  // namespace strata::jinja
