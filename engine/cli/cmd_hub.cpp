// strata-cli hub: find GGUF models on the Hugging Face Hub ($HF_ENDPOINT for a mirror,
// $HF_TOKEN for gated repositories), see whether each file fits this machine before
// downloading it (its header alone is read, with range requests), and download one.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_common.h"
#include "load_options.h"
#include "strata/format.h"
#include "strata/hub/downloader.h"
#include "strata/hub/gguf_entries.h"
#include "strata/hub/hub_client.h"
#include "strata/hub/remote_fit.h"

namespace strata::cli {

namespace {

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted.store(true); }

const char* kHubHelp =
    "usage: strata-cli hub search WORDS... [--sort downloads|likes|updated] [--limit N]\n"
    "       strata-cli hub files REPO [plan options]\n"
    "       strata-cli hub download REPO FILE|QUANT [--dir DIR] [--no-plan] [plan options]\n\n"
    "search    GGUF repositories matching the words\n"
    "files     each GGUF model of a repository (a split set counts as one) with its quantization,\n"
    "          size and whether it fits this machine's devices — decided from the file's header,\n"
    "          read with range requests, before any download\n"
    "download  one model (every part of a split set) into DIR (default: the current folder):\n"
    "          resumed from NAME.part when a download was interrupted, checked against the\n"
    "          repository's SHA-256, renamed to NAME only when complete; the parts of a set\n"
    "          side by side; first the fit verdict (--no-plan: not)\n\n"
    "The same as top-level commands: 'strata-cli search WORDS', 'strata-cli hub-plan REPO',\n"
    "'strata-cli pull REPO[:QUANT] [--file NAME]'.\n\n"
    "Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (sent to that host only),\n"
    "https_proxy / no_proxy.\n"
    "Exit status: 0 done, 1 error, 2 bad usage; files: 3 when no model fits.\n\n"
    "plan options (as for 'strata-cli plan'):\n";

int usage_error(const std::string& what) {
    std::fprintf(stderr, "error: %s (see strata-cli hub --help)\n", what.c_str());
    return 2;
}

// `first_word`: where the search words start among the positionals (after "search" for 'hub search').
int cmd_hub_search(hub::HubClient& client, Args& args, size_t first_word) {
    hub::SearchSort sort = hub::SearchSort::downloads;
    if (auto v = args.value({"--sort"}); v && !hub::parse_search_sort(*v, sort))
        return usage_error("--sort must be downloads, likes or updated, not '" + *v + "'");
    long long limit = 20;
    if (auto v = args.value({"--limit"}); v && (!Args::to_int(*v, "--limit", limit) || limit < 1 || limit > 1000))
        return usage_error("--limit must be 1..1000");
    std::vector<std::string> words;
    std::string err;
    if (!args.finish(words, err)) return usage_error(err);
    std::string query;
    for (size_t k = first_word; k < words.size(); ++k) query += (k > first_word ? " " : "") + words[k];
    auto found = client.search(query, sort, static_cast<int>(limit));
    if (!found.ok()) {
        std::fprintf(stderr, "error: %s\n", found.status().message().c_str());
        return 1;
    }
    if (found->empty()) std::printf("no GGUF repositories match '%s'\n", query.c_str());
    for (const hub::RepoSummary& r : *found) {
        std::printf("%-50s %10lld downloads %7lld likes  %s%s\n", r.id.c_str(), static_cast<long long>(r.downloads),
                    static_cast<long long>(r.likes), r.last_modified.substr(0, 10).c_str(), r.gated ? "  (gated)" : "");
    }
    return 0;
}

Result<std::vector<hub::GgufEntry>> list_entries(const hub::HubClient& client, const std::string& repo) {
    STRATA_ASSIGN_OR_RETURN(auto files, client.list_files(repo));
    auto entries = hub::gguf_entries(files);
    if (entries.empty()) return Status(ErrorCode::not_found, repo + " has no GGUF files");
    return entries;
}

int cmd_hub_files(hub::HubClient& client, const std::string& repo, const ModelOptions& mo) {
    auto entries = list_entries(client, repo);
    if (!entries.ok()) {
        std::fprintf(stderr, "error: %s\n", entries.status().message().c_str());
        return 1;
    }
    if (auto card = client.model_card_summary(repo); card.ok() && !card->empty()) std::printf("%s\n\n", card->c_str());
    Engine engine;
    const auto verdicts = hub::plan_entries(client, repo, *entries, engine, mo.load, &g_interrupted);
    bool any_fits = false;
    std::printf("%-56s %-9s %10s  %s\n", "file", "quant", "size", "fit on this machine (from the header)");
    for (const hub::EntryVerdict& v : verdicts) {
        std::string name = v.entry.name;
        if (v.entry.is_split()) name += " (+" + std::to_string(v.entry.parts.size() - 1) + " parts)";
        const std::string verdict = v.status.ok() ? v.verdict.summary : "unknown: " + v.status.message();
        any_fits = any_fits || (v.status.ok() && v.verdict.fits);
        std::printf("%-56s %-9s %10s  %s\n", name.c_str(), v.entry.quant.empty() ? "?" : v.entry.quant.c_str(),
                    format_bytes(v.entry.size).c_str(), verdict.c_str());
    }
    return any_fits ? 0 : 3;
}

// What the progress display last showed (one per download command).
struct ProgressShown {
    int last_tenth = -1;                               // plain lines: one per 10%
    std::chrono::steady_clock::time_point last_draw;   // the TTY bar: at most ten redraws a second
};

void print_progress(const std::string& name, const hub::DownloadProgress& p, ProgressShown& shown) {
    const double frac = p.total ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1.0;
    const std::string speed = format_bytes(static_cast<uint64_t>(p.bytes_per_second)) + "/s";
    if (isatty(STDERR_FILENO)) {
        // A bar that redraws itself in place, at most ten times a second (and at the end):
        // [#########.........]  47.1% of 4.6 GiB, 38 MiB/s, 1:05 left
        const auto now = std::chrono::steady_clock::now();
        if (p.done < p.total && now - shown.last_draw < std::chrono::milliseconds(100)) return;
        shown.last_draw = now;
        constexpr int kWidth = 30;
        const int filled = static_cast<int>(frac * kWidth);
        std::string eta;
        if (p.bytes_per_second > 0 && p.total > p.done) {
            const auto s = static_cast<long long>(static_cast<double>(p.total - p.done) / p.bytes_per_second);
            char buf[32];
            std::snprintf(buf, sizeof buf, ", %lld:%02lld left", s / 60, s % 60);
            eta = buf;
        }
        std::fprintf(stderr, "\r%s [%s%s] %5.1f%% of %s, %s%s   ", name.c_str(), std::string(filled, '#').c_str(),
                     std::string(kWidth - filled, '.').c_str(), 100.0 * frac, format_bytes(p.total).c_str(),
                     speed.c_str(), eta.c_str());
        std::fflush(stderr);
        return;
    }
    const int tenth = static_cast<int>(frac * 10.0);
    if (tenth == shown.last_tenth) return;
    shown.last_tenth = tenth;
    std::fprintf(stderr, "%s: %d%% of %s, %s\n", name.c_str(), tenth * 10, format_bytes(p.total).c_str(), speed.c_str());
}

std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// The entry a pull names: by file (its path or name; any part of a split set names the set), else
// by quantization (case-insensitive), else the only one. nullptr with the reason in `why`.
const hub::GgufEntry* pick_entry(const std::vector<hub::GgufEntry>& entries, const std::string& file,
                                 const std::string& quant, std::string& why) {
    std::vector<const hub::GgufEntry*> matches;
    if (!file.empty()) {
        for (const hub::GgufEntry& e : entries)
            for (const hub::RepoFile& f : e.parts)
                if (f.path == file || base_name(f.path) == file) {
                    matches.push_back(&e);
                    break;
                }
        if (matches.size() == 1) return matches.front();
        why = matches.empty() ? "no GGUF file named '" + file + "'" : "more than one model has a file named '" + file + "'";
        return nullptr;
    }
    if (quant.empty()) {
        if (entries.size() == 1) return &entries.front();
        why = "more than one model: name one as REPO:QUANT or with --file";
        return nullptr;
    }
    for (const hub::GgufEntry& e : entries)
        if (!e.quant.empty() && upper(e.quant) == upper(quant)) matches.push_back(&e);
    if (matches.size() == 1) return matches.front();
    why = matches.empty() ? "no model of quantization '" + quant + "'"
                          : "more than one model of quantization '" + quant + "': name one with --file";
    return nullptr;
}

// "available: Q8_0 (tiny-Q8_0.gguf, 1.2 MiB), F16 (...)" one line each, for errors.
std::string available_list(const std::vector<hub::GgufEntry>& entries) {
    std::string out = "available:\n";
    for (const hub::GgufEntry& e : entries) {
        out += "  " + (e.quant.empty() ? std::string("?") : e.quant) + "  " + e.name;
        if (e.is_split()) out += " (+" + std::to_string(e.parts.size() - 1) + " parts)";
        out += "  " + format_bytes(e.size) + "\n";
    }
    return out;
}

int cmd_hub_download(hub::HubClient& client, const std::string& repo, const std::string& wanted_file,
                     const std::string& wanted_quant, const std::string& dir, const ModelOptions& mo, bool plan_first) {
    auto entries = list_entries(client, repo);
    if (!entries.ok()) {
        std::fprintf(stderr, "error: %s\n", entries.status().message().c_str());
        return 1;
    }
    std::string why;
    const hub::GgufEntry* picked = pick_entry(*entries, wanted_file, wanted_quant, why);
    if (!picked) {
        std::fprintf(stderr, "error: %s in %s\n", why.c_str(), repo.c_str());
        std::fprintf(stderr, "%s", available_list(*entries).c_str());
        return 1;
    }
    const hub::GgufEntry& entry = *picked;
    if (!entry.complete) {
        std::fprintf(stderr, "error: %s lists only some parts of %s\n", repo.c_str(), entry.name.c_str());
        return 1;
    }
    if (plan_first) {
        Engine engine;
        auto verdicts = hub::plan_entries(client, repo, {entry}, engine, mo.load, &g_interrupted);
        if (verdicts.front().status.ok()) std::fprintf(stderr, "%s: %s\n", base_name(entry.name).c_str(), verdicts.front().verdict.summary.c_str());
    }
    // Room for every part before the first byte (each download checks its own part again).
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    uint64_t left = 0;
    for (const hub::RepoFile& f : entry.parts) {
        const std::filesystem::path final_path = std::filesystem::path(dir) / base_name(f.path);
        if (std::filesystem::exists(final_path, ec)) continue;
        const auto part = std::filesystem::file_size(final_path.string() + ".part", ec);
        left += ec || part > f.size ? f.size : f.size - part;
    }
    if (const auto free = hub::free_disk_bytes(dir); free && *free < left) {
        std::fprintf(stderr, "error: not enough disk space in %s: %s needs %s more, %s are free\n", dir.c_str(),
                     base_name(entry.name).c_str(), format_bytes(left).c_str(), format_bytes(*free).c_str());
        return 1;
    }
    std::vector<hub::DownloadRequest> requests;
    for (const hub::RepoFile& f : entry.parts) {
        hub::DownloadRequest req;
        req.url = client.file_url(repo, f.path);
        req.dir = dir;
        req.file_name = base_name(f.path);
        req.size = f.size;
        req.sha256 = f.sha256;
        requests.push_back(std::move(req));
    }
    ProgressShown shown;
    const auto results = hub::download_files(
        client.download_http(), requests, 4,
        [&](const hub::DownloadProgress& p) { print_progress(base_name(entry.name), p, shown); }, &g_interrupted);
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
    int failed = 0, cancelled = 0;
    for (size_t k = 0; k < results.size(); ++k) {
        const hub::DownloadResult& r = results[k];
        if (r.status.ok()) {
            std::fprintf(stderr, "%s: %s%s\n", requests[k].file_name.c_str(),
                         r.already_present ? "already here, verified" : "downloaded and verified",
                         r.resumed_from > 0 ? (" (resumed at " + format_bytes(r.resumed_from) + ")").c_str() : "");
        } else if (r.fault == hub::DownloadFault::cancelled) {
            ++cancelled;  // by Ctrl-C, or stopped because another part failed (whose error is printed)
        } else {
            std::fprintf(stderr, "error: %s\n", r.status.message().c_str());
            ++failed;
        }
    }
    if (failed == 0 && cancelled > 0)
        std::fprintf(stderr, "cancelled; the .part files are kept and the next run resumes them\n");
    if (failed + cancelled > 0) return 1;
    const std::string first_path = results.front().path;
    std::printf("%s\n", first_path.c_str());
    return 0;
}

}  // namespace

