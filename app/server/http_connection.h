// HttpConnection: one client's TCP connection to the API server. Reads requests with an
// HttpRequestParser and hands them out one at a time (a pipelined request waits until the one
// before it is answered); writes whole responses or streams (chunked for HTTP/1.1, ended by
// closing for HTTP/1.0). It answers by itself what needs no routing: malformed or oversized
// requests (4xx JSON error, then it closes, since framing is lost) and requests that do not
// arrive in time — the whole request must come within requestTimeoutMs of its first byte, so a
// client trickling bytes (slowloris) is cut off; an idle kept-alive connection is closed after
// idleTimeoutMs. Whether a response allows a browser origin is the receiver's call
// (setCorsOrigin, per request); answers the connection gives by itself allow none.
//
// Owns its socket. Lives on the thread that created the socket; not thread-safe. It deletes
// itself (deleteLater) once closed, after emitting closed() — hold it in a QPointer.
#pragma once

#include <QObject>
#include <QTimer>

#include "server/http_request_parser.h"

class QTcpSocket;

namespace strata::app {

struct HttpTimeouts {
    int requestMs = 10000;  // from a request's first byte to its last
    int idleMs = 60000;     // between requests on a kept-alive connection
};

class HttpConnection : public QObject {
    Q_OBJECT
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    // Takes ownership of `socket` (a connected one, as QTcpServer hands it out).
    HttpConnection(QTcpSocket* socket, HttpLimits limits, HttpTimeouts timeouts, QObject* parent = nullptr);
    ~HttpConnection() override;

    bool isOpen() const { return m_open; }

    // ---- answering the request last given by requestReceived: respond() once, or
    // beginStream(), any number of writeStream() and endStream().
    void respond(int status, const QByteArray& body, const QByteArray& contentType = "application/json",
                 const Headers& extraHeaders = {});
    void beginStream(int status, const QByteArray& contentType);
    void writeStream(const QByteArray& data);
    // closeConnection: do not keep the connection for another request (after an error).
    void endStream(bool closeConnection = false);

    // The Access-Control-Allow-Origin value for the answer to the request being answered ("*", an
    // origin, or empty for none). Reset for every request.
    void setCorsOrigin(const QByteArray& origin) { m_corsOrigin = origin; }

    // Drops the connection now, without an answer (the server is shutting down).
    void abort();

    static QByteArray reasonPhrase(int status);

signals:
    // A complete request arrived; the receiver must answer it (see above). Emitted only while
    // no other request of this connection is unanswered.
    void requestReceived(strata::app::HttpConnection* connection, const strata::app::HttpRequest& request);
    // The client went away or the connection was closed (emitted once; answers are dropped).
    void closed(strata::app::HttpConnection* connection);

private:
    void onReadyRead();
    void processBuffer();
    void onTimeout();
    void finish();
    void closeAfterWrite();
    void sendError(int status, const QString& message);
    void send(const QByteArray& bytes);
    QByteArray responseHead(int status, const QByteArray& contentType, const Headers& extra, qint64 length);
    void answered();

    enum class Timer { none, idle, request, closing };

    QTcpSocket* m_socket;  // owned (child)
    HttpRequestParser m_parser;
    HttpLimits m_limits;
    HttpTimeouts m_timeouts;
    QTimer m_timer;
    Timer m_timerKind = Timer::none;
    bool m_open = true;
    bool m_busy = false;        // a request was handed out and is not answered yet
    bool m_keepAlive = true;    // of the request being answered
    bool m_chunked = false;     // the stream being written uses chunked transfer coding
    bool m_streaming = false;
    bool m_closing = false;     // no more requests: close once the answer is written
    QByteArray m_corsOrigin;    // of the request being answered (setCorsOrigin)
    int m_minorVersion = 1;     // of the request being answered
};

}  // namespace strata::app
