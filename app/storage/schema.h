// The SQLite schema of Strata's data file, as named SQL constants and numbered migrations.
//
// The file's `PRAGMA user_version` is its schema version. Migration N takes a version N-1 file
// to version N; each runs inside one transaction together with the user_version update, so a
// file is always at exactly one version. Version 0 is an empty file.
//
//   v1  conversations, messages, models (the library)
//   v2  per-answer statistics and streaming state on messages; per-conversation model, system
//       prompt and sampling settings; soft delete (undo) for conversations; per-model
//       allocation settings
//   v3  why an answer ended early
//   v4  experts per layer and per token of library models (mixture of experts)
//   v5  reasoning and thinking time of answers; a custom chat template per conversation
//   v6  interrupted answers (killed mid-stream, apart from Stop); answers kept as alternatives
//   v7  benchmark runs (the performance view's bench runner)
#pragma once

#include <QList>

namespace strata::app::schema {

inline constexpr int kCurrentVersion = 8;

// Applied on every connection (not persistent, except journal_mode).
inline constexpr const char* kPragmaWal = "PRAGMA journal_mode = WAL";
inline constexpr const char* kPragmaForeignKeys = "PRAGMA foreign_keys = ON";
// With WAL, NORMAL loses nothing committed when the process dies (only on power loss).
inline constexpr const char* kPragmaSynchronous = "PRAGMA synchronous = NORMAL";
inline constexpr const char* kPragmaBusyTimeout = "PRAGMA busy_timeout = 5000";
inline constexpr const char* kReadUserVersion = "PRAGMA user_version";
inline constexpr const char* kReadJournalMode = "PRAGMA journal_mode";
inline constexpr const char* kReadForeignKeys = "PRAGMA foreign_keys";

// Statements of one migration, run in order inside a transaction. The final
// "PRAGMA user_version = N" is added by Database (PRAGMA takes no bound values).
struct Migration {
    int toVersion;
    QList<const char*> statements;
};

const QList<Migration>& migrations();

}  // namespace strata::app::schema
