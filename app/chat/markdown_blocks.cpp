#include "chat/markdown_blocks.h"

#include <QStringList>

namespace strata::app {

namespace {

// A fence line: up to 3 spaces, then ``` or ~~~ (3 or more). Returns the fence, or "".
QString fenceOf(const QString& line, QString* info) {
    int i = 0;
    while (i < line.size() && i < 3 && line[i] == QLatin1Char(' ')) ++i;
    if (i >= line.size()) return {};
    const QChar c = line[i];
    if (c != QLatin1Char('`') && c != QLatin1Char('~')) return {};
    int n = 0;
    while (i + n < line.size() && line[i + n] == c) ++n;
    if (n < 3) return {};
    const QString rest = line.mid(i + n).trimmed();
    if (c == QLatin1Char('`') && rest.contains(QLatin1Char('`'))) return {};  // inline code, not a fence
    if (info) *info = rest.section(QLatin1Char(' '), 0, 0);
    return QString(n, c);
}

}  // namespace

QList<MarkdownBlock> splitMarkdown(const QString& markdown) {
    QList<MarkdownBlock> out;
    const QStringList lines = markdown.split(QLatin1Char('\n'));
    QStringList prose;
    QStringList code;
    QString fence;
    QString language;
    auto flushProse = [&] {
        while (!prose.isEmpty() && prose.last().trimmed().isEmpty()) prose.removeLast();
        while (!prose.isEmpty() && prose.first().trimmed().isEmpty()) prose.removeFirst();
        if (!prose.isEmpty()) out.append({MarkdownBlock::prose, prose.join(QLatin1Char('\n')), {}, true});
        prose.clear();
    };
    for (const QString& line : lines) {
        if (fence.isEmpty()) {
            QString info;
            const QString f = fenceOf(line, &info);
            if (!f.isEmpty()) {
                flushProse();
                fence = f;
                language = info;
                code.clear();
            } else {
                prose.append(line);
            }
        } else {
            QString info;
            const QString f = fenceOf(line, &info);
            // A closing fence uses the same character, is at least as long and has no info.
            if (!f.isEmpty() && f[0] == fence[0] && f.size() >= fence.size() && info.isEmpty()) {
                out.append({MarkdownBlock::code, code.join(QLatin1Char('\n')), language, true});
                fence.clear();
            } else {
                code.append(line);
            }
        }
    }
    if (!fence.isEmpty()) out.append({MarkdownBlock::code, code.join(QLatin1Char('\n')), language, false});
    else flushProse();
    return out;
}

}  // namespace strata::app
