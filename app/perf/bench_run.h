// BenchRun: one run of the bench runner as stored (bench_runs, schema v7) and shown in the
// performance view, and its CSV form.
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

namespace strata::app {

struct BenchTestFigure {
    QString name;            // "pp512", "tg64"
    double tokensPerSecond = 0;
};

struct BenchRun {
    qint64 id = 0;           // the row's id (0 before it is stored)
    qint64 createdAtMs = 0;  // ms since the epoch (UTC)
    QString machine;         // the devices in words: "cpu (AMD EPYC …) + cuda0 (NVIDIA H100, 80 GiB)"
    QString machineId;       // a fingerprint of them (12 hex digits)
    QString model;           // the file's name
    QString modelPath;
    QString plan;            // "cuda0 L0–15 → cuda1 L16–31"
    QString version;         // Strata's
    double prefillTokensPerSecond = 0;
    double decodeTokensPerSecond = 0;
    QList<BenchTestFigure> tests;
    QString recordId;        // the engine's bench log record (strata/bench_log.h) it is; "" = none
};

// RFC 4180 CSV with a header row: date (ISO 8601, UTC), machine, machine_id, model, plan,
// version, prefill_tok_s, decode_tok_s, then one column per test name seen in any run.
QString benchRunsCsv(const QList<BenchRun>& runs);

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::app::BenchRun)
