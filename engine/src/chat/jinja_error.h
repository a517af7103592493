// The one exception type inside the Jinja interpreter. It never leaves engine/src/chat:
// ChatTemplate (the public API) catches it and turns it into a ChatTemplateError and a Status.
#pragma once

#include <stdexcept>
#include <string>

namespace strata::jinja {

// Where in the template source (1-based; 0 = not known yet, filled in by the evaluator from
// the expression being evaluated when the error passes through it).
struct SourcePos {
    int line = 0;
    int column = 0;
};

enum class ErrorKind {
    syntax,  // the template does not parse
    render,  // an operation failed while rendering (type error, undefined, unknown method)
    raised,  // the template called raise_exception(message)
    limit,   // a resource limit was reached (output size, loop iterations, call depth)
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, SourcePos pos, const std::string& what)
        : std::runtime_error(what), kind_(kind), pos_(pos) {}
    ErrorKind kind() const { return kind_; }
    SourcePos pos() const { return pos_; }
    bool has_pos() const { return pos_.line > 0; }
    void set_pos(SourcePos pos) { pos_ = pos; }

private:
    ErrorKind kind_;
    SourcePos pos_;
};

[[noreturn]] inline void throw_render_error(const std::string& what) {
    throw Error(ErrorKind::render, {}, what);
}
[[noreturn]] inline void throw_limit_error(const std::string& what) {
    throw Error(ErrorKind::limit, {}, what);
}

}  // namespace strata::jinja
