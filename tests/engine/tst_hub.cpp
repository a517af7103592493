// The hub client against a fake Hub on loopback (tests/engine/mock_hub.py: an API server and a
// "CDN" on another port that the file URLs redirect to). No network. Covers: search and file
// listings with the Hub's field names, the model card's first paragraph, split sets as one entry, quantization names, the
// footprint read from remote headers with range requests (the plan from it identical to the
// plan of the downloaded file), the fit verdict and its "smaller quant would fit", the token
// sent to the hub only (never to the redirect target), and downloads: verified, resumed after a
// dropped connection and after a restart (a cancelled run), retried on 503 / 429 and after a stalled server, restarted when
// a server ignores Range, given up
// on connections that bring nothing, a wrong SHA-256 deleting the partial
// file, 401 / 404 with their faults, refusal before any request when the disk lacks room, a disk
// that fills while writing — and strata-cli hub search / files / download, and pull / search /
// hub-plan, with pull of a split set surviving a dropped connection and a Ctrl-C restart.
// Skips without python3 or without $STRATA_CLI (set by CTest).
#include <QtTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "gguf/gguf_file.h"
#include "strata/engine.h"
#include "strata/hub/downloader.h"
#include "strata/hub/gguf_entries.h"
#include "strata/hub/hub_client.h"
#include "strata/hub/remote_fit.h"
#include "cli_runner.h"
#include "closed_port.h"

using namespace strata;
namespace fs = std::filesystem;

