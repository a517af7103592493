#include "topology/meter_bar.h"

#include <QPainter>
#include <algorithm>

#include "common/theme.h"

namespace strata::ui {

MeterBar::MeterBar(const QColor& color, QWidget* parent) : QWidget(parent), m_color(color) {
    setFixedHeight(8);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void MeterBar::setShare(double share) {
    share = std::clamp(share, 0.0, 1.0);
    if (share == m_share) return;
    m_share = share;
    update();
}

void MeterBar::setColor(const QColor& color) {
    m_color = color;
    update();
}

void MeterBar::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF r = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
    const qreal radius = r.height() / 2;
    p.setPen(Qt::NoPen);
    p.setBrush(currentColors().free);
    p.drawRoundedRect(r, radius, radius);
    if (m_share <= 0) return;
    // At least a dot, so 1% is visible.
    const qreal w = std::max(r.height(), r.width() * m_share);
    p.setBrush(m_color);
    p.drawRoundedRect(QRectF(r.left(), r.top(), w, r.height()), radius, radius);
}

}  // namespace strata::ui
