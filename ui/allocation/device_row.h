// DeviceRow: one device in the allocation panel — on/off, name and memory, reserve, manual
// ratio (in ratio mode), and move up / down (priority).
#pragma once

#include <QFrame>

#include "allocation/allocation.h"

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QToolButton;

namespace strata::ui {

class DeviceRow : public QFrame {
    Q_OBJECT
public:
    DeviceRow(const app::AppDevice& device, const QColor& color, QWidget* parent = nullptr);

    QString key() const { return m_key; }
    void setAllocation(const app::DeviceAllocation& a, bool showRatio, bool first, bool last);
    app::DeviceAllocation allocation() const;

    QCheckBox* enabledBox() const { return m_enabled; }
    QSlider* ratioSlider() const { return m_ratio; }
    QDoubleSpinBox* reserveBox() const { return m_reserve; }
    QToolButton* upButton() const { return m_up; }
    QToolButton* downButton() const { return m_down; }

signals:
    void changed();
    void moveUp();
    void moveDown();

private:
    QString m_key;
    quint64 m_defaultReserve;
    QCheckBox* m_enabled;
    QLabel* m_ratioLabel;
    QSlider* m_ratio;
    QDoubleSpinBox* m_reserve;
    QToolButton* m_up;
    QToolButton* m_down;
    QWidget* m_ratioRow;
    bool m_loading = false;
};

}  // namespace strata::ui
