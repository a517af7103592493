// A raw HTTP/1.1 client for the API server tests: sends exact bytes (malformed, split, pipelined)
// over a real loopback socket and parses the answers strictly (Content-Length, chunked or
// close-delimited bodies), spinning the event loop while it waits, since the server under test
// runs on the same thread. Also: parsing of server-sent event streams.
#pragma once

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QTcpSocket>
#include <QTest>
#include <optional>

namespace strata::test {

struct HttpReply {
    int status = 0;
    QMap<QByteArray, QByteArray> headers;  // names in lower case
    QByteArray body;                       // without chunk framing
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString errorMessage() const { return json().value("error").toObject().value("message").toString(); }
    QString errorType() const { return json().value("error").toObject().value("type").toString(); }
};

// Takes one response off the front of `buf`; false while it is incomplete. `eof`: the server
// closed the connection (the end of a body without length).
inline bool takeReply(QByteArray& buf, bool eof, HttpReply& out) {
    const qsizetype headEnd = buf.indexOf("\r\n\r\n");
    if (headEnd < 0) return false;
    HttpReply r;
    QList<QByteArray> lines = buf.left(headEnd).split('\n');
    for (QByteArray& l : lines) l = l.trimmed();
    const QList<QByteArray> statusLine = lines.takeFirst().split(' ');
    if (statusLine.size() < 2 || !statusLine[0].startsWith("HTTP/1.")) return false;
    r.status = statusLine[1].toInt();
    for (const QByteArray& l : lines) {
        const qsizetype colon = l.indexOf(':');
        r.headers.insert(l.left(colon).trimmed().toLower(), l.mid(colon + 1).trimmed());
    }
    qsizetype pos = headEnd + 4;
    if (r.status < 200) {  // an interim answer (100 Continue) has no body
    } else if (r.headers.contains("content-length")) {
        const qsizetype n = r.headers.value("content-length").toLongLong();
        if (buf.size() < pos + n) return false;
        r.body = buf.mid(pos, n);
        pos += n;
    } else if (r.headers.value("transfer-encoding") == "chunked") {
        while (true) {
            const qsizetype lineEnd = buf.indexOf("\r\n", pos);
            if (lineEnd < 0) return false;
            bool ok = false;
            const qsizetype n = buf.mid(pos, lineEnd - pos).toLongLong(&ok, 16);
            if (!ok) return false;
            if (buf.size() < lineEnd + 2 + n + 2) return false;
            if (n == 0) {
                pos = lineEnd + 4;
                break;
            }
            r.body += buf.mid(lineEnd + 2, n);
            pos = lineEnd + 2 + n + 2;
        }
    } else {
        if (!eof) return false;
        r.body = buf.mid(pos);
        pos = buf.size();
    }
    buf.remove(0, pos);
    out = r;
    return true;
}

class RawClient {
public:
    explicit RawClient(quint16 port) { m_socket.connectToHost(QHostAddress::LocalHost, port); }

    bool waitConnected(int timeoutMs = 3000) {
        return spinUntil([&] { return m_socket.state() == QAbstractSocket::ConnectedState; }, timeoutMs);
    }
    void send(const QByteArray& bytes) {
        waitConnected();  // a socket still connecting does not take writes
        m_socket.write(bytes);
        m_socket.flush();
    }
    std::optional<HttpReply> read(int timeoutMs = 5000) {
        HttpReply r;
        const bool ok = spinUntil([&] { return takeReply(m_buf, closed(), r); }, timeoutMs);
        return ok ? std::optional<HttpReply>(r) : std::nullopt;
    }
    // Waits until the received bytes contain `needle` (a streamed chunk).
    bool waitFor(const QByteArray& needle, int timeoutMs = 5000) {
        return spinUntil([&] { return m_buf.contains(needle); }, timeoutMs);
    }
    bool waitClosed(int timeoutMs = 3000) {
        return spinUntil([&] { return closed(); }, timeoutMs);
    }
    bool closed() const { return m_socket.state() == QAbstractSocket::UnconnectedState; }
    void abort() { m_socket.abort(); }
    QTcpSocket& socket() { return m_socket; }

private:
    template <class F>
    bool spinUntil(F done, int timeoutMs) {
        QElapsedTimer t;
        t.start();
        while (true) {
            m_buf += m_socket.readAll();
            if (done()) return true;
            if (t.elapsed() > timeoutMs) return false;
            QTest::qWait(1);
        }
    }

    QTcpSocket m_socket;
    QByteArray m_buf;
};

// A request with the headers every test sends.
inline QByteArray httpRequest(const QByteArray& method, const QByteArray& path, const QByteArray& body = {},
                              const QByteArray& extraHeaders = {}) {
    QByteArray r = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extraHeaders;
    if (!body.isEmpty() || method == "POST")
        r += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    return r + "\r\n" + body;
}

// A server-sent event stream of OpenAI chunks.
struct SseStream {
    QList<QJsonObject> chunks;  // every data: line but [DONE], in order
    bool done = false;          // data: [DONE] came, and came last
    bool wellFormed = true;     // every event a "data: " line with a JSON object
    QString text;               // the content deltas (chat) or texts (completions) joined
    QString finishReason;
    QJsonObject usage;
};

inline SseStream parseSse(const QByteArray& body) {
    SseStream s;
    for (const QByteArray& event : body.split('\n')) {
        if (event.isEmpty()) continue;
        if (!event.startsWith("data: ") || s.done) {
            s.wellFormed = false;
            continue;
        }
        const QByteArray payload = event.mid(6);
        if (payload == "[DONE]") {
            s.done = true;
            continue;
        }
        const QJsonDocument d = QJsonDocument::fromJson(payload);
        if (!d.isObject()) {
            s.wellFormed = false;
            continue;
        }
        const QJsonObject o = d.object();
        s.chunks.append(o);
        if (o.contains("usage")) s.usage = o.value("usage").toObject();
        const QJsonArray choices = o.value("choices").toArray();
        if (choices.isEmpty()) continue;
        const QJsonObject c = choices.first().toObject();
        s.text += c.contains("delta") ? c.value("delta").toObject().value("content").toString() : c.value("text").toString();
        if (c.value("finish_reason").isString()) s.finishReason = c.value("finish_reason").toString();
    }
    return s;
}

}  // namespace strata::test
