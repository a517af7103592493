// The bench results log (strata/bench_log.h): JSON lines (nlohmann-json) in the user's data
// directory, appended with one write per record.
#include "strata/bench_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "strata/engine.h"
#include "strata/link_store.h"
#include "util/cpu_cache.h"
#include "util/cpu_features.h"
#include "util/utc_time.h"

#ifndef STRATA_PROJECT_VERSION
#define STRATA_PROJECT_VERSION ""
#endif

namespace strata {

using nlohmann::json;

namespace {

constexpr int kFormatVersion = 1;

std::string new_record_id() {
    std::random_device rd;
    const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                       static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
    return utc_now("%Y%m%dT%H%M%SZ") + "-" + hex;
}

// "Intel Xeon (2 threads)" → "Intel Xeon": the class of a CPU is its model and ISA, the thread
// count is recorded on its own.
std::string cpu_model_of(const std::string& name) {
    const size_t p = name.rfind(" (");
    return p != std::string::npos && !name.empty() && name.back() == ')' ? name.substr(0, p) : name;
}

}  // namespace

double BenchRecord::measured_decode_tps() const {
    double v = 0;
    for (const BenchRecordTest& t : tests)
        if (!t.prefill) v = t.tokens_per_second;
    return v;
}

double BenchRecord::measured_prefill_tps() const {
    double v = 0;
    for (const BenchRecordTest& t : tests)
        if (t.prefill) v = t.tokens_per_second;
    return v;
}

int BenchRecord::stage_devices() const {
    std::vector<std::string> ids;
    for (const BenchRecordStage& s : stages)
        if (std::find(ids.begin(), ids.end(), s.device_id) == ids.end()) ids.push_back(s.device_id);
    return static_cast<int>(ids.size());
}

std::string bench_log_path() {
    const std::string dir = strata_data_dir();
    return dir.empty() ? std::string() : dir + "/bench-results.jsonl";
}

std::string bench_machine_text(const std::vector<DeviceInfo>& machine, const std::string& gpu_driver) {
    std::string text;
    for (const DeviceInfo& d : machine) {
        if (d.type != DeviceType::cpu) continue;
        text = "cpu " + cpu_model_of(d.name) + " " + cpu_isa_env_name(cpu_isa());
        break;
    }
    const bool any_gpu =
        std::any_of(machine.begin(), machine.end(), [](const DeviceInfo& d) { return d.type == DeviceType::cuda; });
    if (any_gpu) text += (text.empty() ? "" : "; ") + machine_fingerprint_text(machine, gpu_driver);
    return text;
}

BenchRecord make_bench_record(const Model& model, const BenchResult& result, const BenchOptions& options,
                              const std::vector<DeviceInfo>& machine, const std::string& gpu_driver,
                              const std::string& source) {
    BenchRecord r;
    r.id = new_record_id();
    r.time_utc = utc_now("%Y-%m-%dT%H:%M:%SZ");
    r.version = STRATA_PROJECT_VERSION;
    r.source = source;
    r.machine = bench_machine_text(machine, gpu_driver);
    r.fingerprint = machine_fingerprint(r.machine);
    for (const PlanDevice& pd : model.plan_request().devices) {
        BenchRecordDevice d;
        d.id = pd.info.id;
        d.kind = pd.info.type == DeviceType::cuda ? "cuda" : "cpu";
        d.name = pd.info.name;
        d.bandwidth_gbs = pd.info.memory_bandwidth_gbs;
        d.matmul_tflops = pd.info.matmul_tflops;
        if (pd.info.type == DeviceType::cpu) {
            d.threads = pd.info.n_threads;
            d.isa = cpu_isa_env_name(cpu_isa());
            d.cache_bytes = cpu_last_level_cache_bytes();
        }
        r.devices.push_back(std::move(d));
    }
    const ModelInfo& info = model.info();
    r.model_name = info.name;
    r.model_arch = info.architecture;
    r.weight_type = info.quantization;
    r.model_path = info.path;
    r.file_bytes = info.file_size;
    r.decode_bytes = result.decode_bytes;
    r.flops_per_token = result.flops_per_token;
    r.n_ctx = model.n_ctx();
    r.depth = options.depth;
    const Plan& plan = model.plan();
    for (const StagePlan& s : plan.stages) r.stages.push_back({s.device_id, s.layer_begin, s.layer_end});
    for (const BenchTest& t : result.tests) r.tests.push_back({t.name, t.prefill, t.tokens, t.tokens_per_second});
    r.predicted_decode_tps = plan.raw_predicted_decode_tps;
    r.predicted_prefill_tps = plan.raw_predicted_prefill_tps;
    if (plan.calibration.decode_runs > 0) r.calibrated_decode_tps = plan.predicted_decode_tps;
    if (plan.calibration.prefill_runs > 0) r.calibrated_prefill_tps = plan.predicted_prefill_tps;
    return r;
}

std::string bench_record_to_json(const BenchRecord& r) {
    json devices = json::array();
    for (const BenchRecordDevice& d : r.devices) {
        json dev = {{"id", d.id}, {"kind", d.kind}, {"name", d.name}, {"threads", d.threads}, {"isa", d.isa},
                    {"bandwidth_gbs", d.bandwidth_gbs}, {"matmul_tflops", d.matmul_tflops}};
        if (d.cache_bytes > 0) dev["cache_bytes"] = d.cache_bytes;
        devices.push_back(std::move(dev));
    }
    json stages = json::array();
    for (const BenchRecordStage& s : r.stages)
        stages.push_back({{"device", s.device_id}, {"layer_begin", s.layer_begin}, {"layer_end", s.layer_end}});
    json tests = json::array();
    for (const BenchRecordTest& t : r.tests)
        tests.push_back({{"name", t.name}, {"prefill", t.prefill}, {"tokens", t.tokens}, {"tokens_per_second", t.tokens_per_second}});
    const json j = {
        {"format", kFormatVersion},
        {"id", r.id},
        {"time_utc", r.time_utc},
        {"version", r.version},
        {"source", r.source},
        {"fingerprint", r.fingerprint},
        {"machine", r.machine},
        {"devices", devices},
        {"model", {{"name", r.model_name}, {"arch", r.model_arch}, {"weight_type", r.weight_type}, {"path", r.model_path},
                   {"file_bytes", r.file_bytes}, {"decode_bytes", r.decode_bytes}, {"flops_per_token", r.flops_per_token}}},
        {"n_ctx", r.n_ctx},
        {"depth", r.depth},
        {"stages", stages},
        {"tests", tests},
        {"predicted", {{"decode_tps", r.predicted_decode_tps}, {"prefill_tps", r.predicted_prefill_tps}}},
        {"calibrated", {{"decode_tps", r.calibrated_decode_tps}, {"prefill_tps", r.calibrated_prefill_tps}}},
        {"read_gbs", r.read_gbs},
    };
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<BenchRecord> parse_bench_record(const std::string& line) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status(ErrorCode::corrupt, "not a JSON object");
    BenchRecord r;
    try {
        if (j.value("format", 0) != kFormatVersion) return Status(ErrorCode::corrupt, "format must be " + std::to_string(kFormatVersion));
        r.id = j.at("id").get<std::string>();
        if (r.id.empty()) return Status(ErrorCode::corrupt, "id is empty");
        r.time_utc = j.at("time_utc").get<std::string>();
        r.version = j.value("version", std::string());
        r.source = j.value("source", std::string());
        r.fingerprint = j.value("fingerprint", std::string());
        r.machine = j.value("machine", std::string());
        for (const json& d : j.value("devices", json::array())) {
            BenchRecordDevice x;
            x.id = d.at("id").get<std::string>();
            x.kind = d.value("kind", std::string("cpu"));
            x.name = d.value("name", std::string());
            x.threads = d.value("threads", 0);
            x.isa = d.value("isa", std::string());
            x.bandwidth_gbs = d.value("bandwidth_gbs", 0.0);
            x.matmul_tflops = d.value("matmul_tflops", 0.0);
            x.cache_bytes = d.value("cache_bytes", uint64_t{0});
            r.devices.push_back(std::move(x));
        }
        const json m = j.value("model", json::object());
        r.model_name = m.value("name", std::string());
        r.model_arch = m.value("arch", std::string());
        r.weight_type = m.value("weight_type", std::string());
        r.model_path = m.value("path", std::string());
        r.file_bytes = m.value("file_bytes", uint64_t{0});
        r.decode_bytes = m.value("decode_bytes", uint64_t{0});
        r.flops_per_token = m.value("flops_per_token", 0.0);
        r.n_ctx = j.value("n_ctx", int64_t{0});
        r.depth = j.value("depth", 0);
        for (const json& s : j.value("stages", json::array()))
            r.stages.push_back({s.at("device").get<std::string>(), s.value("layer_begin", 0), s.value("layer_end", 0)});
        for (const json& t : j.at("tests")) {
            BenchRecordTest x;
            x.name = t.at("name").get<std::string>();
            x.prefill = t.value("prefill", false);
            x.tokens = t.value("tokens", 0);
            x.tokens_per_second = t.at("tokens_per_second").get<double>();
            if (!(x.tokens_per_second >= 0)) return Status(ErrorCode::corrupt, "tests: tokens_per_second must be >= 0");
            r.tests.push_back(std::move(x));
        }
        const json p = j.value("predicted", json::object());
        r.predicted_decode_tps = p.value("decode_tps", 0.0);
        r.predicted_prefill_tps = p.value("prefill_tps", 0.0);
        const json c = j.value("calibrated", json::object());
        r.calibrated_decode_tps = c.value("decode_tps", 0.0);
        r.calibrated_prefill_tps = c.value("prefill_tps", 0.0);
        r.read_gbs = j.value("read_gbs", 0.0);
    } catch (const json::exception& e) {
        return Status(ErrorCode::corrupt, std::string("bad field: ") + e.what());
    }
    return r;
}

Status append_bench_record(const BenchRecord& r, const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty()) return Status(ErrorCode::io, "no data directory (neither XDG_DATA_HOME nor HOME is set)");
    std::error_code ec;
    const fs::path p(path);
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    if (ec) return Status(ErrorCode::io, "cannot create " + p.parent_path().string() + ": " + ec.message());
    const std::string line = bench_record_to_json(r) + "\n";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status(ErrorCode::io, "cannot open " + path + ": " + std::strerror(errno));
    const ssize_t n = ::write(fd, line.data(), line.size());  // one write: a whole line per record
    const int write_errno = errno;
    const int closed = ::close(fd);
    if (n != static_cast<ssize_t>(line.size()))
        return Status(ErrorCode::io, "cannot write " + path + ": " + std::strerror(n < 0 ? write_errno : EIO));
    if (closed != 0) return Status(ErrorCode::io, "cannot write " + path + ": " + std::strerror(errno));
    return Status::success();
}

