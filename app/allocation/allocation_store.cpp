#include "allocation/allocation_store.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

#include "storage/database.h"

namespace strata::app {

namespace {
constexpr const char* kSelectAllocation = "SELECT settings_json FROM allocation_settings WHERE model_path = ?";
constexpr const char* kUpsertAllocation =
    "INSERT INTO allocation_settings (model_path, settings_json, updated_at) VALUES (?, ?, ?)"
    " ON CONFLICT (model_path) DO UPDATE SET settings_json = excluded.settings_json,"
    " updated_at = excluded.updated_at";
}  // namespace

std::optional<AllocationSettings> AllocationStore::load(const QString& modelPath) const {
    QSqlQuery q(m_db.connection());
    q.prepare(QString::fromLatin1(kSelectAllocation));
    q.addBindValue(modelPath);
    if (!q.exec()) {
        m_error = q.lastError().text();
        return std::nullopt;
    }
    if (!q.next()) return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(q.value(0).toByteArray());
    if (!doc.isObject()) return std::nullopt;
    return AllocationSettings::fromJson(doc.object());
}

bool AllocationStore::save(const QString& modelPath, const AllocationSettings& settings) {
    Transaction tx(m_db);
    if (!tx.active()) {
        m_error = m_db.lastError();
        return false;
    }
    QSqlQuery q(m_db.connection());
    q.prepare(QString::fromLatin1(kUpsertAllocation));
    q.addBindValue(modelPath);
    q.addBindValue(QString::fromUtf8(QJsonDocument(settings.toJson()).toJson(QJsonDocument::Compact)));
    q.addBindValue(QDateTime::currentMSecsSinceEpoch());
    if (!q.exec()) {
        m_error = q.lastError().text();
        return false;
    }
    return tx.commit();
}

}  // namespace strata::app
