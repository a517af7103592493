// MessageBanner: strips under the top bar for things the user should read. Two levels, shown
// apart so that news never reads as part of a failure:
//   - errors (red): files that could not be added, load failures, a server that could not
//     start. Each has a topic ("load", "server", a file's path); a new error on a topic replaces
//     that topic's line, and clearError(topic) removes it when the thing that failed succeeds.
//     Errors stay until cleared or dismissed (the strip's close button dismisses them all).
//   - information (accent colour): confirmations ("Added x.gguf to the library."). The newest
//     replaces the one before; it hides by itself after a few seconds or when dismissed.
#pragma once

#include <QFrame>
#include <QList>
#include <QPair>
#include <QTimer>

class QLabel;
class QToolButton;

namespace strata::ui {

class MessageBanner : public QFrame {
    Q_OBJECT
public:
    enum class Kind { info, error };
    static constexpr int kMaxErrors = 6;
    static constexpr int kInfoMs = 6000;

    explicit MessageBanner(QWidget* parent = nullptr);

    void showError(const QString& topic, const QString& text);
    void clearError(const QString& topic);
    void showInfo(const QString& text);
    // showError with no topic, or showInfo.
    void show(Kind kind, const QString& text);
    void dismiss();  // both strips
    void dismissErrors();
    void dismissInfo();

    QString errorText() const;          // the error lines, oldest first
    QString infoText() const { return m_info; }
    // Everything shown, errors first (for tests and accessibility).
    QString text() const;
    // error while any error is shown, else info.
    Kind kind() const { return m_errors.isEmpty() ? Kind::info : Kind::error; }
    bool hasErrors() const { return !m_errors.isEmpty(); }

private:
    struct Strip {
        QFrame* frame = nullptr;
        QLabel* icon = nullptr;
        QLabel* label = nullptr;
        QToolButton* close = nullptr;
    };
    Strip makeStrip(const QString& name, const QString& closeName);
    void render();

    QList<QPair<QString, QString>> m_errors;  // (topic, text)
    QString m_info;
    Strip m_errorStrip;
    Strip m_infoStrip;
    QTimer m_hideTimer;
};

}  // namespace strata::ui
