#include "common/flow_layout.h"

#include <QWidget>
#include <algorithm>

namespace strata::ui {

FlowLayout::FlowLayout(QWidget* parent, int horizontalSpacing, int verticalSpacing)
    : QLayout(parent), m_hSpacing(horizontalSpacing), m_vSpacing(verticalSpacing) {
    setContentsMargins(0, 0, 0, 0);
}

FlowLayout::~FlowLayout() {
    while (QLayoutItem* item = takeAt(0)) delete item;
}

void FlowLayout::addItem(QLayoutItem* item) { m_items.append(item); }

int FlowLayout::count() const { return int(m_items.size()); }

QLayoutItem* FlowLayout::itemAt(int index) const { return index >= 0 && index < m_items.size() ? m_items[index] : nullptr; }

QLayoutItem* FlowLayout::takeAt(int index) {
    if (index < 0 || index >= m_items.size()) return nullptr;
    QLayoutItem* item = m_items.takeAt(index);
    invalidate();
    return item;
}

int FlowLayout::heightForWidth(int width) const { return arrange(QRect(0, 0, width, 0), false); }

QSize FlowLayout::minimumSize() const {
    QSize size;
    for (const QLayoutItem* item : m_items)
        if (!item->isEmpty()) size = size.expandedTo(item->minimumSize());
    const QMargins m = contentsMargins();
    return size + QSize(m.left() + m.right(), m.top() + m.bottom());
}

QSize FlowLayout::sizeHint() const {
    int width = 0, height = 0, n = 0;
    for (const QLayoutItem* item : m_items) {
        if (item->isEmpty()) continue;
        const QSize s = item->sizeHint();
        width += s.width() + (n++ ? m_hSpacing : 0);
        height = std::max(height, s.height());
    }
    const QMargins m = contentsMargins();
    return {width + m.left() + m.right(), height + m.top() + m.bottom()};
}

void FlowLayout::setGeometry(const QRect& rect) {
    QLayout::setGeometry(rect);
    arrange(rect, true);
}

int FlowLayout::arrange(const QRect& rect, bool apply) const {
    const QRect area = rect.marginsRemoved(contentsMargins());
    int x = area.x(), y = area.y(), rowHeight = 0;
    bool rowEmpty = true;
    for (QLayoutItem* item : m_items) {
        if (item->isEmpty()) continue;
        // An item wider than the whole area gets the area's width (never less than its minimum).
        QSize s = item->sizeHint().boundedTo(item->maximumSize());
        s.setWidth(std::max(item->minimumSize().width(), std::min(s.width(), area.width())));
        if (!rowEmpty && x + s.width() > area.x() + area.width()) {
            x = area.x();
            y += rowHeight + m_vSpacing;
            rowHeight = 0;
        }
        if (item->hasHeightForWidth()) s.setHeight(item->heightForWidth(s.width()));
        if (apply) item->setGeometry(QRect(QPoint(x, y), s));
        x += s.width() + m_hSpacing;
        rowHeight = std::max(rowHeight, s.height());
        rowEmpty = false;
    }
    const QMargins m = contentsMargins();
    return y + rowHeight - area.y() + m.top() + m.bottom();
}

}  // namespace strata::ui
