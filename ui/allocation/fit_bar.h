// FitBar: one device's memory under a plan as a stacked bar — weights, KV cache, scratch, free —
// scaled to what the plan may use there; anything beyond that is drawn red.
#pragma once

#include <QWidget>

namespace strata::ui {

struct FitBarValues {
    quint64 weights = 0;
    quint64 kvCache = 0;
    quint64 scratch = 0;
    quint64 capacity = 0;  // what the plan may use (free memory minus the reserve)
    quint64 total() const { return weights + kvCache + scratch; }
    bool fits() const { return total() <= capacity; }
    bool operator==(const FitBarValues&) const = default;
};

class FitBar : public QWidget {
    Q_OBJECT
public:
    explicit FitBar(QWidget* parent = nullptr);

    void setValues(const FitBarValues& v);
    const FitBarValues& values() const { return m_values; }
    void setDisabledLook(bool disabled);
    QSize sizeHint() const override { return {320, 18}; }
    QSize minimumSizeHint() const override { return {80, 14}; }

protected:
    void paintEvent(QPaintEvent* e) override;

private:
    FitBarValues m_values;
    bool m_disabledLook = false;
};

}  // namespace strata::ui
