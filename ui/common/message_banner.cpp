#include "common/message_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("messageBanner"));
    auto* l = new QHBoxLayout(this);
    l->setContentsMargins(16, 8, 8, 8);
    l->setSpacing(10);
    m_icon = new QLabel(this);
    m_label = new QLabel(this);
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_close = new QToolButton(this);
    m_close->setToolTip(tr("Dismiss"));
    l->addWidget(m_icon, 0, Qt::AlignTop);
    l->addWidget(m_label, 1);
    l->addWidget(m_close, 0, Qt::AlignTop);
    m_hideTimer.setSingleShot(true);
    m_hideTimer.setInterval(6000);
    connect(&m_hideTimer, &QTimer::timeout, this, &MessageBanner::dismiss);
    connect(m_close, &QToolButton::clicked, this, &MessageBanner::dismiss);
    setVisible(false);
}

void MessageBanner::show(Kind kind, const QString& text) {
    // Errors stay until dismissed: information arriving meanwhile is added below them.
    const bool keepErrors = isVisible() && m_kind == Kind::error && kind == Kind::info;
    if (!keepErrors && (!isVisible() || kind != m_kind)) m_lines.clear();
    if (!keepErrors) m_kind = kind;
    m_lines.append(text);
    while (m_lines.size() > kMaxLines) m_lines.removeFirst();
    render();
    setVisible(true);
    if (m_kind == Kind::info) m_hideTimer.start();
    else m_hideTimer.stop();
}

void MessageBanner::dismiss() {
    m_hideTimer.stop();
    m_lines.clear();
    setVisible(false);
}

void MessageBanner::render() {
    const ThemeColors& c = currentColors();
    const QColor accent = m_kind == Kind::error ? c.bad : c.accent;
    QColor bg = accent;
    bg.setAlpha(isDark(palette()) ? 45 : 28);
    setStyleSheet(QStringLiteral("#messageBanner { background: %1; border-bottom: 1px solid %2; }")
                      .arg(QStringLiteral("rgba(%1,%2,%3,%4)").arg(bg.red()).arg(bg.green()).arg(bg.blue()).arg(bg.alpha()),
                           c.border.name()));
    m_icon->setPixmap(iconPixmap(m_kind == Kind::error ? QStringLiteral("warning") : QStringLiteral("check"), accent, 18,
                                 devicePixelRatioF()));
    m_close->setIcon(icon(QStringLiteral("close"), c.mutedText));
    m_label->setText(m_lines.join(QLatin1Char('\n')));
}

}  // namespace strata::ui
