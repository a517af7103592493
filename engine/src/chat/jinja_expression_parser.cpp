#include "chat/jinja_expression_parser.h"

#include "chat/jinja_parser.h"

namespace strata::jinja {

const char* op_text(Op op) {
    switch (op) {
        case Op::add: return "+";
        case Op::sub: return "-";
        case Op::mul: return "*";
        case Op::div: return "/";
        case Op::floordiv: return "//";
        case Op::mod: return "%";
        case Op::pow: return "**";
        case Op::and_: return "and";
        case Op::or_: return "or";
        case Op::not_: return "not";
        case Op::neg: return "-";
        case Op::pos: return "+";
        case Op::eq: return "==";
        case Op::ne: return "!=";
        case Op::lt: return "<";
        case Op::le: return "<=";
        case Op::gt: return ">";
        case Op::ge: return ">=";
        case Op::in: return "in";
        case Op::not_in: return "not in";
        case Op::none: break;
    }
    return "?";
}

std::string describe(const Token& t) {
    switch (t.kind) {
        case TokenKind::data: return "template text";
        case TokenKind::block_begin: return "'{%'";
        case TokenKind::block_end: return "end of statement block";
        case TokenKind::var_begin: return "'{{'";
        case TokenKind::var_end: return "end of print statement";
        case TokenKind::string: return "string literal";
        case TokenKind::integer:
        case TokenKind::floating: return "number '" + t.text + "'";
        case TokenKind::eof: return "end of template";
        default: return "'" + t.text + "'";
    }
}

namespace {

ExprPtr make_expr(ExprKind kind, SourcePos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
}

}  // namespace

bool ExpressionParser::at_tuple_end(std::initializer_list<const char*> extra_end) const {
    const Token& c = cur();
    if (c.kind == TokenKind::var_end || c.kind == TokenKind::block_end || c.kind == TokenKind::eof) return true;
    if (c.kind == TokenKind::op && c.text == ")") return true;
    if (c.kind == TokenKind::name)
        for (const char* e : extra_end)
            if (c.text == e) return true;
    return false;
}

// Comma-separated expressions: one alone is itself, several (or a trailing comma) a tuple.
ExprPtr ExpressionParser::parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra_end, bool explicit_parens) {
    const Token start = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
        if (!items.empty()) expect_op(",");
        if (at_tuple_end(extra_end)) break;
        items.push_back(parse_expression(with_condexpr));
        if (is_op(",")) is_tuple = true;
        else break;
    }
    if (!is_tuple) {
        if (!items.empty()) return std::move(items[0]);
        if (!explicit_parens) fail(cur(), "expected an expression, got " + describe(cur()));
    }
    auto e = make_expr(ExprKind::list, start.pos);
    e->tuple = true;
    e->args = std::move(items);
    return e;
}

ExprPtr ExpressionParser::parse_expression(bool with_condexpr) {
    Nest nest(*this, cur());
    if (!with_condexpr) return parse_or();
    ExprPtr expr = parse_or();
    Chain chain(*this);
    while (is_name("if")) {
        chain.link(cur());
        const Token at = cur();
        advance();
        ExprPtr cond = parse_or();
        ExprPtr other;
        if (skip_name("else")) other = parse_expression(true);
        auto e = make_expr(ExprKind::conditional, at.pos);
        e->args.push_back(std::move(cond));
        e->args.push_back(std::move(expr));
        e->args.push_back(std::move(other));
        expr = std::move(e);
    }
    return expr;
}

ExprPtr ExpressionParser::binary(Op op, SourcePos pos, ExprPtr l, ExprPtr r) {
    auto e = make_expr(ExprKind::binary, pos);
    e->op = op;
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
}

ExprPtr ExpressionParser::parse_or() {
    Chain chain(*this);
    ExprPtr left = parse_and();
    while (is_name("or")) {
        chain.link(cur());
        const SourcePos pos = cur().pos;
        advance();
        left = binary(Op::or_, pos, std::move(left), parse_and());
    }
    return left;
}

ExprPtr ExpressionParser::parse_and() {
    Chain chain(*this);
    ExprPtr left = parse_not();
    while (is_name("and")) {
        chain.link(cur());
        const SourcePos pos = cur().pos;
        advance();
        left = binary(Op::and_, pos, std::move(left), parse_not());
    }
    return left;
}

ExprPtr ExpressionParser::parse_not() {
    if (is_name("not")) {
        Nest nest(*this, cur());
        auto e = make_expr(ExprKind::unary, cur().pos);
        advance();
        e->op = Op::not_;
        e->args.push_back(parse_not());
        return e;
    }
    return parse_compare();
}

