// HubClient: the Hub's JSON API read with nlohmann-json. Field names are the Hub's.
#include "strata/hub/hub_client.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdlib>

namespace strata::hub {

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

HttpOptions http_options(const HubConfig& c, bool api) {
    HttpOptions o;
    o.token = c.token;
    o.token_origin = c.endpoint;
    o.connect_timeout_s = c.connect_timeout_s;
    o.stall_timeout_s = c.stall_timeout_s;
    o.total_timeout_s = api ? c.api_timeout_s : 0;
    return o;
}

// Repository paths keep their slashes; each segment is escaped.
std::string escape_path(const std::string& path) {
    std::string out;
    size_t start = 0;
    while (true) {
        const size_t slash = path.find('/', start);
        out += url_escape(std::string_view(path).substr(start, slash - start));
        if (slash == std::string::npos) break;
        out += '/';
        start = slash + 1;
    }
    return out;
}

// The next page from a Link header: `<URL>; rel="next"`.
std::string next_link(const std::string& link) {
    size_t pos = 0;
    while ((pos = link.find('<', pos)) != std::string::npos) {
        const size_t close = link.find('>', pos);
        if (close == std::string::npos) break;
        const size_t end = link.find(',', close);
        const std::string params = link.substr(close + 1, end == std::string::npos ? std::string::npos : end - close - 1);
        if (params.find("rel=\"next\"") != std::string::npos) return link.substr(pos + 1, close - pos - 1);
        pos = close;
    }
    return {};
}

int64_t int_field(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string string_field(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

HubConfig HubConfig::from_environment() {
    HubConfig c;
    std::string endpoint = env("HF_ENDPOINT");
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    if (!endpoint.empty()) c.endpoint = endpoint;
    c.token = env("HF_TOKEN");
    return c;
}

const char* search_sort_name(SearchSort s) {
    switch (s) {
        case SearchSort::downloads: return "downloads";
        case SearchSort::likes: return "likes";
        case SearchSort::updated: return "updated";
    }
    return "downloads";
}

bool parse_search_sort(const std::string& text, SearchSort& out) {
    for (SearchSort s : {SearchSort::downloads, SearchSort::likes, SearchSort::updated}) {
        if (text == search_sort_name(s)) {
            out = s;
            return true;
        }
    }
    return false;
}

bool valid_repo_id(const std::string& repo) {
    const size_t slash = repo.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == repo.size()) return false;
    if (repo.find('/', slash + 1) != std::string::npos || repo.find("..") != std::string::npos) return false;
    for (unsigned char c : repo) {
        if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/')) return false;
    }
    return true;
}

Status http_error(const HttpResponse& r, const std::string& what) {
    const std::string status = "HTTP " + std::to_string(r.status);
    // The Hub says why in X-Error-Message / X-Error-Code (GatedRepo, RepoNotFound, EntryNotFound).
    std::string why = r.header("x-error-message");
    if (why.empty()) why = r.header("x-error-code");
    const std::string detail = why.empty() ? "" : " (" + why + ")";
    if (r.status == 401)
        return Status(ErrorCode::invalid_argument, what + ": " + status + detail +
                                                       ": the repository is gated or private; set HF_TOKEN to a token "
                                                       "that has access");
    if (r.status == 403)
        return Status(ErrorCode::invalid_argument, what + ": " + status + detail +
                                                       ": the token has no access to this repository (accept its "
                                                       "conditions on the Hub first)");
    if (r.status == 404) return Status(ErrorCode::not_found, what + ": " + status + detail + ": not found");
    return Status(ErrorCode::io, what + ": " + status + detail);
}

HubClient::HubClient(HubConfig config)
    : config_(std::move(config)), http_(http_options(config_, true)), download_http_(http_options(config_, false)) {}

Result<std::vector<RepoSummary>> HubClient::search(const std::string& query, SearchSort sort, int limit) const {
    // The Hub's sort keys: downloads, likes, lastModified; direction -1 is descending.
    const char* key = sort == SearchSort::updated ? "lastModified" : search_sort_name(sort);
    const std::string url = config_.endpoint + "/api/models?search=" + url_escape(query) +
                            "&filter=gguf&sort=" + key + "&direction=-1&limit=" + std::to_string(limit);
    auto r = http_.fetch(url, std::nullopt, 64ull << 20);
    // A transport error already names the origin it could not reach: the context says only what
    // was being done. An HTTP or JSON error does not, so those name the endpoint.
    if (!r.ok()) return r.status().with_context("searching the Hub");
    const std::string what = "searching " + config_.endpoint;
    if (r->status != 200) return http_error(*r, what);
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return Status(ErrorCode::corrupt, what + ": the answer is not a JSON list");
    std::vector<RepoSummary> out;
    for (const auto& m : j) {
        if (!m.is_object()) continue;
        RepoSummary s;
        s.id = string_field(m, "id");
        if (s.id.empty()) s.id = string_field(m, "modelId");
        if (s.id.empty()) continue;
        s.downloads = int_field(m, "downloads");
        s.likes = int_field(m, "likes");
        s.last_modified = string_field(m, "lastModified");
        if (s.last_modified.empty()) s.last_modified = string_field(m, "createdAt");
        const auto g = m.find("gated");
        s.gated = g != m.end() && (g->is_string() || (g->is_boolean() && g->get<bool>()));
        out.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<RepoFile>> HubClient::list_files(const std::string& repo) const {
    if (!valid_repo_id(repo))
        return Status(ErrorCode::invalid_argument, "'" + repo + "' is not a repository id (owner/name)");
    const std::string what = "listing the files of " + repo;
    std::string url = config_.endpoint + "/api/models/" + repo + "/tree/" + url_escape(config_.revision) +
                      "?recursive=true";
    std::vector<RepoFile> out;
    for (int page = 0; !url.empty(); ++page) {
        if (page >= 1000) return Status(ErrorCode::corrupt, what + ": the listing does not end");
        auto r = http_.fetch(url, std::nullopt, 64ull << 20);
        if (!r.ok()) return r.status().with_context(what);
        if (r->status != 200) return http_error(*r, what);
        const auto j = nlohmann::json::parse(r->body, nullptr, false);
        if (j.is_discarded() || !j.is_array()) return Status(ErrorCode::corrupt, what + ": the answer is not a JSON list");
        for (const auto& e : j) {
            if (!e.is_object() || string_field(e, "type") != "file") continue;
            RepoFile f;
            f.path = string_field(e, "path");
            if (f.path.empty()) continue;
            f.size = static_cast<uint64_t>(std::max<int64_t>(0, int_field(e, "size")));
            if (const auto lfs = e.find("lfs"); lfs != e.end() && lfs->is_object()) {
                f.sha256 = string_field(*lfs, "oid");
                if (f.sha256.empty()) f.sha256 = string_field(*lfs, "sha256");
                if (int_field(*lfs, "size") > 0) f.size = static_cast<uint64_t>(int_field(*lfs, "size"));
            }
            out.push_back(std::move(f));
        }
        url = next_link(r->header("link"));
    }
    return out;
}

std::string HubClient::file_url(const std::string& repo, const std::string& path) const {
    return config_.endpoint + "/" + repo + "/resolve/" + url_escape(config_.revision) + "/" + escape_path(path);
}

Result<std::string> HubClient::model_card_summary(const std::string& repo) const {
    if (!valid_repo_id(repo))
        return Status(ErrorCode::invalid_argument, "'" + repo + "' is not a repository id (owner/name)");
    auto r = http_.fetch(file_url(repo, "README.md"), std::nullopt, 4u << 20);
    if (!r.ok()) return r.status().with_context("reading the model card of " + repo);
    if (r->status == 404) return std::string();
    if (r->status != 200) return http_error(*r, "reading the model card of " + repo);
    return card_summary(r->body);
}

namespace {

// "[text](url)" → "text", "**x**" / "__x__" / "`x`" → "x".
std::string plain_markdown(const std::string& line) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '[') {
            const size_t close = line.find(']', i);
            if (close != std::string::npos && close + 1 < line.size() && line[close + 1] == '(') {
                const size_t paren = line.find(')', close);
                if (paren != std::string::npos) {
                    out += line.substr(i + 1, close - i - 1);
                    i = paren;
                    continue;
                }
            }
        }
        if (c == '*' || c == '`' || (c == '_' && i + 1 < line.size() && line[i + 1] == '_')) {
            if (c == '_') ++i;
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string card_summary(const std::string& markdown, size_t max_chars) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= markdown.size()) {
        size_t end = markdown.find('\n', start);
        if (end == std::string::npos) end = markdown.size();
        std::string line = markdown.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        start = end + 1;
    }
    size_t i = 0;
    if (!lines.empty() && lines[0] == "---") {  // YAML front matter
        for (i = 1; i < lines.size() && lines[i] != "---"; ++i) {}
        ++i;
    }
    auto trimmed = [](const std::string& s) {
        const size_t b = s.find_first_not_of(" \t");
        return b == std::string::npos ? std::string() : s.substr(b, s.find_last_not_of(" \t") - b + 1);
    };
    std::string paragraph;
    bool in_code = false;
    for (; i < lines.size(); ++i) {
        const std::string t = trimmed(lines[i]);
        if (t.rfind("```", 0) == 0 || t.rfind("~~~", 0) == 0) {
            in_code = !in_code;
            if (!paragraph.empty()) break;
            continue;
        }
        if (in_code) continue;
        const bool skip = t.empty() || t[0] == '#' || t[0] == '<' || t[0] == '|' || t[0] == '>' ||
                          t.rfind("![", 0) == 0 || t.rfind("[![", 0) == 0 || t == "---" || t == "***";
        if (skip) {
            if (!paragraph.empty()) break;
            continue;
        }
        if (!paragraph.empty()) paragraph += ' ';
        paragraph += plain_markdown(t);
    }
    if (paragraph.size() > max_chars) {
        size_t cut = paragraph.rfind(' ', max_chars);
        if (cut == std::string::npos || cut < max_chars / 2) cut = max_chars;
        while (cut > 0 && (static_cast<unsigned char>(paragraph[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
        paragraph = paragraph.substr(0, cut) + "\u2026";
    }
    return paragraph;
}

}  // namespace strata::hub
