// Byte sizes ("1.5GiB") and device lists ("cpu:4GiB,cpu:2GiB:t2,cuda0,cuda1:20GiB").
#include <QtTest>

#include "strata/device_info.h"

using namespace strata;

class TestDeviceSpec : public QObject {
    Q_OBJECT
private slots:
    void byteSizes_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<quint64>("bytes");
        const quint64 K = 1024, M = K * K, G = M * K, T = G * K;
        QTest::newRow("bytes") << "100B" << quint64(100);
        QTest::newRow("KiB") << "4KiB" << 4 * K;
        QTest::newRow("MiB") << "512MiB" << 512 * M;
        QTest::newRow("GiB") << "4GiB" << 4 * G;
        QTest::newRow("TiB") << "2TiB" << 2 * T;
        QTest::newRow("KB is binary") << "3KB" << 3 * K;
        QTest::newRow("MB is binary") << "3MB" << 3 * M;
        QTest::newRow("GB is binary") << "20GB" << 20 * G;
        QTest::newRow("K") << "8K" << 8 * K;
        QTest::newRow("M") << "8M" << 8 * M;
        QTest::newRow("G") << "8G" << 8 * G;
        QTest::newRow("lower case") << "2gib" << 2 * G;
        QTest::newRow("space before unit") << "2 GiB" << 2 * G;
        QTest::newRow("surrounding space") << "  2GiB " << 2 * G;
        QTest::newRow("decimal") << "1.5GiB" << 3 * G / 2;
        QTest::newRow("decimal without leading digit") << ".5MiB" << M / 2;
        QTest::newRow("decimal rounds to nearest byte") << "0.1KiB" << quint64(102);
        QTest::newRow("many decimals") << "1.0000000000000000000001GiB" << G;
        QTest::newRow("zero") << "0B" << quint64(0);
        QTest::newRow("largest") << "16777215TiB" << quint64(16777215) * T;
    }
    void byteSizes() {
        QFETCH(QString, text);
        QFETCH(quint64, bytes);
        uint64_t got = 7;
        std::string error;
        QVERIFY2(parse_byte_size(text.toStdString(), got, error), error.c_str());
        QCOMPARE(got, bytes);
    }

    void badByteSizes_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("says");
        QTest::newRow("empty") << "" << "does not start with a number";
        QTest::newRow("no number") << "GiB" << "does not start with a number";
        QTest::newRow("negative") << "-1GiB" << "does not start with a number";
        QTest::newRow("no unit") << "4096" << "has no unit";
        QTest::newRow("unknown unit") << "4XB" << "unknown unit 'XB'";
        QTest::newRow("bits") << "4Gb bits" << "unknown unit";
        QTest::newRow("lone dot") << ".GiB" << "no digits after its '.'";
        QTest::newRow("dot without decimals") << "5.GiB" << "no digits after its '.'";
        QTest::newRow("two dots") << "1.2.3GiB" << "unknown unit '.3GiB'";
        QTest::newRow("too large") << "16777216TiB" << "too large";
        QTest::newRow("far too large") << "99999999999999999999999999GiB" << "too large";
    }
    void badByteSizes() {
        QFETCH(QString, text);
        QFETCH(QString, says);
        uint64_t got = 0;
        std::string error;
        QVERIFY(!parse_byte_size(text.toStdString(), got, error));
        QVERIFY2(QString::fromStdString(error).contains(says), error.c_str());
        QVERIFY2(QString::fromStdString(error).contains("'" + text + "'"), error.c_str());
    }

    void deviceLists() {
        std::vector<DeviceSpec> specs;
        std::string error;
        QVERIFY2(parse_device_specs("cpu:4GiB,cpu:2GiB:t2,cuda0,cuda1:20GiB", specs, error), error.c_str());
        QCOMPARE(specs.size(), size_t(4));
        QCOMPARE(specs[0].kind, std::string("cpu"));
        QCOMPARE(specs[0].memory_cap, uint64_t(4) << 30);
        QCOMPARE(specs[0].n_threads, 0);
        QCOMPARE(specs[1].memory_cap, uint64_t(2) << 30);
        QCOMPARE(specs[1].n_threads, 2);
        QCOMPARE(specs[2].kind, std::string("cuda"));
        QCOMPARE(specs[2].index, 0);
        QCOMPARE(specs[2].memory_cap, uint64_t(0));
        QCOMPARE(specs[3].index, 1);
        QCOMPARE(specs[3].memory_cap, uint64_t(20) << 30);
        for (const DeviceSpec& s : specs) QCOMPARE(s.fail_after_ops, 0);

        QVERIFY(parse_device_specs(" CPU : 1.5GiB : fail-after=200 , cuda12:t1x", specs, error) == false);
        QVERIFY(parse_device_specs(" CPU : 1.5GiB : fail-after=200 , cuda12", specs, error));
        QCOMPARE(specs.size(), size_t(2));
        QCOMPARE(specs[0].memory_cap, uint64_t(3) << 29);
        QCOMPARE(specs[0].fail_after_ops, 200);
        QCOMPARE(specs[1].index, 12);

        QVERIFY(parse_device_specs("cpu:t16:512MiB", specs, error));  // options in any order
        QCOMPARE(specs[0].n_threads, 16);
        QCOMPARE(specs[0].memory_cap, uint64_t(512) << 20);
        QVERIFY(parse_device_specs("cuda1:fail-after=3", specs, error));
        QCOMPARE(specs[0].fail_after_ops, 3);
    }

    void badDeviceLists_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("says");
        QTest::newRow("empty") << "" << "no devices given";
        QTest::newRow("blank") << "  " << "no devices given";
        QTest::newRow("empty item") << "cpu,,cuda0" << "device 2 is empty";
        QTest::newRow("trailing comma") << "cpu," << "device 2 is empty";
        QTest::newRow("unknown kind") << "cpu,gpu0" << "device 2 'gpu0': unknown device kind 'gpu0'";
        QTest::newRow("cuda without index") << "cuda" << "device 1 'cuda': name a GPU by its index";
        QTest::newRow("cuda bad index") << "cudaX" << "name a GPU by its index";
        QTest::newRow("same GPU twice") << "cuda0,cuda1,cuda0" << "device 3 'cuda0': cuda0 is listed twice";
        QTest::newRow("bad size") << "cpu:4QB" << "device 1 'cpu:4QB': size '4QB' has unknown unit 'QB'";
        QTest::newRow("size without unit") << "cpu:4" << "has no unit";
        QTest::newRow("zero cap") << "cpu:0GiB" << "must be more than 0 bytes";
        QTest::newRow("two caps") << "cpu:1GiB:2GiB" << "more than one memory cap";
        QTest::newRow("threads on a GPU") << "cuda0:t4" << "applies to cpu devices only";
        QTest::newRow("zero threads") << "cpu:t0" << "thread count 't0' must be";
        QTest::newRow("too many threads") << "cpu:t99999" << "thread count";
        QTest::newRow("two thread counts") << "cpu:t2:t3" << "thread count 't3'";
        QTest::newRow("fail-after 0") << "cpu:fail-after=0" << "fail-after needs";
        QTest::newRow("fail-after text") << "cpu:fail-after=soon" << "fail-after needs";
        QTest::newRow("empty option") << "cpu::1GiB" << "empty option";
        QTest::newRow("unknown option") << "cpu:fast" << "unknown option 'fast'";
    }
    void badDeviceLists() {
        QFETCH(QString, text);
        QFETCH(QString, says);
        std::vector<DeviceSpec> specs;
        std::string error;
        QVERIFY(!parse_device_specs(text.toStdString(), specs, error));
        QVERIFY2(QString::fromStdString(error).contains(says), error.c_str());
    }
};

QTEST_GUILESS_MAIN(TestDeviceSpec)
#include "tst_device_spec.moc"
