// FlowLayout: lays its items out left to right and starts a new row when the next one would
// pass the right edge (as words wrap in a paragraph), each row as tall as its tallest item, the
// items aligned to its top. Its minimum width is its widest item's, so a page holding it never
// has to scroll sideways for it; it reports the height it needs for a width (heightForWidth),
// which QScrollArea and the box layouts honour.
// Owns its items (as every QLayout does); GUI thread only.
#pragma once

#include <QLayout>
#include <QList>

namespace strata::ui {

class FlowLayout : public QLayout {
public:
    explicit FlowLayout(QWidget* parent = nullptr, int horizontalSpacing = 8, int verticalSpacing = 8);
    ~FlowLayout() override;

    void addItem(QLayoutItem* item) override;
    int count() const override;
    QLayoutItem* itemAt(int index) const override;
    QLayoutItem* takeAt(int index) override;

    Qt::Orientations expandingDirections() const override { return {}; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize minimumSize() const override;
    QSize sizeHint() const override;  // every item in one row
    void setGeometry(const QRect& rect) override;

private:
    // Places the items in `rect` (only measures when !apply); returns the height used.
    int arrange(const QRect& rect, bool apply) const;

    QList<QLayoutItem*> m_items;
    int m_hSpacing;
    int m_vSpacing;
};

}  // namespace strata::ui
