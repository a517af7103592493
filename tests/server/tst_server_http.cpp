// The Qt-free API server (engine/server) over real sockets, on a random-weight model served in
// this process: the OpenAI endpoints whole and streamed, refusals and their error shapes, the
// limits (malformed, huge, slow and abandoned requests, too many connections), the API key, the
// CORS allow-list and the Host check, two streams at once, and 503 with Retry-After when busy.
#include <QTest>

#include <atomic>
#include <functional>
#include <mutex>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_fixture.h"
#include "strata/server/openai_json.h"

using namespace strata;
using namespace strata::test;
using json = nlohmann::json;

namespace {

// The data lines of a server-sent event stream, parsed; `done` when it ended with [DONE].
struct Events {
    std::vector<json> chunks;
    bool done = false;
    bool well_formed = true;
};

Events parse_events(const std::string& body) {
    Events e;
    size_t pos = 0;
    while (pos < body.size()) {
        const size_t end = body.find("\n\n", pos);
        if (end == std::string::npos) {
            e.well_formed = false;
            break;
        }
        const std::string event = body.substr(pos, end - pos);
        pos = end + 2;
        if (event.rfind("data: ", 0) != 0) {
            e.well_formed = false;
            continue;
        }
        const std::string data = event.substr(6);
        if (data == "[DONE]") {
            e.done = true;
            continue;
        }
        json j = json::parse(data, nullptr, false);
        if (j.is_discarded()) e.well_formed = false;
        else e.chunks.push_back(std::move(j));
    }
    return e;
}

std::optional<RawResponse> request(int port, const std::string& method, const std::string& path,
                                   const std::string& body = "", const std::string& headers = "") {
    RawClient c(port);
    if (!c.connected() || !c.send(http_request(method, path, body, headers))) return std::nullopt;
    return c.read_response(20000);
}

std::string error_message(const RawResponse& r) {
    const json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return "";
    return j["error"].value("message", "");
}

// A completion that runs to the context's end unless cancelled: EOS is banned.
std::string endless_completion(const Model& model, bool stream) {
    json body{{"prompt", "Once"}, {"stream", stream}, {"temperature", 0}};
    body["logit_bias"][std::to_string(model.eos_token())] = -100;
    return body.dump();
}

long rssKiB() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    std::fclose(f);
    return kib;
}

}  // namespace

