// Tensor type table: block sizes and byte counts are format facts other code relies on.
#include <QtTest>

#include "strata/tensor_type.h"

using namespace strata;

class TestTensorType : public QObject {
    Q_OBJECT
private slots:
    void layouts_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("blockSize");
        QTest::addColumn<int>("blockBytes");
        QTest::newRow("F32") << 0 << 1 << 4;
        QTest::newRow("F16") << 1 << 1 << 2;
        QTest::newRow("Q4_0") << 2 << 32 << 18;
        QTest::newRow("Q4_1") << 3 << 32 << 20;
        QTest::newRow("Q5_0") << 6 << 32 << 22;
        QTest::newRow("Q5_1") << 7 << 32 << 24;
        QTest::newRow("Q8_0") << 8 << 32 << 34;
        QTest::newRow("Q2_K") << 10 << 256 << 84;
        QTest::newRow("Q3_K") << 11 << 256 << 110;
        QTest::newRow("Q4_K") << 12 << 256 << 144;
        QTest::newRow("Q5_K") << 13 << 256 << 176;
        QTest::newRow("Q6_K") << 14 << 256 << 210;
        QTest::newRow("Q8_K") << 15 << 256 << 292;
        QTest::newRow("BF16") << 30 << 1 << 2;
    }
    void layouts() {
        QFETCH(int, type);
        QFETCH(int, blockSize);
        QFETCH(int, blockBytes);
        const auto& tr = tensor_type_traits(static_cast<uint32_t>(type));
        QVERIFY(tr.known);
        QCOMPARE(tr.block_size, blockSize);
        QCOMPARE(static_cast<int>(tr.block_bytes), blockBytes);
        QCOMPARE(parse_tensor_type(QByteArray(tr.name).toLower().toStdString()).value(),
                 static_cast<TensorType>(type));
    }
    void unknownIds() {
        QVERIFY(!tensor_type_traits(4u).known);
        QVERIFY(!tensor_type_traits(1000u).known);
        QVERIFY(!parse_tensor_type("Q9_Z").has_value());
        QCOMPARE(tensor_row_bytes(TensorType::Q4_K, 512), size_t(288));
    }
};

QTEST_GUILESS_MAIN(TestTensorType)
#include "tst_tensor_type.moc"
