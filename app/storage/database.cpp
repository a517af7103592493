#include "storage/database.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>

#include "storage/schema.h"

namespace strata::app {

namespace {
QString nextConnectionName() {
    static QAtomicInteger<quint64> counter;  // only makes names unique; no shared state
    return QStringLiteral("strata-db-%1").arg(counter.fetchAndAddRelaxed(1));
}
}  // namespace

Database::Database() : m_connectionName(nextConnectionName()) {}

Database::~Database() { close(); }

bool Database::open(const QString& path) { return open(path, schema::kCurrentVersion); }

bool Database::open(const QString& path, int maxVersion) {
    close();
    m_path = path;
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return fail(QStringLiteral("open"), QStringLiteral("cannot create the folder %1").arg(info.absolutePath()));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(path);
        if (!db.open()) return fail(QStringLiteral("open"), db.lastError().text());
    }
    if (!exec(schema::kPragmaBusyTimeout) || !exec(schema::kPragmaWal) || !exec(schema::kPragmaSynchronous) ||
        !exec(schema::kPragmaForeignKeys))
        return false;
    if (journalMode().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
        return fail(QStringLiteral("open"), QStringLiteral("the file system does not support WAL journaling"));
    const int version = schemaVersion();
    if (version > schema::kCurrentVersion) {
        return fail(QStringLiteral("open"),
                    QStringLiteral("the file has schema version %1, newer than this Strata (%2); "
                                   "update Strata or use another data folder")
                        .arg(version)
                        .arg(schema::kCurrentVersion));
    }
    return migrate(maxVersion);
}

void Database::close() {
    if (!QSqlDatabase::contains(m_connectionName)) return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen()) db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

bool Database::isOpen() const {
    return QSqlDatabase::contains(m_connectionName) && QSqlDatabase::database(m_connectionName, false).isOpen();
}

QSqlDatabase Database::connection() const { return QSqlDatabase::database(m_connectionName, false); }

int Database::schemaVersion() const {
    QSqlQuery q(connection());
    if (!q.exec(QString::fromLatin1(schema::kReadUserVersion)) || !q.next()) return -1;
    return q.value(0).toInt();
}

QString Database::journalMode() const {
    QSqlQuery q(connection());
    if (!q.exec(QString::fromLatin1(schema::kReadJournalMode)) || !q.next()) return {};
    return q.value(0).toString();
}

bool Database::foreignKeysEnabled() const {
    QSqlQuery q(connection());
    return q.exec(QString::fromLatin1(schema::kReadForeignKeys)) && q.next() && q.value(0).toInt() == 1;
}

bool Database::fail(const QString& what, const QString& detail) {
    m_lastError = QStringLiteral("%1: %2 failed: %3").arg(m_path, what, detail);
    return false;
}

bool Database::exec(const char* sql) {
    QSqlQuery q(connection());
    if (!q.exec(QString::fromLatin1(sql))) return fail(QString::fromLatin1(sql), q.lastError().text());
    return true;
}

bool Database::migrate(int maxVersion) {
    int version = schemaVersion();
    if (version < 0) return fail(QStringLiteral("reading the schema version"), connection().lastError().text());
    for (const schema::Migration& m : schema::migrations()) {
        if (m.toVersion <= version || m.toVersion > maxVersion) continue;
        Transaction tx(*this);
        if (!tx.active()) return false;
        for (const char* sql : m.statements) {
            QSqlQuery q(connection());
            if (!q.exec(QString::fromLatin1(sql)))
                return fail(QStringLiteral("migration to version %1").arg(m.toVersion),
                            QStringLiteral("%1 (%2)").arg(q.lastError().text(), QString::fromLatin1(sql)));
        }
        // PRAGMA takes no bound parameters; the version is an integer from our own table.
        QSqlQuery q(connection());
        if (!q.exec(QStringLiteral("PRAGMA user_version = %1").arg(m.toVersion)))
            return fail(QStringLiteral("migration to version %1").arg(m.toVersion), q.lastError().text());
        if (!tx.commit()) return false;
        version = m.toVersion;
    }
    return true;
}

Transaction::Transaction(Database& db) : m_db(db) {
    QSqlDatabase c = db.connection();
    m_active = c.transaction();
    if (!m_active) db.fail(QStringLiteral("begin transaction"), c.lastError().text());
}

Transaction::~Transaction() {
    if (m_active) m_db.connection().rollback();
}

bool Transaction::commit() {
    if (!m_active) return false;
    m_active = false;
    QSqlDatabase c = m_db.connection();
    if (!c.commit()) {
        const QString err = c.lastError().text();
        c.rollback();
        return m_db.fail(QStringLiteral("commit"), err);
    }
    return true;
}

}  // namespace strata::app