BenchLog read_bench_log(const std::string& path, uint64_t max_bytes) {
    BenchLog log;
    if (path.empty()) return log;
    std::ifstream in(path, std::ios::binary);
    if (!in) return log;
    in.seekg(0, std::ios::end);
    const auto size = static_cast<uint64_t>(std::max<std::streamoff>(0, in.tellg()));
    uint64_t start = 0;
    if (max_bytes > 0 && size > max_bytes) {
        // Start at the first line that begins within the last max_bytes: after the newline at
        // or past size - max_bytes - 1 (the byte before the window ends a line, or not).
        start = size - max_bytes;
        in.seekg(static_cast<std::streamoff>(start - 1));
        std::string partial;
        std::getline(in, partial);
        start += partial.size();  // getline consumed partial + '\n': the next line starts here
        log.whole = false;
    }
    in.clear();
    in.seekg(static_cast<std::streamoff>(start));
    log.bytes_read = size - std::min(start, size);
    const std::string name = std::filesystem::path(path).filename().string();
    const std::string where = log.whole ? name + ":" : name + " (last " + std::to_string(log.bytes_read) + " bytes), line ";
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        const bool complete = !in.eof();  // getline stopped at a newline, not at the end of the file
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto r = parse_bench_record(line);
        if (!r.ok()) {
            if (complete) log.warnings.push_back(where + std::to_string(number) + ": skipped: " + r.status().message());
            continue;
        }
        log.records.push_back(std::move(r).value());
    }
    return log;
}

}  // namespace strata
