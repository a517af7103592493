// MeterBar: a thin rounded bar showing one share (0..1) in a colour — a GPU's load or its memory
// in use on a device card.
#pragma once

#include <QColor>
#include <QWidget>

namespace strata::ui {

class MeterBar : public QWidget {
    Q_OBJECT
public:
    explicit MeterBar(const QColor& color, QWidget* parent = nullptr);

    void setShare(double share);  // clamped to 0..1
    double share() const { return m_share; }
    void setColor(const QColor& color);
    QSize sizeHint() const override { return {120, 8}; }
    QSize minimumSizeHint() const override { return {40, 8}; }

protected:
    void paintEvent(QPaintEvent* e) override;

private:
    double m_share = 0;
    QColor m_color;
};

}  // namespace strata::ui
