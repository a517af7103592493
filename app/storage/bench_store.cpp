#include "storage/bench_store.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include "storage/database.h"

namespace strata::app {

namespace {
constexpr const char* kInsert =
    "INSERT INTO bench_runs (created_at, machine, machine_id, model, model_path, plan, version, prefill_tps,"
    " decode_tps, tests_json, record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kSelect =
    "SELECT id, created_at, machine, machine_id, model, model_path, plan, version, prefill_tps, decode_tps,"
    " tests_json, record_id FROM bench_runs ORDER BY created_at, id";
constexpr const char* kRecordIds = "SELECT record_id FROM bench_runs WHERE record_id <> ''";

QVariant text(const QString& s) { return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s); }
}  // namespace

BenchStore::BenchStore(Database& db) : m_db(db) {}

std::optional<qint64> BenchStore::add(const BenchRun& r) {
    if (!m_db.isOpen()) {
        m_error = QStringLiteral("the data file is not open");
        return std::nullopt;
    }
    QJsonArray tests;
    for (const BenchTestFigure& t : r.tests)
        tests.append(QJsonObject{{QStringLiteral("name"), t.name}, {QStringLiteral("tokens_per_second"), t.tokensPerSecond}});
    QSqlQuery q(m_db.connection());
    if (!q.prepare(QString::fromLatin1(kInsert))) {
        m_error = q.lastError().text();
        return std::nullopt;
    }
    for (const QVariant& v : {QVariant(r.createdAtMs), text(r.machine), text(r.machineId), text(r.model),
                              text(r.modelPath), text(r.plan), text(r.version), QVariant(r.prefillTokensPerSecond),
                              QVariant(r.decodeTokensPerSecond),
                              QVariant(QString::fromUtf8(QJsonDocument(tests).toJson(QJsonDocument::Compact))),
                              text(r.recordId)})
        q.addBindValue(v);
    if (!q.exec()) {  // one statement: its own transaction
        m_error = QStringLiteral("saving the bench run: %1").arg(q.lastError().text());
        return std::nullopt;
    }
    return q.lastInsertId().toLongLong();
}

QList<BenchRun> BenchStore::runs() const {
    QList<BenchRun> out;
    if (!m_db.isOpen()) return out;
    QSqlQuery q(m_db.connection());
    if (!q.exec(QString::fromLatin1(kSelect))) {
        m_error = q.lastError().text();
        return out;
    }
    while (q.next()) {
        BenchRun r;
        r.id = q.value(0).toLongLong();
        r.createdAtMs = q.value(1).toLongLong();
        r.machine = q.value(2).toString();
        r.machineId = q.value(3).toString();
        r.model = q.value(4).toString();
        r.modelPath = q.value(5).toString();
        r.plan = q.value(6).toString();
        r.version = q.value(7).toString();
        r.prefillTokensPerSecond = q.value(8).toDouble();
        r.decodeTokensPerSecond = q.value(9).toDouble();
        for (const QJsonValue& v : QJsonDocument::fromJson(q.value(10).toByteArray()).array()) {
            const QJsonObject o = v.toObject();
            r.tests.append({o.value(QStringLiteral("name")).toString(), o.value(QStringLiteral("tokens_per_second")).toDouble()});
        }
        r.recordId = q.value(11).toString();
        out.append(r);
    }
    return out;
}

QSet<QString> BenchStore::recordIds() const {
    QSet<QString> out;
    if (!m_db.isOpen()) return out;
    QSqlQuery q(m_db.connection());
    if (!q.exec(QString::fromLatin1(kRecordIds))) {
        m_error = q.lastError().text();
        return out;
    }
    while (q.next()) out.insert(q.value(0).toString());
    return out;
}

}  // namespace strata::app
