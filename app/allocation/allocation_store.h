// AllocationStore: allocation settings per model file, in the `allocation_settings` table.
// GUI thread (the Database's thread).
#pragma once

#include <QString>
#include <optional>

#include "allocation/allocation.h"

namespace strata::app {

class Database;

class AllocationStore {
public:
    explicit AllocationStore(Database& db) : m_db(db) {}

    std::optional<AllocationSettings> load(const QString& modelPath) const;
    bool save(const QString& modelPath, const AllocationSettings& settings);
    QString lastError() const { return m_error; }

private:
    Database& m_db;
    mutable QString m_error;
};

}  // namespace strata::app
