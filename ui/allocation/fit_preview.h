// FitPreview: the live result of the planner for the allocation panel's settings — a verdict,
// a stacked memory bar per device (with, for a mixture-of-experts model, whose experts it holds),
// the longest context that fits, and the planner's decisions, shortfalls and suggestions in words.
#pragma once

#include <QFrame>
#include <QMap>

#include "strata/plan.h"

class QGridLayout;
class QLabel;

namespace strata::ui {

class FitBar;

class FitPreview : public QFrame {
    Q_OBJECT
public:
    explicit FitPreview(QWidget* parent = nullptr);

    void setPlan(const strata::PlanRequest& request, const strata::Plan& plan);
    void setPlaceholder(const QString& text);

    // For tests: the bar of each device id, and the texts shown.
    QMap<QString, FitBar*> bars() const { return m_bars; }
    QString verdictText() const;
    QString longestContextText() const;
    // "⚠ 32,768 tokens is beyond the 2,048 this model was trained on: …" or "".
    QString contextWarningText() const;
    QString explanationText() const;
    QString deviceText(const QString& id) const;  // the line(s) under a device's bar

private:
    void clearRows();

    QLabel* m_verdict;
    QLabel* m_longest;
    QLabel* m_ctxWarning;
    QLabel* m_speed;
    QGridLayout* m_rows;
    QLabel* m_legend;
    QLabel* m_explanation;
    QLabel* m_placeholder;
    QMap<QString, FitBar*> m_bars;
    QMap<QString, QLabel*> m_details;
    QList<QWidget*> m_rowWidgets;
};

}  // namespace strata::ui