class TestServerHttp : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    ServedModel served_;

    int port() const { return served_.port(); }

    // Waits until no sequence is lent (a cancelled generation has ended).
    bool waitPoolIdle(int timeout_ms) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (served_.pool->in_use() > 0) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    }

    uint64_t completionTokensCounted() {
        const auto r = request(port(), "GET", "/metrics");
        if (!r) return ~0ull;
        const std::string key = "\nstrata_completion_tokens_total ";
        const size_t at = r->body.find(key);
        return at == std::string::npos ? ~0ull : std::stoull(r->body.substr(at + key.size()));
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QVERIFY2(served_.start(dir_, 2, testServerOptions()), served_.error.c_str());
    }

    void healthModelsAndMetrics() {
        const auto health = request(port(), "GET", "/health");
        QVERIFY(health);
        QCOMPARE(health->status, 200);
        QCOMPARE(json::parse(health->body).value("status", ""), std::string("ok"));
        const auto models = request(port(), "GET", "/v1/models/");  // a trailing slash is the same path
        QVERIFY(models);
        QCOMPARE(models->status, 200);
        const json m = json::parse(models->body);
        QCOMPARE(m["data"].size(), size_t(1));
        QCOMPARE(m["data"][0].value("id", ""), std::string("tiny"));
        QCOMPARE(m["data"][0].value("object", ""), std::string("model"));
        QVERIFY(!models->headers.count("access-control-allow-origin"));  // no page allowed by default
        // A request is counted once its answer is written, which may be just after the client
        // has read it.
        std::optional<RawResponse> metrics;
        for (int i = 0; i < 100; ++i) {
            metrics = request(port(), "GET", "/metrics");
            if (!metrics || metrics->body.find("strata_http_requests_total{path=\"/v1/models\",status=\"200\"} ") !=
                                std::string::npos)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        QVERIFY(metrics);
        QCOMPARE(metrics->status, 200);
        QVERIFY(metrics->header("content-type").rfind("text/plain", 0) == 0);
        QVERIFY2(metrics->body.find("strata_http_requests_total{path=\"/v1/models\",status=\"200\"} ") != std::string::npos,
                 metrics->body.c_str());
        QVERIFY(metrics->body.find("strata_queue_length 0") != std::string::npos);
        QVERIFY(metrics->body.find("strata_sequences_total 2") != std::string::npos);
        QVERIFY(metrics->body.find("strata_device_busy_seconds_total{device=\"cpu") != std::string::npos);
    }

    void chatCompletionWhole() {
        const json body{{"model", "whatever"},
                        {"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}}},
                        {"max_tokens", 8},
                        {"temperature", 0},
                        {"seed", 3}};
        const auto r = request(port(), "POST", "/v1/chat/completions", body.dump());
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        const json o = json::parse(r->body);
        QVERIFY(o.value("id", "").rfind("chatcmpl-", 0) == 0);
        QCOMPARE(o.value("object", ""), std::string("chat.completion"));
        QCOMPARE(o.value("model", ""), std::string("tiny"));
        const json& choice = o["choices"][0];
        QCOMPARE(choice["message"].value("role", ""), std::string("assistant"));
        QVERIFY(choice["message"]["content"].is_string());
        const std::string finish = choice.value("finish_reason", "");
        QVERIFY2(finish == "length" || finish == "stop", finish.c_str());
        const int completion = o["usage"].value("completion_tokens", -1);
        QVERIFY(completion >= 1 && completion <= 8);
        QVERIFY(o["usage"].value("prompt_tokens", 0) > 0);
        QCOMPARE(o["usage"].value("total_tokens", 0), o["usage"].value("prompt_tokens", 0) + completion);
        // The same seed and prompt give the same answer (a second request reuses the cached prompt).
        const auto again = request(port(), "POST", "/v1/chat/completions", body.dump());
        QVERIFY(again);
        QCOMPARE(json::parse(again->body)["choices"][0]["message"]["content"].dump(), choice["message"]["content"].dump());
    }

    void chatCompletionStreamed() {
        const json body{{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                        {"max_tokens", 12},
                        {"stream", true},
                        {"stream_options", {{"include_usage", true}}}};
        const auto r = request(port(), "POST", "/v1/chat/completions", body.dump());
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QVERIFY(r->header("content-type").rfind("text/event-stream", 0) == 0);
        const Events e = parse_events(r->body);
        QVERIFY2(e.well_formed && e.done, r->body.c_str());
        QVERIFY(e.chunks.size() >= 3);
        QCOMPARE(e.chunks.front()["choices"][0]["delta"].value("role", ""), std::string("assistant"));
        std::string text;
        std::string finish;
        for (size_t i = 0; i + 1 < e.chunks.size(); ++i) {
            const json& c = e.chunks[i];
            QCOMPARE(c.value("object", ""), std::string("chat.completion.chunk"));
            QCOMPARE(c.value("id", ""), e.chunks.front().value("id", ""));
            const json& delta = c["choices"][0]["delta"];
            if (delta.contains("content")) text += delta["content"].get<std::string>();
            if (c["choices"][0]["finish_reason"].is_string()) finish = c["choices"][0]["finish_reason"];
        }
        QVERIFY(finish == "length" || finish == "stop");
        const json& last = e.chunks.back();  // include_usage: choices empty, usage set
        QVERIFY(last["choices"].empty());
        QVERIFY(last["usage"].value("completion_tokens", 0) >= 1);
    }

    void textCompletionWholeAndStreamed() {
        const json body{{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0}};
        const auto whole = request(port(), "POST", "/v1/completions", body.dump());
        QVERIFY(whole);
        QCOMPARE(whole->status, 200);
        const json o = json::parse(whole->body);
        QVERIFY(o.value("id", "").rfind("cmpl-", 0) == 0);
        QCOMPARE(o.value("object", ""), std::string("text_completion"));
        QVERIFY(o["choices"][0]["text"].is_string());
        json streamed = body;
        streamed["stream"] = true;
        const auto s = request(port(), "POST", "/v1/completions", streamed.dump());
        QVERIFY(s);
        QCOMPARE(s->status, 200);
        const Events e = parse_events(s->body);
        QVERIFY(e.well_formed && e.done);
        std::string text;
        for (const json& c : e.chunks) text += c["choices"][0].value("text", "");
        QCOMPARE(text, o["choices"][0]["text"].get<std::string>());  // greedy: the same text both ways
    }

    void refusalsSayWhy_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("says");
        QTest::newRow("unknown path") << "GET" << "/v2/nothing" << "" << 404 << "no such endpoint";
        QTest::newRow("wrong method") << "GET" << "/v1/chat/completions" << "" << 405 << "takes POST";
        QTest::newRow("not JSON") << "POST" << "/v1/chat/completions" << "{nope" << 400 << "not valid JSON";
        QTest::newRow("no messages") << "POST" << "/v1/chat/completions" << "{}" << 400 << "'messages'";
        QTest::newRow("n=2") << "POST" << "/v1/chat/completions"
                             << R"({"messages":[{"role":"user","content":"x"}],"n":2})" << 400 << "n = 1";
        QTest::newRow("json_schema") << "POST" << "/v1/chat/completions"
                                     << R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}})"
                                     << 400 << "json_schema";
        QTest::newRow("json_schema with $ref") << "POST" << "/v1/chat/completions"
                                               << R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object","properties":{"a":{"$ref":"defs/a"}}}}}})"
                                               << 400 << "'$ref' is not supported";
        QTest::newRow("forced tool") << "POST" << "/v1/chat/completions"
                                     << R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"})"
                                     << 400 << "tool_choice";
        QTest::newRow("bad temperature") << "POST" << "/v1/completions" << R"({"prompt":"x","temperature":"hot"})"
                                         << 400 << "'temperature' must be a number";
        QTest::newRow("embeddings") << "POST" << "/v1/embeddings" << R"({"input":"x","model":"tiny"})" << 400
                                    << "embeddings are not supported";
    }

    void refusalsSayWhy() {
        QFETCH(QString, method);
        QFETCH(QString, path);
        QFETCH(QString, body);
        QFETCH(int, status);
        QFETCH(QString, says);
        const auto r = request(port(), method.toStdString(), path.toStdString(), body.toStdString());
        QVERIFY(r);
        QCOMPARE(r->status, status);
        const json e = json::parse(r->body, nullptr, false);
        QVERIFY2(e.is_object() && e.contains("error"), r->body.c_str());
        QCOMPARE(e["error"].value("code", 0), status);
        QVERIFY(e["error"].contains("type") && e["error"].contains("param"));
        QVERIFY2(error_message(*r).find(says.toStdString()) != std::string::npos, r->body.c_str());
        if (status == 405) QVERIFY(r->header("allow").find("OPTIONS") != std::string::npos);
    }

    void malformedAndHugeRequestsAnswerAndClose_data() {
        QTest::addColumn<QString>("what");
        QTest::addColumn<int>("status");
        QTest::newRow("garbage") << "garbage" << 400;
        QTest::newRow("huge body") << "huge" << 413;
        QTest::newRow("too many headers") << "headers" << 431;
    }

    void malformedAndHugeRequestsAnswerAndClose() {
        QFETCH(QString, what);
        QFETCH(int, status);
        RawClient c(port());
        QVERIFY(c.connected());
        if (what == "garbage") {
            QVERIFY(c.send("\x01\x02 not http at all\r\n\r\n"));
        } else if (what == "huge") {
            // Announced over the limit: refused from the header, without reading the body.
            QVERIFY(c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n{"));
        } else {
            std::string headers;
            for (int i = 0; i < 30; ++i) headers += "X-Filler-" + std::to_string(i) + ": x\r\n";
            QVERIFY(c.send(http_request("GET", "/v1/models", "", headers)));
        }
        const auto r = c.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, status);
        QVERIFY2(!error_message(*r).empty(), r->body.c_str());
        QVERIFY(c.wait_closed());
    }

    // One byte every 100 ms against a 300 ms limit for the whole request: 408 and closed, while
    // another client is answered meanwhile.
    void slowClientTimesOutWithoutBlockingOthers() {
        RawClient slow(port());
        QVERIFY(slow.connected());
        const std::string req = http_request("GET", "/v1/models");
        const auto start = std::chrono::steady_clock::now();
        size_t sent = 0;
        bool other_answered = false;
        while (sent < req.size() && std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
            if (!slow.send(req.substr(sent, 1))) break;
            ++sent;
            if (sent == 2) {
                const auto other = request(port(), "GET", "/health");
                other_answered = other && other->status == 200;
            }
            if (slow.wait_for("HTTP/1.1", 100)) break;
        }
        QVERIFY(other_answered);
        const auto r = slow.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, 408);
        QVERIFY(slow.wait_closed());
        QVERIFY(sent < req.size());
        QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
    }

    void bodyShorterThanContentLengthTimesOut() {
        RawClient c(port());
        QVERIFY(c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{\"prompt\""));
        const auto r = c.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, 408);
        QVERIFY(c.wait_closed());
    }

    void tooManyConnectionsAre503() {
        std::vector<std::unique_ptr<RawClient>> idle;
        for (int i = 0; i < 8; ++i) {
            idle.push_back(std::make_unique<RawClient>(port()));
            QVERIFY(idle.back()->connected());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // every one accepted
        RawClient extra(port());
        const auto r = extra.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, 503);
        QVERIFY2(error_message(*r).find("too many connections") != std::string::npos, r->body.c_str());
        idle.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const auto after = request(port(), "GET", "/health");  // the slots are free again
        QVERIFY(after);
        QCOMPARE(after->status, 200);
    }

    // A client that leaves cancels its generation, streamed or not: the sequence is free again
    // at once, long before the answer could have run to the context's end.
    void clientThatLeavesCancelsItsGeneration_data() {
        QTest::addColumn<bool>("stream");
        QTest::newRow("streamed") << true;
        QTest::newRow("whole") << false;
    }

    void clientThatLeavesCancelsItsGeneration() {
        QFETCH(bool, stream);
        QVERIFY(waitPoolIdle(2000));
        const uint64_t before = completionTokensCounted();
        {
            RawClient c(port());
            QVERIFY(c.send(http_request("POST", "/v1/completions", endless_completion(*served_.model, stream))));
            if (stream) QVERIFY(c.wait_for("data: {", 10000));
            else std::this_thread::sleep_for(std::chrono::milliseconds(100));
            QVERIFY(served_.pool->in_use() == 1);
        }  // closed
        QVERIFY(waitPoolIdle(3000));
        const uint64_t generated = completionTokensCounted() - before;
        QVERIFY2(generated < 3000, qPrintable(QString::number(generated)));  // the context is 4096
        const auto next = request(port(), "POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})");
        QVERIFY(next);
        QCOMPARE(next->status, 200);
    }

    // Two streams at once, on the two sequences, both complete.
    void twoStreamsAtOnceBothComplete() {
        QVERIFY(waitPoolIdle(2000));
        json body = json::parse(endless_completion(*served_.model, true));
        body["max_tokens"] = 200;
        std::atomic<int> done{0};
        std::string bodies[2];
        std::atomic<int> max_in_use{0};
        std::atomic<bool> running{true};
        std::thread watcher([&] {
            while (running) {
                max_in_use = std::max(max_in_use.load(), served_.pool->in_use());
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
        std::thread clients[2];
        for (int i = 0; i < 2; ++i)
            clients[i] = std::thread([&, i] {
                const auto r = request(port(), "POST", "/v1/completions", body.dump());
                if (r && r->status == 200) {
                    bodies[i] = r->body;
                    ++done;
                }
            });
        for (auto& t : clients) t.join();
        running = false;
        watcher.join();
        QCOMPARE(done.load(), 2);
        for (const std::string& b : bodies) {
            const Events e = parse_events(b);
            QVERIFY(e.well_formed && e.done);
            QCOMPARE(e.chunks.back()["choices"][0].value("finish_reason", ""), std::string("length"));
        }
        QCOMPARE(max_in_use.load(), 2);  // they ran at the same time
    }

    void hostHeaderMustNameThisMachine() {
        RawClient c(port());
        QVERIFY(c.send("GET /v1/models HTTP/1.1\r\nHost: attacker.example:8313\r\n\r\n"));
        const auto r = c.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, 403);
        QVERIFY(error_message(*r).find("Host") != std::string::npos);
        RawClient ok(port());
        QVERIFY(ok.send("GET /v1/models HTTP/1.1\r\nHost: localhost:1234\r\n\r\n"));
        const auto r2 = ok.read_response();
        QVERIFY(r2);
        QCOMPARE(r2->status, 200);
    }

    void foreignOriginIsRefusedByDefault() {
        const auto r = request(port(), "POST", "/v1/completions", R"({"prompt":"x","max_tokens":1})",
                               "Origin: http://evil.example\r\n");
        QVERIFY(r);
        QCOMPARE(r->status, 403);
        QVERIFY(!r->headers.count("access-control-allow-origin"));
        QVERIFY(error_message(*r).find("http://evil.example") != std::string::npos);
        const auto preflight = request(port(), "OPTIONS", "/v1/completions", "", "Origin: http://evil.example\r\n");
        QVERIFY(preflight);
        QCOMPARE(preflight->status, 403);
    }

    // Pure helpers: the address policy, the origin match, the constant-time compare.
    // A second server on a port in use is refused (httplib's default SO_REUSEPORT would let
    // it bind and take half the connections).
    void secondServerOnTheSamePortIsRefused() {
        server::ServerOptions o = testServerOptions();
        o.port = port();
        server::ApiServer second(*served_.model, *served_.pool, o);
        const Status st = second.start();
        QVERIFY(!st.ok());
        QCOMPARE(int(st.code()), int(ErrorCode::busy));
        QVERIFY2(st.message().find("in use") != std::string::npos, st.message().c_str());
    }

    void policies() {
        QVERIFY(!server::serve_address_needs_key("127.0.0.1"));
        QVERIFY(!server::serve_address_needs_key("127.1.2.3"));
        QVERIFY(!server::serve_address_needs_key("localhost"));
        QVERIFY(!server::serve_address_needs_key("::1"));
        QVERIFY(!server::serve_address_needs_key("[::1]"));
        QVERIFY(server::serve_address_needs_key("0.0.0.0"));
        QVERIFY(server::serve_address_needs_key("::"));
        QVERIFY(server::serve_address_needs_key("192.168.1.5"));
        QVERIFY(server::origin_allowed("http://LocalHost:3000/", {"http://localhost:3000"}));
        QVERIFY(!server::origin_allowed("http://localhost:3001", {"http://localhost:3000"}));
        QVERIFY(server::origin_allowed("https://x.example", {"*"}));
        QVERIFY(!server::origin_allowed("", {"*"}));
        QVERIFY(server::same_secret("k3y", "k3y"));
        QVERIFY(!server::same_secret("k3y", "k3"));
        QVERIFY(!server::same_secret("k3y", "k3z"));
        QVERIFY(!server::same_secret("", "k"));
    }

    // The mapping of answers the random model cannot produce: tool calls and reasoning.
    void toolCallsAndReasoningJson() {
        const server::ResponseMeta meta = server::new_response_meta(true, "m");
        server::ChatAnswer a;
        a.reasoning = "thinking";
        a.tool_calls = {{"call_0", "get_weather", R"({"city":"Paris"})"}};
        GenerateStats s;
        s.n_prompt = 5;
        s.n_reused = 2;
        s.n_generated = 4;
        const json o = json::parse(server::chat_completion_json(meta, a, s));
        const json& msg = o["choices"][0]["message"];
        QVERIFY(msg["content"].is_null());  // only tools were called
        QCOMPARE(msg.value("reasoning_content", ""), std::string("thinking"));
        QCOMPARE(msg["tool_calls"][0]["function"].value("name", ""), std::string("get_weather"));
        QCOMPARE(msg["tool_calls"][0]["function"].value("arguments", ""), std::string(R"({"city":"Paris"})"));
        QCOMPARE(o["choices"][0].value("finish_reason", ""), std::string("tool_calls"));
        QCOMPARE(o["usage"].value("prompt_tokens", 0), 7);  // a reused prefix is still prompt
        const json chunk = json::parse(server::tool_calls_chunk_json(meta, a.tool_calls));
        QCOMPARE(chunk["choices"][0]["delta"]["tool_calls"][0].value("index", -1), 0);
        const json r = json::parse(server::reasoning_chunk_json(meta, "hmm"));
        QCOMPARE(r["choices"][0]["delta"].value("reasoning_content", ""), std::string("hmm"));

        // A history with a call and its result reaches the prompt request.
        server::CompletionRequest req;
        const auto e = server::parse_chat_request(R"({"messages":[
            {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":{"x":1}}}]},
            {"role":"tool","tool_call_id":"c1","content":"42"}],
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
            "response_format":{"type":"json_object"},"stop":"END","max_completion_tokens":5})",
                                                  req);
        QVERIFY2(!e, e ? e->message.c_str() : "");
        QCOMPARE(req.prompt_request.messages.size(), size_t(3));
        QCOMPARE(req.prompt_request.messages[0].content, std::string("a\nb"));
        QCOMPARE(req.prompt_request.messages[1].tool_calls[0].arguments, std::string(R"({"x":1})"));
        QCOMPARE(req.prompt_request.messages[2].tool_call_id, std::string("c1"));
        QVERIFY(req.tools_offered());
        QVERIFY(req.params.json_object);
        QCOMPARE(req.params.stop_strings, std::vector<std::string>{"END"});
        // A json_schema response format compiles into the generation's constraint.
        server::CompletionRequest structured;
        const auto se = server::parse_chat_request(
            R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}}}})",
            structured);
        QVERIFY2(!se, se ? se->message.c_str() : "");
        QVERIFY(structured.params.json_schema);
        QVERIFY(req.has_max_tokens);
        QCOMPARE(req.params.max_tokens, 5);
        // tool_choice "none": the tools are not offered.
        server::CompletionRequest none;
        QVERIFY(!server::parse_chat_request(
            R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"})",
            none));
        QVERIFY(!none.tools_offered());
    }
};

