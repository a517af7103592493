// Remote GGUF directories read with growing range requests, and the planner's verdict on them.
#include "strata/hub/remote_fit.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <thread>

#include "gguf/gguf_file.h"
#include "gguf/split_set.h"
#include "plan/model_footprint.h"
#include "strata/format.h"

namespace strata::hub {

namespace {

// Reads bytes [0, n) of the file, appending ranges to what is already read, until its directory
// parses. Each round doubles what is asked for, so the bytes fetched are at most about twice
// the directory's size and the rounds few (a 20 MB vocabulary: seven).
Result<std::unique_ptr<gguf::GgufFile>> read_directory(const HttpClient& http, const std::string& url,
                                                       uint64_t file_size, const std::string& name,
                                                       const HeaderReadOptions& o, uint64_t* bytes_read,
                                                       const std::atomic<bool>* cancel) {
    std::vector<uint8_t> bytes;
    uint64_t want = std::min<uint64_t>(std::max<uint64_t>(o.first_bytes, 64), file_size);
    while (true) {
        const uint64_t have = bytes.size();
        const uint64_t n = want - have;
        auto r = http.fetch(url, ByteRange{have, want - 1}, n, cancel);
        if (!r.ok()) return r.status().with_context("reading the header of " + name);
        if (r->status == 200 && have == 0 && r->body.size() == file_size) {
            // A server without range support that sent the (small) file whole: use it.
        } else if (r->status != 206) {
            if (r->status == 200)
                return Status(ErrorCode::unsupported, "reading the header of " + name +
                                                          ": the server ignores range requests");
            return http_error(*r, "reading the header of " + name);
        } else if (r->body.size() != n) {
            return Status(ErrorCode::io, "reading the header of " + name + ": asked for " + std::to_string(n) +
                                             " bytes at offset " + std::to_string(have) + ", got " +
                                             std::to_string(r->body.size()));
        }
        bytes.insert(bytes.end(), r->body.begin(), r->body.end());
        if (bytes_read) *bytes_read += r->body.size();
        bool prefix_short = false;
        auto file = gguf::GgufFile::open_header(name, bytes, file_size, &prefix_short);
        if (file.ok() || !prefix_short) return file;
        if (bytes.size() >= o.max_bytes) {
            return Status(ErrorCode::unsupported, name + ": the GGUF header is larger than " +
                                                      format_bytes(o.max_bytes) + "; not read");
        }
        want = std::min<uint64_t>({want * 2, file_size, o.max_bytes});
    }
}

std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string context_words(int64_t n) {
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n / 1024) + "k";
    return std::to_string(n);
}

}  // namespace

Result<ModelFootprint> remote_footprint_of_files(const HttpClient& http, const std::vector<std::string>& urls,
                                                 const std::vector<uint64_t>& sizes, const std::string& name,
                                                 const HeaderReadOptions& options, uint64_t* bytes_read,
                                                 const std::atomic<bool>* cancel) {
    if (urls.empty() || urls.size() != sizes.size())
        return Status(ErrorCode::invalid_argument, name + ": no files to read");
    std::vector<std::unique_ptr<gguf::GgufFile>> parts;
    for (size_t k = 0; k < urls.size(); ++k) {
        const std::string part_name = urls.size() == 1 ? name : name + " (part " + std::to_string(k + 1) + ")";
        STRATA_ASSIGN_OR_RETURN(auto part, read_directory(http, urls[k], sizes[k], part_name, options, bytes_read, cancel));
        parts.push_back(std::move(part));
    }
    // A split set: the first part's metadata, every part's tensors (as GgufFile::open merges
    // them), after the same checks of the split keys.
    STRATA_ASSIGN_OR_RETURN(auto keys, gguf::read_split_keys(*parts[0]));
    const int64_t count = keys ? keys->count : 1;
    if (count != static_cast<int64_t>(parts.size())) {
        return Status(ErrorCode::corrupt, name + ": split.count says " + std::to_string(count) + " parts, the listing has " +
                                              std::to_string(parts.size()));
    }
    std::vector<gguf::TensorInfo> tensors;
    std::set<std::string> seen;
    for (size_t k = 0; k < parts.size(); ++k) {
        if (k > 0) {
            STRATA_ASSIGN_OR_RETURN(auto pk, gguf::read_split_keys(*parts[k]));
            if (!pk || pk->no != static_cast<int64_t>(k) || pk->count != count || pk->tensors_count != keys->tensors_count)
                return Status(ErrorCode::corrupt, name + ": part " + std::to_string(k + 1) + " does not belong to the set");
        }
        for (const gguf::TensorInfo& t : parts[k]->tensors()) {
            if (!seen.insert(t.name).second)
                return Status(ErrorCode::corrupt, name + ": tensor '" + t.name + "' appears in two parts");
            tensors.push_back(t);
            tensors.back().part = static_cast<uint32_t>(k);
        }
    }
    if (keys && static_cast<int64_t>(tensors.size()) != keys->tensors_count) {
        return Status(ErrorCode::corrupt, name + ": the parts hold " + std::to_string(tensors.size()) +
                                              " tensors, split.tensors.count says " + std::to_string(keys->tensors_count));
    }
    return model_footprint(parts[0]->metadata(), tensors, name);
}

