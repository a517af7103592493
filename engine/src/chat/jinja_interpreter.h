// Interpreter: renders a parsed Program with Jinja's semantics as transformers configures it
// (sandboxed: no mutation of lists or dicts, ranges up to 100,000; default Undefined: printing
// an undefined name gives "", using one as an object is an error).
//
// One Interpreter per render, used on one thread; the Program is only read, so any number of
// renders may share it. Resource limits make a hostile template fail with a limit error
// instead of hanging or exhausting memory.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace strata::jinja {

struct RenderLimits {
    size_t max_output_bytes = 16u << 20;  // any string the template builds, the output included
    size_t max_list_items = 1u << 20;     // any list or dict the template builds
    uint64_t max_steps = 5'000'000;       // loop iterations + macro calls + items filters walk
    int max_call_depth = 32;              // nested macro calls
};

// Variables live in scopes: the template's top level, each for-loop iteration, each macro call,
// `with` and call-block bodies. Lookup walks outward; `set` writes to the innermost scope.
struct Scope {
    std::shared_ptr<Scope> parent;
    std::unordered_map<std::string, Value> vars;
    const Value* find(const std::string& name) const;
};

class Interpreter {
public:
    // `now` is what strftime_now formats (a fixed time in tests).
    Interpreter(const Program& program, const RenderLimits& limits, std::tm now);
    ~Interpreter();
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    // Renders with `variables` as the template's context (messages, tools, bos_token, ...).
    TrackedText render(const std::unordered_map<std::string, Value>& variables);

    // ---- for filters, tests, methods and built-in functions ----
    Value call(const Value& fn, CallArgs& args);
    void charge(uint64_t work);           // counts toward max_steps
    void check_string(size_t bytes) const;  // refuses strings past max_output_bytes
    void check_list(size_t items) const;    // refuses lists past max_list_items
    size_t max_string_bytes() const { return limits_.max_output_bytes; }
    const std::tm& now() const { return now_; }
    // Makes a namespace owned by this render (cleared when it ends, so cycles cannot leak).
    Value make_namespace();
    Value get_attribute(const Value& obj, const std::string& name);
    Value get_item(const Value& obj, const Value& key);

private:
    enum class Flow { normal, break_loop, continue_loop };

    Flow exec(const Body& body, const std::shared_ptr<Scope>& scope, TrackedText& out);
    Flow exec_node(const Node& node, const std::shared_ptr<Scope>& scope, TrackedText& out);
    Flow exec_for(const ForNode& node, const std::shared_ptr<Scope>& scope, TrackedText& out);
    // One run of a for loop over `iterable` at recursion depth `depth0` (0 for the outer run).
    void run_for(const ForNode& node, const std::shared_ptr<Scope>& scope, const Value& iterable, int depth0,
                 TrackedText& out);
    void exec_call_block(const CallBlockNode& node, const std::shared_ptr<Scope>& scope, TrackedText& out);
    void assign(const Target& target, Value value, Scope& scope);
    void write(TrackedText& out, const TrackedText& text) const;

    Value eval(const Expr& e, const std::shared_ptr<Scope>& scope);
    Value eval_inner(const Expr& e, const std::shared_ptr<Scope>& scope);
    Value eval_filter(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* block_input);
    Value eval_compare(const Expr& e, const std::shared_ptr<Scope>& scope);
    Value eval_call(const Expr& e, const std::shared_ptr<Scope>& scope, const Value* caller);
    CallArgs eval_args(const Expr& e, size_t first, const std::shared_ptr<Scope>& scope);
    Value call_macro(const Callable& fn, CallArgs& args);

    const Program& program_;
    RenderLimits limits_;
    std::tm now_;
    uint64_t steps_ = 0;
    int call_depth_ = 0;
    std::shared_ptr<Scope> globals_;
    std::shared_ptr<Scope> root_;
    std::vector<std::shared_ptr<NamespaceData>> namespaces_;
};

// Operators (jinja_operators.cpp).
Value binary_op(Interpreter& in, Op op, const Value& a, const Value& b);
Value unary_op(Op op, const Value& a);
bool contains(const Value& container, const Value& item);
Value slice_value(Interpreter& in, const Value& obj, const Value& start, const Value& stop, const Value& step);
std::vector<Value> iterate(const Value& v);  // what `for` walks: list items, dict keys, string chars

// Filters, tests, methods, built-ins (one file each).
Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
// A bound method of a string, dict or list; Undefined (with the sandbox's hint) for methods that
// would mutate; nullptr-like Undefined with no hint when there is no such method.
bool find_method(const Value& obj, const std::string& name, Value& method);
void install_builtins(Scope& globals);
[[noreturn]] void throw_undefined(const Value& undefined);

}  // namespace strata::jinja
