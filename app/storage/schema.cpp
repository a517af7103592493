#include "storage/schema.h"

namespace strata::app::schema {

namespace {

// ---- v1 ---------------------------------------------------------------------------------------
constexpr const char* kV1Conversations =
    "CREATE TABLE conversations ("
    " id INTEGER PRIMARY KEY,"
    " title TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"   // ms since the Unix epoch (UTC)
    " updated_at INTEGER NOT NULL)";
constexpr const char* kV1Messages =
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),"
    " content TEXT NOT NULL,"
    " created_at INTEGER NOT NULL)";
constexpr const char* kV1MessagesIndex =
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, id)";
constexpr const char* kV1Models =
    "CREATE TABLE models ("
    " id INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL,"
    " file_size INTEGER NOT NULL,"
    " architecture TEXT NOT NULL,"
    " n_params INTEGER NOT NULL,"
    " quantization TEXT NOT NULL,"
    " context_length INTEGER NOT NULL,"
    " n_layer INTEGER NOT NULL,"
    " added_at INTEGER NOT NULL)";

// ---- v2 ---------------------------------------------------------------------------------------
constexpr const char* kV2ConversationModel =
    "ALTER TABLE conversations ADD COLUMN model_path TEXT NOT NULL DEFAULT ''";
constexpr const char* kV2ConversationSystemPrompt =
    "ALTER TABLE conversations ADD COLUMN system_prompt TEXT NOT NULL DEFAULT ''";
constexpr const char* kV2ConversationSampling =
    "ALTER TABLE conversations ADD COLUMN sampling_json TEXT NOT NULL DEFAULT '{}'";
constexpr const char* kV2ConversationDeleted =
    "ALTER TABLE conversations ADD COLUMN deleted_at INTEGER";  // NULL = live; set = undo pending
// streaming: an answer being written (a crash leaves it so; shown as interrupted on reopen).
constexpr const char* kV2MessageState =
    "ALTER TABLE messages ADD COLUMN state TEXT NOT NULL DEFAULT 'complete'"
    " CHECK (state IN ('complete', 'streaming', 'stopped', 'error'))";
constexpr const char* kV2MessageTokens = "ALTER TABLE messages ADD COLUMN n_tokens INTEGER NOT NULL DEFAULT 0";
constexpr const char* kV2MessageTtft = "ALTER TABLE messages ADD COLUMN ttft_ms REAL NOT NULL DEFAULT 0";
constexpr const char* kV2MessageTps = "ALTER TABLE messages ADD COLUMN tokens_per_second REAL NOT NULL DEFAULT 0";
constexpr const char* kV2ConversationsIndex =
    "CREATE INDEX conversations_by_update ON conversations (updated_at DESC)";
constexpr const char* kV2Allocation =
    "CREATE TABLE allocation_settings ("
    " model_path TEXT PRIMARY KEY,"
    " settings_json TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL)";

// ---- v3 ---------------------------------------------------------------------------------------
// Why a complete answer ended early: 'max_tokens', 'context_full'; '' when it ended on its own.
constexpr const char* kV3MessageEndReason = "ALTER TABLE messages ADD COLUMN end_reason TEXT NOT NULL DEFAULT ''";

// ---- v4 ---------------------------------------------------------------------------------------
// Mixture-of-experts models: experts per layer and per token (0 = dense). Earlier rows are
// dense: files with experts were refused before this version.
constexpr const char* kV4ModelExperts = "ALTER TABLE models ADD COLUMN n_expert INTEGER NOT NULL DEFAULT 0";
constexpr const char* kV4ModelExpertsUsed = "ALTER TABLE models ADD COLUMN n_expert_used INTEGER NOT NULL DEFAULT 0";

// ---- v5 ---------------------------------------------------------------------------------------
// Reasoning models: an answer's thinking, kept apart from its text, and how long it took.
constexpr const char* kV5MessageReasoning = "ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT ''";
constexpr const char* kV5MessageThinkingMs = "ALTER TABLE messages ADD COLUMN thinking_ms REAL NOT NULL DEFAULT 0";
// A custom Jinja chat template per conversation ('' = the model's own).
constexpr const char* kV5ConversationTemplate =
    "ALTER TABLE conversations ADD COLUMN chat_template TEXT NOT NULL DEFAULT ''";

