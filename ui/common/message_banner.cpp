#include "common/message_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include "common/icons.h"
#include "common/theme.h"

namespace strata::ui {

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("messageBanner"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    m_errorStrip = makeStrip(QStringLiteral("errorStrip"), tr("Dismiss the errors"));
    m_infoStrip = makeStrip(QStringLiteral("infoStrip"), tr("Dismiss the message"));
    v->addWidget(m_errorStrip.frame);
    v->addWidget(m_infoStrip.frame);
    m_hideTimer.setSingleShot(true);
    m_hideTimer.setInterval(kInfoMs);
    connect(&m_hideTimer, &QTimer::timeout, this, &MessageBanner::dismissInfo);
    connect(m_errorStrip.close, &QToolButton::clicked, this, &MessageBanner::dismissErrors);
    connect(m_infoStrip.close, &QToolButton::clicked, this, &MessageBanner::dismissInfo);
    render();
}

MessageBanner::Strip MessageBanner::makeStrip(const QString& name, const QString& closeName) {
    Strip s;
    s.frame = new QFrame(this);
    s.frame->setObjectName(name);
    auto* l = new QHBoxLayout(s.frame);
    l->setContentsMargins(16, 8, 8, 8);
    l->setSpacing(10);
    s.icon = new QLabel(s.frame);
    s.label = new QLabel(s.frame);
    s.label->setWordWrap(true);
    s.label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    s.close = new QToolButton(s.frame);
    s.close->setToolTip(closeName);
    s.close->setAccessibleName(closeName);
    l->addWidget(s.icon, 0, Qt::AlignTop);
    l->addWidget(s.label, 1);
    l->addWidget(s.close, 0, Qt::AlignTop);
    return s;
}

void MessageBanner::showError(const QString& topic, const QString& text) {
    bool replaced = false;
    if (!topic.isEmpty())
        for (auto& e : m_errors)
            if (e.first == topic) {
                e.second = text;
                replaced = true;
            }
    if (!replaced) m_errors.append({topic, text});
    while (m_errors.size() > kMaxErrors) m_errors.removeFirst();
    render();
}

void MessageBanner::clearError(const QString& topic) {
    const qsizetype before = m_errors.size();
    m_errors.removeIf([&](const QPair<QString, QString>& e) { return e.first == topic; });
    if (m_errors.size() != before) render();
}

void MessageBanner::showInfo(const QString& text) {
    m_info = text;
    m_hideTimer.start();
    render();
}

void MessageBanner::show(Kind kind, const QString& text) {
    if (kind == Kind::error) showError({}, text);
    else showInfo(text);
}

void MessageBanner::dismiss() {
    m_errors.clear();
    m_info.clear();
    m_hideTimer.stop();
    render();
}

void MessageBanner::dismissErrors() {
    m_errors.clear();
    render();
}

void MessageBanner::dismissInfo() {
    m_hideTimer.stop();
    m_info.clear();
    render();
}

QString MessageBanner::errorText() const {
    QStringList lines;
    for (const auto& e : m_errors) lines << e.second;
    return lines.join(QLatin1Char('\n'));
}

QString MessageBanner::text() const {
    QStringList parts;
    if (!m_errors.isEmpty()) parts << errorText();
    if (!m_info.isEmpty()) parts << m_info;
    return parts.join(QLatin1Char('\n'));
}

void MessageBanner::render() {
    const ThemeColors& c = currentColors();
    auto paint = [&](Strip& s, const QColor& accent, const QString& iconName, const QString& text) {
        QColor bg = accent;
        bg.setAlpha(isDark(palette()) ? 45 : 28);
        s.frame->setStyleSheet(QStringLiteral("#%1 { background: rgba(%2,%3,%4,%5); border-bottom: 1px solid %6; }")
                                   .arg(s.frame->objectName())
                                   .arg(bg.red())
                                   .arg(bg.green())
                                   .arg(bg.blue())
                                   .arg(bg.alpha())
                                   .arg(c.border.name()));
        s.icon->setPixmap(iconPixmap(iconName, accent, 18, devicePixelRatioF()));
        s.close->setIcon(icon(QStringLiteral("close"), c.mutedText));
        s.label->setText(text);
        s.label->setAccessibleName(text);
        s.frame->setVisible(!text.isEmpty());
    };
    paint(m_errorStrip, c.bad, QStringLiteral("warning"), errorText());
    paint(m_infoStrip, c.accent, QStringLiteral("check"), m_info);
    setVisible(!m_errors.isEmpty() || !m_info.isEmpty());
}

}  // namespace strata::ui