int cmd_hub(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "%s%s", kHubHelp, model_options_help());
        return 0;
    }
    const auto dir = args.value({"--dir"});
    const bool no_plan = args.flag({"--no-plan"});
    hub::HubClient client(hub::HubConfig::from_environment());
    std::signal(SIGINT, on_interrupt);  // cancels between chunks; a download keeps its .part file
    // The sub-command is the first positional: found on a copy that accepts every option, as
    // search takes its own options and the others the plan options.
    std::string err;
    std::vector<std::string> pos;
    {
        Args copy = args;
        copy.value({"--sort"});
        copy.value({"--limit"});
        ModelOptions ignored;
        if (!parse_model_options(copy, ignored)) return 2;
        if (!copy.finish(pos, err)) return usage_error(err);
    }
    if (pos.empty()) return usage_error("no hub command given (search, files or download)");
    const std::string sub = pos[0];  // a copy: pos is refilled below
    if (sub == "search") return cmd_hub_search(client, args, 1);
    ModelOptions mo;
    if (!parse_model_options(args, mo)) return 2;
    pos.clear();
    if (!args.finish(pos, err)) return usage_error(err);
    if (sub == "files") {
        if (pos.size() != 2) return usage_error("hub files takes one repository (owner/name)");
        return cmd_hub_files(client, pos[1], mo);
    }
    if (sub == "download") {
        if (pos.size() != 3) return usage_error("hub download takes a repository and a file or quantization");
        const bool is_file = upper(pos[2]).find(".GGUF") != std::string::npos;
        return cmd_hub_download(client, pos[1], is_file ? pos[2] : "", is_file ? "" : pos[2], dir.value_or("."), mo,
                                !no_plan);
    }
    return usage_error("unknown hub command '" + sub + "' (search, files or download)");
}

