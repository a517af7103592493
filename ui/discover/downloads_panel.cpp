#include "discover/downloads_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include "common/theme.h"

namespace strata::ui {

namespace {

QString bytes(quint64 n) { return QLocale().formattedDataSize(qint64(n), 1, QLocale::DataSizeIecFormat); }

QString duration(qint64 s) {
    if (s >= 3600) return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

QString DownloadsPanel::describe(const app::DownloadItem& item) {
    using app::DownloadState;
    switch (item.state) {
    case DownloadState::running: {
        QString t = tr("%1 of %2").arg(bytes(item.done), bytes(item.total));
        if (item.bytesPerSecond > 0) t += QStringLiteral(" · %1/s").arg(bytes(quint64(item.bytesPerSecond)));
        if (const qint64 left = item.secondsLeft(); left >= 0) t += tr(" · %1 left").arg(duration(left));
        return t;
    }
    case DownloadState::paused:
        return tr("Paused at %1 of %2 — Resume continues from there").arg(bytes(item.done), bytes(item.total));
    case DownloadState::done: return tr("Done — %1, verified, in the library").arg(bytes(item.total));
    case DownloadState::failed: return item.error;
    case DownloadState::queued: return tr("Waiting to start…");
    case DownloadState::cancelled: return tr("Cancelled");
    }
    return {};
}

DownloadsPanel::DownloadsPanel(app::DownloadManager* manager, QWidget* parent) : QWidget(parent), m_manager(manager) {
    setObjectName(QStringLiteral("downloadsPanel"));
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(6);
    auto* head = new QHBoxLayout();
    auto* title = new QLabel(tr("Downloads"), this);
    title->setProperty("subheading", true);
    head->addWidget(title);
    head->addStretch(1);
    m_clear = new QPushButton(tr("Clear finished"), this);
    m_clear->setFlat(true);
    head->addWidget(m_clear);
    v->addLayout(head);
    auto* area = new QScrollArea(this);
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    auto* inner = new QWidget(area);
    m_list = new QVBoxLayout(inner);
    m_list->setContentsMargins(0, 0, 0, 0);
    m_list->setSpacing(4);
    m_empty = new QLabel(tr("Nothing is downloading. Pick a model on a repository page and press Download."), inner);
    m_empty->setProperty("muted", true);
    m_list->addWidget(m_empty);
    m_list->addStretch(1);
    area->setWidget(inner);
    v->addWidget(area, 1);

    if (!m_manager) return;
    connect(m_clear, &QPushButton::clicked, m_manager, &app::DownloadManager::clearFinished);
    auto show = [this](quint64 id) {
        if (auto item = m_manager->item(id)) setItem(*item);
    };
    connect(m_manager, &app::DownloadManager::added, this, show);
    connect(m_manager, &app::DownloadManager::changed, this, show);
    connect(m_manager, &app::DownloadManager::removed, this, &DownloadsPanel::removeItem);
    for (const app::DownloadItem& i : m_manager->items()) setItem(i);
}

DownloadsPanel::Row DownloadsPanel::makeRow(quint64 id) {
    Row r;
    r.widget = new QFrame(m_list->parentWidget());
    r.widget->setProperty("card", true);
    auto* h = new QHBoxLayout(r.widget);
    h->setContentsMargins(10, 4, 10, 4);
    // Two lines: the name (and repository), then the bar with what is happening beside it.
    auto* text = new QVBoxLayout();
    text->setSpacing(3);
    r.name = new QLabel(r.widget);
    r.bar = new QProgressBar(r.widget);
    r.bar->setRange(0, 1000);
    r.bar->setTextVisible(false);
    r.bar->setFixedHeight(6);
    r.status = new QLabel(r.widget);
    r.status->setProperty("muted", true);
    r.status->setWordWrap(true);
    auto* line = new QHBoxLayout();
    line->setSpacing(12);
    r.bar->setFixedWidth(320);  // the same in every row, whatever the words beside it
    line->addWidget(r.bar, 0, Qt::AlignVCenter);
    line->addWidget(r.status, 1);
    text->addWidget(r.name);
    text->addLayout(line);
    h->addLayout(text, 1);
    r.pause = new QPushButton(tr("Pause"), r.widget);
    r.cancel = new QPushButton(tr("Cancel"), r.widget);
    h->addWidget(r.pause);
    h->addWidget(r.cancel);
    connect(r.pause, &QPushButton::clicked, this, [this, id] {
        if (!m_manager || !m_rows.contains(id)) return;
        const app::DownloadState s = m_rows[id].state;
        if (s == app::DownloadState::running || s == app::DownloadState::queued) m_manager->pause(id);
        else m_manager->resume(id);
    });
    connect(r.cancel, &QPushButton::clicked, this, [this, id] {
        if (m_manager) m_manager->cancel(id);
    });
    m_list->insertWidget(m_list->count() - 1, r.widget);
    return r;
}

void DownloadsPanel::setItem(const app::DownloadItem& item) {
    if (!m_rows.contains(item.id)) m_rows.insert(item.id, makeRow(item.id));
    Row& r = m_rows[item.id];
    r.state = item.state;
    using app::DownloadState;
    r.name->setText(QStringLiteral("<b>%1</b> <span style=\"color:%3\">%2</span>")
                        .arg(item.name.toHtmlEscaped(), item.repo.toHtmlEscaped(), currentColors().mutedText.name()));
    r.bar->setValue(item.total ? int(1000.0 * double(item.done) / double(item.total)) : 0);
    r.status->setText(describe(item));
    const ThemeColors& c = currentColors();
    r.status->setStyleSheet(item.state == DownloadState::failed ? QStringLiteral("color:%1").arg(c.bad.name())
                            : item.state == DownloadState::done ? QStringLiteral("color:%1").arg(c.good.name())
                                                                : QString());
    const bool active = item.state == DownloadState::running || item.state == DownloadState::queued;
    const bool resumable = item.state == DownloadState::paused || item.state == DownloadState::failed;
    r.pause->setText(active ? tr("Pause") : tr("Resume"));
    r.pause->setVisible(active || resumable);
    r.cancel->setVisible(active || resumable);
    m_empty->setVisible(m_rows.isEmpty());
}

void DownloadsPanel::removeItem(quint64 id) {
    const Row r = m_rows.take(id);
    if (r.widget) r.widget->deleteLater();
    m_empty->setVisible(m_rows.isEmpty());
}

QString DownloadsPanel::statusText(quint64 id) const {
    return m_rows.contains(id) ? m_rows[id].status->text() : QString();
}

}  // namespace strata::ui
