#include "topology/layer_strip.h"

#include <QPainter>

#include "common/theme.h"

namespace strata::ui {

LayerStrip::LayerStrip(QWidget* parent) : QWidget(parent) { setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed); }

void LayerStrip::setPlan(int nLayer, const std::vector<strata::StagePlan>& stages, const QHash<QString, QColor>& colorOf) {
    m_nLayer = nLayer;
    m_stages = stages;
    m_colors = colorOf;
    update();
}

void LayerStrip::setExpertHosts(const QHash<int, QString>& hostOfLayer) {
    m_expertHosts = hostOfLayer;
    update();
}

QString LayerStrip::deviceOfLayer(int layer) const {
    for (const strata::StagePlan& s : m_stages)
        if (layer >= s.layer_begin && layer < s.layer_end) return QString::fromStdString(s.device_id);
    return {};
}

void LayerStrip::paintEvent(QPaintEvent*) {
    const ThemeColors& c = currentColors();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    if (m_nLayer <= 0) return;
    QString embDevice, outDevice;
    for (const strata::StagePlan& s : m_stages) {
        if (s.has_embedding) embDevice = QString::fromStdString(s.device_id);
        if (s.has_output) outDevice = QString::fromStdString(s.device_id);
    }
    const int n = m_nLayer + 2;  // embedding, blocks, output head
    const qreal gap = m_nLayer > 60 ? 1.0 : 2.0;
    const qreal barH = 26;
    const qreal cellW = (width() - gap * (n - 1)) / n;
    QFont small = font();
    small.setPointSizeF(font().pointSizeF() * 0.85);
    p.setFont(small);
    auto colorFor = [&](const QString& id) { return m_colors.value(id, c.border); };
    for (int i = 0; i < n; ++i) {
        const QString dev = i == 0 ? embDevice : i == n - 1 ? outDevice : deviceOfLayer(i - 1);
        const QRectF cell(i * (cellW + gap), 0, cellW, barH);
        p.setPen(Qt::NoPen);
        p.setBrush(colorFor(dev));
        p.drawRoundedRect(cell, 3, 3);
        if (const QString host = m_expertHosts.value(i - 1); i > 0 && i < n - 1 && !host.isEmpty()) {
            const QRectF band(cell.left(), cell.bottom() - barH / 3, cell.width(), barH / 3);
            p.setBrush(colorFor(host));
            p.drawRoundedRect(band, 2, 2);
        }
        if (i == 0 || i == n - 1) {
            p.setPen(Qt::white);
            if (cellW >= 12) p.drawText(cell, Qt::AlignCenter, i == 0 ? QStringLiteral("E") : QStringLiteral("O"));
        }
    }
    // Layer numbers under the first block of each stage and the last block.
    p.setPen(c.mutedText);
    const QFontMetrics fm(small);
    qreal lastRight = -1e9;
    auto label = [&](int layer) {
        const QString t = QString::number(layer);
        const qreal x = (layer + 1) * (cellW + gap) + cellW / 2 - fm.horizontalAdvance(t) / 2.0;
        if (x < lastRight + 4) return;
        p.drawText(QPointF(x, barH + 4 + fm.ascent()), t);
        lastRight = x + fm.horizontalAdvance(t);
    };
    for (const strata::StagePlan& s : m_stages) label(s.layer_begin);
    label(m_nLayer - 1);
    p.drawText(QPointF(0, barH + 8 + fm.ascent() + fm.height()),
               m_expertHosts.isEmpty() ? tr("E = token embedding, O = output head; numbers are block layers")
                                       : tr("E = token embedding, O = output head; numbers are block layers; a lower "
                                            "band is the device holding that layer's experts"));
}

}  // namespace strata::ui
