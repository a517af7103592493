// HttpRequestParser: an incremental HTTP/1.1 request parser for the local API server. Bytes go
// in as they arrive from the socket (in any split); complete requests come out one at a time,
// so pipelined requests are answered in order. Only what a JSON API needs: request line,
// headers, a body sized by Content-Length. Chunked request bodies are refused (501) rather than
// half-supported, and every size is bounded, so a hostile client costs at most the limits.
// Plain value-type object; not thread-safe (one per connection, used on its thread).
#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace strata::app {

struct HttpRequest {
    QByteArray method;   // "GET", "POST", ... (case-sensitive, as HTTP says)
    QByteArray target;   // as sent: "/v1/models?x=1"
    QByteArray path;     // target without the query: "/v1/models"
    int minorVersion = 1;  // HTTP/1.<minorVersion>
    QList<QPair<QByteArray, QByteArray>> headers;  // names lower-cased, values trimmed, in order
    QByteArray body;

    // The first value of a header (name in lower case), or a null QByteArray.
    QByteArray header(const QByteArray& lowerName) const;
    // HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0 only with "keep-alive".
    bool keepAlive() const;
};

struct HttpLimits {
    qsizetype maxHeaderBytes = 16 * 1024;       // request line + headers
    int maxHeaders = 100;
    qsizetype maxBodyBytes = 4 * 1024 * 1024;   // a long chat history is well under this
};

class HttpRequestParser {
public:
    enum class Result { incomplete, complete, error };

    explicit HttpRequestParser(HttpLimits limits = {}) : m_limits(limits) {}

    // Appends bytes as received.
    void feed(const QByteArray& data) { m_buffer += data; }
    // Takes the next complete request out of the buffered bytes. After `error` the parser stays
    // failed (the connection must answer errorStatus() and close: its framing is lost).
    Result next(HttpRequest& out);

    int errorStatus() const { return m_errorStatus; }      // 400, 413, 431, 501, 505
    QString errorMessage() const { return m_errorMessage; }
    // Bytes received and not yet returned as a request (a partial or pipelined request).
    qsizetype buffered() const { return m_buffer.size(); }
    // True while the headers of a request are in and its body is not, and the client asked
    // "Expect: 100-continue"; consumeExpectContinue() then says it once per request.
    bool consumeExpectContinue();

private:
    Result fail(int status, const QString& message);
    // Parses the header block buffer[0, headerEnd); fills m_pending and m_bodyLength.
    bool parseHead(qsizetype headerEnd);

    HttpLimits m_limits;
    QByteArray m_buffer;
    qsizetype m_scanned = 0;       // the blank line ending the headers is not before this offset
    qsizetype m_headLength = -1;   // >= 0: headers parsed, body follows at this offset
    qsizetype m_bodyLength = 0;
    bool m_expectContinue = false;
    HttpRequest m_pending;
    int m_errorStatus = 0;
    QString m_errorMessage;
};

}  // namespace strata::app
