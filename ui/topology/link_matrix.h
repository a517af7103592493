// LinkMatrix: how every pair of devices is linked — NVLink, a PCIe switch, the host bridge, across
// CPU sockets, or no P2P (copies staged through host memory) — with the GB/s of one copy, as a
// grid (row: from, column: to). Fed with DeviceMonitor::links() (a simulated machine's profile);
// the hand-offs of a plan (Plan::handoffs) are marked, so the pairs the model's stages use stand
// out. Draws; owns no state beyond what it shows.
#pragma once

#include <QFrame>
#include <QStringList>

#include "strata/plan.h"

class QGridLayout;
class QLabel;

namespace strata::ui {

class LinkMatrixView : public QFrame {
    Q_OBJECT
public:
    explicit LinkMatrixView(QWidget* parent = nullptr);

    // `ids`[i] names row/column i of `links`; `handoffs` (may be empty) mark the pairs in use.
    void setLinks(const QStringList& ids, const strata::LinkMatrix& links, const std::vector<strata::StageHandOff>& handoffs = {});
    // For tests: the text of the cell from `from` to `to` ("" when none), and what the summary says.
    QString cellText(int from, int to) const;
    QString summaryText() const;

    // "NVLink", "same PCIe switch", "host bridge", "across sockets", "no P2P (staged via host)".
    static QString kindText(strata::LinkKind kind);

private:
    QGridLayout* m_grid;
    QLabel* m_summary;
    QList<QWidget*> m_cells;
    QList<QList<QLabel*>> m_cellLabels;
};

}  // namespace strata::ui