class TestHub : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString cli_;
    QProcess mock_;
    std::string endpoint_;
    const std::string repo_ = "test/tiny-GGUF";
    const std::string gated_ = "test/gated-GGUF";
    const std::string token_ = "hf_secret";
    const std::string two_ = "test/twoq8-GGUF";

    using Run = strata::test::CliRun;
    Run run(const QStringList& args) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("HF_ENDPOINT", QString::fromStdString(endpoint_));
        env.remove("HF_TOKEN");
        strata::test::CliRunOptions o;
        o.environment = env;
        return strata::test::runProgram(cli_, args, o);
    }
    std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }
    std::string repo_dir() const { return path("repo"); }

    hub::HubClient client(const std::string& token = "") const {
        hub::HubConfig c;
        c.endpoint = endpoint_;
        c.token = token;
        c.stall_timeout_s = 10;
        return hub::HubClient(c);
    }
    // Sets a fault on the fake Hub (or "reset=1" to clear them and the log).
    void control(const std::string& query) {
        auto r = client().http().fetch(endpoint_ + "/_control?" + query);
        QVERIFY2(r.ok() && r->status == 200, "the fake Hub did not take the control request");
    }
    nlohmann::json requests() const {
        auto r = client().http().fetch(endpoint_ + "/_log");
        if (!r.ok()) return nlohmann::json::array();
        return nlohmann::json::parse(r->body);
    }
    hub::DownloadRequest request_for(const hub::HubClient& c, const std::string& repo, const std::string& file,
                                     const std::string& dest) {
        hub::DownloadRequest req;
        auto files = c.list_files(repo);
        for (const auto& f : files.ok() ? *files : std::vector<hub::RepoFile>{}) {
            if (f.path != file) continue;
            req.size = f.size;
            req.sha256 = f.sha256;
        }
        req.url = c.file_url(repo, file);
        req.dir = dest;
        req.file_name = file;
        req.retry_base_seconds = 0;
        req.free_space_margin = 0;
        return req;
    }
    static LoadOptions cpu_options(uint64_t cap = 0) {
        LoadOptions o;
        DeviceSpec cpu;
        cpu.kind = "cpu";
        cpu.memory_cap = cap;
        o.devices = {cpu};
        o.n_ctx = 512;
        return o;
    }
    static std::string sha256_of(const std::string& file_path) {
        QFile f(QString::fromStdString(file_path));
        if (!f.open(QIODevice::ReadOnly)) return {};
        return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex().toStdString();
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        cli_ = qEnvironmentVariable("STRATA_CLI");
        if (cli_.isEmpty() || !QFileInfo(cli_).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        const QString python = QStandardPaths::findExecutable("python3");
        if (python.isEmpty()) QSKIP("python3 not found (the fake Hub is a python script)");
        // The fake Hub is on loopback: no proxy from the environment may stand in between (libcurl
        // reads these; the strata-cli runs inherit this environment).
        for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) qunsetenv(name);
        qputenv("no_proxy", "127.0.0.1,localhost");
        fs::create_directories(repo_dir());
        // A Q8_0 file, and an F16 one as a split set of two parts; a README that is no model.
        const QStringList shape = {"--vocab", "320", "--embd", "64", "--layers", "3", "--heads", "4",
                                   "--kv-heads", "2", "--ff", "128", "--ctx-train", "2048", "--seed", "5"};
        Run g = run(QStringList{"gen-model"} + shape + QStringList{"--type", "Q8_0", QString::fromStdString(path("repo/tiny-Q8_0.gguf"))});
        QVERIFY2(g.code == 0, qPrintable(g.err));
        g = run(QStringList{"gen-model"} + shape + QStringList{"--type", "F16", QString::fromStdString(path("tiny-F16.gguf"))});
        QVERIFY2(g.code == 0, qPrintable(g.err));
        g = run({"gguf-split", QString::fromStdString(path("tiny-F16.gguf")), QString::fromStdString(path("repo/tiny-F16")),
                 "--parts", "2"});
        QVERIFY2(g.code == 0, qPrintable(g.err));
        std::ofstream(path("repo/README.md"))
            << "---\nlicense: mit\ntags: [gguf]\n---\n# tiny\n\n![logo](logo.png)\n\n"
               "A **tiny** random model for [Strata](https://example.com/strata) tests.\nSecond line.\n\nMore.\n";

        // A repository with two models of one quantization (pull REPO:Q8_0 must ask which).
        fs::create_directories(path("repo2"));
        fs::copy_file(path("repo/tiny-Q8_0.gguf"), path("repo2/a-Q8_0.gguf"));
        fs::copy_file(path("repo/tiny-Q8_0.gguf"), path("repo2/b-Q8_0.gguf"));
        mock_.setProgram(python);
        mock_.setArguments({QStringLiteral(STRATA_MOCK_HUB), "--repo", QString::fromStdString(repo_ + "=" + repo_dir()),
                            "--repo", QString::fromStdString(gated_ + "=" + repo_dir()), "--token",
                            QString::fromStdString(token_), "--repo", QString::fromStdString(two_ + "=" + path("repo2"))});
        mock_.start();
        QVERIFY(mock_.waitForStarted(10000));
        QByteArray line;
        while (!line.contains('\n') && mock_.waitForReadyRead(10000)) line += mock_.readAllStandardOutput();
        const QStringList words = QString::fromUtf8(line).trimmed().split(' ');
        QVERIFY2(words.size() == 4 && words[0] == "HUB", qPrintable("the fake Hub said: " + QString::fromUtf8(line) +
                                                                     QString::fromUtf8(mock_.readAllStandardError())));
        endpoint_ = "http://127.0.0.1:" + words[1].toStdString();
    }

    void cleanupTestCase() {
        if (mock_.state() != QProcess::NotRunning) {
            mock_.closeWriteChannel();
            if (!mock_.waitForFinished(3000)) {
                mock_.kill();
                mock_.waitForFinished();
            }
        }
    }

    void init() { control("reset=1"); }

    void searchAsksForGgufRepositories() {
        auto found = client().search("tiny", hub::SearchSort::likes, 5);
        QVERIFY2(found.ok(), found.status().message().c_str());
        QCOMPARE(found->size(), size_t(1));
        QCOMPARE(found->front().id, repo_);
        QVERIFY(found->front().downloads > 0);
        QVERIFY(found->front().likes > 0);
        QCOMPARE(found->front().last_modified.substr(0, 4), std::string("2026"));
        std::string q;
        for (const auto& r : requests())
            if (r["path"] == "/api/models") q = r["query"];
        QVERIFY2(q.find("filter=gguf") != std::string::npos && q.find("sort=likes") != std::string::npos &&
                     q.find("limit=5") != std::string::npos, q.c_str());
        auto gated = client().search("gated");
        QVERIFY(gated.ok() && gated->size() == 1 && gated->front().gated);
    }

    // A Hub that cannot be reached: ErrorCode::io with NetFault::unreachable and the origin, and
    // a message that names the origin once (the client adds what it was doing, not where).
    void unreachableHubIsAFaultNamedOnce() {
        const int port = strata::test::closedLoopbackPort();
        QVERIFY(port > 0);
        hub::HubConfig c;
        c.endpoint = "http://127.0.0.1:" + std::to_string(port);
        const auto found = hub::HubClient(c).search("tiny");
        QVERIFY(!found.ok());
        const Status& s = found.status();
        QCOMPARE(s.code(), ErrorCode::io);
        QCOMPARE(s.net_fault(), NetFault::unreachable);
        QCOMPARE(s.net_origin(), c.endpoint);
        const std::string& m = s.message();
        QVERIFY2(m.rfind("searching the Hub: could not reach " + c.endpoint + ": ", 0) == 0, m.c_str());
        QVERIFY2(m.find(c.endpoint) == m.rfind(c.endpoint), m.c_str());
        const auto files = hub::HubClient(c).list_files(repo_);
        QCOMPARE(files.status().net_fault(), NetFault::unreachable);
    }

    // An answer that stops part-way is a dropped connection, not an unreachable server; an HTTP
    // error status is no network fault at all.
    void droppedAndHttpErrorsAreTold() {
        hub::HubConfig config;
        config.endpoint = endpoint_;
        config.stall_timeout_s = 1;
        const hub::HubClient c(config);
        control("stall=tiny-Q8_0.gguf&count=1");
        auto got = c.download_http().stream(c.file_url(repo_, "tiny-Q8_0.gguf"), std::nullopt,
                                            [](std::string_view) { return true; });
        QVERIFY(!got.ok());
        QCOMPARE(got.status().code(), ErrorCode::io);
        QCOMPARE(got.status().net_fault(), NetFault::dropped);
        QVERIFY2(!got.status().net_origin().empty(), got.status().message().c_str());
        const auto missing = c.list_files("test/no-such-GGUF");
        QCOMPARE(missing.status().code(), ErrorCode::not_found);
        QCOMPARE(missing.status().net_fault(), NetFault::none);
    }

    void listingGroupsSplitSets() {
        auto files = client().list_files(repo_);
        QVERIFY2(files.ok(), files.status().message().c_str());
        QCOMPARE(files->size(), size_t(4));  // the directory entry is not a file
        const auto entries = hub::gguf_entries(*files);
        QCOMPARE(entries.size(), size_t(2));
        const hub::GgufEntry* q8 = nullptr;
        const hub::GgufEntry* f16 = nullptr;
        for (const auto& e : entries) (e.quant == "Q8_0" ? q8 : f16) = &e;
        QVERIFY(q8 && f16);
        QCOMPARE(f16->quant, std::string("F16"));
        QCOMPARE(f16->name, std::string("tiny-F16-00001-of-00002.gguf"));
        QCOMPARE(f16->parts.size(), size_t(2));
        QCOMPARE(f16->parts[1].path, std::string("tiny-F16-00002-of-00002.gguf"));
        QCOMPARE(f16->size, f16->parts[0].size + f16->parts[1].size);
        QVERIFY(f16->complete);
        QCOMPARE(q8->size, uint64_t(fs::file_size(path("repo/tiny-Q8_0.gguf"))));
        QCOMPARE(q8->parts[0].sha256, sha256_of(path("repo/tiny-Q8_0.gguf")));
        // A listing with one part missing: still one entry, marked incomplete.
        std::vector<hub::RepoFile> some = {{"x-00001-of-00003.gguf", 10, ""}, {"x-00003-of-00003.gguf", 10, ""}};
        const auto partial = hub::gguf_entries(some);
        QCOMPARE(partial.size(), size_t(1));
        QVERIFY(!partial[0].complete);
        QVERIFY(!client().list_files("no/such-repo").ok());
        QVERIFY(!client().list_files("../etc").ok());
    }

    void modelCard() {
        auto summary = client().model_card_summary(repo_);
        QVERIFY2(summary.ok(), summary.status().message().c_str());
        QCOMPARE(*summary, std::string("A tiny random model for Strata tests. Second line."));
        QCOMPARE(hub::card_summary("```\ncode\n```\n| a | b |\n> quote\n<div>x</div>\n\nWords `here`."),
                 std::string("Words here."));
        QCOMPARE(hub::card_summary("one two three four", 9), std::string("one two\u2026"));
        QCOMPARE(hub::card_summary("---\nonly: front matter\n---\n"), std::string());
    }

    void quantNames() {
        QCOMPARE(hub::quant_from_name("Qwen3-8B-Q4_K_M.gguf"), std::string("Q4_K_M"));
        QCOMPARE(hub::quant_from_name("Q4_K_M/Qwen3-8B-Q4_K_M-00001-of-00002.gguf"), std::string("Q4_K_M"));
        QCOMPARE(hub::quant_from_name("model.IQ2_XXS.gguf"), std::string("IQ2_XXS"));
        QCOMPARE(hub::quant_from_name("Llama-3.2-1B-Instruct-bf16.gguf"), std::string("BF16"));
        QCOMPARE(hub::quant_from_name("gemma-3-27b-it-UD-Q4_K_XL.gguf"), std::string("Q4_K_XL"));
        QCOMPARE(hub::quant_from_name("model_q8_0.gguf"), std::string("Q8_0"));
        QCOMPARE(hub::quant_from_name("Qwen2.5-7B.gguf"), std::string());
    }

    // GgufFile::open_header on every prefix of a real file: shorter than the tensor directory it
    // asks for more (never a false "truncated file"), from the directory's end on it parses to the
    // same directory as opening the file; a file whose declared size is too small for its
    // tensors, or that is not GGUF, is an error and not a request for more bytes.
    void headerPrefixes() {
        const std::string file = path("repo/tiny-Q8_0.gguf");
        std::ifstream in(file, std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto whole = gguf::GgufFile::open(file);
        QVERIFY(whole.ok());
        uint64_t first_ok = 0;
        for (uint64_t n = 0; n <= bytes.size(); ++n) {
            bool more = false;
            auto h = gguf::GgufFile::open_header("x", std::vector<uint8_t>(bytes.begin(), bytes.begin() + n), bytes.size(), &more);
            if (h.ok()) {
                first_ok = n;
                QCOMPARE((*h)->tensors().size(), (*whole)->tensors().size());
                QCOMPARE((*h)->metadata().size(), (*whole)->metadata().size());
                QCOMPARE((*h)->data_offset(), (*whole)->data_offset());
                QVERIFY((*h)->tensors().back().data == nullptr);
                break;
            }
            QVERIFY2(more, (std::to_string(n) + ": " + h.status().message()).c_str());
        }
        QVERIFY(first_ok > 0 && first_ok <= (*whole)->data_offset());
        bool more = true;
        auto small = gguf::GgufFile::open_header("x", std::vector<uint8_t>(bytes.begin(), bytes.begin() + first_ok), first_ok, &more);
        QVERIFY(!small.ok() && !more);
        QCOMPARE(small.status().fault(), FileFault::truncated);
        // A tensor count the whole file cannot hold: corrupt, not "read more" (which would
        // fetch up to HeaderReadOptions::max_bytes of a hostile file for nothing).
        std::vector<uint8_t> huge(bytes.begin(), bytes.begin() + 64);
        huge[8 + 5] = 1;  // tensor count (u64 at offset 8) += 2^40
        auto hostile = gguf::GgufFile::open_header("x", huge, bytes.size(), &more);
        QVERIFY(!hostile.ok() && !more);
        std::vector<uint8_t> bad(bytes.begin(), bytes.begin() + first_ok);
        bad[0] = 'X';
        auto not_gguf = gguf::GgufFile::open_header("x", bad, bytes.size(), &more);
        QVERIFY(!not_gguf.ok() && !more);
        QCOMPARE(not_gguf.status().fault(), FileFault::not_gguf);
    }

    // The plan from the remote headers equals the plan of the local file, for a single file and
    // a split set, also when the first range is tiny and has to grow many times.
    void headerPlanEqualsFilePlan() {
        const hub::HubClient c = client();
        auto files = c.list_files(repo_);
        QVERIFY(files.ok());
        Engine engine;
        for (const auto& entry : hub::gguf_entries(*files)) {
            for (uint64_t first : {uint64_t(64), uint64_t(256) << 10}) {
                control("reset=1");
                hub::HeaderReadOptions ho;
                ho.first_bytes = first;
                uint64_t read = 0;
                auto fp = hub::remote_footprint(c, repo_, entry, ho, &read);
                QVERIFY2(fp.ok(), fp.status().message().c_str());
                QVERIFY(read > 0);
                if (first == 64) QVERIFY2(read < entry.size, "the header read fetched the whole model");
                // A capped CPU: the same capacity for both plans (free memory changes between them).
                auto remote = engine.plan_footprint(*fp, cpu_options(1ull << 30));
                auto local = engine.plan(path("repo/" + entry.name), cpu_options(1ull << 30));
                QVERIFY(remote.ok() && local.ok());
                const std::string remote_text = format_plan(remote->request, remote->plan);
                const std::string local_text = format_plan(local->request, local->plan);
                QVERIFY2(remote_text == local_text, (entry.name + " from the header:\n" + remote_text +
                                                     "\nfrom the file:\n" + local_text).c_str());
                QCOMPARE(remote->plan.fits, local->plan.fits);
                // Only ranged reads of the files, on the CDN, never a whole body.
                for (const auto& r : requests()) {
                    if (r["server"] != "cdn") continue;
                    QVERIFY2(std::string(r["range"]).rfind("bytes=", 0) == 0, std::string(r["path"]).c_str());
                }
            }
        }
    }

    // On a CPU capped between the two models' needs: Q8_0 fits, the F16 set does not, by how
    // much, and names Q8_0 as the smaller file that would.
    void verdictSaysWhatWouldFit() {
        const hub::HubClient c = client();
        auto files = c.list_files(repo_);
        QVERIFY(files.ok());
        const auto entries = hub::gguf_entries(*files);
        Engine engine;
        auto need = [&](const hub::GgufEntry& e) {
            auto fp = hub::remote_footprint(c, repo_, e);
            auto report = engine.plan_footprint(*fp, cpu_options());
            return report->plan.devices.at(0).total();
        };
        uint64_t need_q8 = 0, need_f16 = 0;
        for (const auto& e : entries) (e.quant == "Q8_0" ? need_q8 : need_f16) = need(e);
        QVERIFY2(need_q8 < need_f16, "the F16 model should need more memory than the Q8_0 one");
        const uint64_t cap = (need_q8 + need_f16) / 2;
        const auto verdicts = hub::plan_entries(c, repo_, entries, engine, cpu_options(cap));
        QCOMPARE(verdicts.size(), size_t(2));
        for (const auto& v : verdicts) {
            QVERIFY2(v.status.ok(), v.status.message().c_str());
            if (v.entry.quant == "Q8_0") {
                QVERIFY2(v.verdict.fits, v.verdict.summary.c_str());
                QCOMPARE(v.verdict.devices, std::vector<std::string>{"cpu"});
                QCOMPARE(v.verdict.n_ctx, int64_t(512));
                QVERIFY2(v.verdict.summary.rfind("fits on cpu at 512 context", 0) == 0, v.verdict.summary.c_str());
            } else {
                QVERIFY(!v.verdict.fits);
                QCOMPARE(v.verdict.missing_bytes, need_f16 - cap);
                QCOMPARE(v.verdict.smaller_fit, std::string("Q8_0"));
                QVERIFY2(v.verdict.summary.find("Q8_0 would fit") != std::string::npos, v.verdict.summary.c_str());
            }
        }
    }

    // The token reaches the hub (listing, resolve) and never the CDN the downloads redirect to.
    void tokenGoesToTheHubOnly() {
        auto anonymous = client().list_files(gated_);
        QVERIFY(!anonymous.ok());
        QCOMPARE(anonymous.status().code(), ErrorCode::invalid_argument);
        QVERIFY2(anonymous.status().message().find("HF_TOKEN") != std::string::npos, anonymous.status().message().c_str());

        const hub::HubClient anon = client();
        auto req = request_for(client(token_), gated_, "tiny-Q8_0.gguf", path("gated-anon"));
        auto denied = hub::download_file(anon.download_http(), req);
        QCOMPARE(denied.fault, hub::DownloadFault::unauthorized);
        QCOMPARE(denied.http_status, 401);
        QVERIFY(!fs::exists(path("gated-anon/tiny-Q8_0.gguf")));

        control("reset=1");
        const hub::HubClient authed = client(token_);
        auto files = authed.list_files(gated_);
        QVERIFY2(files.ok(), files.status().message().c_str());
        req.dir = path("gated");
        auto got = hub::download_file(authed.download_http(), req);
        QVERIFY2(got.status.ok(), got.status.message().c_str());
        QCOMPARE(sha256_of(got.path), req.sha256);
        int hub_with_token = 0, cdn = 0;
        for (const auto& r : requests()) {
            if (r["server"] == "hub" && r["path"] != "/_log" && r["path"] != "/_control") {
                QCOMPARE(std::string(r["auth"]), "Bearer " + token_);
                ++hub_with_token;
            }
            if (r["server"] == "cdn") {
                QCOMPARE(std::string(r["auth"]), std::string());
                ++cdn;
            }
        }
        QVERIFY(hub_with_token >= 2 && cdn >= 1);
        QCOMPARE(hub::url_origin("HTTP://Example.COM/x"), std::string("http://example.com:80"));
    }

    // A connection dropped half-way is resumed from where it stopped, with a Range request.
    void resumesAfterDroppedConnection() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("dropped"));
        control("drop=tiny-Q8_0.gguf&count=1");
        std::vector<uint64_t> seen;
        auto got = hub::download_file(c.download_http(), req, [&](const hub::DownloadProgress& p) { seen.push_back(p.done); });
        QVERIFY2(got.status.ok(), got.status.message().c_str());
        QCOMPARE(got.retries, 1);
        QCOMPARE(got.bytes_fetched, req.size);  // nothing fetched twice
        QCOMPARE(sha256_of(got.path), req.sha256);
        QVERIFY(!fs::exists(got.path + ".part"));
        QVERIFY(!seen.empty() && seen.back() == req.size);
        bool resumed = false;
        for (const auto& r : requests())
            if (r["server"] == "cdn" && std::string(r["range"]).rfind("bytes=", 0) == 0 && r["range"] != "bytes=0-") resumed = true;
        QVERIFY2(resumed, "no ranged request after the drop");
    }

    // A split set's parts side by side: one part's connection drops and is resumed, the summed
    // progress reaches the set's size, both parts verify. Then a corrupt part: its checksum
    // fault, and the other part finished or stopped, never a finished file that is wrong.
    void downloadsPartsInParallel() {
        const hub::HubClient c = client();
        std::vector<hub::DownloadRequest> reqs;
        uint64_t total = 0;
        for (const char* part : {"tiny-F16-00001-of-00002.gguf", "tiny-F16-00002-of-00002.gguf"}) {
            reqs.push_back(request_for(c, repo_, part, path("parallel")));
            total += reqs.back().size;
        }
        control("drop=tiny-F16-00002-of-00002.gguf&count=1");
        uint64_t last_done = 0, last_total = 0;
        auto results = hub::download_files(c.download_http(), reqs, 2, [&](const hub::DownloadProgress& p) {
            last_done = p.done;
            last_total = p.total;
        });
        QCOMPARE(results.size(), size_t(2));
        for (size_t k = 0; k < 2; ++k) {
            QVERIFY2(results[k].status.ok(), results[k].status.message().c_str());
            QCOMPARE(sha256_of(results[k].path), reqs[k].sha256);
        }
        QCOMPARE(results[1].retries, 1);
        QCOMPARE(last_total, total);
        QCOMPARE(last_done, total);

        control("corrupt=tiny-F16-00001-of-00002.gguf");
        for (auto& r : reqs) r.dir = path("parallel-bad");
        results = hub::download_files(c.download_http(), reqs, 2);
        QCOMPARE(results[0].fault, hub::DownloadFault::checksum);
        QVERIFY(!fs::exists(path("parallel-bad/tiny-F16-00001-of-00002.gguf")));
        QVERIFY(results[1].status.ok() || results[1].fault == hub::DownloadFault::cancelled);
        if (results[1].status.ok()) QCOMPARE(sha256_of(results[1].path), reqs[1].sha256);
    }

    // A run that stops (here: cancelled after its first bytes) keeps its .part file and no
    // finished file; the next run resumes it.
    void resumesOnRestart() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-F16-00001-of-00002.gguf", path("restart"));
        std::atomic<bool> cancel{false};
        auto first = hub::download_file(c.download_http(), req, [&](const hub::DownloadProgress& p) {
            if (p.done > 0) cancel = true;
        }, &cancel);
        QCOMPARE(first.fault, hub::DownloadFault::cancelled);
        QCOMPARE(first.status.code(), ErrorCode::cancelled);
        QVERIFY(!fs::exists(path("restart/" + req.file_name)));
        const uint64_t kept = fs::file_size(path("restart/" + req.file_name + ".part"));
        QVERIFY2(kept > 0 && kept < req.size, std::to_string(kept).c_str());
        auto second = hub::download_file(c.download_http(), req);
        QVERIFY2(second.status.ok(), second.status.message().c_str());
        QCOMPARE(second.resumed_from, kept);
        QCOMPARE(second.bytes_fetched, req.size - kept);
        QCOMPARE(sha256_of(second.path), req.sha256);
        QVERIFY(!fs::exists(second.path + ".part"));
        // Run again: the finished file is recognised, verified, and nothing is fetched.
        auto third = hub::download_file(c.download_http(), req);
        QVERIFY(third.status.ok() && third.already_present && third.bytes_fetched == 0);
    }

    // Connections that drop before any byte arrives: retried max_retries times, then a network
    // error that keeps nothing finished.
    void givesUpWhenNothingArrives() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("nothing"));
        req.max_retries = 2;
        control("drop=tiny-Q8_0.gguf&count=10&keep=0");
        auto got = hub::download_file(c.download_http(), req);
        QCOMPARE(got.fault, hub::DownloadFault::network);
        QCOMPARE(got.status.code(), ErrorCode::io);
        QCOMPARE(got.retries, 2);
        QVERIFY2(got.status.message().find("gave up after 2 retries") != std::string::npos, got.status.message().c_str());
        QVERIFY(!fs::exists(path("nothing/tiny-Q8_0.gguf")));
    }

    // A server that stops sending part-way: the stall timeout ends the attempt, the next one
    // resumes from where it stopped.
    void resumesAfterStall() {
        hub::HubConfig config;
        config.endpoint = endpoint_;
        config.stall_timeout_s = 1;
        const hub::HubClient c(config);
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("stall"));
        control("stall=tiny-Q8_0.gguf&count=1");  // silent for 30 s after half the bytes
        QElapsedTimer timer;
        timer.start();
        auto got = hub::download_file(c.download_http(), req);
        QVERIFY2(got.status.ok(), got.status.message().c_str());
        QVERIFY2(timer.elapsed() < 10000, "the stall was not noticed after 1 s");
        QCOMPARE(got.retries, 1);
        QCOMPARE(got.bytes_fetched, req.size);
        QCOMPARE(sha256_of(got.path), req.sha256);
    }

    // A server that ignores Range when resuming sends the whole file: the download starts over
    // (and still verifies) instead of appending it.
    void restartsWhenRangeIsIgnored() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("norange"));
        control("drop=tiny-Q8_0.gguf&count=1");
        control("norange=tiny-Q8_0.gguf");
        auto got = hub::download_file(c.download_http(), req);
        QVERIFY2(got.status.ok(), got.status.message().c_str());
        QCOMPARE(got.retries, 1);
        QCOMPARE(got.resumed_from, uint64_t(0));
        QCOMPARE(got.bytes_fetched, req.size + req.size / 2);
        QCOMPARE(sha256_of(got.path), req.sha256);
        QCOMPARE(uint64_t(fs::file_size(got.path)), req.size);
    }

    void retriesServerErrors() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("retry"));
        control("status=503&count=1");
        control("status=429&count=1");  // with Retry-After: 0
        auto got = hub::download_file(c.download_http(), req);
        QVERIFY2(got.status.ok(), got.status.message().c_str());
        QCOMPARE(got.retries, 2);
        control("status=500&count=5");
        req.dir = path("retry-fail");
        req.max_retries = 2;
        auto failed = hub::download_file(c.download_http(), req);
        QCOMPARE(failed.fault, hub::DownloadFault::server);
        QCOMPARE(failed.http_status, 500);
    }

    void wrongHashDeletesThePartialFile() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("corrupt"));
        control("corrupt=tiny-Q8_0.gguf");
        auto got = hub::download_file(c.download_http(), req);
        QCOMPARE(got.fault, hub::DownloadFault::checksum);
        QCOMPARE(got.status.code(), ErrorCode::corrupt);
        QVERIFY(!fs::exists(path("corrupt/tiny-Q8_0.gguf")));
        QVERIFY(!fs::exists(path("corrupt/tiny-Q8_0.gguf.part")));
    }

    void missingFileIsNotFound() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("missing"));
        req.url = c.file_url(repo_, "no-such-Q2_K.gguf");
        auto got = hub::download_file(c.download_http(), req);
        QCOMPARE(got.fault, hub::DownloadFault::not_found);
        QCOMPARE(got.status.code(), ErrorCode::not_found);
        QVERIFY(got.status.message().find("EntryNotFound") != std::string::npos);
    }

    // Not enough room: refused before any request is made.
    void refusesWithoutDiskSpace() {
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("nospace"));
        req.size = uint64_t(1) << 60;
        auto got = hub::download_file(c.download_http(), req);
        QCOMPARE(got.fault, hub::DownloadFault::no_space);
        QVERIFY2(got.status.message().find("not enough disk space") != std::string::npos, got.status.message().c_str());
        for (const auto& r : requests()) QVERIFY(r["server"] != "cdn" && std::string(r["path"]).find("/resolve/") == std::string::npos);
    }

    // A disk that fills while writing (the .part file is /dev/full): a clear error, no finished file.
    void diskFillsWhileWriting() {
        if (!fs::exists("/dev/full")) QSKIP("no /dev/full");
        const hub::HubClient c = client();
        auto req = request_for(c, repo_, "tiny-Q8_0.gguf", path("full"));
        fs::create_directories(req.dir);
        fs::create_symlink("/dev/full", req.dir + "/tiny-Q8_0.gguf.part");
        auto got = hub::download_file(c.download_http(), req);
        QCOMPARE(got.fault, hub::DownloadFault::no_space);
        QVERIFY2(got.status.message().find("disk is full") != std::string::npos, got.status.message().c_str());
        QVERIFY(!fs::exists(req.dir + "/tiny-Q8_0.gguf"));
    }

    void cliSearchFilesDownload() {
        Run s = run({"hub", "search", "tiny"});
        QVERIFY2(s.code == 0, qPrintable(s.err));
        QVERIFY2(s.out.contains("test/tiny-GGUF"), qPrintable(s.out));

        Run f = run({"hub", "files", QString::fromStdString(repo_), "--devices", "cpu", "--ctx", "512"});
        QVERIFY2(f.code == 0, qPrintable(f.err + f.out));
        QVERIFY2(f.out.startsWith("A tiny random model for Strata tests."), qPrintable(f.out));
        QVERIFY2(f.out.contains("tiny-Q8_0.gguf") && f.out.contains("tiny-F16-00001-of-00002.gguf (+1 parts)") &&
                     f.out.count("fits on cpu at 512 context") == 2, qPrintable(f.out));

        const QString dest = QString::fromStdString(path("cli-models"));
        Run d = run({"hub", "download", QString::fromStdString(repo_), "F16", "--dir", dest, "--devices", "cpu"});
        QVERIFY2(d.code == 0, qPrintable(d.err));
        const QString first = dest + "/tiny-F16-00001-of-00002.gguf";
        QCOMPARE(d.out.trimmed(), first);
        QVERIFY(QFileInfo::exists(dest + "/tiny-F16-00002-of-00002.gguf"));
        // The downloaded split set loads as one model, and plans as the header said.
        Run p = run({"plan", "-m", first, "--devices", "cpu", "--ctx", "512"});
        QVERIFY2(p.code == 0, qPrintable(p.err));

        Run bad = run({"hub", "download", QString::fromStdString(repo_), "Q2_K", "--dir", dest});
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains("no model of quantization 'Q2_K'") && bad.err.contains("tiny-Q8_0.gguf"), qPrintable(bad.err));
        Run gated = run({"hub", "files", QString::fromStdString(gated_)});
        QCOMPARE(gated.code, 1);
        QVERIFY2(gated.err.contains("HF_TOKEN"), qPrintable(gated.err));
        Run usage = run({"hub", "fly"});
        QCOMPARE(usage.code, 2);
    }

    // The names the issue gives: strata-cli search / hub-plan / pull REPO[:QUANT] [--file NAME].
    void cliPullSearchHubPlan() {
        Run s = run({"search", "tiny", "--sort", "likes"});
        QVERIFY2(s.code == 0, qPrintable(s.err));
        QVERIFY2(s.out.contains("test/tiny-GGUF") && s.out.contains("likes"), qPrintable(s.out));

        Run f = run({"hub-plan", QString::fromStdString(repo_), "--devices", "cpu", "--ctx", "512"});
        QVERIFY2(f.code == 0, qPrintable(f.err + f.out));
        QVERIFY2(f.out.count("fits on cpu at 512 context") == 2, qPrintable(f.out));

        // The quantization in any case; plain progress lines (no TTY here), the path on stdout.
        const QString dest = QString::fromStdString(path("pull-models"));
        Run q = run({"pull", QString::fromStdString(repo_ + ":q8_0"), "--dir", dest, "--devices", "cpu"});
        QVERIFY2(q.code == 0, qPrintable(q.err));
        QCOMPARE(q.out.trimmed(), dest + "/tiny-Q8_0.gguf");
        QCOMPARE(sha256_of(path("pull-models/tiny-Q8_0.gguf")), sha256_of(path("repo/tiny-Q8_0.gguf")));
        QVERIFY2(q.err.contains("100% of") && !q.err.contains('\r'), qPrintable(q.err));

        // --file names a split set by any of its parts; the whole set comes.
        Run p = run({"pull", QString::fromStdString(repo_), "--file", "tiny-F16-00002-of-00002.gguf", "--dir", dest,
                     "--no-plan"});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        QCOMPARE(p.out.trimmed(), dest + "/tiny-F16-00001-of-00002.gguf");
        QVERIFY(QFileInfo::exists(dest + "/tiny-F16-00002-of-00002.gguf"));

        // No match, no quantization given, and two matches: an error listing what there is.
        Run none = run({"pull", QString::fromStdString(repo_ + ":Q2_K"), "--dir", dest});
        QCOMPARE(none.code, 1);
        QVERIFY2(none.err.contains("no model of quantization 'Q2_K'") && none.err.contains("available:") &&
                     none.err.contains("Q8_0  tiny-Q8_0.gguf") && none.err.contains("F16  tiny-F16-00001-of-00002.gguf (+1 parts)"),
                 qPrintable(none.err));
        Run which = run({"pull", QString::fromStdString(repo_), "--dir", dest});
        QCOMPARE(which.code, 1);
        QVERIFY2(which.err.contains("name one as REPO:QUANT") && which.err.contains("Q8_0"), qPrintable(which.err));
        Run two = run({"pull", QString::fromStdString(two_ + ":Q8_0"), "--dir", dest});
        QCOMPARE(two.code, 1);
        QVERIFY2(two.err.contains("more than one model of quantization 'Q8_0'") && two.err.contains("a-Q8_0.gguf") &&
                     two.err.contains("b-Q8_0.gguf"), qPrintable(two.err));
        Run nofile = run({"pull", QString::fromStdString(repo_), "--file", "nope.gguf", "--dir", dest});
        QCOMPARE(nofile.code, 1);
        QVERIFY2(nofile.err.contains("no GGUF file named 'nope.gguf'"), qPrintable(nofile.err));
        QCOMPARE(run({"pull", QString::fromStdString(repo_ + ":Q8_0"), "--file", "x.gguf"}).code, 2);
        QCOMPARE(run({"pull"}).code, 2);
    }

    // The acceptance of issue 17: a split model pulled in parallel survives a dropped connection
    // and a restart of the command (Ctrl-C, then the same command again), its hashes are checked,
    // and it loads.
    void cliPullSurvivesADropAndARestart() {
        const QString dest = QString::fromStdString(path("pull-restart"));
        control("drop=tiny-F16-00001-of-00002.gguf&count=1&keep=0.5");
        control("stall=tiny-F16-00002-of-00002.gguf&count=1");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("HF_ENDPOINT", QString::fromStdString(endpoint_));
        env.remove("HF_TOKEN");
        p.setProcessEnvironment(env);
        p.start(cli_, {"pull", QString::fromStdString(repo_ + ":F16"), "--dir", dest, "--no-plan"});
        QVERIFY(p.waitForStarted());
        const QString part2 = dest + "/tiny-F16-00002-of-00002.gguf.part";
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(part2).size() > 0, 10000);  // the second part is stalled half-way
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 1);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains("the next run resumes them"), qPrintable(err));
        QVERIFY(QFileInfo::exists(part2));

        Run again = run({"pull", QString::fromStdString(repo_ + ":F16"), "--dir", dest, "--no-plan"});
        QVERIFY2(again.code == 0, qPrintable(again.err));
        QVERIFY2(again.err.contains("resumed at"), qPrintable(again.err));
        for (const char* name : {"tiny-F16-00001-of-00002.gguf", "tiny-F16-00002-of-00002.gguf"})
            QCOMPARE(sha256_of(path(std::string("pull-restart/") + name)), sha256_of(path(std::string("repo/") + name)));
        bool dropped_then_resumed = false;  // the first part's connection dropped, and it went on with a Range
        for (const auto& r : requests())
            if (r["server"] == "cdn" && std::string(r["path"]).find("00001-of") != std::string::npos &&
                std::string(r["range"]).rfind("bytes=", 0) == 0 && std::string(r["range"]) != "bytes=0-")
                dropped_then_resumed = true;
        QVERIFY(dropped_then_resumed);
        Run load = run({"run", "-m", again.out.trimmed(), "-p", "hello", "-n", "2", "--devices", "cpu", "--ctx", "256"});
        QVERIFY2(load.code == 0, qPrintable(load.err));
    }
};

QTEST_GUILESS_MAIN(TestHub)
#include "tst_hub.moc"
