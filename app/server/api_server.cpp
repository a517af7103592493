#include "server/api_server.h"

#include "strata/server/model_source.h"

namespace strata::app {

namespace {

strata::server::ServerOptions engineOptions(const ApiServerOptions& o) {
    strata::server::ServerOptions s;
    s.host = o.address.toString().toStdString();
    s.port = o.port;
    s.api_key = o.apiKey.toStdString();
    for (const QByteArray& origin : o.allowedOrigins) s.cors_origins.push_back(origin.toStdString());
    s.limits = o.limits;
    return s;
}

bool sameLimits(const strata::server::ServerLimits& a, const strata::server::ServerLimits& b) {
    return a.max_body_bytes == b.max_body_bytes && a.max_header_bytes == b.max_header_bytes &&
           a.max_headers == b.max_headers && a.max_connections == b.max_connections &&
           a.request_timeout == b.request_timeout && a.idle_timeout == b.idle_timeout &&
           a.write_timeout == b.write_timeout && a.retry_after_seconds == b.retry_after_seconds;
}

}  // namespace

bool ApiServerOptions::operator==(const ApiServerOptions& o) const {
    return address == o.address && port == o.port && apiKey == o.apiKey && allowedOrigins == o.allowedOrigins &&
           sameLimits(limits, o.limits);
}

ApiServer::ApiServer(strata::server::ModelSource* source, QObject* parent) : QObject(parent), m_source(source) {}

ApiServer::~ApiServer() { close(); }

strata::server::ModelSource& ApiServer::source() {
    if (m_source) return *m_source;
    if (!m_empty) m_empty = std::make_unique<strata::server::ModelSlot>();
    return *m_empty;
}

bool ApiServer::listen(const ApiServerOptions& options) {
    close();
    m_options = options;
    m_error.clear();
    auto server = std::make_unique<strata::server::ApiServer>(source(), engineOptions(options));
    if (const strata::Status st = server->start(); !st.ok()) {
        if (st.code() == strata::ErrorCode::busy)
            m_error = tr("Port %1 is already in use on %2 (another program, perhaps another Strata, LM Studio or "
                         "llama-server, is listening there). Choose another port: strata --serve PORT, or "
                         "the port in Settings → Server.")
                          .arg(options.port)
                          .arg(options.address.toString());
        else
            m_error = tr("Could not start the local API: %1").arg(QString::fromStdString(st.message()));
        return false;
    }
    m_server = std::move(server);
    emit listeningChanged(true);
    return true;
}

void ApiServer::close() {
    if (!m_server) return;
    m_server->stop();  // cancels the answers in flight and waits for the connections' threads
    m_server.reset();
    emit listeningChanged(false);
}

quint16 ApiServer::port() const { return m_server ? quint16(m_server->port()) : 0; }

QString ApiServer::url() const { return m_server ? QString::fromStdString(m_server->url()) : QString(); }

}  // namespace strata::app
