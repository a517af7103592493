// The syntax tree the parser builds and the interpreter walks. Built once per template and then
// only read, so one tree serves any number of concurrent renders. Each node owns its children.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_error.h"
#include "chat/jinja_value.h"

namespace strata::jinja {

// ---- expressions ----

enum class ExprKind {
    literal,    // value
    name,       // name
    list,       // args = items (tuple when `tuple`)
    dict,       // args = key0, value0, key1, value1, ...
    attribute,  // args[0] . name
    subscript,  // args[0] [ args[1] ]
    slice,      // args[0] [ args[1] : args[2] : args[3] ] (null = omitted)
    call,       // args[0] ( args[1..] , kwargs )
    filter,     // args[0] | name ( args[1..], kwargs ); args[0] null in a filter block
    test,       // args[0] is [not] name ( args[1..] )
    unary,      // op args[0]
    binary,     // args[0] op args[1]  (and/or short-circuit)
    compare,    // args[0] ops[0] args[1] ops[1] args[2] ... (chained like Python)
    concat,     // args joined with ~
    conditional // args[1] if args[0] else args[2] (args[2] null: Undefined)
};

enum class Op {
    none, add, sub, mul, div, floordiv, mod, pow,  // arithmetic
    and_, or_, not_, neg, pos,                     // logic and unary
    eq, ne, lt, le, gt, ge, in, not_in,            // comparisons
};

const char* op_text(Op op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    ExprKind kind;
    SourcePos pos;
    std::string name;                // name / attribute / filter / test
    Value value;                     // literal
    Op op = Op::none;                // unary / binary
    std::vector<Op> ops;             // compare
    std::vector<ExprPtr> args;       // see ExprKind
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    bool tuple = false;              // list: a tuple
    bool negated = false;            // test: `is not`
};

// ---- statements ----

enum class NodeKind { text, output, if_, for_, set, set_block, macro, call_block, filter_block, with, break_, continue_, scope };

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

// Assignment target: a name, `ns.attr`, or a tuple of names (`for k, v in ...`).
struct Target {
    std::string name;
    std::string attribute;          // set: `name.attribute = ...` on a namespace
    std::vector<std::string> names; // unpacking; empty for a single name
};

struct Node {
    NodeKind kind;
    SourcePos pos;
    explicit Node(NodeKind k, SourcePos p) : kind(k), pos(p) {}
    virtual ~Node() = default;
};

struct TextNode : Node {
    std::string text;
    TextNode(SourcePos p, std::string t) : Node(NodeKind::text, p), text(std::move(t)) {}
};

struct OutputNode : Node {  // {{ expr }}
    ExprPtr expr;
    explicit OutputNode(SourcePos p) : Node(NodeKind::output, p) {}
};

struct IfNode : Node {
    std::vector<std::pair<ExprPtr, Body>> branches;  // if, elif...
    Body else_body;
    explicit IfNode(SourcePos p) : Node(NodeKind::if_, p) {}
};

struct ForNode : Node {
    Target target;
    ExprPtr iterable;
    ExprPtr filter;  // `for x in xs if cond`, may be null
    bool recursive = false;  // `for ... recursive`: the body may call loop(items)
    Body body;
    Body else_body;  // runs when nothing was iterated
    explicit ForNode(SourcePos p) : Node(NodeKind::for_, p) {}
};

struct SetNode : Node {  // {% set target = expr %}
    Target target;
    ExprPtr value;
    explicit SetNode(SourcePos p) : Node(NodeKind::set, p) {}
};

struct SetBlockNode : Node {  // {% set target | filters %}body{% endset %}
    Target target;
    ExprPtr filter;  // filter chain applied to the body's text, innermost operand null; may be null
    Body body;
    explicit SetBlockNode(SourcePos p) : Node(NodeKind::set_block, p) {}
};

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // null: required
};

struct MacroNode : Node {  // also the body of a call block's `caller`
    std::string name;
    std::vector<MacroParam> params;
    Body body;
    // Whether the body mentions these names: as in Jinja, only then does the macro accept extra
    // positional arguments, extra keyword arguments, or a call block's caller.
    bool uses_varargs = false;
    bool uses_kwargs = false;
    bool uses_caller = false;
    explicit MacroNode(SourcePos p) : Node(NodeKind::macro, p) {}
};

struct CallBlockNode : Node {  // {% call(params) macro(args) %}body{% endcall %}
    ExprPtr call;
    std::unique_ptr<MacroNode> caller;
    explicit CallBlockNode(SourcePos p) : Node(NodeKind::call_block, p) {}
};

struct FilterBlockNode : Node {  // {% filter f %}body{% endfilter %}
    ExprPtr filter;
    Body body;
    explicit FilterBlockNode(SourcePos p) : Node(NodeKind::filter_block, p) {}
};

struct WithNode : Node {  // {% with a = 1 %}body{% endwith %}
    std::vector<std::pair<Target, ExprPtr>> assignments;
    Body body;
    explicit WithNode(SourcePos p) : Node(NodeKind::with, p) {}
};

struct ScopeNode : Node {  // a body rendered as is: transformers' {% generation %} block
    Body body;
    explicit ScopeNode(SourcePos p) : Node(NodeKind::scope, p) {}
};

struct Program {
    Body body;
};

}  // namespace strata::jinja
