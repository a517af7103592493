// HubClient: the Hugging Face Hub's model API, read-only — search for GGUF repositories, list a
// repository's files with sizes and LFS SHA-256, and build the URL a file downloads from.
//
// Endpoints (https://huggingface.co, or $HF_ENDPOINT for a mirror):
//   GET /api/models?search=Q&filter=gguf&sort=downloads&direction=-1&limit=N  → [{id, downloads, likes,
//        lastModified | createdAt, tags, gated, ...}]
//   GET /api/models/{repo}/tree/{revision}?recursive=true → [{type, path, size, oid, lfs: {oid, size}}]
//   GET /{repo}/resolve/{revision}/{path}                 → the file (usually a redirect to a CDN)
// The token ($HF_TOKEN, or the caller's) is sent only to the endpoint's own origin.
//
// Threading: a HubClient is immutable after construction; any thread may call it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "strata/hub/http_client.h"
#include "strata/status.h"

namespace strata::hub {

inline constexpr const char* kDefaultEndpoint = "https://huggingface.co";

struct HubConfig {
    std::string endpoint = kDefaultEndpoint;  // no trailing slash
    std::string token;                        // "" = anonymous
    std::string revision = "main";
    long connect_timeout_s = 20;
    long stall_timeout_s = 60;
    long api_timeout_s = 60;                  // whole request, API calls only

    // Defaults overridden by $HF_ENDPOINT and $HF_TOKEN where set.
    static HubConfig from_environment();
};

enum class SearchSort { downloads, likes, updated };
const char* search_sort_name(SearchSort s);
bool parse_search_sort(const std::string& text, SearchSort& out);

struct RepoSummary {
    std::string id;            // "owner/name"
    int64_t downloads = 0;
    int64_t likes = 0;
    std::string last_modified; // ISO 8601 as the Hub gives it ("" when absent)
    bool gated = false;        // "gated": "auto" / "manual" (a token with access is needed)
};

struct RepoFile {
    std::string path;          // within the repository ("Q4_K_M/model-Q4_K_M-00001-of-00002.gguf")
    uint64_t size = 0;         // the file's size (the LFS object's, for LFS files)
    std::string sha256;        // the LFS object id (lower-case hex); "" for files not in LFS
};

class HubClient {
public:
    explicit HubClient(HubConfig config);

    Result<std::vector<RepoSummary>> search(const std::string& query, SearchSort sort = SearchSort::downloads,
                                            int limit = 20) const;
    // Every file of the repository at the configured revision (directories descended).
    Result<std::vector<RepoFile>> list_files(const std::string& repo) const;
    // Where `path` of `repo` downloads from.
    std::string file_url(const std::string& repo, const std::string& path) const;
    // The first paragraph of the repository's model card (README.md), as plain text: "" when
    // the card has none (a missing card is not an error; other HTTP failures are).
    Result<std::string> model_card_summary(const std::string& repo) const;

    const HubConfig& config() const { return config_; }
    const HttpClient& http() const { return http_; }   // for header reads and downloads
    // An HttpClient for file bodies: the same token rule, no whole-request time limit.
    const HttpClient& download_http() const { return download_http_; }

private:
    HubConfig config_;
    HttpClient http_;
    HttpClient download_http_;
};

// The first paragraph of plain text of a Markdown model card, after its YAML front matter,
// skipping headings, images, HTML, tables, quotes and code; links keep their text, emphasis
// marks are dropped, lines are joined; at most `max_chars` (cut at a word, with "…"). Pure.
std::string card_summary(const std::string& markdown, size_t max_chars = 600);

// "owner/name" with safe characters only (letters, digits, - _ .), no "..".
bool valid_repo_id(const std::string& repo);

// A failed HTTP answer as a Status: 401/403 → ErrorCode::invalid_argument ("needs a token" /
// "the token has no access"), 404 → not_found, anything else → io. `what` names the request.
Status http_error(const HttpResponse& response, const std::string& what);

}  // namespace strata::hub