ExprPtr ExpressionParser::parse_compare() {
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_math1();
    std::vector<Op> ops;
    std::vector<ExprPtr> operands;
    while (true) {
        Op op = Op::none;
        if (cur().kind == TokenKind::op) {
            const std::string& t = cur().text;
            if (t == "==") op = Op::eq;
            else if (t == "!=") op = Op::ne;
            else if (t == "<") op = Op::lt;
            else if (t == "<=") op = Op::le;
            else if (t == ">") op = Op::gt;
            else if (t == ">=") op = Op::ge;
            if (op != Op::none) advance();
        } else if (is_name("in")) {
            op = Op::in;
            advance();
        } else if (is_name("not") && peek().kind == TokenKind::name && peek().text == "in") {
            op = Op::not_in;
            advance();
            advance();
        }
        if (op == Op::none) break;
        if (ops.size() >= static_cast<size_t>(k_max_nesting)) fail(cur(), "comparison chain too long");
        ops.push_back(op);
        operands.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto e = make_expr(ExprKind::compare, pos);
    e->args.push_back(std::move(first));
    for (auto& o : operands) e->args.push_back(std::move(o));
    e->ops = std::move(ops);
    return e;
}

ExprPtr ExpressionParser::parse_math1() {
    Chain chain(*this);
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
        chain.link(cur());
        const Op op = is_op("+") ? Op::add : Op::sub;
        const SourcePos pos = cur().pos;
        advance();
        left = binary(op, pos, std::move(left), parse_concat());
    }
    return left;
}

ExprPtr ExpressionParser::parse_concat() {
    const SourcePos pos = cur().pos;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = make_expr(ExprKind::concat, pos);
    e->args.push_back(std::move(first));
    while (skip_op("~")) e->args.push_back(parse_math2());
    return e;
}

ExprPtr ExpressionParser::parse_math2() {
    Chain chain(*this);
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
        chain.link(cur());
        const Op op = is_op("*") ? Op::mul : is_op("/") ? Op::div : is_op("//") ? Op::floordiv : Op::mod;
        const SourcePos pos = cur().pos;
        advance();
        left = binary(op, pos, std::move(left), parse_pow());
    }
    return left;
}

ExprPtr ExpressionParser::parse_pow() {
    Chain chain(*this);
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
        chain.link(cur());
        const SourcePos pos = cur().pos;
        advance();
        left = binary(Op::pow, pos, std::move(left), parse_unary(true));
    }
    return left;
}

ExprPtr ExpressionParser::parse_unary(bool with_filter) {
    Nest nest(*this, cur());
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
        auto e = make_expr(ExprKind::unary, cur().pos);
        e->op = is_op("-") ? Op::neg : Op::pos;
        advance();
        e->args.push_back(parse_unary(false));
        node = std::move(e);
    } else {
        node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
}

ExprPtr ExpressionParser::parse_primary() {
    const Token& tok = cur();
    auto literal = [&](Value v) {
        auto e = make_expr(ExprKind::literal, tok.pos);
        e->value = std::move(v);
        advance();
        return e;
    };
    switch (tok.kind) {
        case TokenKind::name: {
            const std::string& n = tok.text;
            if (n == "true" || n == "True") return literal(Value::boolean(true));
            if (n == "false" || n == "False") return literal(Value::boolean(false));
            if (n == "none" || n == "None") return literal(Value::none());
            for (MacroNode* m : macros_) {
                if (n == "varargs") m->uses_varargs = true;
                if (n == "kwargs") m->uses_kwargs = true;
                if (n == "caller") m->uses_caller = true;
            }
            auto e = make_expr(ExprKind::name, tok.pos);
            e->name = n;
            advance();
            return e;
        }
        case TokenKind::string: {
            auto e = make_expr(ExprKind::literal, tok.pos);
            std::string s;
            while (cur().kind == TokenKind::string) {  // adjacent literals concatenate
                s += cur().text;
                advance();
            }
            e->value = Value::trusted_string(std::move(s));
            return e;
        }
        case TokenKind::integer: return literal(Value::integer(tok.int_value));
        case TokenKind::floating: return literal(Value::floating(tok.float_value));
        case TokenKind::op:
            if (tok.text == "(") {
                advance();
                ExprPtr inner = parse_tuple(true, {}, true);
                expect_op(")");
                return inner;
            }
            if (tok.text == "[") return parse_list();
            if (tok.text == "{") return parse_dict();
            break;
        default: break;
    }
    fail(tok, "unexpected " + describe(tok));
}

ExprPtr ExpressionParser::parse_list() {
    auto e = make_expr(ExprKind::list, cur().pos);
    expect_op("[");
    while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(parse_expression(true));
    }
    advance();
    return e;
}

ExprPtr ExpressionParser::parse_dict() {
    auto e = make_expr(ExprKind::dict, cur().pos);
    expect_op("{");
    while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(parse_expression(true));
        expect_op(":");
        e->args.push_back(parse_expression(true));
    }
    advance();
    return e;
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr node) {
    Chain chain(*this);
    while (true) {
        chain.link(cur());
        if (is_op(".") || is_op("[")) node = parse_subscript(std::move(node));
        else if (is_op("(")) node = parse_call(std::move(node));
        else return node;
    }
}