// ---- v6 ---------------------------------------------------------------------------------------
// An answer the process was killed or crashed in the middle of: state 'stopped' (the CHECK on
// state allows no new value) with interrupted = 1; a Stop leaves 0. Its figures are those of the
// last save while it streamed.
constexpr const char* kV6MessageInterrupted =
    "ALTER TABLE messages ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0";
// Alternatives: Regenerate keeps the earlier answer. The answers to one question form a group,
// named by its first answer's id (alt_group; 0 = an answer with no alternatives yet, its own
// group). Exactly one answer of a group is shown (shown = 1): the transcript shows it and the
// model gets it as history; the others (shown = 0) are kept for the ‹ 1/2 › arrows. Answers of a
// group are ordered by id. Deleting from a question on (edit-and-resend) removes them all (later
// ids).
constexpr const char* kV6MessageGroup = "ALTER TABLE messages ADD COLUMN alt_group INTEGER NOT NULL DEFAULT 0";
constexpr const char* kV6MessageShown = "ALTER TABLE messages ADD COLUMN shown INTEGER NOT NULL DEFAULT 1";

// ---- v7 ---------------------------------------------------------------------------------------
// One row per bench run of the app's bench runner: where (machine: its devices in words;
// machine_id: a fingerprint of them), what (the model file, the plan's stages), which Strata,
// and the speeds (the last prompt test's and the last decode test's tokens/s). tests_json has
// every test ([{"name": "pp512", "tokens_per_second": ...}, ...]).
constexpr const char* kV7BenchRuns =
    "CREATE TABLE bench_runs ("
    " id INTEGER PRIMARY KEY,"
    " created_at INTEGER NOT NULL,"  // ms since the Unix epoch (UTC)
    " machine TEXT NOT NULL,"
    " machine_id TEXT NOT NULL,"
    " model TEXT NOT NULL,"
    " model_path TEXT NOT NULL,"
    " plan TEXT NOT NULL,"
    " version TEXT NOT NULL,"
    " prefill_tps REAL NOT NULL,"
    " decode_tps REAL NOT NULL,"
    " tests_json TEXT NOT NULL DEFAULT '[]')";
constexpr const char* kV7BenchRunsIndex = "CREATE INDEX bench_runs_by_time ON bench_runs (created_at)";

// ---- v8 ---------------------------------------------------------------------------------------
// record_id: the engine's bench log record a run is (strata/bench_log.h: strata-cli bench runs are
// imported from the log, the app's own runs are appended to it), '' for runs from before. At
// most one row per record.
constexpr const char* kV8BenchRecordId = "ALTER TABLE bench_runs ADD COLUMN record_id TEXT NOT NULL DEFAULT ''";
constexpr const char* kV8BenchRecordIndex =
    "CREATE UNIQUE INDEX bench_runs_by_record ON bench_runs (record_id) WHERE record_id <> ''";

}  // namespace

const QList<Migration>& migrations() {
    static const QList<Migration> all = {
        {1, {kV1Conversations, kV1Messages, kV1MessagesIndex, kV1Models}},
        {2,
         {kV2ConversationModel, kV2ConversationSystemPrompt, kV2ConversationSampling, kV2ConversationDeleted,
          kV2MessageState, kV2MessageTokens, kV2MessageTtft, kV2MessageTps, kV2ConversationsIndex, kV2Allocation}},
        {3, {kV3MessageEndReason}},
        {4, {kV4ModelExperts, kV4ModelExpertsUsed}},
        {5, {kV5MessageReasoning, kV5MessageThinkingMs, kV5ConversationTemplate}},
        {6, {kV6MessageInterrupted, kV6MessageGroup, kV6MessageShown}},
        {7, {kV7BenchRuns, kV7BenchRunsIndex}},
        {8, {kV8BenchRecordId, kV8BenchRecordIndex}},
    };
    return all;
}

}  // namespace strata::app::schema
