// ApiServer: Strata's local OpenAI-compatible HTTP API, for the tools that speak to LM Studio or
// llama-server. Routes:
//   GET  /health                200 {"status":"ok"} with a model loaded; 503 while none is
//   GET  /v1/models             the loaded model (an empty list when none is)
//   POST /v1/chat/completions   messages → answer, whole or streamed (server-sent events)
//   POST /v1/completions        prompt → continuation, whole or streamed
//   OPTIONS *                   CORS preflight (for the origins in allowedOrigins)
// Errors are OpenAI-style JSON ({"error":{"message","type",...}}) with a 4xx/5xx status.
//
// Chat answers carry the model's reasoning as `reasoning_content`, apart from the content, and
// tool calls as `tool_calls` when the request offered tools. While tools are offered, streamed
// content is held back from the first sign of a tool-call marker on, so a client never sees
// the call's raw text. A template that could not be used (a built-in format stood in for it) is
// logged (category strata.api) for every request it affects.
//
// It reaches the engine only through the EngineWorker's typed requests and signals, as the chat
// does: each request runs on a sequence of its own beside the chat's answers and other
// requests, and waits for a free one when all are answering (503 with Retry-After when too many
// wait). Each request is known by its worker request id, so the chat and the server each ignore
// the other's tokens. A client that disconnects cancels its request (running or waiting). What
// is loaded comes from ModelState; the server never loads models: with none loaded it answers 503.
//
// Listens on 127.0.0.1 by default and then accepts only Host headers that name this machine, so
// a web page cannot reach it through DNS rebinding. Web pages: only the origins listed in
// ApiServerOptions::allowedOrigins may use it from a browser (none by default; "*" allows any); a
// request whose Origin is not listed is refused (403), so a page cannot even start an answer.
// An API key (ApiServerOptions::apiKey, none by default) makes every request except a CORS
// preflight carry "Authorization: Bearer KEY" (401 otherwise), as OpenAI's clients send it.
//
// Lives on the thread that creates it (the GUI thread) and must be used from there; `worker`
// (on its own thread) must outlive it. Owns its connections.
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <map>
#include <optional>

#include "server/http_connection.h"
#include "server/openai_json.h"

namespace strata::app {

class EngineWorker;
class ModelState;
struct LoadedModel;

// 8313: free of the ports local LLM tools already take — llama-server and many dev servers
// (8080), LM Studio (1234), Jan (1337), Ollama (11434), GPT4All (4891), KoboldCpp (5001),
// vLLM and python -m http.server (8000) — so Strata can serve beside them.
constexpr quint16 kDefaultApiPort = 8313;

struct ApiServerOptions {
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = kDefaultApiPort;  // 0: any free port (tests)
    HttpLimits limits;
    HttpTimeouts timeouts;
    int maxConnections = 64;
    // Required as "Authorization: Bearer <apiKey>" on every request but preflights; empty: none.
    QByteArray apiKey;
    // Browser origins ("http://localhost:3000", scheme://host[:port], no trailing slash) allowed
    // to call the API; "*" allows any page. Empty: no page may (non-browser clients send no
    // Origin and are unaffected).
    QList<QByteArray> allowedOrigins;
};

// Whether `origin` (a request's Origin header) is allowed by `allowed` (ApiServerOptions::
// allowedOrigins): an exact match, case-insensitive in scheme and host, or "*".
bool originAllowed(const QByteArray& origin, const QList<QByteArray>& allowed);

class ApiServer : public QObject {
    Q_OBJECT
public:
    // `model` says what is loaded (the server keeps no copy of its own).
    ApiServer(EngineWorker& worker, const ModelState& model, QObject* parent = nullptr);
    ~ApiServer() override;

    // Starts listening (closing a previous listener first). False with errorString() set when
    // the port is taken or the address cannot be bound.
    bool listen(const ApiServerOptions& options);
    // Stops listening and drops every connection; their requests are cancelled.
    void close();
    bool isListening() const { return m_tcp.isListening(); }
    quint16 port() const { return m_tcp.serverPort(); }
    QString url() const;  // "http://127.0.0.1:8313"
    QString errorString() const { return m_error; }
    // The options of the last listen().
    const ApiServerOptions& options() const { return m_options; }
    // The id /v1/models reports: the loaded model's file name without .gguf ("" when none).
    QString modelId() const;

signals:
    void listeningChanged(bool listening);

private:
    struct Job {
        QPointer<HttpConnection> connection;
        quint64 requestId = 0;
        CompletionRequest request;
        ResponseMeta meta;
        QString text;       // the answer's content so far
        qsizetype sent = 0; // streaming: how much of `text` has gone out
        QString error;      // from generationFailed
        strata::ErrorCode errorCode = strata::ErrorCode::internal;
        bool streamStarted = false;
        strata::OutputFormats formats;        // from promptReady
        std::optional<ParsedAnswer> parsed;   // from answerParsed
    };

    void onNewConnection();
    void onRequest(HttpConnection* connection, const HttpRequest& request);
    void onConnectionClosed(HttpConnection* connection);
    void startCompletion(HttpConnection* connection, const HttpRequest& request, bool chat);
    bool hostAllowed(const HttpRequest& request) const;
    bool keyAccepted(const HttpRequest& request) const;
    void sendError(HttpConnection* connection, int status, const QString& message);
    void sendModelUnavailable(HttpConnection* connection);

    void onToken(quint64 requestId, const QString& text);
    void onReasoning(quint64 requestId, const QString& text);
    void onPrompt(quint64 requestId, const PromptInfo& info);
    // Streams the content that can no longer turn out to be a tool call.
    void streamContent(Job& job, HttpConnection* connection);
    void onFailed(quint64 requestId, strata::ErrorCode code, const QString& message);
    void onFinished(quint64 requestId, const strata::GenerateStats& stats);
    void startStream(Job& job, HttpConnection* connection);

    EngineWorker& m_worker;
    const ModelState& m_model;
    QTcpServer m_tcp;
    ApiServerOptions m_options;
    QString m_error;
    QList<HttpConnection*> m_connections;  // children of this object
    std::map<quint64, Job> m_jobs;         // by request id (EngineWorker::newRequestId)
};

}  // namespace strata::app
