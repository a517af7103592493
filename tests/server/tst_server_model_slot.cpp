// The API server serving what a ModelSlot lends (how the desktop app hosts it): 503 with
// Retry-After while no model is published, answers once one is, the new name after a
// replacement, and retire() cancelling the requests that hold the model — streamed and whole —
// returning once they have let go, with the same kept-alive connection usable afterwards.
#include <QTest>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_fixture.h"
#include "strata/server/model_source.h"

using namespace strata;
using namespace strata::test;
using json = nlohmann::json;

namespace {

// A completion that runs to the context's end unless cancelled: EOS is banned.
std::string endless_completion(const Model& model, bool stream) {
    json body{{"prompt", "Once"}, {"stream", stream}, {"temperature", 0}};
    body["logit_bias"][std::to_string(model.eos_token())] = -100;
    return body.dump();
}

std::string error_message(const RawResponse& r) {
    const json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return "";
    return j["error"].value("message", "");
}

}  // namespace

class TestServerModelSlot : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    ServedModel first_;   // loaded, not served by its own server
    ServedModel second_;
    server::ModelSlot slot_;
    std::unique_ptr<server::ApiServer> server_;

    int port() const { return server_->port(); }

    std::optional<RawResponse> get(const std::string& path) {
        RawClient c(port());
        if (!c.send(http_request("GET", path))) return std::nullopt;
        return c.read_response();
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QVERIFY2(first_.load(dir_, 2, 64, 4096, QStringLiteral("first")), first_.error.c_str());
        QVERIFY2(second_.load(dir_, 1, 64, 4096, QStringLiteral("second")), second_.error.c_str());
        server::ServerOptions o = testServerOptions();
        o.port = 0;
        server_ = std::make_unique<server::ApiServer>(slot_, o);
        QVERIFY(server_->start().ok());
    }

    void cleanupTestCase() {
        server_.reset();  // before the slot's models go
        slot_.retire();
    }

    void withoutAModelEverythingIs503() {
        QVERIFY(!slot_.serving());
        const auto health = get("/health");
        QVERIFY(health);
        QCOMPARE(health->status, 503);
        QVERIFY(!health->header("retry-after").empty());
        const auto models = get("/v1/models");
        QVERIFY(models);
        QCOMPARE(models->status, 200);
        QCOMPARE(json::parse(models->body)["data"].size(), size_t(0));
        RawClient c(port());
        QVERIFY(c.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})")));
        const auto r = c.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, 503);
        QVERIFY2(error_message(*r).find("no model is loaded") != std::string::npos, r->body.c_str());
        const auto metrics = get("/metrics");
        QVERIFY(metrics);
        QVERIFY(metrics->body.find("strata_model_loaded 0") != std::string::npos);
        QVERIFY(metrics->body.find("strata_sequences_total 0") != std::string::npos);
    }

    void publishedModelAnswersUnderItsName() {
        slot_.publish(*first_.model, *first_.pool, "first");
        const auto models = get("/v1/models");
        QVERIFY(models);
        QCOMPARE(json::parse(models->body)["data"][0].value("id", ""), std::string("first"));
        RawClient c(port());
        QVERIFY(c.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":3})")));
        const auto r = c.read_response();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QCOMPARE(json::parse(r->body).value("model", ""), std::string("first"));
        const auto metrics = get("/metrics");
        QVERIFY(metrics && metrics->body.find("strata_model_loaded 1") != std::string::npos);
        QVERIFY(metrics->body.find("strata_sequences_total 2") != std::string::npos);
    }

    // Taking the model away ends the answers that use it, streamed and whole; retire() returns
    // once they have let go, and their kept-alive connections carry the next requests.
    void retireCancelsTheRequestsHoldingTheModel() {
        slot_.publish(*first_.model, *first_.pool, "first");
        RawClient streamed(port()), whole(port());
        QVERIFY(streamed.send(http_request("POST", "/v1/completions", endless_completion(*first_.model, true))));
        QVERIFY(whole.send(http_request("POST", "/v1/completions", endless_completion(*first_.model, false))));
        QVERIFY(streamed.wait_for("data: {", 10000));
        for (int i = 0; i < 200 && first_.pool->in_use() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        QCOMPARE(first_.pool->in_use(), 2);
        QCOMPARE(slot_.holders(), size_t(2));

        auto retired = std::async(std::launch::async, [this] { slot_.retire(); });
        QVERIFY(retired.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        QCOMPARE(slot_.holders(), size_t(0));
        QCOMPARE(first_.pool->in_use(), 0);

        const auto s = streamed.read_response(5000);
        QVERIFY(s);
        QCOMPARE(s->status, 200);  // the stream had begun: its last event is the error
        QVERIFY2(s->body.find("model was unloaded") != std::string::npos, s->body.c_str());
        QVERIFY(s->body.find("[DONE]") == std::string::npos);
        const auto w = whole.read_response(5000);
        QVERIFY(w);
        QCOMPARE(w->status, 503);
        QVERIFY2(error_message(*w).find("model was unloaded") != std::string::npos, w->body.c_str());

        // The same connections, now without a model, then with another one.
        QVERIFY(whole.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})")));
        const auto none = whole.read_response();
        QVERIFY(none);
        QCOMPARE(none->status, 503);
        QVERIFY2(error_message(*none).find("no model is loaded") != std::string::npos, none->body.c_str());
        slot_.publish(*second_.model, *second_.pool, "second");
        QVERIFY(whole.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})")));
        const auto next = whole.read_response();
        QVERIFY(next);
        QCOMPARE(next->status, 200);  // not cancelled: the flag of the last answer is gone
        QCOMPARE(json::parse(next->body).value("model", ""), std::string("second"));
    }

    // Publishing over a served model retires it first: a request waiting for the old model's
    // only sequence is cancelled too, not left waiting.
    void replacingAModelCancelsItsQueue() {
        slot_.publish(*second_.model, *second_.pool, "second");  // one sequence
        RawClient running(port()), waiting(port());
        QVERIFY(running.send(http_request("POST", "/v1/completions", endless_completion(*second_.model, true))));
        QVERIFY(running.wait_for("data: {", 10000));
        QVERIFY(waiting.send(http_request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":2})")));
        for (int i = 0; i < 200 && second_.pool->waiting() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        QCOMPARE(second_.pool->waiting(), size_t(1));
        slot_.publish(*first_.model, *first_.pool, "first");
        const auto w = waiting.read_response(5000);
        QVERIFY(w);
        QCOMPARE(w->status, 503);
        QCOMPARE(second_.pool->waiting(), size_t(0));
        const auto models = get("/v1/models");
        QVERIFY(models);
        QCOMPARE(json::parse(models->body)["data"][0].value("id", ""), std::string("first"));
    }
};

QTEST_GUILESS_MAIN(TestServerModelSlot)
#include "tst_server_model_slot.moc"
