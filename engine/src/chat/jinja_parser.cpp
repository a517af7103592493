#include "chat/jinja_parser.h"

#include <initializer_list>

#include "chat/jinja_expression_parser.h"
#include "chat/jinja_lexer.h"

namespace strata::jinja {

namespace {

// Statements: text, {{ }}, and the tags; expressions come from ExpressionParser.
class TemplateParser : public ExpressionParser {
public:
    using ExpressionParser::ExpressionParser;

    Program run() {
        Program p;
        p.body = parse_body({}, nullptr);
        if (cur().kind != TokenKind::eof) fail(cur(), "unexpected " + describe(cur()));
        return p;
    }

private:
    // ---------------------------------------------------------------- statements

    // Parses nodes until a `{% name` with name in `end_tags` (left at that name) or the end.
    Body parse_body(std::initializer_list<const char*> end_tags, const Token* opener) {
        Body body;
        while (true) {
            const Token& tok = cur();
            if (tok.kind == TokenKind::eof) {
                if (opener) {
                    std::string expected;
                    for (const char* e : end_tags) expected += std::string(expected.empty() ? "" : " or ") + "'" + e + "'";
                    // Reported where the block opens: that is where the fix goes.
                    fail(*opener, "unexpected end of template: this '" + opener->text +
                                      "' block was never closed (expected " + expected + ")");
                }
                return body;
            }
            if (tok.kind == TokenKind::data) {
                body.push_back(std::make_unique<TextNode>(tok.pos, tok.text));
                advance();
            } else if (tok.kind == TokenKind::var_begin) {
                advance();
                auto node = std::make_unique<OutputNode>(tok.pos);
                node->expr = parse_tuple(true, {}, false);
                if (cur().kind != TokenKind::var_end) fail(cur(), "expected end of print statement, got " + describe(cur()));
                advance();
                body.push_back(std::move(node));
            } else if (tok.kind == TokenKind::block_begin) {
                const Token& name = peek();
                if (name.kind == TokenKind::name) {
                    for (const char* e : end_tags) {
                        if (name.text == e) {
                            advance();  // leave the parser at the tag name
                            return body;
                        }
                    }
                }
                advance();
                body.push_back(parse_statement());
            } else {
                fail(tok, "unexpected " + describe(tok));
            }
        }
    }

    NodePtr parse_statement() {
        const Token tag = cur();
        Nest nest(*this, tag);
        if (tag.kind != TokenKind::name) fail(tag, "expected a tag name, got " + describe(tag));
        const std::string& n = tag.text;
        advance();
        NodePtr node;
        if (n == "for") node = parse_for(tag);
        else if (n == "if") node = parse_if(tag);
        else if (n == "set") node = parse_set(tag);
        else if (n == "macro") node = parse_macro(tag);
        else if (n == "call") node = parse_call_block(tag);
        else if (n == "filter") node = parse_filter_block(tag);
        else if (n == "with") node = parse_with(tag);
        else if (n == "generation") node = parse_generation(tag);
        else if (n == "break" || n == "continue") {
            if (loop_depth_ == 0) fail(tag, "'" + n + "' outside of a loop");
            node = std::make_unique<Node>(n == "break" ? NodeKind::break_ : NodeKind::continue_, tag.pos);
            expect_block_end();
        } else if (n == "include" || n == "import" || n == "from" || n == "extends" || n == "block") {
            fail(tag, "'" + n + "' is not supported in chat templates (there is no template loader)");
        } else {
            fail(tag, "encountered unknown tag '" + n + "'");
        }
        return node;
    }

    Target parse_target(bool with_namespace, bool allow_tuple) {
        Target target;
        const Token& first = cur();
        target.name = expect_name();
        if (with_namespace && is_op(".")) {
            advance();
            target.attribute = expect_name();
            return target;
        }
        if (allow_tuple && is_op(",")) {
            target.names.push_back(target.name);
            while (skip_op(",")) {
                if (cur().kind != TokenKind::name || is_name("in")) break;
                target.names.push_back(expect_name());
            }
            target.name.clear();
        }
        for (const auto& name : target.names.empty() ? std::vector<std::string>{target.name} : target.names)
            if (name == "true" || name == "false" || name == "none" || name == "True" || name == "False" || name == "None")
                fail(first, "cannot assign to '" + name + "'");
        return target;
    }

    NodePtr parse_for(const Token& tag) {
        auto node = std::make_unique<ForNode>(tag.pos);
        node->target = parse_target(false, true);
        if (!skip_name("in")) fail(cur(), "expected 'in', got " + describe(cur()));
        node->iterable = parse_tuple(false, {"recursive"}, false);
        if (skip_name("if")) node->filter = parse_expression(true);
        if (skip_name("recursive")) node->recursive = true;
        expect_block_end();
        ++loop_depth_;
        node->body = parse_body({"endfor", "else"}, &tag);
        --loop_depth_;
        if (skip_name("else")) {
            expect_block_end();
            node->else_body = parse_body({"endfor"}, &tag);
        }
        advance();  // endfor
        expect_block_end();
        return node;
    }