// The API key, the CORS allow-list, and 503 when every sequence is busy and none may wait:
// servers of their own.
class TestServerPolicies : public QObject {
    Q_OBJECT

private slots:
    void apiKeyRequired() {
        QTemporaryDir dir;
        ServedModel s;
        server::ServerOptions o = testServerOptions();
        o.api_key = "s3cret";
        o.cors_origins = {"http://localhost:3000"};
        QVERIFY2(s.start(dir, 1, o), s.error.c_str());
        const auto none = request(s.port(), "GET", "/v1/models");
        QVERIFY(none);
        QCOMPARE(none->status, 401);
        QVERIFY(error_message(*none).find("Bearer") != std::string::npos);
        const auto wrong = request(s.port(), "GET", "/v1/models", "", "Authorization: Bearer s3cre\r\n");
        QVERIFY(wrong);
        QCOMPARE(wrong->status, 401);
        const auto right = request(s.port(), "GET", "/v1/models", "", "Authorization: Bearer s3cret\r\n");
        QVERIFY(right);
        QCOMPARE(right->status, 200);
        const auto metrics = request(s.port(), "GET", "/metrics");  // metrics too
        QVERIFY(metrics);
        QCOMPARE(metrics->status, 401);
        // A preflight carries no key; the listed origin gets its grant, echoed.
        const auto preflight = request(s.port(), "OPTIONS", "/v1/chat/completions", "",
                                       "Origin: http://localhost:3000\r\nAccess-Control-Request-Headers: authorization\r\n");
        QVERIFY(preflight);
        QCOMPARE(preflight->status, 204);
        QCOMPARE(preflight->header("access-control-allow-origin"), std::string("http://localhost:3000"));
        QVERIFY(preflight->header("access-control-allow-methods").find("POST") != std::string::npos);
        const auto page = request(s.port(), "GET", "/v1/models", "",
                                  "Origin: http://localhost:3000\r\nAuthorization: Bearer s3cret\r\n");
        QVERIFY(page);
        QCOMPARE(page->status, 200);
        QCOMPARE(page->header("access-control-allow-origin"), std::string("http://localhost:3000"));
        const auto other = request(s.port(), "GET", "/v1/models", "",
                                   "Origin: http://localhost:3001\r\nAuthorization: Bearer s3cret\r\n");
        QVERIFY(other);
        QCOMPARE(other->status, 403);
        QVERIFY(!other->headers.count("access-control-allow-origin"));
    }

