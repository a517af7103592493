// The selftest's report table, its option filter, and the helpers every suite shares (error
// measures, device upload/download, random quantized weights).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "quant/quant.h"
#include "selftest.h"

namespace strata::selftest {

void Report::add(Outcome o) {
    o.pass = !std::isnan(o.err) && o.err <= o.tol;
    outcomes_.push_back(std::move(o));
}

void Report::add(const std::string& group, const std::string& device, const std::string& detail, double err,
                 double tol, const std::string& note) {
    Outcome o;
    o.group = group;
    o.device = device;
    o.detail = detail;
    o.err = err;
    o.tol = tol;
    o.note = note;
    add(std::move(o));
}

void Report::fail(const std::string& group, const std::string& device, const std::string& detail,
                  const std::string& why) {
    Outcome o;
    o.group = group;
    o.device = device;
    o.detail = detail;
    o.err = NAN;
    o.tol = 0;
    o.note = why;
    o.pass = false;
    outcomes_.push_back(std::move(o));
}

int Report::n_failed() const {
    return static_cast<int>(std::count_if(outcomes_.begin(), outcomes_.end(), [](const Outcome& o) { return !o.pass; }));
}
int Report::n_passed() const { return static_cast<int>(outcomes_.size()) - n_failed(); }

void Report::print(bool verbose) const {
    struct Row {
        int cases = 0, failed = 0;
        double worst = 0;  // max err / tol
    };
    std::vector<std::pair<std::string, std::string>> order;
    std::map<std::pair<std::string, std::string>, Row> rows;
    for (const Outcome& o : outcomes_) {
        const auto key = std::make_pair(o.group, o.device);
        if (!rows.count(key)) order.push_back(key);
        Row& r = rows[key];
        ++r.cases;
        if (!o.pass) ++r.failed;
        const double ratio = o.tol > 0 ? o.err / o.tol : (o.err == 0 ? 0 : INFINITY);
        if (std::isnan(ratio) || ratio > r.worst) r.worst = std::isnan(ratio) ? INFINITY : ratio;
    }
    std::printf("\n| %-34s | %-10s | %5s | %6s | %12s |\n", "check", "device", "cases", "failed", "worst err/tol");
    std::printf("|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(12, '-').c_str(),
                std::string(7, '-').c_str(), std::string(8, '-').c_str(), std::string(14, '-').c_str());
    for (const auto& key : order) {
        const Row& r = rows.at(key);
        std::printf("| %-34s | %-10s | %5d | %6d | %12.3g |\n", key.first.c_str(), key.second.c_str(), r.cases, r.failed,
                    r.worst);
    }
    bool header = false;
    for (const Outcome& o : outcomes_) {
        if (o.pass && !verbose) continue;
        if (!header) {
            std::printf("\n%s:\n", verbose ? "all cases" : "failures");
            header = true;
        }
        std::printf("  %-4s %-26s %-10s %-44s err %.3g (tol %.3g)%s%s\n", o.pass ? "ok" : "FAIL", o.group.c_str(),
                    o.device.c_str(), o.detail.c_str(), o.err, o.tol, o.note.empty() ? "" : "  ", o.note.c_str());
    }
    std::printf("\n%d passed, %d failed\n", n_passed(), n_failed());
}

bool Options::wants(const std::string& suite) const {
    if (only.empty()) return true;
    size_t start = 0;
    while (start <= only.size()) {
        const size_t end = std::min(only.find(',', start), only.size());
        if (only.compare(start, end - start, suite) == 0) return true;
        start = end + 1;
    }
    return false;
}

double rms(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x * x;
    return std::sqrt(s / std::max<size_t>(1, v.size()));
}

double rel_max_err(const std::vector<float>& a, const std::vector<double>& ref) {
    if (a.size() != ref.size()) return NAN;
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double e = std::fabs(static_cast<double>(a[i]) - ref[i]);
        if (std::isnan(e)) return NAN;
        m = std::max(m, e);
    }
    return m / std::max(rms(ref), 1e-20);
}

double rel_max_err(const std::vector<float>& a, const std::vector<float>& ref) {
    return rel_max_err(a, std::vector<double>(ref.begin(), ref.end()));
}

HostTensor host_tensor(const std::string& name, WeightRole role, TensorType type, int64_t rows, int64_t cols,
                       const std::vector<uint8_t>& bytes) {
    HostTensor t;
    t.name = name;
    t.role = role;
    t.type = type;
    t.n_rows = rows;
    t.n_cols = cols;
    t.data = bytes.data();
    t.n_bytes = bytes.size();
    return t;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

Result<std::unique_ptr<Buffer>> upload(Device& d, const void* data, size_t bytes, MemoryUse use) {
    auto b = d.allocate(bytes, use);
    if (!b.ok()) return b.status();
    if (bytes) STRATA_RETURN_IF_ERROR(d.copy_from_host(**b, 0, data, bytes));
    return b;
}

Result<std::unique_ptr<Buffer>> poisoned(Device& d, size_t bytes, MemoryUse use) {
    std::vector<uint8_t> poison(bytes, 0xFF);
    return upload(d, poison.data(), bytes, use);
}

Status download(Device& d, const Buffer& b, void* dst, size_t bytes) {
    STRATA_RETURN_IF_ERROR(d.synchronize());
    return d.copy_to_host(dst, b, 0, bytes);
}

std::vector<uint8_t> random_weight(TensorType type, int64_t n_rows, int64_t n_cols, Rng& rng, float scale) {
    const size_t row_bytes = tensor_row_bytes(type, n_cols);
    std::vector<uint8_t> out(row_bytes * static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
        const auto v = rng.gauss_vec(static_cast<size_t>(n_cols), scale);
        quant::quantize_row_ref(type, v.data(), out.data() + static_cast<size_t>(r) * row_bytes, n_cols);
    }
    return out;
}

}  // namespace strata::selftest