int cmd_search(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli search WORDS... [--sort downloads|likes|updated] [--limit N]\n"
                             "GGUF repositories on the Hugging Face Hub ($HF_ENDPOINT, $HF_TOKEN) matching the words.\n");
        return 0;
    }
    hub::HubClient client(hub::HubConfig::from_environment());
    return cmd_hub_search(client, args, 0);
}

int cmd_hub_plan(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli hub-plan REPO [plan options]\n"
                             "The fit table of every GGUF model of a repository on this machine's devices, from\n"
                             "each file's header alone (range requests), before any download.\n"
                             "Exit status: 0, 1 error, 2 bad usage, 3 when no model fits.\n\nplan options:\n%s",
                     model_options_help());
        return 0;
    }
    ModelOptions mo;
    if (!parse_model_options(args, mo)) return 2;
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err)) return usage_error(err);
    if (pos.size() != 1) return usage_error("hub-plan takes one repository (owner/name)");
    hub::HubClient client(hub::HubConfig::from_environment());
    std::signal(SIGINT, on_interrupt);
    return cmd_hub_files(client, pos[0], mo);
}

int cmd_pull(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr,
                     "usage: strata-cli pull REPO[:QUANT] [--file NAME] [--dir DIR] [--no-plan] [plan options]\n"
                     "Downloads one GGUF model of a Hugging Face repository (every part of a split set, in\n"
                     "parallel) into DIR (default: the current folder): QUANT (case-insensitive, e.g.\n"
                     "Qwen/Qwen3-8B-GGUF:Q4_K_M) or --file picks it; a repository with one model needs neither.\n"
                     "Resumes NAME.part files, verifies SHA-256, prints the model's path when done.\n"
                     "A progress bar on a terminal, a line per 10%% otherwise.\n\nplan options:\n%s",
                     model_options_help());
        return 0;
    }
    const auto dir = args.value({"--dir"});
    const auto file = args.value({"--file"});
    const bool no_plan = args.flag({"--no-plan"});
    ModelOptions mo;
    if (!parse_model_options(args, mo)) return 2;
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err)) return usage_error(err);
    if (pos.size() != 1) return usage_error("pull takes one REPO[:QUANT]");
    std::string repo = pos[0], quant;
    if (const size_t colon = repo.find(':'); colon != std::string::npos) {
        quant = repo.substr(colon + 1);
        repo.resize(colon);
        if (quant.empty()) return usage_error("nothing after ':' in '" + pos[0] + "' (REPO:QUANT, e.g. :Q4_K_M)");
    }
    if (file && !quant.empty()) return usage_error("give either REPO:QUANT or --file, not both");
    hub::HubClient client(hub::HubConfig::from_environment());
    std::signal(SIGINT, on_interrupt);
    return cmd_hub_download(client, repo, file.value_or(""), quant, dir.value_or("."), mo, !no_plan);
}

}  // namespace strata::cli
