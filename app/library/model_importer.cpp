#include "library/model_importer.h"

#include <QDirIterator>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include "library/model_catalog.h"
#include "strata/model_info.h"

namespace strata::app {

namespace {

QString canonical(const QString& path) {
    const QFileInfo fi(path);
    const QString c = fi.canonicalFilePath();
    return c.isEmpty() ? fi.absoluteFilePath() : c;
}

// The engine's message starts with the full path; the user already sees the file name.
QString reasonWithoutPath(const QString& path, const strata::Status& status) {
    QString m = QString::fromStdString(status.message());
    for (const QString& prefix : {path + QStringLiteral(": "), QFileInfo(path).absoluteFilePath() + QStringLiteral(": ")})
        if (m.startsWith(prefix)) return m.mid(prefix.size());
    return m;
}


// QFuture results must be default-constructible; strata::Result is not.
struct Inspection {
    strata::Status status;
    strata::ModelInspection model;
};
using InspectionWatcher = QFutureWatcher<Inspection>;

}  // namespace

QString describeRejection(const QString& path, const strata::Status& status) {
    const QString name = QFileInfo(path).fileName();
    const QString reason = reasonWithoutPath(path, status);
    // The engine always gives these faults a detail; a Status made elsewhere may not.
    const QString detail = status.fault_detail().empty() ? reason : QString::fromStdString(status.fault_detail());
    switch (status.fault()) {
        case strata::FileFault::split_set_incomplete:
            // The dropped file may be fine; the reason names the part that is missing or foreign.
            return QObject::tr("%1 is part of a split set that cannot be read whole (%2)").arg(name, reason);
        case strata::FileFault::not_gguf:
            return QObject::tr("%1 is not a GGUF model file (no GGUF magic: %2)").arg(name, detail);
        case strata::FileFault::unsupported_gguf:
            return QObject::tr("%1 is a GGUF file Strata cannot read (%2)").arg(name, detail);
        case strata::FileFault::truncated:
            return QObject::tr("%1 is truncated: the download may be incomplete (%2)").arg(name, reason);
        case strata::FileFault::none:
            break;
    }
    if (status.code() == strata::ErrorCode::not_found || !QFileInfo::exists(path))
        return QObject::tr("%1 could not be opened (%2)").arg(name, reason);
    if (status.code() == strata::ErrorCode::unsupported)
        return QObject::tr("%1 cannot be run by Strata (%2)").arg(name, reason);
    return QObject::tr("%1 is not a usable GGUF model (%2)").arg(name, reason);
}

QString describeUnsupported(const QString& path, const strata::ModelInfo& info) {
    if (info.support.ok()) return {};
    return QObject::tr("%1: %2")
        .arg(QFileInfo(path).fileName(), QString::fromStdString(info.support.message));
}

ModelImporter::ModelImporter(ModelCatalog& catalog, ModelInspector inspect, QObject* parent)
    : QObject(parent), m_catalog(catalog), m_inspect(std::move(inspect)) {}

ModelImporter::~ModelImporter() { waitForIdle(); }

void ModelImporter::importPaths(const QStringList& paths) {
    for (const QString& p : paths) {
        const QFileInfo fi(p);
        if (fi.isDir()) {
            QStringList found;
            QDirIterator it(fi.absoluteFilePath(), {QStringLiteral("*.gguf"), QStringLiteral("*.GGUF")}, QDir::Files,
                            QDirIterator::Subdirectories | QDirIterator::FollowSymlinks);
            while (it.hasNext()) found << it.next();
            const QSet<QString> all(found.begin(), found.end());
            for (const QString& file : found) {
                // A set is read through its first part: a later part beside it adds nothing.
                const QString set = QString::fromStdString(strata::model_set_path(file.toStdString()));
                if (set == file || !all.contains(set)) validate(file);
            }
            emit folderScanned(fi.absoluteFilePath(), int(found.size()));
        } else {
            validate(p);
        }
    }
    if (m_inFlight.isEmpty()) emit idle();
}

void ModelImporter::scanQuietly(const QStringList& folders) {
    for (const QString& folder : folders) {
        if (!QFileInfo(folder).isDir()) continue;
        QDirIterator it(folder, {QStringLiteral("*.gguf"), QStringLiteral("*.GGUF")}, QDir::Files,
                        QDirIterator::Subdirectories | QDirIterator::FollowSymlinks);
        while (it.hasNext()) {
            const QString file = it.next();
            const QString set = QString::fromStdString(strata::model_set_path(file.toStdString()));
            const QString path = canonical(set != file && QFileInfo::exists(set) ? set : file);
            if (m_catalog.rowOfPath(path) >= 0 || m_inFlight.contains(path)) continue;
            m_quiet.insert(path);
            validate(path);
        }
    }
    if (m_inFlight.isEmpty()) emit idle();
}

void ModelImporter::validate(const QString& rawPath) {
    const QString path = canonical(rawPath);
    if (m_catalog.rowOfPath(path) >= 0) {
        emit duplicate(path);
        return;
    }
    if (m_inFlight.contains(path)) return;
    m_inFlight.insert(path);
    auto* watcher = new InspectionWatcher(this);
    m_watchers.append(watcher);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path] {
        m_watchers.removeOne(watcher);
        watcher->deleteLater();
        m_inFlight.remove(path);
        const bool quiet = m_quiet.remove(path);
        const Inspection r = watcher->result();
        const strata::ModelInfo& info = r.model.info;
        if (!r.status.ok()) {
            if (!quiet) emit rejected(path, describeRejection(path, r.status));
        } else if (!info.support.ok()) {
            // Checked before the footprint, which a file Strata cannot run may lack.
            if (!quiet) emit rejected(path, describeUnsupported(path, info));
        } else {
            // A split set is one entry under its first part's path, whichever part was dropped:
            // part 1 and then part 3 of the same set is a duplicate, not a second model.
            const QString modelPath = info.path.empty() ? path : canonical(QString::fromStdString(info.path));
            CatalogEntry e = CatalogEntry::fromModelInfo(info);
            e.path = modelPath;
            const bool existed = m_catalog.rowOfPath(modelPath) >= 0;
            if (m_catalog.add(e) < 0) {
                if (!quiet) emit rejected(path, m_catalog.lastError());
            } else if (existed) {
                if (!quiet) emit duplicate(modelPath);
            } else {
                emit inspected(modelPath, r.model);
                emit imported(modelPath);
            }
        }
        if (m_inFlight.isEmpty()) emit idle();
    });
    const std::string p = path.toStdString();
    watcher->setFuture(QtConcurrent::run([inspect = m_inspect, p] {
        Inspection out;
        auto r = inspect(p);
        if (r.ok()) out.model = std::move(r).value();
        else out.status = r.status();
        return out;
    }));
}

void ModelImporter::waitForIdle() {
    for (QObject* o : m_watchers) static_cast<InspectionWatcher*>(o)->waitForFinished();
}

}  // namespace strata::app
