#include "perf/bench_run.h"

#include <QDateTime>
#include <QStringList>

namespace strata::app {

namespace {
QString field(const QString& s) {
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n')) &&
        !s.contains(QLatin1Char('\r')))
        return s;
    QString q = s;
    q.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}
QString number(double v) { return QString::number(v, 'f', 2); }
}  // namespace

QString benchRunsCsv(const QList<BenchRun>& runs) {
    QStringList testNames;
    for (const BenchRun& r : runs)
        for (const BenchTestFigure& t : r.tests)
            if (!testNames.contains(t.name)) testNames << t.name;
    QStringList header{QStringLiteral("date"),     QStringLiteral("machine"),       QStringLiteral("machine_id"),
                       QStringLiteral("model"),    QStringLiteral("plan"),          QStringLiteral("version"),
                       QStringLiteral("prefill_tok_s"), QStringLiteral("decode_tok_s")};
    for (const QString& n : testNames) header << field(n + QStringLiteral("_tok_s"));
    QString out = header.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    for (const BenchRun& r : runs) {
        QStringList row{QDateTime::fromMSecsSinceEpoch(r.createdAtMs, Qt::UTC).toString(Qt::ISODate),
                        field(r.machine), field(r.machineId), field(r.model), field(r.plan), field(r.version),
                        number(r.prefillTokensPerSecond), number(r.decodeTokensPerSecond)};
        for (const QString& n : testNames) {
            QString v;
            for (const BenchTestFigure& t : r.tests)
                if (t.name == n) v = number(t.tokensPerSecond);
            row << v;
        }
        out += row.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    }
    return out;
}

}  // namespace strata::app