ExprPtr ExpressionParser::parse_filter_expr(ExprPtr node) {
    Chain chain(*this);
    while (true) {
        chain.link(cur());
        if (is_op("|")) node = parse_filters(std::move(node));
        else if (is_name("is")) node = parse_test(std::move(node));
        else if (is_op("(")) node = parse_call(std::move(node));
        else return node;
    }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr node) {
    Nest nest(*this, cur());
    const Token tok = cur();
    advance();
    if (tok.text == ".") {
        const Token& attr = cur();
        if (attr.kind == TokenKind::name) {
            auto e = make_expr(ExprKind::attribute, attr.pos);
            e->name = attr.text;
            e->args.push_back(std::move(node));
            advance();
            return e;
        }
        if (attr.kind == TokenKind::integer) {
            auto e = make_expr(ExprKind::subscript, attr.pos);
            e->args.push_back(std::move(node));
            auto idx = make_expr(ExprKind::literal, attr.pos);
            idx->value = Value::integer(attr.int_value);
            e->args.push_back(std::move(idx));
            advance();
            return e;
        }
        fail(attr, "expected a name after '.', got " + describe(attr));
    }
    // '[': an index, a slice, or a tuple of indexes (no container here takes those).
    std::vector<ExprPtr> parts;
    bool is_slice = false;
    ExprPtr slice_parts[3];
    int slot = 0;
    bool any = false;
    while (!is_op("]")) {
        if (is_op(":")) {
            if (++slot > 2) fail(cur(), "too many ':' in a slice");
            is_slice = true;
            advance();
            continue;
        }
        if (any && slot == 0 && !is_slice) fail(cur(), "expected ']' or ':', got " + describe(cur()));
        if (slice_parts[slot]) fail(cur(), "expected ':' or ']', got " + describe(cur()));
        slice_parts[slot] = parse_expression(true);
        any = true;
        if (is_op(",")) fail(cur(), "tuple indexes are not supported");
    }
    advance();
    if (!is_slice) {
        if (!slice_parts[0]) fail(tok, "expected an index inside '[]'");
        auto e = make_expr(ExprKind::subscript, tok.pos);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(slice_parts[0]));
        return e;
    }
    auto e = make_expr(ExprKind::slice, tok.pos);
    e->args.push_back(std::move(node));
    for (auto& p : slice_parts) e->args.push_back(std::move(p));
    return e;
}

void ExpressionParser::parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
        if (!first) expect_op(",");
        first = false;
        if (is_op(")")) break;
        if (is_op("*") || is_op("**")) fail(cur(), "*args and **kwargs in calls are not supported");
        if (cur().kind == TokenKind::name && peek().kind == TokenKind::op && peek().text == "=") {
            std::string key = cur().text;
            advance();
            advance();
            e.kwargs.emplace_back(std::move(key), parse_expression(true));
        } else {
            if (!e.kwargs.empty()) fail(cur(), "positional argument follows keyword argument");
            e.args.push_back(parse_expression(true));
        }
    }
    advance();
}

ExprPtr ExpressionParser::parse_call(ExprPtr node) {
    Nest nest(*this, cur());
    auto e = make_expr(ExprKind::call, cur().pos);
    e->args.push_back(std::move(node));
    parse_call_args(*e);
    return e;
}

std::string ExpressionParser::dotted_name() {
    std::string name = expect_name();
    while (is_op(".") && peek().kind == TokenKind::name) {
        advance();
        name.append(".").append(expect_name());
    }
    return name;
}

// One or more `| name(args)`; `operand` null in filter blocks and block sets.
ExprPtr ExpressionParser::parse_filters(ExprPtr operand, bool start_inline) {
    Chain chain(*this);
    while (start_inline || is_op("|")) {
        chain.link(cur());
        if (!start_inline) advance();
        start_inline = false;
        const Token at = cur();
        auto e = make_expr(ExprKind::filter, at.pos);
        e->name = dotted_name();
        if (!is_known_filter(e->name)) fail(at, "no filter named '" + e->name + "'");
        e->args.push_back(std::move(operand));
        if (is_op("(")) parse_call_args(*e);
        operand = std::move(e);
    }
    return operand;
}

ExprPtr ExpressionParser::parse_test(ExprPtr node) {
    Nest nest(*this, cur());
    advance();  // is
    auto e = make_expr(ExprKind::test, cur().pos);
    e->negated = skip_name("not");
    const Token at = cur();
    e->name = dotted_name();
    if (!is_known_test(e->name)) fail(at, "no test named '" + e->name + "'");
    e->args.push_back(std::move(node));
    if (is_op("(")) {
        parse_call_args(*e);
    } else {
        const Token& c = cur();
        const bool starts_arg = c.kind == TokenKind::name || c.kind == TokenKind::string ||
                                c.kind == TokenKind::integer || c.kind == TokenKind::floating ||
                                (c.kind == TokenKind::op && (c.text == "(" || c.text == "[" || c.text == "{"));
        if (starts_arg && !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) fail(c, "you cannot chain multiple tests with 'is'");
            e->args.push_back(parse_postfix(parse_primary()));
        }
    }
    return e;
}

}  // namespace strata::jinja