    // A request waiting for the one sequence shows in the queue length; its client leaving takes
    // it out of the queue, and the next waiting request runs once the sequence is free.
    void queuedRequestsWaitAndLeave() {
        QTemporaryDir dir;
        ServedModel s;
        QVERIFY2(s.start(dir, 1, testServerOptions(), /*max_waiting=*/4), s.error.c_str());
        auto waitFor = [](const std::function<bool()>& done) {
            for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
            return done();
        };
        RawClient running(s.port());
        QVERIFY(running.send(http_request("POST", "/v1/completions", endless_completion(*s.model, true))));
        QVERIFY(running.wait_for("data: {", 10000));
        {
            RawClient leaving(s.port());
            QVERIFY(leaving.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})")));
            QVERIFY(waitFor([&] { return s.pool->waiting() == 1; }));
            const auto metrics = request(s.port(), "GET", "/metrics");
            QVERIFY(metrics);
            QVERIFY2(metrics->body.find("\nstrata_queue_length 1\n") != std::string::npos, metrics->body.c_str());
        }
        QVERIFY(waitFor([&] { return s.pool->waiting() == 0; }));  // it left the queue
        QCOMPARE(s.pool->in_use(), 1);                               // the running one goes on
        RawClient waiting(s.port());
        QVERIFY(waiting.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})")));
        QVERIFY(waitFor([&] { return s.pool->waiting() == 1; }));
        running.close();  // cancels the running answer: the waiting request gets the sequence
        const auto r = waiting.read_response(10000);
        QVERIFY(r);
        QCOMPARE(r->status, 200);
    }

    // Many clients at once, some leaving mid-answer: every answer is complete or was cancelled by
    // its client, and afterwards no sequence is lent, no connection is left open and memory has
    // not grown with the number of requests.
    void soakWithRandomCancellations() {
        // A server of its own, with room for every client's connection: a connection its client
        // closed is counted until the server has noticed, and the limit is tested elsewhere.
        QTemporaryDir dir;
        ServedModel served_;
        server::ServerOptions options = testServerOptions();
        options.limits.max_connections = 64;
        QVERIFY2(served_.start(dir, 4, options), served_.error.c_str());
        auto port = [&] { return served_.port(); };
        auto waitPoolIdle = [&](int timeout_ms) {
            for (int i = 0; i < timeout_ms / 5 && served_.pool->in_use() > 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return served_.pool->in_use() == 0;
        };
        const long rss_before = rssKiB();
        constexpr int kClients = 16, kRequestsEach = 13;  // 208 requests, 4 sequences batched
        std::atomic<int> complete{0}, cancelled{0}, wrong{0};
        std::mutex problems_mutex;
        std::string problems;  // what the wrong answers were
        auto note = [&](const std::string& what) {
            std::lock_guard lock(problems_mutex);
            problems += what.substr(0, 300) + "\n";
            ++wrong;
        };
        std::thread clients[kClients];
        for (int i = 0; i < kClients; ++i)
            clients[i] = std::thread([&, i] {
                for (int k = 0; k < kRequestsEach; ++k) {
                    const bool leave = (i * kRequestsEach + k) % 3 == 0;
                    const bool chat = k % 2 == 0;
                    json body = chat ? json{{"messages", {{{"role", "user"}, {"content", "story " + std::to_string(k)}}}}}
                                     : json{{"prompt", "story " + std::to_string(k)}};
                    body["stream"] = true;
                    body["max_tokens"] = leave ? 2000 : 12;
                    body["logit_bias"][std::to_string(served_.model->eos_token())] = -100;
                    RawClient c(port());
                    if (!c.send(http_request("POST", chat ? "/v1/chat/completions" : "/v1/completions", body.dump()))) {
                        note("send failed");
                        continue;
                    }
                    if (leave) {
                        if (c.wait_for("data: {", 10000)) ++cancelled;
                        else note("no first chunk");
                        continue;  // closed here, mid-answer
                    }
                    const auto r = c.read_response(20000);
                    const Events e = r ? parse_events(r->body) : Events{};
                    const bool ok = r && r->status == 200 && e.well_formed && e.done && !e.chunks.empty() &&
                                    e.chunks.back()["choices"][0].value("finish_reason", "") == "length";
                    if (ok) ++complete;
                    else note(r ? std::to_string(r->status) + " " + r->body : std::string("no response"));
                }
            });
        for (auto& t : clients) t.join();
        QVERIFY2(wrong.load() == 0, problems.c_str());
        QCOMPARE(complete.load() + cancelled.load(), kClients * kRequestsEach);
        QVERIFY(cancelled.load() > 0);
        QVERIFY(waitPoolIdle(5000));
        // Every connection closed: only the metrics request's own is open.
        bool closed = false;
        for (int i = 0; i < 200 && !closed; ++i) {
            const auto m = request(port(), "GET", "/metrics");
            closed = m && m->body.find("\nstrata_connections_open 1\n") != std::string::npos;
            if (!closed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        QVERIFY(closed);
        const long grown = rssKiB() - rss_before;
        QVERIFY2(grown < 64 * 1024, qPrintable(QString::number(grown)));  // KiB
    }

    void busyIs503WithRetryAfter() {
        QTemporaryDir dir;
        ServedModel s;
        QVERIFY2(s.start(dir, 1, testServerOptions(), /*max_waiting=*/0), s.error.c_str());
        RawClient running(s.port());
        QVERIFY(running.send(http_request("POST", "/v1/completions", endless_completion(*s.model, true))));
        QVERIFY(running.wait_for("data: {", 10000));
        QCOMPARE(s.pool->in_use(), 1);
        const auto r = request(s.port(), "POST", "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})");
        QVERIFY(r);
        QCOMPARE(r->status, 503);
        QCOMPARE(r->header("retry-after"), std::string("1"));
        QVERIFY2(error_message(*r).find("busy") != std::string::npos, r->body.c_str());
        running.close();
    }
};

int main(int argc, char** argv) {
    int status = 0;
    {
        TestServerHttp t;
        status |= QTest::qExec(&t, argc, argv);
    }
    {
        TestServerPolicies t;
        status |= QTest::qExec(&t, argc, argv);
    }
    return status;
}

#include "tst_server_http.moc"
