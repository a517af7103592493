// MessageBanner: a strip under the top bar for things the user should read — files that could
// not be added (each naming the file and why), load failures, confirmations. Errors stay until
// dismissed; information hides by itself.
#pragma once

#include <QFrame>
#include <QStringList>
#include <QTimer>

class QLabel;
class QToolButton;

namespace strata::ui {

class MessageBanner : public QFrame {
    Q_OBJECT
public:
    enum class Kind { info, error };
    static constexpr int kMaxLines = 6;

    explicit MessageBanner(QWidget* parent = nullptr);

    // Adds a line (several errors in a row are listed together).
    void show(Kind kind, const QString& text);
    void dismiss();
    QString text() const { return m_lines.join(QLatin1Char('\n')); }
    Kind kind() const { return m_kind; }

private:
    void render();

    Kind m_kind = Kind::info;
    QStringList m_lines;
    QLabel* m_icon;
    QLabel* m_label;
    QToolButton* m_close;
    QTimer m_hideTimer;
};

}  // namespace strata::ui
