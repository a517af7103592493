#include "server/http_connection.h"

#include <QTcpSocket>

#include "server/openai_json.h"

namespace strata::app {

namespace {
// How long a closing connection may take to deliver its last answer to a client that does not
// read it before the socket is dropped.
constexpr int kLingerMs = 5000;
}  // namespace

HttpConnection::HttpConnection(QTcpSocket* socket, HttpLimits limits, HttpTimeouts timeouts, QObject* parent)
    : QObject(parent), m_socket(socket), m_parser(limits), m_limits(limits), m_timeouts(timeouts) {
    m_socket->setParent(this);
    // Stream chunks are small and must leave at once, not wait for Nagle's algorithm.
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpConnection::onTimeout);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::finish);
    // Any socket error ends the conversation: a reset, a failed write, or the client closing its
    // side. (A client that only half-closes after sending counts as gone too: TCP cannot tell
    // the two apart, and Qt cannot write once it has read the end of the stream.)
    connect(m_socket, &QTcpSocket::errorOccurred, this, &HttpConnection::finish);
    m_timerKind = Timer::idle;
    m_timer.start(m_timeouts.idleMs);
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::onReadyRead, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

QByteArray HttpConnection::reasonPhrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return status < 400 ? "OK" : "Error";
    }
}

void HttpConnection::onReadyRead() {
    if (!m_open) return;
    if (m_closing) {  // the last answer is on its way out; anything more is not read
        m_socket->readAll();
        return;
    }
    m_parser.feed(m_socket->readAll());
    if (m_busy) {
        // The client keeps sending while its answer is being made (pipelining is fine, a flood
        // is not): bound what waits in memory.
        if (m_parser.buffered() > m_limits.maxHeaderBytes + m_limits.maxBodyBytes) finish();
        return;
    }
    processBuffer();
}

void HttpConnection::processBuffer() {
    if (!m_open || m_busy || m_closing) return;
    HttpRequest request;
    switch (m_parser.next(request)) {
        case HttpRequestParser::Result::complete:
            m_busy = true;
            m_keepAlive = request.keepAlive();
            m_minorVersion = request.minorVersion;
            m_timer.stop();
            m_timerKind = Timer::none;
            m_corsOrigin.clear();
            emit requestReceived(this, request);
            return;
        case HttpRequestParser::Result::error:
            sendError(m_parser.errorStatus(), m_parser.errorMessage());
            return;
        case HttpRequestParser::Result::incomplete:
            break;
    }
    if (m_parser.consumeExpectContinue()) send("HTTP/1.1 100 Continue\r\n\r\n");
    // The request deadline runs from a request's first byte and is not renewed by later
    // bytes; that is what stops a client that sends one byte every few seconds.
    if (m_parser.buffered() > 0) {
        if (m_timerKind != Timer::request) {
            m_timerKind = Timer::request;
            m_timer.start(m_timeouts.requestMs);
        }
    } else if (m_timerKind != Timer::idle) {
        m_timerKind = Timer::idle;
        m_timer.start(m_timeouts.idleMs);
    }
}

void HttpConnection::onTimeout() {
    switch (m_timerKind) {
        case Timer::request:
            sendError(408, QStringLiteral("the request did not arrive completely within %1 s").arg(m_timeouts.requestMs / 1000.0));
            break;
        case Timer::idle:
        case Timer::closing:
        case Timer::none:
            finish();
            break;
    }
}

QByteArray HttpConnection::responseHead(int status, const QByteArray& contentType, const Headers& extra, qint64 length) {
    QByteArray h = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    if (!contentType.isEmpty()) h += "Content-Type: " + contentType + "\r\n";
    if (length >= 0) h += "Content-Length: " + QByteArray::number(length) + "\r\n";
    else if (m_chunked) h += "Transfer-Encoding: chunked\r\n";
    if (!m_corsOrigin.isEmpty()) {
        h += "Access-Control-Allow-Origin: " + m_corsOrigin + "\r\n";
        if (m_corsOrigin != "*") h += "Vary: Origin\r\n";  // caches must not reuse it for another page
    }
    for (const auto& [name, value] : extra) h += name + ": " + value + "\r\n";
    h += m_keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    h += "\r\n";
    return h;
}

void HttpConnection::respond(int status, const QByteArray& body, const QByteArray& contentType, const Headers& extraHeaders) {
    if (!m_open || !m_busy || m_streaming) return;
    send(responseHead(status, contentType, extraHeaders, body.size()) + body);
    answered();
}

void HttpConnection::beginStream(int status, const QByteArray& contentType) {
    if (!m_open || !m_busy || m_streaming) return;
    m_streaming = true;
    // HTTP/1.0 has no chunked coding: the end of the body is the end of the connection.
    m_chunked = m_minorVersion >= 1;
    if (!m_chunked) m_keepAlive = false;
    send(responseHead(status, contentType, {{"Cache-Control", "no-cache"}}, -1));
}

void HttpConnection::writeStream(const QByteArray& data) {
    if (!m_open || !m_streaming || data.isEmpty()) return;  // an empty chunk would end the body
    send(m_chunked ? QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n" : data);
}

void HttpConnection::endStream(bool closeConnection) {
    if (!m_open || !m_streaming) return;
    if (m_chunked) send("0\r\n\r\n");
    m_streaming = false;
    m_chunked = false;
    if (closeConnection) m_keepAlive = false;
    answered();
}

void HttpConnection::send(const QByteArray& bytes) {
    m_socket->write(bytes);
    // Hand the bytes to the system now, not when the event loop next runs: a token should leave
    // at once, and an answer written before the client's end-of-stream is read still gets out
    // (Qt drops unsent data once it has seen the peer close).
    m_socket->flush();
}

void HttpConnection::answered() {
    m_busy = false;
    if (!m_open) return;  // the last write found the client gone
    if (!m_keepAlive) {
        closeAfterWrite();
        return;
    }
    // The next pipelined request, if one is buffered, from the event loop (no recursion).
    QMetaObject::invokeMethod(this, &HttpConnection::processBuffer, Qt::QueuedConnection);
}

void HttpConnection::sendError(int status, const QString& message) {
    m_keepAlive = false;  // after a framing error the next request's start is unknown
    const QByteArray body = errorJson(status, message);
    send(responseHead(status, "application/json", {}, body.size()) + body);
    closeAfterWrite();
}

void HttpConnection::closeAfterWrite() {
    if (!m_open) return;
    m_closing = true;
    m_timerKind = Timer::closing;
    m_timer.start(kLingerMs);
    m_socket->disconnectFromHost();  // disconnected() follows once the answer is written
}

void HttpConnection::abort() { finish(); }

void HttpConnection::finish() {
    if (!m_open) return;
    m_open = false;
    m_timer.stop();
    m_socket->abort();
    emit closed(this);
    deleteLater();
}

}  // namespace strata::app