    NodePtr parse_if(const Token& tag) {
        auto node = std::make_unique<IfNode>(tag.pos);
        ExprPtr cond = parse_tuple(false, {}, false);
        expect_block_end();
        while (true) {
            Body body = parse_body({"elif", "else", "endif"}, &tag);
            node->branches.emplace_back(std::move(cond), std::move(body));
            if (skip_name("elif")) {
                cond = parse_tuple(false, {}, false);
                expect_block_end();
                continue;
            }
            if (skip_name("else")) {
                expect_block_end();
                node->else_body = parse_body({"endif"}, &tag);
            }
            break;
        }
        advance();  // endif
        expect_block_end();
        return node;
    }

    NodePtr parse_set(const Token& tag) {
        Target target = parse_target(true, true);
        if (skip_op("=")) {
            auto node = std::make_unique<SetNode>(tag.pos);
            node->target = std::move(target);
            node->value = parse_tuple(true, {}, false);
            expect_block_end();
            return node;
        }
        auto node = std::make_unique<SetBlockNode>(tag.pos);
        node->target = std::move(target);
        if (!node->target.attribute.empty() || !node->target.names.empty())
            fail(tag, "a block set assigns to one plain name");
        if (is_op("|")) node->filter = parse_filters(nullptr);
        expect_block_end();
        node->body = parse_body({"endset"}, &tag);
        advance();
        expect_block_end();
        return node;
    }

    void parse_signature(MacroNode& m) {
        expect_op("(");
        while (!is_op(")")) {
            if (!m.params.empty()) expect_op(",");
            if (is_op(")")) break;
            MacroParam p;
            p.name = expect_name();
            if (skip_op("=")) p.default_value = parse_expression(true);
            else if (!m.params.empty() && m.params.back().default_value)
                fail(cur(), "non-default argument follows default argument");
            m.params.push_back(std::move(p));
        }
        advance();
    }

    std::unique_ptr<MacroNode> parse_macro_body(const Token& tag, const char* end_tag) {
        auto m = std::make_unique<MacroNode>(tag.pos);
        const int saved_loops = loop_depth_;
        loop_depth_ = 0;  // break/continue do not cross a macro boundary
        macros_.push_back(m.get());
        m->body = parse_body({end_tag}, &tag);
        macros_.pop_back();
        loop_depth_ = saved_loops;
        advance();
        expect_block_end();
        return m;
    }

    NodePtr parse_macro(const Token& tag) {
        const std::string name = expect_name();
        auto sig = std::make_unique<MacroNode>(tag.pos);
        parse_signature(*sig);
        expect_block_end();
        auto m = parse_macro_body(tag, "endmacro");
        m->name = name;
        m->params = std::move(sig->params);
        return m;
    }

    NodePtr parse_call_block(const Token& tag) {
        auto node = std::make_unique<CallBlockNode>(tag.pos);
        auto sig = std::make_unique<MacroNode>(tag.pos);
        if (is_op("(")) parse_signature(*sig);
        node->call = parse_expression(true);
        if (node->call->kind != ExprKind::call) fail(tag, "expected a call after 'call'");
        expect_block_end();
        node->caller = parse_macro_body(tag, "endcall");
        node->caller->name = "caller";
        node->caller->params = std::move(sig->params);
        return node;
    }

    NodePtr parse_filter_block(const Token& tag) {
        auto node = std::make_unique<FilterBlockNode>(tag.pos);
        node->filter = parse_filters(nullptr, true);
        expect_block_end();
        node->body = parse_body({"endfilter"}, &tag);
        advance();
        expect_block_end();
        return node;
    }

    NodePtr parse_with(const Token& tag) {
        auto node = std::make_unique<WithNode>(tag.pos);
        while (cur().kind != TokenKind::block_end) {
            if (!node->assignments.empty()) expect_op(",");
            Target target = parse_target(false, false);
            expect_op("=");
            node->assignments.emplace_back(std::move(target), parse_expression(true));
        }
        expect_block_end();
        node->body = parse_body({"endwith"}, &tag);
        advance();
        expect_block_end();
        return node;
    }

    NodePtr parse_generation(const Token& tag) {
        auto node = std::make_unique<ScopeNode>(tag.pos);
        expect_block_end();
        node->body = parse_body({"endgeneration"}, &tag);
        advance();
        expect_block_end();
        return node;
    }

    int loop_depth_ = 0;
};

}  // namespace

Program parse_template(std::string_view source) {
    return TemplateParser(tokenize(source)).run();
}

}  // namespace strata::jinja
