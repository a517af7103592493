// HttpRequestParser: the same requests come out whatever way the bytes are split (whole, byte
// by byte, in pieces), pipelined requests come out in order, and malformed, oversized or
// smuggling-shaped input is refused with the right status; keep-alive and 100-continue rules.
#include <QtTest>

#include "server/http_request_parser.h"

using namespace strata::app;

class TestHttpRequestParser : public QObject {
    Q_OBJECT
private slots:
    void parserHandlesAnySplit_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QStringList>("requests");  // "METHOD path body" per complete request
        QTest::addColumn<int>("errorStatus");       // 0: none
        const QByteArray get = "GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n";
        QTest::newRow("GET") << get << QStringList{"GET /v1/models "} << 0;
        QTest::newRow("POST with body") << QByteArray("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
                                        << QStringList{"POST /x hello"} << 0;
        QTest::newRow("pipelined") << get + "POST /y HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}" + get
                                   << QStringList{"GET /v1/models ", "POST /y {}", "GET /v1/models "} << 0;
        QTest::newRow("bare LF line ends") << QByteArray("GET /a HTTP/1.1\nHost: a\n\n") << QStringList{"GET /a "} << 0;
        QTest::newRow("CRLF before the request") << "\r\n" + get << QStringList{"GET /v1/models "} << 0;
        QTest::newRow("query is not the path") << QByteArray("GET /v1/models?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
                                               << QStringList{"GET /v1/models "} << 0;
        QTest::newRow("HTTP/1.0 needs no Host") << QByteArray("GET /h HTTP/1.0\r\n\r\n") << QStringList{"GET /h "} << 0;
        QTest::newRow("body longer than Content-Length") << QByteArray("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhello")
                                                         << QStringList{"POST /x he"} << 0;
        QTest::newRow("garbage") << QByteArray("HELLO\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("second request malformed") << get + "GET  /two spaces HTTP/1.1\r\n\r\n" << QStringList{"GET /v1/models "} << 400;
        QTest::newRow("HTTP/2.0") << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n") << QStringList{} << 505;
        QTest::newRow("no Host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("target not a path") << QByteArray("GET v1 HTTP/1.1\r\nHost: a\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("header without colon") << QByteArray("GET / HTTP/1.1\r\nHost a\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("folded header") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("CR inside a value") << QByteArray("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("length not a number") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") << QStringList{} << 400;
        QTest::newRow("conflicting lengths") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
                                             << QStringList{} << 400;
        QTest::newRow("chunked body") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                                      << QStringList{} << 501;
        QTest::newRow("body too large") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n") << QStringList{} << 413;
        QTest::newRow("headers too large") << "GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(20000, 'x') + "\r\n\r\n" << QStringList{} << 431;
        QTest::newRow("endless header line") << "GET / HTTP/1.1\r\nX: " + QByteArray(20000, 'x') << QStringList{} << 431;
    }
    void parserHandlesAnySplit() {
        QFETCH(QByteArray, input);
        QFETCH(QStringList, requests);
        QFETCH(int, errorStatus);
        // Whole, byte by byte, and in 7-byte pieces: the same requests come out.
        for (const qsizetype step : {input.size(), qsizetype(1), qsizetype(7)}) {
            HttpRequestParser p;
            QStringList got;
            int status = 0;
            for (qsizetype at = 0; at < input.size() && status == 0; at += step) {
                p.feed(input.mid(at, step));
                HttpRequest r;
                HttpRequestParser::Result res;
                while ((res = p.next(r)) == HttpRequestParser::Result::complete)
                    got.append(QString::fromLatin1(r.method + ' ' + r.path + ' ' + r.body));
                if (res == HttpRequestParser::Result::error) {
                    status = p.errorStatus();
                    QVERIFY(!p.errorMessage().isEmpty());
                }
            }
            QCOMPARE(got, requests);
            QCOMPARE(status, errorStatus);
        }
    }

    void keepAliveFollowsVersionAndHeader_data() {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<bool>("keepAlive");
        QTest::newRow("1.1") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\n") << true;
        QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n") << false;
        QTest::newRow("1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false;
        QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << true;
    }
    void keepAliveFollowsVersionAndHeader() {
        QFETCH(QByteArray, head);
        QFETCH(bool, keepAlive);
        HttpRequestParser p;
        p.feed(head);
        HttpRequest r;
        QCOMPARE(p.next(r), HttpRequestParser::Result::complete);
        QCOMPARE(r.keepAlive(), keepAlive);
    }

    void headersAreLowerCasedAndTrimmed() {
        HttpRequestParser p;
        p.feed("POST /v1/x?y HTTP/1.1\r\nHOST:  example \r\nX-Thing:\tA b\t\r\nx-thing: second\r\n\r\n");
        HttpRequest r;
        QCOMPARE(p.next(r), HttpRequestParser::Result::complete);
        QCOMPARE(r.target, QByteArray("/v1/x?y"));
        QCOMPARE(r.header("host"), QByteArray("example"));
        QCOMPARE(r.header("x-thing"), QByteArray("A b"));  // the first of two
        QVERIFY(r.header("absent").isNull());
        QCOMPARE(p.buffered(), 0);
    }

    void expectContinueIsSaidOncePerRequest() {
        HttpRequestParser p;
        p.feed("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
        HttpRequest r;
        QCOMPARE(p.next(r), HttpRequestParser::Result::incomplete);
        QVERIFY(p.consumeExpectContinue());
        QVERIFY(!p.consumeExpectContinue());
        p.feed("ab");
        QCOMPARE(p.next(r), HttpRequestParser::Result::incomplete);
        QVERIFY(!p.consumeExpectContinue());
        p.feed("cd");
        QCOMPARE(p.next(r), HttpRequestParser::Result::complete);
        QCOMPARE(r.body, QByteArray("abcd"));

        // The body came with the headers: nothing to wait for, nothing to say.
        p.feed("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
        QCOMPARE(p.next(r), HttpRequestParser::Result::complete);
        QVERIFY(!p.consumeExpectContinue());
    }

    void anErrorIsFinal() {
        HttpRequestParser p;
        p.feed("NOT HTTP\r\n\r\n");
        HttpRequest r;
        QCOMPARE(p.next(r), HttpRequestParser::Result::error);
        p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        QCOMPARE(p.next(r), HttpRequestParser::Result::error);  // framing is lost: no more requests
        QCOMPARE(p.errorStatus(), 400);
    }
};

QTEST_GUILESS_MAIN(TestHttpRequestParser)
#include "tst_http_request_parser.moc"
