#include "topology/stage_activity.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QPainter>
#include <QVBoxLayout>

#include "common/theme.h"

namespace strata::ui {

namespace {

class BusyBar : public QWidget {
public:
    BusyBar(double busy, double total, const QColor& color, QWidget* parent)
        : QWidget(parent), m_share(total > 0 ? busy / total : 0), m_color(color) {
        setFixedHeight(12);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        const QRectF r = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
        p.setPen(Qt::NoPen);
        p.setBrush(currentColors().free);
        p.drawRoundedRect(r, 5, 5);
        p.setBrush(m_color);
        p.drawRoundedRect(QRectF(r.left(), r.top(), r.width() * std::clamp(m_share, 0.0, 1.0), r.height()), 5, 5);
    }

private:
    double m_share;
    QColor m_color;
};

}  // namespace

StageActivity::StageActivity(QWidget* parent) : QFrame(parent) {
    setProperty("card", true);
    auto* l = new QVBoxLayout(this);
    l->setContentsMargins(16, 14, 16, 14);
    l->setSpacing(8);
    auto* title = new QLabel(tr("Stage activity since loading"), this);
    title->setProperty("subheading", true);
    l->addWidget(title);
    m_grid = new QGridLayout();
    m_grid->setHorizontalSpacing(14);
    m_grid->setVerticalSpacing(8);
    m_grid->setColumnStretch(1, 1);
    l->addLayout(m_grid);
    m_empty = new QLabel(tr("No tokens have gone through the pipeline yet."), this);
    m_empty->setProperty("muted", true);
    l->addWidget(m_empty);
}

void StageActivity::setTimings(const std::vector<strata::StageTiming>& timings, const QHash<QString, QColor>& colorOf) {
    for (QWidget* w : m_rowWidgets) delete w;
    m_rowWidgets.clear();
    const QLocale loc;
    int row = 0;
    for (const strata::StageTiming& t : timings) {
        const QString id = QString::fromStdString(t.device_id);
        const double total = t.busy_seconds + t.idle_seconds;
        auto* name = new QLabel(QStringLiteral("<b>%1</b> <span style=\"color:%2\">layers %3–%4</span>")
                                    .arg(id, currentColors().mutedText.name())
                                    .arg(t.layer_begin)
                                    .arg(t.layer_end - 1),
                                this);
        auto* bar = new BusyBar(t.busy_seconds, total, colorOf.value(id, currentColors().accent), this);
        QString text = tr("busy %1 s of %2 s (%3%) · %4 tokens in %5 batches")
                           .arg(loc.toString(t.busy_seconds, 'f', 1), loc.toString(total, 'f', 1))
                           .arg(total > 0 ? qRound(100.0 * t.busy_seconds / total) : 0)
                           .arg(loc.toString(qulonglong(t.tokens)), loc.toString(qulonglong(t.batches)));
        if (t.transfer_bytes > 0)
            text += tr(" · sent %1 in %2 ms")
                        .arg(loc.formattedDataSize(qint64(t.transfer_bytes), 1, QLocale::DataSizeIecFormat),
                             loc.toString(t.transfer_seconds * 1000.0, 'f', 1));
        auto* detail = new QLabel(text, this);
        detail->setProperty("muted", true);
        m_grid->addWidget(name, row, 0);
        m_grid->addWidget(bar, row, 1);
        m_grid->addWidget(detail, row, 2);
        m_rowWidgets << name << bar << detail;
        ++row;
    }
    m_empty->setVisible(timings.empty());
}

}  // namespace strata::ui
