// HubService: the Hugging Face Hub for the GUI — search, a repository's models with their model
// card, and each model's fit verdict on this machine's devices from its header alone
// (strata::hub::plan_entries). The hub client is blocking libcurl, so every request runs on this
// service's own thread pool; results come back to the GUI thread as typed signals carrying the
// request id that search() / openRepository() returned (a view keeps the id of its latest
// request and ignores older answers).
//
// Ownership and threading: lives on the GUI thread; call it there. The config (endpoint, token)
// and the fit options are read through the sources given at construction, on the GUI thread,
// when a request starts. The destructor cancels header reads in flight and waits for the pool.
#pragma once

#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <functional>
#include <memory>

#include "hub/hub_types.h"
#include "strata/engine.h"
#include "strata/hub/gguf_entries.h"
#include "strata/hub/hub_client.h"

namespace strata::app {

class HubService : public QObject {
    Q_OBJECT
public:
    using ConfigSource = std::function<strata::hub::HubConfig()>;
    using FitOptionsSource = std::function<strata::LoadOptions()>;

    HubService(ConfigSource config, FitOptionsSource fitOptions, QObject* parent = nullptr);
    ~HubService() override;

    // GGUF repositories matching `words`. Answer: searchFinished.
    quint64 search(const QString& words, strata::hub::SearchSort sort = strata::hub::SearchSort::downloads);
    // The repository's models (split sets as one) and card: repositoryListed; then, once every
    // header is read and planned, verdictsReady with the same rows and their verdicts.
    quint64 openRepository(const QString& repo);

    strata::hub::HubConfig config() const { return m_config(); }

signals:
    // `error.isError()`: the search failed (rows empty).
    void searchFinished(quint64 id, const strata::app::HubRepoRows& rows, const strata::app::HubError& error);
    // `error.isError()`: the listing failed, or the repository has no GGUF models (not_found).
    void repositoryListed(quint64 id, const QString& repo, const QString& card, const strata::app::HubFileRows& rows,
                          const strata::app::HubError& error);
    void verdictsReady(quint64 id, const QString& repo, const strata::app::HubFileRows& rows);

private:
    ConfigSource m_config;
    FitOptionsSource m_fitOptions;
    quint64 m_nextId = 1;
    std::shared_ptr<std::atomic<bool>> m_stop = std::make_shared<std::atomic<bool>>(false);
    QThreadPool m_pool;
};

// The rows for a repository's GGUF entries (no verdicts yet).
HubFileRows hubFileRows(const std::vector<strata::hub::GgufEntry>& entries);

}  // namespace strata::app