Result<ModelFootprint> remote_footprint(const HubClient& hub, const std::string& repo, const GgufEntry& entry,
                                        const HeaderReadOptions& options, uint64_t* bytes_read,
                                        const std::atomic<bool>* cancel) {
    if (!entry.complete)
        return Status(ErrorCode::not_found, entry.name + ": the repository lists only some parts of this split set");
    std::vector<std::string> urls;
    std::vector<uint64_t> sizes;
    for (const RepoFile& f : entry.parts) {
        urls.push_back(hub.file_url(repo, f.path));
        sizes.push_back(f.size);
    }
    return remote_footprint_of_files(hub.download_http(), urls, sizes, base_name(entry.name), options, bytes_read,
                                     cancel);
}

FitVerdict fit_verdict(const PlanReport& report) {
    const Plan& plan = report.plan;
    FitVerdict v;
    v.fits = plan.fits;
    v.n_ctx = report.request.n_ctx;
    v.max_ctx = plan.max_ctx_that_fits;
    v.decode_tps = plan.predicted_decode_tps;
    char tps[64] = "";
    if (v.decode_tps > 0) std::snprintf(tps, sizeof tps, ", ~%.*f tok/s predicted", v.decode_tps < 10 ? 1 : 0, v.decode_tps);
    if (plan.fits) {
        for (const StagePlan& s : plan.stages)
            if (std::find(v.devices.begin(), v.devices.end(), s.device_id) == v.devices.end()) v.devices.push_back(s.device_id);
        std::string where;
        for (size_t k = 0; k < v.devices.size(); ++k) where += (k ? (k + 1 == v.devices.size() ? " and " : ", ") : "") + v.devices[k];
        v.summary = "fits on " + where + " at " + context_words(v.n_ctx) + " context";
        // The longest context worth naming: what memory holds, at most what the model is made for.
        const int64_t usable = report.request.model.usable_context();
        const int64_t longest = usable > 0 ? std::min(v.max_ctx, usable) : v.max_ctx;
        if (longest > v.n_ctx) v.summary += " (up to " + context_words(longest) + ")";
        v.summary += tps;
        return v;
    }
    for (const DeviceUse& u : plan.devices)
        if (!u.fits()) v.missing_bytes += u.total() - u.capacity;
    if (v.missing_bytes > 0) {
        v.summary = "does not fit: needs " + format_bytes(v.missing_bytes) + " more";
    } else {
        v.summary = "does not fit" + (plan.shortfalls.empty() ? std::string() : ": " + plan.shortfalls.front());
    }
    if (v.max_ctx > 0) v.summary += "; fits at " + context_words(v.max_ctx) + " context";
    return v;
}

void suggest_smaller_fits(std::vector<EntryVerdict>& verdicts) {
    for (EntryVerdict& e : verdicts) {
        if (!e.status.ok() || e.verdict.fits) continue;
        const EntryVerdict* best = nullptr;
        for (const EntryVerdict& o : verdicts) {
            if (!o.status.ok() || !o.verdict.fits || o.entry.size >= e.entry.size) continue;
            if (!best || o.entry.size > best->entry.size) best = &o;
        }
        if (!best) continue;
        e.verdict.smaller_fit = best->entry.quant.empty() ? base_name(best->entry.name) : best->entry.quant;
        e.verdict.summary += "; " + e.verdict.smaller_fit + " would fit";
    }
}

std::vector<EntryVerdict> plan_entries(const HubClient& hub, const std::string& repo,
                                       const std::vector<GgufEntry>& entries, Engine& engine,
                                       const LoadOptions& options, const std::atomic<bool>* cancel) {
    std::vector<EntryVerdict> out(entries.size());
    std::vector<Result<ModelFootprint>> footprints(entries.size(), Status(ErrorCode::cancelled, "not read"));
    // The headers are fetched a few at a time (each is a handful of small requests, mostly
    // waiting on the network); the plans are made here, one at a time, as the Engine wants.
    constexpr size_t kParallelReads = 4;
    for (size_t begin = 0; begin < entries.size(); begin += kParallelReads) {
        std::vector<std::thread> readers;
        for (size_t k = begin; k < std::min(entries.size(), begin + kParallelReads); ++k) {
            readers.emplace_back([&, k] {
                try {
                    footprints[k] = remote_footprint(hub, repo, entries[k], {}, &out[k].header_bytes, cancel);
                } catch (const std::exception& e) {  // bad_alloc: a thread must not let it escape
                    footprints[k] = Status(ErrorCode::internal, entries[k].name + ": " + e.what());
                }
            });
        }
        for (std::thread& t : readers) t.join();
    }
    for (size_t k = 0; k < entries.size(); ++k) {
        EntryVerdict& ev = out[k];
        ev.entry = entries[k];
        if (!footprints[k].ok()) {
            ev.status = footprints[k].status();
        } else if (auto report = engine.plan_footprint(*footprints[k], options); !report.ok()) {
            ev.status = report.status();
        } else {
            ev.verdict = fit_verdict(*report);
        }
    }
    suggest_smaller_fits(out);
    return out;
}

}  // namespace strata::hub
