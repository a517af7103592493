// ApiServer: the app's local OpenAI-compatible API, for the tools that speak to LM Studio or
// llama-server. It hosts the engine's server (strata::server::ApiServer, engine/server: one
// implementation of the routes, the OpenAI JSON, the limits, CORS, the API key and /metrics for
// the app and `strata-cli serve`); this class only turns the app's settings into its options and
// reports whether it listens.
//
// What it answers with: the model the engine worker has loaded, lent request by request through
// the worker's ModelSource (EngineWorker::modelSource()). Requests run on the server's own
// threads on sequences of the loaded model's SequencePool, beside the chat's answers (they batch
// together); with no model loaded they get 503 with Retry-After, and loading another model or
// unloading cancels the requests that use the old one first (see strata/server/model_source.h).
//
// Listens on 127.0.0.1 by default and then accepts only Host headers that name this machine
// (DNS rebinding). Web pages: only the origins in ApiServerOptions::allowedOrigins may call it
// ("*" allows any; none by default). An API key makes every request but a CORS preflight carry
// "Authorization: Bearer KEY". Settings refuse an address beyond loopback without a key.
//
// Threading: lives on the GUI thread and is used from there; the worker (and so its
// ModelSource) must outlive it.
#pragma once

#include <QHostAddress>
#include <QObject>
#include <memory>

#include "strata/server/api_server.h"
#include "strata/server/model_source.h"

namespace strata::app {

// 8313: free of the ports local LLM tools already take — llama-server and many dev servers
// (8080), LM Studio (1234), Jan (1337), Ollama (11434), GPT4All (4891), KoboldCpp (5001),
// vLLM and python -m http.server (8000) — so Strata can serve beside them.
constexpr quint16 kDefaultApiPort = strata::server::kDefaultPort;

struct ApiServerOptions {
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = kDefaultApiPort;  // 0: any free port (tests)
    strata::server::ServerLimits limits;
    // Required as "Authorization: Bearer <apiKey>" on every request but preflights; empty: none.
    QByteArray apiKey;
    // Browser origins ("http://localhost:3000", scheme://host[:port]) allowed to call the API;
    // "*" allows any page. Empty: no page may (non-browser clients send no Origin).
    QList<QByteArray> allowedOrigins;

    bool operator==(const ApiServerOptions& o) const;
};

class ApiServer : public QObject {
    Q_OBJECT
public:
    // Serves what `source` lends (the worker's loaded model); null: nothing, ever (every
    // completion is 503), for a backend that has no real model.
    explicit ApiServer(strata::server::ModelSource* source, QObject* parent = nullptr);
    ~ApiServer() override;

    // Starts listening (stopping a previous server first). False with errorString() set when the
    // port is taken or the address cannot be bound.
    bool listen(const ApiServerOptions& options);
    // Stops listening and drops every connection; their requests are cancelled.
    void close();
    bool isListening() const { return m_server != nullptr; }
    quint16 port() const;
    QString url() const;  // "http://127.0.0.1:8313"
    QString errorString() const { return m_error; }
    // The options of the last listen().
    const ApiServerOptions& options() const { return m_options; }

signals:
    void listeningChanged(bool listening);

private:
    strata::server::ModelSource& source();

    strata::server::ModelSource* m_source;
    std::unique_ptr<strata::server::ModelSlot> m_empty;  // the source when none was given
    std::unique_ptr<strata::server::ApiServer> m_server;  // while listening
    ApiServerOptions m_options;
    QString m_error;
};

}  // namespace strata::app
