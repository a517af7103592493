// Jinja expressions: the token cursor and the recursive-descent expression grammar, with
// Jinja's precedence (or < and < not < comparisons < + - < ~ < * / // % < ** < unary - + <
// filters and tests < postfix . [] ()). The template parser (jinja_parser.cpp) derives from it
// and adds the statements. One parser per template, on one thread.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"
#include "chat/jinja_parser.h"

namespace strata::jinja {

std::string describe(const Token& t);  // "end of print statement", "'+'", ... for error messages

class ExpressionParser {
public:
    explicit ExpressionParser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

protected:
    // RAII guard on recursion depth.
    struct Nest {
        ExpressionParser& p;
        Nest(ExpressionParser& parser, const Token& at) : p(parser) {
            if (++p.depth_ > k_max_nesting)
                p.fail(at, "template nested too deeply (more than " + std::to_string(k_max_nesting) + " levels)");
        }
        ~Nest() { --p.depth_; }
    };

    // Chains built in a loop (a + b + c, x | f | g, a.b.c()) nest the tree as deeply as they
    // are long: each link counts toward the nesting limit until the chain's parser returns.
    struct Chain {
        ExpressionParser& p;
        int links = 0;
        explicit Chain(ExpressionParser& parser) : p(parser) {}
        void link(const Token& at) {
            ++links;
            if (++p.depth_ > k_max_nesting)
                p.fail(at, "template nested too deeply (more than " + std::to_string(k_max_nesting) + " levels)");
        }
        ~Chain() { p.depth_ -= links; }
    };

    const Token& cur() const { return t_[i_]; }
    const Token& peek(size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
    void advance() {
        if (i_ + 1 < t_.size()) ++i_;
    }
    bool is_op(const char* op) const { return cur().kind == TokenKind::op && cur().text == op; }
    bool is_name(const char* name) const { return cur().kind == TokenKind::name && cur().text == name; }
    bool skip_op(const char* op) {
        if (!is_op(op)) return false;
        advance();
        return true;
    }
    bool skip_name(const char* name) {
        if (!is_name(name)) return false;
        advance();
        return true;
    }
    [[noreturn]] void fail(const Token& at, const std::string& what) const {
        throw Error(ErrorKind::syntax, at.pos, what);
    }
    void expect_op(const char* op) {
        if (!skip_op(op)) fail(cur(), std::string("expected '") + op + "', got " + describe(cur()));
    }
    std::string expect_name() {
        if (cur().kind != TokenKind::name) fail(cur(), "expected a name, got " + describe(cur()));
        std::string n = cur().text;
        advance();
        return n;
    }
    void expect_block_end() {
        if (cur().kind != TokenKind::block_end) fail(cur(), "expected end of statement block, got " + describe(cur()));
        advance();
    }


    // ---- expressions (jinja_expression_parser.cpp) ----
    bool at_tuple_end(std::initializer_list<const char*> extra_end) const;
    ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<const char*> extra_end, bool explicit_parens);
    ExprPtr parse_expression(bool with_condexpr);
    ExprPtr binary(Op op, SourcePos pos, ExprPtr l, ExprPtr r);
    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary(bool with_filter);
    ExprPtr parse_primary();
    ExprPtr parse_list();
    ExprPtr parse_dict();
    ExprPtr parse_postfix(ExprPtr node);
    ExprPtr parse_filter_expr(ExprPtr node);
    ExprPtr parse_subscript(ExprPtr node);
    void parse_call_args(Expr& e);
    ExprPtr parse_call(ExprPtr node);
    std::string dotted_name();
    ExprPtr parse_filters(ExprPtr operand, bool start_inline = false);
    ExprPtr parse_test(ExprPtr node);

    std::vector<Token> t_;
    size_t i_ = 0;
    int depth_ = 0;
    std::vector<MacroNode*> macros_;  // macros whose bodies are being parsed, outermost first
};

}  // namespace strata::jinja
