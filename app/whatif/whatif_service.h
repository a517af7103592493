// WhatIfService: the app side of the hardware what-if (strata/whatif.h). The what-if view hands
// it a WhatIfInputs (up to four configurations, a model, how it is used and what power costs);
// it reads the GPU catalogue and, for a library file, the model's header, and runs the engine's
// run_whatif / cheapest_fitting for every configuration — all on a pool thread
// (QtConcurrent), never on the GUI thread. The numbers are the engine's: nothing here does
// arithmetic on them, so the view shows what `strata-cli whatif` prints for the same inputs.
//
// Threads: a GUI-thread object; reportReady / catalogueReady arrive on the GUI thread. Each
// run() has an id; a report older than the newest request is dropped (the user changed the
// inputs meanwhile), so the view only ever shows the answer to what it shows as inputs.
#pragma once

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <vector>

#include "strata/whatif.h"

namespace strata::app {

// One configuration: `count` cards of the catalogue's `gpu`, handing over to each other by `link`.
struct WhatIfConfigInput {
    QString gpu;    // a catalogue name or alias ("RTX 3090")
    int count = 1;  // 1 to strata::kWhatIfMaxCards
    strata::Link link{strata::LinkKind::staged, 25, 10};
};

struct WhatIfInputs {
    QList<WhatIfConfigInput> configs;  // 1 to kWhatIfMaxConfigs
    // The model: a GGUF file (only its header is read) when modelPath is set, else a
    // llama-shaped model of `params` ("70B") stored as `quant` ("Q4_K_M").
    QString modelPath;
    QString params;
    QString quant = QStringLiteral("Q4_K_M");
    strata::WhatIfOptions options;  // context, users, KV type, hours a day, years, $/kWh
    double minDecodeTps = 0;        // "cheapest that fits at this speed"
    QString cataloguePath;          // "": strata::find_resource("gpus.json")
};

struct WhatIfReport {
    quint64 id = 0;
    QString error;                  // "" on success; else what is wrong with the inputs
    QString model;                  // the file, or the shape the parameters were given ("Llama 3.1 70B")
    quint64 weightBytes = 0;
    int nLayer = 0;
    std::vector<strata::WhatIfResult> results;  // one per configuration, in order
    int cheapest = -1;              // strata::cheapest_fitting(results, minDecodeTps)
    bool ok() const { return error.isEmpty(); }
};

constexpr int kWhatIfMaxConfigs = 4;

// The whole computation, synchronous (what run() does on a pool thread). Pure apart from
// reading the catalogue and the model file; thread-safe.
WhatIfReport computeWhatIf(const WhatIfInputs& inputs);

class WhatIfService : public QObject {
    Q_OBJECT
public:
    explicit WhatIfService(QObject* parent = nullptr);
    ~WhatIfService() override;

    // Starts a computation; reportReady(report) with report.id == the returned id follows.
    quint64 run(const WhatIfInputs& inputs);
    // Reads the catalogue (path "": the shipped one); catalogueReady or catalogueFailed follows.
    void loadCatalogue(const QString& path = QString());
    // The catalogue's GPU names once catalogueReady came; empty before.
    const QStringList& gpuNames() const { return m_gpuNames; }
    const WhatIfReport& lastReport() const { return m_last; }
    bool isRunning() const { return m_pending > 0; }
    // Blocks until every computation started has finished (tests, shutdown).
    void waitForIdle();

signals:
    void reportReady(const strata::app::WhatIfReport& report);
    void catalogueReady(const QStringList& gpuNames);
    void catalogueFailed(const QString& message);

private:
    quint64 m_nextId = 1;
    quint64 m_newest = 0;
    int m_pending = 0;
    WhatIfReport m_last;
    QStringList m_gpuNames;
    QList<QObject*> m_watchers;
};

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::app::WhatIfReport)
