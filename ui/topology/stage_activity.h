// StageActivity: how busy each pipeline stage has been since the model was loaded — a bar of
// busy against idle time per stage, with tokens, batches and hidden-state transfers.
#pragma once

#include <QFrame>
#include <QHash>

#include "strata/engine.h"

class QGridLayout;
class QLabel;

namespace strata::ui {

class StageActivity : public QFrame {
    Q_OBJECT
public:
    explicit StageActivity(QWidget* parent = nullptr);
    void setTimings(const std::vector<strata::StageTiming>& timings, const QHash<QString, QColor>& colorOf);
    int rows() const { return int(m_rowWidgets.size() / 3); }

private:
    QGridLayout* m_grid;
    QLabel* m_empty;
    QList<QWidget*> m_rowWidgets;
};

}  // namespace strata::ui
