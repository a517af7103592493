#include "hub/hub_service.h"

#include <QPointer>

#include "strata/hub/gguf_entries.h"
#include "strata/hub/remote_fit.h"

namespace strata::app {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

// Posts `f` to `target`'s thread (the GUI thread); dropped if the target is gone by then.
template <typename F>
void postTo(QObject* target, F&& f) {
    QMetaObject::invokeMethod(target, std::forward<F>(f), Qt::QueuedConnection);
}

HubError internalError(const std::exception& e) {
    return {strata::ErrorCode::internal, strata::NetFault::none, {}, QString::fromUtf8(e.what())};
}

}  // namespace

HubFileRows hubFileRows(const std::vector<strata::hub::GgufEntry>& entries) {
    HubFileRows rows;
    for (const strata::hub::GgufEntry& e : entries) {
        HubFileRow r;
        r.name = qs(e.name);
        r.quant = qs(e.quant);
        r.size = e.size;
        r.complete = e.complete;
        for (const strata::hub::RepoFile& f : e.parts) r.parts.append({qs(f.path), f.size, qs(f.sha256)});
        rows.append(r);
    }
    return rows;
}

HubService::HubService(ConfigSource config, FitOptionsSource fitOptions, QObject* parent)
    : QObject(parent), m_config(std::move(config)), m_fitOptions(std::move(fitOptions)) {
    registerHubMetaTypes();
    m_pool.setMaxThreadCount(4);
}

HubService::~HubService() {
    m_stop->store(true);
    m_pool.waitForDone();
}

quint64 HubService::search(const QString& words, strata::hub::SearchSort sort) {
    const quint64 id = m_nextId++;
    const strata::hub::HubConfig config = m_config();
    const std::string query = words.trimmed().toStdString();
    m_pool.start([this, id, config, query, sort] {
        HubRepoRows rows;
        HubError error;
        try {
            const strata::hub::HubClient client(config);
            auto found = client.search(query, sort, 50);
            if (!found.ok()) error = hubError(found.status());
            else
                for (const strata::hub::RepoSummary& r : *found)
                    rows.append({qs(r.id), r.downloads, r.likes, qs(r.last_modified), r.gated});
        } catch (const std::exception& e) {
            error = internalError(e);
        }
        postTo(this, [this, id, rows, error] { emit searchFinished(id, rows, error); });
    });
    return id;
}

quint64 HubService::openRepository(const QString& repo) {
    const quint64 id = m_nextId++;
    const strata::hub::HubConfig config = m_config();
    const strata::LoadOptions options = m_fitOptions ? m_fitOptions() : strata::LoadOptions{};
    const std::string repoId = repo.toStdString();
    auto stop = m_stop;
    m_pool.start([this, id, config, options, repoId, repo, stop] {
        try {
            const strata::hub::HubClient client(config);
            auto files = client.list_files(repoId);
            if (!files.ok()) {
                const HubError error = hubError(files.status());
                postTo(this, [this, id, repo, error] { emit repositoryListed(id, repo, {}, {}, error); });
                return;
            }
            const auto entries = strata::hub::gguf_entries(*files);
            const auto card = client.model_card_summary(repoId);  // a card that fails to load is no error
            const QString cardText = card.ok() ? qs(*card) : QString();
            const HubFileRows listed = hubFileRows(entries);
            const HubError none = entries.empty()
                                      ? HubError{strata::ErrorCode::not_found, strata::NetFault::none, {},
                                                 tr("%1 has no GGUF model files.").arg(repo)}
                                      : HubError{};
            postTo(this, [this, id, repo, cardText, listed, none] { emit repositoryListed(id, repo, cardText, listed, none); });
            if (entries.empty()) return;
            strata::Engine engine;  // only plans: no model is loaded
            const auto verdicts = strata::hub::plan_entries(client, repoId, entries, engine, options, stop.get());
            HubFileRows rows = listed;
            for (size_t k = 0; k < verdicts.size() && k < size_t(rows.size()); ++k) {
                const strata::hub::EntryVerdict& v = verdicts[k];
                HubFileRow& r = rows[qsizetype(k)];
                if (!v.status.ok()) {
                    r.fit = HubFitState::unknown;
                    r.verdict = tr("unknown: %1").arg(qs(v.status.message()));
                } else {
                    r.fit = v.verdict.fits ? HubFitState::fits : HubFitState::doesNotFit;
                    r.verdict = qs(v.verdict.summary);
                    r.smallerFit = qs(v.verdict.smaller_fit);
                }
            }
            postTo(this, [this, id, repo, rows] { emit verdictsReady(id, repo, rows); });
        } catch (const std::exception& e) {  // a pool thread must not let it escape
            const HubError error = internalError(e);
            postTo(this, [this, id, repo, error] { emit repositoryListed(id, repo, {}, {}, error); });
        }
    });
    return id;
}

}  // namespace strata::app
