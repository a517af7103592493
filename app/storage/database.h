// Database: one SQLite connection to Strata's data file, opened with WAL, foreign keys on, and
// the schema migrated to schema::kCurrentVersion.
//
// Used from the thread that opened it (the GUI thread in the app; a test's thread in tests):
// QSqlDatabase connections are per thread. Each Database has its own connection name, so
// several may be open at once (tests, the kill-test helper).
#pragma once

#include <QSqlDatabase>
#include <QString>

namespace strata::app {

class Database {
public:
    Database();
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Opens (creating if needed) and migrates. On failure returns false with lastError() set
    // to a message naming the file and the step that failed.
    bool open(const QString& path);
    // Opens without migrating past `maxVersion` (tests of migrations build old files with it).
    bool open(const QString& path, int maxVersion);
    void close();

    bool isOpen() const;
    QSqlDatabase connection() const;
    QString path() const { return m_path; }
    QString lastError() const { return m_lastError; }

    int schemaVersion() const;
    QString journalMode() const;
    bool foreignKeysEnabled() const;

    // Records a failed query's error (with `what` naming the operation) and returns false.
    bool fail(const QString& what, const QString& detail);

private:
    bool migrate(int maxVersion);
    bool exec(const char* sql);

    QString m_connectionName;
    QString m_path;
    QString m_lastError;
};

// RAII transaction: commits on commit(), rolls back in the destructor otherwise.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    bool active() const { return m_active; }
    bool commit();

private:
    Database& m_db;
    bool m_active = false;
};

}  // namespace strata::app
