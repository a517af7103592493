// Whether a model on the Hub fits this machine, decided before downloading it: the GGUF header
// and tensor directory of each of its files are read with HTTP range requests (only as many
// bytes as they take), turned into the planner's footprint, and planned on this machine's
// devices by Engine::plan_footprint — the same plan `strata-cli plan` makes of the downloaded
// file.
//
// Threading: the functions are reentrant; an Engine is used from one thread at a time (engine.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "strata/engine.h"
#include "strata/hub/gguf_entries.h"
#include "strata/hub/hub_client.h"

namespace strata::hub {

struct HeaderReadOptions {
    uint64_t first_bytes = 256u << 10;   // the first range read; doubled until the directory parses
    uint64_t max_bytes = 128ull << 20;   // a directory larger than this is refused (real ones: < 32 MiB)
};

// The footprint of `entry` of `repo`: every part's directory (a split set's first part holds the
// metadata, each part its own tensors). `bytes_read` (optional) gets the bytes fetched.
Result<ModelFootprint> remote_footprint(const HubClient& hub, const std::string& repo, const GgufEntry& entry,
                                        const HeaderReadOptions& options = {}, uint64_t* bytes_read = nullptr,
                                        const std::atomic<bool>* cancel = nullptr);

// The footprint of a GGUF file at `url` of `file_size` bytes (one file or one part on its own).
// Also the lower layer remote_footprint uses; exposed for tests.
Result<ModelFootprint> remote_footprint_of_files(const HttpClient& http, const std::vector<std::string>& urls,
                                                 const std::vector<uint64_t>& sizes, const std::string& name,
                                                 const HeaderReadOptions& options = {}, uint64_t* bytes_read = nullptr,
                                                 const std::atomic<bool>* cancel = nullptr);

// The planner's answer in the words a user reads before a download.
struct FitVerdict {
    bool fits = false;
    std::vector<std::string> devices;  // the devices the plan uses, in stage order (fits)
    int64_t n_ctx = 0;                 // the context planned (LoadOptions::n_ctx, or the default)
    int64_t max_ctx = 0;               // the longest context these devices hold (0 = none)
    double decode_tps = 0;             // predicted tokens/s (0 = unknown)
    uint64_t missing_bytes = 0;        // !fits: memory short on the devices, summed
    std::string smaller_fit;           // !fits: a smaller entry of the same repository that fits
    std::string summary;               // "fits on cpu at 4096 context (up to 32768), ~45 tok/s predicted"
};

// The verdict for a plan (smaller_fit left empty: see suggest_smaller_fits).
FitVerdict fit_verdict(const PlanReport& report);

// One entry's verdict, or why there is none (the header could not be read).
struct EntryVerdict {
    GgufEntry entry;
    Status status;          // ok: `verdict` holds the answer
    FitVerdict verdict;
    uint64_t header_bytes = 0;
};

// Reads every entry's header (four entries at a time, on threads of its own) and plans it with
// `options` on `engine`'s devices, on the calling thread; then, for each entry that does not
// fit, names the largest smaller entry that does.
std::vector<EntryVerdict> plan_entries(const HubClient& hub, const std::string& repo,
                                       const std::vector<GgufEntry>& entries, Engine& engine,
                                       const LoadOptions& options, const std::atomic<bool>* cancel = nullptr);

// Fills smaller_fit (and its words in summary) for each entry that does not fit, from the
// entries that do: the largest one smaller than it.
void suggest_smaller_fits(std::vector<EntryVerdict>& verdicts);

}  // namespace strata::hub
