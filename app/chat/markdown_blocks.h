// Splits a Markdown answer into prose and fenced code blocks, so the chat view can render the
// prose with QTextDocument's Markdown support and each code block as its own widget with a Copy
// button. Works on partial text while an answer streams: an unclosed fence is an open code
// block that runs to the end.
#pragma once

#include <QList>
#include <QString>

namespace strata::app {

struct MarkdownBlock {
    enum Kind { prose, code };
    Kind kind = prose;
    QString text;       // prose: Markdown; code: the code, without fences
    QString language;   // code: the fence's info string ("cpp"), may be empty
    bool closed = true; // code: the closing fence was seen
    bool operator==(const MarkdownBlock&) const = default;
};

QList<MarkdownBlock> splitMarkdown(const QString& markdown);

}  // namespace strata::app
