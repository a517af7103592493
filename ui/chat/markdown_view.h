// MarkdownView: read-only rich text for Markdown prose (paragraphs, lists, tables, emphasis,
// inline code, links) whose height follows its content, for stacking inside a message.
#pragma once

#include <QTextBrowser>

namespace strata::ui {

class MarkdownView : public QTextBrowser {
    Q_OBJECT
public:
    explicit MarkdownView(QWidget* parent = nullptr);

    void setMarkdownText(const QString& markdown);
    QString markdownText() const { return m_markdown; }

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void resizeEvent(QResizeEvent* e) override;
    void changeEvent(QEvent* e) override;
    void wheelEvent(QWheelEvent* e) override;

private:
    void styleDocument();
    void updateHeight();

    QString m_markdown;
};

}  // namespace strata::ui
