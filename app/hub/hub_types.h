// Value types the Discover view and the downloads panel show, made from the engine's hub client
// results (strata/hub/*.h) on the worker threads and handed to the GUI thread by value; and the
// parser for Hub links dropped onto the window. Pure; thread-safe.
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>
#include <QUrl>
#include <optional>

#include "strata/status.h"

namespace strata::app {

// Why a Hub request failed, as a view needs it to choose its words: the code and the network
// fault decide what to say and whether Retry is offered; the engine's message is the detail
// (a tooltip, or the text itself for failures with no shorter way to say them).
struct HubError {
    strata::ErrorCode code = strata::ErrorCode::ok;  // ok: no error
    strata::NetFault netFault = strata::NetFault::none;
    QString host;     // netFault != none: the host being reached ("huggingface.co")
    QString message;  // the engine's whole message
    bool isError() const { return code != strata::ErrorCode::ok; }
};
// The HubError for a failed Status (an ok Status gives no error).
HubError hubError(const strata::Status& status);

struct HubRepoRow {
    QString id;             // "owner/name"
    qint64 downloads = 0;
    qint64 likes = 0;
    QString lastModified;   // ISO 8601 as the Hub gives it
    bool gated = false;
};
using HubRepoRows = QList<HubRepoRow>;

struct HubPart {
    QString path;           // within the repository
    quint64 size = 0;
    QString sha256;         // "" = not checked
};

enum class HubFitState { pending, fits, doesNotFit, unknown };

// One model of a repository: a single file or a split set (parts in order), with its fit verdict
// once the header-only plan has run.
struct HubFileRow {
    QString name;           // the file, or the set's first part
    QString quant;          // "Q4_K_M", ... ("" = unknown)
    quint64 size = 0;       // all parts
    QList<HubPart> parts;
    bool complete = true;   // a split set with every part listed
    HubFitState fit = HubFitState::pending;
    QString verdict;        // "fits on cpu at 4,096 context, ~45 tok/s predicted" / why unknown
    QString smallerFit;     // doesNotFit: the largest smaller model here that fits ("" = none)
};
using HubFileRows = QList<HubFileRow>;

// A Hub link dropped on the window: https://huggingface.co/OWNER/NAME[/blob|resolve/REV/PATH],
// or the same on the configured endpoint's host (a mirror, the tests' fake Hub).
struct HubLink {
    QString repo;
    QString file;           // "" = the repository
};
std::optional<HubLink> parseHubLink(const QUrl& url, const QString& endpoint);

// "1.2M", "35.4k", "812" for download and like counts.
QString compactCount(qint64 n);

void registerHubMetaTypes();

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::app::HubError)
Q_DECLARE_METATYPE(strata::app::HubRepoRows)
Q_DECLARE_METATYPE(strata::app::HubFileRows)
