#include "allocation/fit_bar.h"

#include <QPainter>
#include <QPainterPath>

#include "common/theme.h"

namespace strata::ui {

FitBar::FitBar(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed); }

void FitBar::setValues(const FitBarValues& v) {
    m_values = v;
    setToolTip(QString());
    update();
}

void FitBar::setDisabledLook(bool disabled) {
    m_disabledLook = disabled;
    update();
}

void FitBar::paintEvent(QPaintEvent*) {
    const ThemeColors& c = currentColors();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF r = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
    const qreal radius = qMin<qreal>(6, r.height() / 2);
    QPainterPath clip;
    clip.addRoundedRect(r, radius, radius);
    p.setClipPath(clip);
    p.fillRect(r, c.free);

    const double scaleTo = double(qMax(m_values.capacity, m_values.total()));
    if (scaleTo > 0 && !m_disabledLook) {
        double x = r.left();
        auto segment = [&](quint64 bytes, const QColor& color) {
            const double w = r.width() * double(bytes) / scaleTo;
            p.fillRect(QRectF(x, r.top(), w, r.height()), color);
            x += w;
        };
        segment(m_values.weights, c.weights);
        segment(m_values.kvCache, c.kvCache);
        segment(m_values.scratch, c.scratch);
        if (!m_values.fits()) {
            // The part past the capacity: red, hatched, with a marker at the capacity.
            const double capX = r.left() + r.width() * double(m_values.capacity) / scaleTo;
            const QRectF over(capX, r.top(), r.right() - capX, r.height());
            QColor red = c.overflow;
            p.fillRect(over, red);
            p.fillRect(over, QBrush(c.overflow.darker(140), Qt::BDiagPattern));
            p.setPen(QPen(c.text, 2));
            p.drawLine(QPointF(capX, r.top()), QPointF(capX, r.bottom()));
        }
    }
    p.setClipping(false);
    p.setPen(QPen(!m_values.fits() && !m_disabledLook ? c.overflow : c.border, 1));
    p.setBrush(Qt::NoBrush);
    p.drawRoundedRect(r, radius, radius);
}

}  // namespace strata::ui
