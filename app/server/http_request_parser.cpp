#include "server/http_request_parser.h"

namespace strata::app {

namespace {

// RFC 9110 token characters (method and header names).
bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
        case '.': case '^': case '_': case '`': case '|': case '~': return true;
        default: return false;
    }
}

bool isToken(const QByteArray& s) {
    if (s.isEmpty()) return false;
    for (char c : s)
        if (!isTokenChar(c)) return false;
    return true;
}

bool isDigits(const QByteArray& s) {
    if (s.isEmpty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// Control characters other than a tab cannot appear in a header value; a stray CR or NUL there
// is how response-splitting and smuggling attempts look.
bool isCleanValue(const QByteArray& s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    return true;
}

}  // namespace

QByteArray HttpRequest::header(const QByteArray& lowerName) const {
    for (const auto& [name, value] : headers)
        if (name == lowerName) return value;
    return {};
}

bool HttpRequest::keepAlive() const {
    const QByteArray c = header("connection").toLower();
    if (minorVersion == 0) return c.contains("keep-alive");
    return !c.contains("close");
}

HttpRequestParser::Result HttpRequestParser::fail(int status, const QString& message) {
    m_errorStatus = status;
    m_errorMessage = message;
    return Result::error;
}

bool HttpRequestParser::consumeExpectContinue() {
    if (m_headLength < 0 || !m_expectContinue || m_buffer.size() - m_headLength >= m_bodyLength) return false;
    m_expectContinue = false;
    return true;
}

HttpRequestParser::Result HttpRequestParser::next(HttpRequest& out) {
    if (m_errorStatus) return Result::error;
    if (m_headLength < 0) {
        // A server should ignore empty lines before a request line (RFC 9112 §2.2): some
        // clients send a CRLF after a POST body.
        if (m_scanned == 0) {
            qsizetype lead = 0;
            while (lead < m_buffer.size() && (m_buffer[lead] == '\r' || m_buffer[lead] == '\n')) ++lead;
            m_buffer.remove(0, lead);
        }
        // Find the blank line that ends the headers: LF followed by LF or CRLF. Scanning
        // resumes where the last call stopped, so a request trickling in byte by byte costs
        // linear time, not quadratic.
        qsizetype blockEnd = -1, headEnd = -1;
        qsizetype from = m_scanned;
        while (true) {
            const qsizetype lf = m_buffer.indexOf('\n', from);
            if (lf < 0) {
                m_scanned = m_buffer.size();
                break;
            }
            if (lf + 1 < m_buffer.size() && m_buffer[lf + 1] == '\n') {
                blockEnd = lf;
                headEnd = lf + 2;
                break;
            }
            if (lf + 2 < m_buffer.size() && m_buffer[lf + 1] == '\r' && m_buffer[lf + 2] == '\n') {
                blockEnd = lf;
                headEnd = lf + 3;
                break;
            }
            if (lf + 2 >= m_buffer.size()) {  // the bytes that decide have not arrived yet
                m_scanned = lf;
                break;
            }
            from = lf + 1;
        }
        if (headEnd < 0) {
            if (m_buffer.size() > m_limits.maxHeaderBytes)
                return fail(431, QStringLiteral("the request line and headers are longer than %1 bytes")
                                     .arg(m_limits.maxHeaderBytes));
            return Result::incomplete;
        }
        if (headEnd > m_limits.maxHeaderBytes)
            return fail(431, QStringLiteral("the request line and headers are longer than %1 bytes")
                                 .arg(m_limits.maxHeaderBytes));
        if (!parseHead(blockEnd)) return Result::error;
        m_headLength = headEnd;
    }
    if (m_buffer.size() - m_headLength < m_bodyLength) return Result::incomplete;

    out = std::move(m_pending);
    out.body = m_buffer.mid(m_headLength, m_bodyLength);
    m_buffer.remove(0, m_headLength + m_bodyLength);
    m_pending = HttpRequest{};
    m_headLength = -1;
    m_scanned = 0;
    m_bodyLength = 0;
    m_expectContinue = false;
    return Result::complete;
}

bool HttpRequestParser::parseHead(qsizetype blockEnd) {
    QList<QByteArray> lines = m_buffer.left(blockEnd).split('\n');
    for (QByteArray& l : lines)
        if (l.endsWith('\r')) l.chop(1);

    // ---- request line: METHOD SP target SP HTTP/1.x
    const QList<QByteArray> parts = lines.first().split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || parts[1].isEmpty()) {
        fail(400, QStringLiteral("malformed request line (expected: METHOD /path HTTP/1.1)"));
        return false;
    }
    const QByteArray& version = parts[2];
    if (version == "HTTP/1.1" || version == "HTTP/1.0") {
        m_pending.minorVersion = version.back() - '0';
    } else if (version.size() == 8 && version.startsWith("HTTP/") && version[6] == '.') {
        fail(505, QStringLiteral("only HTTP/1.0 and HTTP/1.1 are supported"));
        return false;
    } else {
        fail(400, QStringLiteral("malformed request line (expected: METHOD /path HTTP/1.1)"));
        return false;
    }
    const QByteArray& target = parts[1];
    if ((target[0] != '/' && target != "*") || !isCleanValue(target)) {
        fail(400, QStringLiteral("the request target must be a path starting with '/'"));
        return false;
    }
    m_pending.method = parts[0];
    m_pending.target = target;
    const qsizetype q = target.indexOf('?');
    m_pending.path = q < 0 ? target : target.left(q);

    // ---- header fields
    if (lines.size() - 1 > m_limits.maxHeaders) {
        fail(431, QStringLiteral("more than %1 header fields").arg(m_limits.maxHeaders));
        return false;
    }
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray& line = lines[i];
        if (line.startsWith(' ') || line.startsWith('\t')) {
            fail(400, QStringLiteral("folded header lines are not allowed (RFC 9112 §5.2)"));
            return false;
        }
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = colon > 0 ? line.left(colon) : QByteArray();
        if (!isToken(name)) {
            fail(400, QStringLiteral("malformed header line %1").arg(i + 1));
            return false;
        }
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (!isCleanValue(value)) {
            fail(400, QStringLiteral("control characters in header '%1'").arg(QString::fromLatin1(name)));
            return false;
        }
        m_pending.headers.append({name.toLower(), value});
    }

    // ---- framing: Content-Length only. Differing lengths, or a length beside
    // Transfer-Encoding, are how request smuggling works: refuse them.
    QByteArray length;
    bool haveLength = false;
    for (const auto& [name, value] : m_pending.headers) {
        if (name == "transfer-encoding") {
            fail(501, QStringLiteral("chunked (Transfer-Encoding) request bodies are not supported: send Content-Length"));
            return false;
        }
        if (name != "content-length") continue;
        for (const QByteArray& v : value.split(',')) {
            const QByteArray t = v.trimmed();
            if (!isDigits(t) || t.size() > 18) {
                fail(400, QStringLiteral("Content-Length is not a number: '%1'").arg(QString::fromLatin1(value)));
                return false;
            }
            if (haveLength && t.toLongLong() != length.toLongLong()) {
                fail(400, QStringLiteral("conflicting Content-Length values"));
                return false;
            }
            length = t;
            haveLength = true;
        }
    }
    m_bodyLength = haveLength ? length.toLongLong() : 0;
    if (m_bodyLength > m_limits.maxBodyBytes) {
        fail(413, QStringLiteral("the request body is %1 bytes; the limit is %2").arg(m_bodyLength).arg(m_limits.maxBodyBytes));
        return false;
    }
    if (m_pending.minorVersion == 1 && m_pending.header("host").isNull()) {
        fail(400, QStringLiteral("HTTP/1.1 requests must have a Host header"));
        return false;
    }
    m_expectContinue = m_pending.minorVersion == 1 && m_bodyLength > 0 &&
                       m_pending.header("expect").toLower() == "100-continue";
    return true;
}

}  // namespace strata::app
