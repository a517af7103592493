#include "topology/link_matrix.h"

#include <QGridLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>
#include <set>

#include "common/theme.h"

namespace strata::ui {

namespace {

// A colour per kind of link, fastest greenest: the slow, staged ones are what a reader should see.
QColor kindColor(strata::LinkKind kind) {
    const ThemeColors& c = currentColors();
    switch (kind) {
        case strata::LinkKind::nvlink: return c.good;
        case strata::LinkKind::pcie_switch:
        case strata::LinkKind::host_bridge: return c.accent;
        case strata::LinkKind::cross_socket: return c.warning;
        case strata::LinkKind::staged: return c.bad;
        default: return c.mutedText;
    }
}

QString gbs(double v) { return v >= 100 ? QString::number(v, 'f', 0) : QString::number(v, 'g', 3); }

}  // namespace

QString LinkMatrixView::kindText(strata::LinkKind kind) {
    switch (kind) {
        case strata::LinkKind::nvlink: return tr("NVLink");
        case strata::LinkKind::pcie_switch: return tr("same PCIe switch");
        case strata::LinkKind::host_bridge: return tr("host bridge");
        case strata::LinkKind::cross_socket: return tr("across sockets");
        case strata::LinkKind::staged: return tr("no P2P (staged via host)");
        case strata::LinkKind::host_device: return tr("host memory");
        case strata::LinkKind::unknown: break;
    }
    return tr("unknown");
}

namespace {

// A cell of the matrix: as wide as its lines unwrapped when the page has room, wrapped (down to
// its longest word) when the window is narrow, so eight or more devices fit the smallest window
// without scrolling sideways. (A word-wrapped QLabel alone asks for a narrow, tall shape.)
class LinkCell : public QLabel {
public:
    using QLabel::QLabel;
    // Call once text and style are set.
    void wrapWhenNarrow() {
        ensurePolished();
        m_natural = QLabel::sizeHint().width();
        setWordWrap(true);
        updateGeometry();
    }
    QSize sizeHint() const override {
        if (m_natural <= 0) return QLabel::sizeHint();
        return {m_natural, std::max(minimumHeight(), heightForWidth(m_natural))};
    }

private:
    int m_natural = 0;
};

}  // namespace

LinkMatrixView::LinkMatrixView(QWidget* parent) : QFrame(parent) {
    setProperty("card", true);
    setObjectName(QStringLiteral("linkMatrix"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(16, 14, 16, 12);
    auto* title = new QLabel(tr("Links between the devices"), this);
    title->setProperty("subheading", true);
    v->addWidget(title);
    m_grid = new QGridLayout;
    m_grid->setHorizontalSpacing(4);
    m_grid->setVerticalSpacing(4);
    v->addLayout(m_grid);
    m_summary = new QLabel(this);
    m_summary->setProperty("muted", true);
    m_summary->setWordWrap(true);
    v->addWidget(m_summary);
}

void LinkMatrixView::setLinks(const QStringList& ids, const strata::LinkMatrix& links,
                              const std::vector<strata::StageHandOff>& handoffs) {
    qDeleteAll(m_cells);
    m_cells.clear();
    m_cellLabels.clear();
    const ThemeColors& colors = currentColors();
    std::set<std::pair<int, int>> used;
    for (const strata::StageHandOff& h : handoffs) used.insert({h.from, h.to});

    auto header = [&](const QString& text, int row, int col) {
        auto* l = new QLabel(text, this);
        l->setAlignment(Qt::AlignCenter);
        l->setStyleSheet(QStringLiteral("font-weight: 600;"));
        m_grid->addWidget(l, row, col);
        m_cells.append(l);
    };
    const int n = int(ids.size());
    auto* corner = new QLabel(tr("from ↓ to →"), this);
    corner->setProperty("muted", true);
    m_grid->addWidget(corner, 0, 0);
    m_cells.append(corner);
    for (int j = 0; j < n; ++j) header(ids[j], 0, j + 1);
    QList<int> kindsSeen;
    int staged = 0, pairs = 0;
    for (int i = 0; i < n; ++i) {
        header(ids[i], i + 1, 0);
        QList<QLabel*> row;
        for (int j = 0; j < n; ++j) {
            auto* cell = new LinkCell(this);
            cell->setAlignment(Qt::AlignCenter);
            cell->setMinimumHeight(40);
            if (i == j) {
                cell->setText(QStringLiteral("—"));
                cell->setProperty("muted", true);
            } else {
                const strata::Link l = size_t(i) < links.size() && size_t(j) < links[size_t(i)].size() ? links[size_t(i)][size_t(j)]
                                                                                                    : strata::Link{};
                const QColor c = kindColor(l.kind);
                const bool inUse = used.count({i, j}) > 0;
                cell->setText(QStringLiteral("%1<br><b>%2</b>")
                                  .arg(kindText(l.kind), l.gbs > 0 ? tr("%1 GB/s").arg(gbs(l.gbs)) : QStringLiteral("?")));
                cell->setToolTip(tr("%1 → %2: %3, %4 GB/s one way, %5 µs per copy%6")
                                     .arg(ids[i], ids[j], kindText(l.kind), gbs(l.gbs))
                                     .arg(l.latency_us)
                                     .arg(inUse ? tr(" (the model's stages hand over here)") : QString()));
                QColor bg = c;
                bg.setAlpha(inUse ? 90 : 40);
                cell->setStyleSheet(QStringLiteral("background: rgba(%1,%2,%3,%4); border-radius: 6px; padding: 2px 8px; border: %5;")
                                        .arg(bg.red())
                                        .arg(bg.green())
                                        .arg(bg.blue())
                                        .arg(bg.alpha())
                                        .arg(inUse ? QStringLiteral("2px solid %1").arg(c.name()) : QStringLiteral("1px solid %1").arg(colors.border.name())));
                // The summary is about GPU to GPU: a CPU device's row is host memory.
                if (l.kind != strata::LinkKind::host_device) {
                    if (!kindsSeen.contains(int(l.kind))) kindsSeen.append(int(l.kind));
                    ++pairs;
                    if (l.kind == strata::LinkKind::staged) ++staged;
                }
            }
            cell->wrapWhenNarrow();
            m_grid->addWidget(cell, i + 1, j + 1);
            m_cells.append(cell);
            row.append(cell);
        }
        m_cellLabels.append(row);
    }
    // Compact cells at the left; what is left of the width stays empty.
    for (int j = 0; j <= n + 1; ++j) m_grid->setColumnStretch(j, j == n + 1 ? 1 : 0);

    QString summary;
    if (pairs == 0) summary = tr("One GPU: nothing to hand over between cards.");
    else if (staged == pairs) summary = tr("No pair of GPUs can copy directly (no P2P): every hand-off goes to host memory and from there to the next card, two copies.");
    else if (kindsSeen == QList<int>{int(strata::LinkKind::nvlink)}) summary = tr("NVLink between every pair of GPUs.");
    else summary = tr("Hand-offs use the fastest link between neighbouring stages; staged links copy twice, through host memory.");
    if (!handoffs.empty()) summary += QLatin1Char(' ') + tr("Outlined: the pairs the plan's stages hand over between.");
    m_summary->setText(summary);
}

QString LinkMatrixView::cellText(int from, int to) const {
    if (from < 0 || from >= m_cellLabels.size() || to < 0 || to >= m_cellLabels[from].size()) return {};
    return m_cellLabels[from][to]->text();
}

QString LinkMatrixView::summaryText() const { return m_summary->text(); }

}  // namespace strata::ui
