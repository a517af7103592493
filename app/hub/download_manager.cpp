#include "hub/download_manager.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <algorithm>
#include <chrono>

#include "library/model_importer.h"
#include "strata/hub/downloader.h"

namespace strata::app {

namespace {

QString baseName(const QString& path) { return path.section(QLatin1Char('/'), -1); }

// What went wrong, in words a user acts on.
QString describeFailure(const strata::hub::DownloadResult& r) {
    QString text = QString::fromStdString(r.status.message());
    if (!text.isEmpty()) text[0] = text[0].toUpper();
    switch (r.fault) {
    case strata::hub::DownloadFault::unauthorized:
        return QObject::tr("This repository is gated: it needs a Hugging Face token with access. Set one in Settings ▸ "
                           "General ▸ Hugging Face Hub (or $HF_TOKEN), then Resume.");
    case strata::hub::DownloadFault::network:
        return text + QObject::tr(" — Resume continues where it stopped.");
    case strata::hub::DownloadFault::no_space:
        return text + QObject::tr(" — free some space (or choose another download folder in Settings ▸ General) and Resume.");
    default:
        return text;
    }
}

}  // namespace

QString downloadStateName(DownloadState s) {
    switch (s) {
    case DownloadState::queued: return QObject::tr("Waiting");
    case DownloadState::running: return QObject::tr("Downloading");
    case DownloadState::paused: return QObject::tr("Paused");
    case DownloadState::done: return QObject::tr("Done");
    case DownloadState::failed: return QObject::tr("Failed");
    case DownloadState::cancelled: return QObject::tr("Cancelled");
    }
    return {};
}

qint64 DownloadItem::secondsLeft() const {
    if (state != DownloadState::running || bytesPerSecond <= 0 || total <= done) return -1;
    return qint64(double(total - done) / bytesPerSecond);
}

DownloadManager::DownloadManager(ConfigSource config, FolderSource folder, ModelImporter& importer, QObject* parent)
    : QObject(parent), m_config(std::move(config)), m_folder(std::move(folder)), m_importer(importer) {
    m_pool.setMaxThreadCount(3);  // models at once; each fetches up to 4 parts in parallel
}

DownloadManager::~DownloadManager() {
    for (auto& run : m_runs) {
        run->reason = StopReason::shutdown;
        run->stop.store(true);
    }
    m_pool.waitForDone();
}

DownloadItem* DownloadManager::find(quint64 id) {
    for (DownloadItem& i : m_items)
        if (i.id == id) return &i;
    return nullptr;
}

std::optional<DownloadItem> DownloadManager::item(quint64 id) const {
    for (const DownloadItem& i : m_items)
        if (i.id == id) return i;
    return std::nullopt;
}

int DownloadManager::activeCount() const {
    int n = 0;
    for (const DownloadItem& i : m_items) n += i.state == DownloadState::queued || i.state == DownloadState::running;
    return n;
}

quint64 DownloadManager::start(const QString& repo, const HubFileRow& row) {
    for (DownloadItem& i : m_items) {
        if (i.repo != repo || i.name != row.name || i.state == DownloadState::cancelled) continue;
        if (i.state == DownloadState::paused || i.state == DownloadState::failed) resume(i.id);
        return i.id;
    }
    DownloadItem item;
    item.id = m_nextId++;
    item.repo = repo;
    item.name = baseName(row.name);
    item.quant = row.quant;
    item.parts = row.parts;
    item.total = row.size;
    item.dir = m_folder();
    m_items.append(item);
    emit added(item.id);
    if (!row.complete) {
        DownloadItem& i = m_items.last();
        i.state = DownloadState::failed;
        i.error = tr("%1 lists only some parts of %2.").arg(repo, i.name);
        emit changed(i.id);
        return i.id;
    }
    launch(m_items.last());
    return m_items.last().id;
}

void DownloadManager::launch(DownloadItem& item) {
    item.state = DownloadState::queued;
    item.error.clear();
    item.bytesPerSecond = 0;
    auto run = std::make_shared<Run>();
    m_runs.insert(item.id, run);
    emit changed(item.id);

    const strata::hub::HubConfig config = m_config();
    const quint64 id = item.id;
    const DownloadItem snapshot = item;
    m_pool.start([this, id, run, config, snapshot] {
        auto post = [this](auto&& f) { QMetaObject::invokeMethod(this, std::forward<decltype(f)>(f), Qt::QueuedConnection); };
        post([this, id] {
            if (DownloadItem* i = find(id); i && i->state == DownloadState::queued) {
                i->state = DownloadState::running;
                emit changed(id);
            }
        });
        QString error, path;
        try {
            const strata::hub::HubClient client(config);
            QDir().mkpath(snapshot.dir);
            // Room for what is left of every part, before the first byte.
            quint64 left = 0;
            for (const HubPart& p : snapshot.parts) {
                const QString final = QDir(snapshot.dir).filePath(baseName(p.path));
                if (QFileInfo::exists(final)) continue;
                const qint64 part = QFileInfo(final + QStringLiteral(".part")).size();
                left += quint64(part) > p.size ? p.size : p.size - quint64(part);
            }
            const auto free = strata::hub::free_disk_bytes(snapshot.dir.toStdString());
            if (free && *free < left) {
                error = tr("Not enough disk space in %1: %2 needs %3 MiB more, %4 MiB are free.")
                            .arg(snapshot.dir, snapshot.name)
                            .arg(left >> 20)
                            .arg(*free >> 20);
            } else {
                std::vector<strata::hub::DownloadRequest> requests;
                for (const HubPart& p : snapshot.parts) {
                    strata::hub::DownloadRequest req;
                    req.url = client.file_url(snapshot.repo.toStdString(), p.path.toStdString());
                    req.dir = snapshot.dir.toStdString();
                    req.file_name = baseName(p.path).toStdString();
                    req.size = p.size;
                    req.sha256 = p.sha256.toStdString();
                    requests.push_back(std::move(req));
                }
                auto lastPost = std::chrono::steady_clock::now() - std::chrono::seconds(1);
                const auto results = strata::hub::download_files(
                    client.download_http(), requests, 4,
                    [&](const strata::hub::DownloadProgress& p) {
                        const auto now = std::chrono::steady_clock::now();
                        if (now - lastPost < std::chrono::milliseconds(100) && p.done < p.total) return;
                        lastPost = now;
                        post([this, id, p] {
                            DownloadItem* i = find(id);
                            if (!i || i->state != DownloadState::running) return;
                            i->done = p.done;
                            i->total = p.total;
                            i->bytesPerSecond = p.bytes_per_second;
                            emit changed(id);
                        });
                    },
                    &run->stop);
                for (const strata::hub::DownloadResult& r : results)
                    if (!r.status.ok() && r.fault != strata::hub::DownloadFault::cancelled && error.isEmpty())
                        error = describeFailure(r);
                if (error.isEmpty() && !results.empty() && results.front().status.ok() &&
                    std::all_of(results.begin(), results.end(), [](const auto& r) { return r.status.ok(); }))
                    path = QString::fromStdString(results.front().path);
                else if (error.isEmpty() && !run->stop.load())
                    error = tr("The download stopped.");
            }
        } catch (const std::exception& e) {  // a pool thread must not let it escape
            error = QString::fromUtf8(e.what());
        }
        const bool stopped = run->stop.load();
        post([this, id, error, path, stopped] { finishRun(id, error, path, stopped); });
    });
}

void DownloadManager::finishRun(quint64 id, const QString& error, const QString& path, bool stopped) {
    const std::shared_ptr<Run> run = m_runs.take(id);
    DownloadItem* i = find(id);
    if (!i) return;
    i->bytesPerSecond = 0;
    if (!path.isEmpty()) {
        i->state = DownloadState::done;
        i->done = i->total;
        i->path = path;
        emit changed(id);
        m_importer.importPaths({path});  // the catalog's writer adds it to the library
        emit completed(id, path);
        return;
    }
    const StopReason reason = run ? run->reason : StopReason::none;
    if (stopped && reason == StopReason::cancel) {
        i->state = DownloadState::cancelled;
        removePartFiles(*i);
        i->done = 0;
    } else if (stopped && reason == StopReason::pause) {
        i->state = DownloadState::paused;
    } else {
        i->state = DownloadState::failed;
        i->error = error.isEmpty() ? tr("The download stopped.") : error;
    }
    emit changed(id);
}

void DownloadManager::pause(quint64 id) {
    auto run = m_runs.value(id);
    if (!run) return;
    run->reason = StopReason::pause;
    run->stop.store(true);  // the .part files stay; finishRun marks it paused
}

void DownloadManager::resume(quint64 id) {
    DownloadItem* i = find(id);
    if (!i || m_runs.contains(id) || (i->state != DownloadState::paused && i->state != DownloadState::failed)) return;
    launch(*i);  // a new download, continuing from the .part files
}

void DownloadManager::cancel(quint64 id) {
    if (auto run = m_runs.value(id)) {
        run->reason = StopReason::cancel;
        run->stop.store(true);  // finishRun deletes the .part files once the transfer has stopped
        return;
    }
    DownloadItem* i = find(id);
    if (!i || i->state == DownloadState::done || i->state == DownloadState::cancelled) return;
    i->state = DownloadState::cancelled;
    removePartFiles(*i);
    i->done = 0;
    emit changed(id);
}

void DownloadManager::clearFinished() {
    for (qsizetype k = m_items.size() - 1; k >= 0; --k) {
        const DownloadState s = m_items[k].state;
        if (s != DownloadState::done && s != DownloadState::failed && s != DownloadState::cancelled) continue;
        const quint64 id = m_items[k].id;
        m_items.removeAt(k);
        emit removed(id);
    }
}

void DownloadManager::removePartFiles(const DownloadItem& item) const {
    for (const HubPart& p : item.parts) QFile::remove(QDir(item.dir).filePath(baseName(p.path) + QStringLiteral(".part")));
}

}  // namespace strata::app
