// splitMarkdown: prose and fenced code blocks, including the partial text of a streaming answer.
#include <QtTest>

#include "chat/markdown_blocks.h"

using strata::app::MarkdownBlock;
using strata::app::splitMarkdown;
using Blocks = QList<MarkdownBlock>;

Q_DECLARE_METATYPE(MarkdownBlock)

namespace {
MarkdownBlock prose(const QString& t) { return {MarkdownBlock::prose, t, {}, true}; }
MarkdownBlock code(const QString& t, const QString& lang = {}, bool closed = true) {
    return {MarkdownBlock::code, t, lang, closed};
}
}  // namespace

class TestMarkdownBlocks : public QObject {
    Q_OBJECT
private slots:
    void split_data() {
        QTest::addColumn<QString>("markdown");
        QTest::addColumn<Blocks>("expected");
        QTest::newRow("empty") << QString() << Blocks{};
        QTest::newRow("prose only") << QStringLiteral("Hello *world*\n\n- a\n- b") << Blocks{prose(QStringLiteral("Hello *world*\n\n- a\n- b"))};
        QTest::newRow("code between prose")
            << QStringLiteral("Run:\n\n```bash\nls -l\necho hi\n```\n\nDone.")
            << Blocks{prose(QStringLiteral("Run:")), code(QStringLiteral("ls -l\necho hi"), QStringLiteral("bash")), prose(QStringLiteral("Done."))};
        QTest::newRow("tilde fence, info words")
            << QStringLiteral("~~~python title=x\nprint(1)\n~~~")
            << Blocks{code(QStringLiteral("print(1)"), QStringLiteral("python"))};
        QTest::newRow("longer fence holds a shorter one")
            << QStringLiteral("````md\n```\ninner\n```\n````")
            << Blocks{code(QStringLiteral("```\ninner\n```"), QStringLiteral("md"))};
        QTest::newRow("closing fence must match the character")
            << QStringLiteral("```\na\n~~~\nb\n```")
            << Blocks{code(QStringLiteral("a\n~~~\nb"))};
        QTest::newRow("streaming: unclosed fence")
            << QStringLiteral("Here:\n```cpp\nint main() {")
            << Blocks{prose(QStringLiteral("Here:")), code(QStringLiteral("int main() {"), QStringLiteral("cpp"), false)};
        QTest::newRow("streaming: fence just opened")
            << QStringLiteral("```") << Blocks{code(QString(), QString(), false)};
        QTest::newRow("inline triple backticks are not a fence")
            << QStringLiteral("use ```x``` inline") << Blocks{prose(QStringLiteral("use ```x``` inline"))};
        QTest::newRow("indented up to three spaces")
            << QStringLiteral("   ```\nx\n   ```") << Blocks{code(QStringLiteral("x"))};
        QTest::newRow("two code blocks")
            << QStringLiteral("```a\n1\n```\n```b\n2\n```")
            << Blocks{code(QStringLiteral("1"), QStringLiteral("a")), code(QStringLiteral("2"), QStringLiteral("b"))};
        QTest::newRow("blank code lines kept")
            << QStringLiteral("```\n\nx\n\n```") << Blocks{code(QStringLiteral("\nx\n"))};
    }

    void split() {
        QFETCH(QString, markdown);
        QFETCH(Blocks, expected);
        const Blocks got = splitMarkdown(markdown);
        QCOMPARE(got.size(), expected.size());
        for (int i = 0; i < got.size(); ++i) {
            QCOMPARE(int(got[i].kind), int(expected[i].kind));
            QCOMPARE(got[i].text, expected[i].text);
            QCOMPARE(got[i].language, expected[i].language);
            QCOMPARE(got[i].closed, expected[i].closed);
        }
    }

    // Growing the text one character at a time (as a stream does) never loses or duplicates
    // text: the blocks' contents always add up to the input minus fence lines.
    void streamingPrefixesAreConsistent() {
        const QString full = QStringLiteral("Intro line\n\n```js\nconst a = 1;\nconst b = 2;\n```\nOutro *x*\n");
        for (int n = 0; n <= full.size(); ++n) {
            const Blocks b = splitMarkdown(full.left(n));
            QString joined;
            for (const MarkdownBlock& m : b) joined += m.text;
            for (const QChar c : joined) QVERIFY(full.left(n).contains(c));
            if (n > full.indexOf(QLatin1String("const a")) + 7 && n < full.indexOf(QLatin1String("\n```\nOutro"))) {
                QVERIFY(!b.isEmpty());
                QCOMPARE(int(b.last().kind), int(MarkdownBlock::code));
                QVERIFY(!b.last().closed);
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestMarkdownBlocks)
#include "tst_markdown_blocks.moc"
