// The bench results log: every `strata-cli bench` run (unless --no-store) and every bench run of
// the app appends one record — where it ran, what it ran, the plan, each test's speed and the
// planner's raw prediction — to a JSON-lines file in the user's data directory:
//
//   $XDG_DATA_HOME/strata/bench-results.jsonl  (default ~/.local/share/strata/...)
//
// One writer function (append_bench_record) for both; the app imports the records into its own
// SQLite history by id, and the planner's calibration (strata/calibration.h) reads them back.
// A line that does not parse is skipped with a warning, never fatal; a missing or read-only data
// directory makes append fail with a Status the caller shows as a warning (the bench itself has
// succeeded). Pure functions and file I/O; no shared state. Appends from two processes at once
// are whole lines each (one write() of one line to a file opened O_APPEND).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/bench.h"
#include "strata/device_info.h"
#include "strata/status.h"

namespace strata {

struct BenchRecordDevice {
    std::string id;          // "cpu", "cuda0"
    std::string kind;        // "cpu" | "cuda"
    std::string name;        // DeviceInfo::name ("Intel Xeon ... (2 threads)", "NVIDIA H100 80GB HBM3")
    int threads = 0;         // CPU devices
    std::string isa;         // CPU devices: the kernels' level ("avx512_vnni"); "" for GPUs
    double bandwidth_gbs = 0;  // what the planner assumed (DeviceInfo::memory_bandwidth_gbs)
    double matmul_tflops = 0;  // likewise (DeviceInfo::matmul_tflops)
    uint64_t cache_bytes = 0;  // CPU devices: the last-level cache (0 = unknown, older records)
};

struct BenchRecordStage {
    std::string device_id;
    int layer_begin = 0, layer_end = 0;  // [begin, end)
};

struct BenchRecordTest {
    std::string name;  // "pp128", "tg32"
    bool prefill = false;
    int tokens = 0;
    double tokens_per_second = 0;
};

struct BenchRecord {
    std::string id;           // unique: "20261207T190512Z-3f9a01c2b7d4e688"
    std::string time_utc;     // "2026-12-07T19:05:12Z"
    std::string version;      // Strata's ("0.1.0")
    std::string source;       // "cli" | "app"
    std::string fingerprint;  // machine_fingerprint(machine)
    std::string machine;      // the text hashed: "cpu Intel Xeon ... avx512_vnni; driver ...; GPU @ bus"
    std::vector<BenchRecordDevice> devices;  // the plan's request devices, in order
    std::string model_name, model_arch, weight_type;  // ModelInfo name, architecture, quantization
    std::string model_path;
    uint64_t file_bytes = 0;
    uint64_t decode_bytes = 0;      // weight bytes one decoded token reads
    double flops_per_token = 0;     // 2 × non-embedding parameters
    int64_t n_ctx = 0;
    int depth = 0;                  // tokens in the KV cache before each test
    std::vector<BenchRecordStage> stages;
    std::vector<BenchRecordTest> tests;
    // The planner's prediction before calibration (what calibration divides by), and what the
    // plan said after it (0 = it was not calibrated).
    double predicted_decode_tps = 0, predicted_prefill_tps = 0;
    double calibrated_decode_tps = 0, calibrated_prefill_tps = 0;
    double read_gbs = 0;  // streaming-read bandwidth measured right after the tests (0 = not measured)

    // The last tg test's / the last pp test's tokens/s (0 when there is none).
    double measured_decode_tps() const;
    double measured_prefill_tps() const;
    // Devices holding a stage (1 for a single-device plan).
    int stage_devices() const;
};

class Model;

// <strata_data_dir()>/bench-results.jsonl ("" when there is no data directory).
std::string bench_log_path();

// A record of `result` measured on `model` (its info, plan request and plan), stamped now with a
// fresh id. `machine` is every device of the machine (Engine::available_devices()) and
// `gpu_driver` NVML's driver version ("" = unknown), for the fingerprint; `source` "cli"/"app".
BenchRecord make_bench_record(const Model& model, const BenchResult& result, const BenchOptions& options,
                              const std::vector<DeviceInfo>& machine, const std::string& gpu_driver,
                              const std::string& source);

// "cpu <name without the thread count> <isa>; " for the first CPU device, then
// machine_fingerprint_text's GPU part (strata/link_store.h).
std::string bench_machine_text(const std::vector<DeviceInfo>& machine, const std::string& gpu_driver);

// One line of JSON (no newline) and back. parse errors (ErrorCode::corrupt) name the field.
std::string bench_record_to_json(const BenchRecord& r);
Result<BenchRecord> parse_bench_record(const std::string& line);

// Appends one line to `path` (its directory created). Errors: ErrorCode::io with the path.
Status append_bench_record(const BenchRecord& r, const std::string& path);

// How much of the log's end read_bench_log reads unless told otherwise. The log is append-only
// and never trimmed, so reading all of it would cost more every run; calibration uses each
// class's last kCalibrationRecentRuns runs per phase (strata/calibration.h), and a record is
// 1-2 KiB: 4 MiB is the last few thousand runs. A class benched only before those has no
// factors (its plans are the raw ones) until it is benched again.
inline constexpr uint64_t kBenchLogRecentBytes = 4ull << 20;

struct BenchLog {
    std::vector<BenchRecord> records;   // in file order (oldest first)
    std::vector<std::string> warnings;  // "bench-results.jsonl:7: skipped: ..." per bad line
    bool whole = true;                  // false: the file has older records than those read
    uint64_t bytes_read = 0;            // what was read of the file
};
// The records of the last `max_bytes` of `path` (those on lines that start within them), or of
// the whole file when max_bytes is 0 or the file is no longer; a missing file is an empty log
// without warnings. A last line without its newline that does not parse is one being written
// (appends are whole lines, but a reader may see one half written): skipped without a warning.
// Warnings count lines from the start of the file, or, when not `whole`, from the first line read.
BenchLog read_bench_log(const std::string& path, uint64_t max_bytes = kBenchLogRecentBytes);

}  // namespace strata
