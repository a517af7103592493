// Split GGUF sets (gguf/split_set.h, gguf/split_writer.h): a seeded random model written as one
// file and as 3 parts reads the same through any part, loads to bitwise the same logits, plans
// and inspects as one model of the total size; a missing part, a part of another set and
// hostile split keys are refused with errors naming the file; the writer balances parts and
// leaves nothing behind when it fails.
#include <QtTest>

#include <cstring>
#include <functional>
#include <limits>
#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf/split_set.h"
#include "gguf/split_writer.h"
#include "gguf_test_util.h"
#include "strata/engine.h"
#include "strata/model_info.h"
#include "test_models.h"

using namespace strata;
using gguf::GgufFile;

namespace {

RandomModelConfig smallConfig(uint64_t seed, int64_t n_layer = 3) {
    RandomModelConfig c;
    c.n_vocab = 300;
    c.n_embd = 64;
    c.n_layer = n_layer;
    c.n_head = 4;
    c.n_head_kv = 2;
    c.n_ff = 96;
    c.seed = seed;
    return c;
}

LoadOptions cpuOptions() {
    LoadOptions o;
    DeviceSpec cpu;
    cpu.kind = "cpu";
    o.devices = {cpu};
    o.n_ctx = 64;
    o.n_batch = 16;
    o.kv_type = KvCacheType::f32;
    o.n_threads = 2;
    return o;
}

bool isSplitKey(const std::string& key) {
    return key == gguf::kSplitNoKey || key == gguf::kSplitCountKey || key == gguf::kSplitTensorsCountKey;
}

QString msg(const Status& s) { return QString::fromStdString(s.message()); }

// A hand-made part: split keys set by `keys`, one small F32 tensor per name.
void writePart(const QString& path, const std::vector<std::string>& tensors,
               const std::function<void(gguf::GgufWriter&)>& keys, uint32_t seed) {
    gguf::GgufWriter w;
    w.set_string("general.architecture", "llama");
    keys(w);
    for (const std::string& name : tensors) {
        QVERIFY(w.add_tensor(name, TensorType::F32, {8}, test::randomBytes(32, seed++)).ok());
    }
    const Status st = w.write(path.toStdString());
    QVERIFY2(st.ok(), st.message().c_str());
}

std::function<void(gguf::GgufWriter&)> splitKeys(int no, int count, int total) {
    return [=](gguf::GgufWriter& w) {
        w.set_u16(std::string(gguf::kSplitNoKey), static_cast<uint16_t>(no));
        w.set_u16(std::string(gguf::kSplitCountKey), static_cast<uint16_t>(count));
        w.set_i32(std::string(gguf::kSplitTensorsCountKey), total);
    };
}

}  // namespace

class TestGgufSplit : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString single_;            // the model as one file
    QStringList parts_;         // the same model as 3 parts
    std::unique_ptr<GgufFile> singleFile_;

    QString path(const QString& name) const { return dir_.filePath(name); }

    // A fresh folder holding a copy of the 3-part set, named `<name>-0000k-of-00003.gguf`.
    QStringList copySet(const QString& folder) {
        QDir().mkpath(path(folder));
        QStringList out;
        for (int k = 0; k < parts_.size(); ++k) {
            out << path(QStringLiteral("%1/set-%2-of-00003.gguf").arg(folder).arg(k + 1, 5, 10, QLatin1Char('0')));
            QFile::remove(out.back());
            if (!QFile::copy(parts_[k], out.back())) return {};
        }
        return out;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QString err;
        single_ = test::writeRandomModel(dir_, QStringLiteral("single"), smallConfig(4242), &err);
        QVERIFY2(!single_.isEmpty(), qPrintable(err));
        auto f = GgufFile::open(single_.toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        singleFile_ = std::move(f).value();
        QVERIFY(!singleFile_->is_split());
        QCOMPARE(singleFile_->parts().size(), size_t(1));
        auto written = gguf::write_split_set(*singleFile_, path(QStringLiteral("set")).toStdString(), 3);
        QVERIFY2(written.ok(), written.status().message().c_str());
        QCOMPARE(written->size(), size_t(3));
        for (const std::string& p : *written) parts_ << QString::fromStdString(p);
        QCOMPARE(parts_[0], path(QStringLiteral("set-00001-of-00003.gguf")));
        QCOMPARE(parts_[2], path(QStringLiteral("set-00003-of-00003.gguf")));
        for (const QString& p : parts_) QVERIFY(!QFile::exists(p + QStringLiteral(".partial")));
    }

    // Whichever part is opened, the set reads as the single file: same metadata (plus the split
    // keys), same tensors with the same bytes, the first part's path and the total size.
    void anyPartOpensTheWholeSet_data() {
        QTest::addColumn<int>("part");
        QTest::newRow("part 1") << 0;
        QTest::newRow("part 2") << 1;
        QTest::newRow("part 3") << 2;
    }
    void anyPartOpensTheWholeSet() {
        QFETCH(int, part);
        auto f = GgufFile::open(parts_[part].toStdString());
        QVERIFY2(f.ok(), f.status().message().c_str());
        const GgufFile& set = **f;
        const GgufFile& one = *singleFile_;
        QVERIFY(set.is_split());
        QCOMPARE(QString::fromStdString(set.path()), parts_[0]);
        QCOMPARE(set.parts().size(), size_t(3));
        uint64_t total = 0;
        size_t n_tensors = 0;
        for (int k = 0; k < 3; ++k) {
            const gguf::GgufPart& p = set.parts()[k];
            QCOMPARE(QString::fromStdString(p.path), parts_[k]);
            QCOMPARE(p.file_size, uint64_t(QFileInfo(parts_[k]).size()));
            QCOMPARE(p.first_tensor, n_tensors);
            QVERIFY(p.n_tensors >= 1);
            total += p.file_size;
            n_tensors += p.n_tensors;
        }
        QCOMPARE(set.file_size(), total);
        QVERIFY(set.file_size() > one.file_size());  // each part has its own header

        size_t n_keys = 0;
        for (const gguf::KeyValue& kv : set.metadata()) {
            if (isSplitKey(kv.key)) continue;
            ++n_keys;
            const gguf::Value* want = one.find(kv.key);
            QVERIFY2(want, kv.key.c_str());
            std::string why;
            QVERIFY2(test::sameValue(kv.value, *want, why), (kv.key + ": " + why).c_str());
        }
        QCOMPARE(n_keys, one.metadata().size());
        QCOMPARE(set.get_int(gguf::kSplitCountKey)->value_or(0), int64_t(3));

        QCOMPARE(set.tensors().size(), one.tensors().size());
        QCOMPARE(n_tensors, one.tensors().size());
        for (size_t i = 0; i < set.tensors().size(); ++i) {
            const gguf::TensorInfo& t = set.tensors()[i];
            const gguf::TensorInfo& w = one.tensors()[i];  // the writer keeps the order
            QCOMPARE(t.name, w.name);
            QCOMPARE(t.type, w.type);
            QCOMPARE(t.ne, w.ne);
            QCOMPARE(t.n_bytes, w.n_bytes);
            QVERIFY(std::memcmp(t.data, w.data, t.n_bytes) == 0);
            const gguf::GgufPart& p = set.parts()[t.part];
            QVERIFY(i >= p.first_tensor && i < p.first_tensor + p.n_tensors);
            QCOMPARE(set.find_tensor(t.name), &t);
        }
    }

    // The plan is cut by bytes: contiguous, every part non-empty, and no part much bigger than
    // its share plus one tensor. Impossible counts are refused.
    void planSplitBalancesBytes() {
        std::mt19937 rng(99);
        for (int trial = 0; trial < 200; ++trial) {
            std::vector<gguf::TensorInfo> tensors(1 + rng() % 40);
            uint64_t total = 0, biggest = 0;
            for (auto& t : tensors) {
                t.n_bytes = 1 + rng() % (rng() % 4 == 0 ? 1000000 : 5000);
                total += t.n_bytes;
                biggest = std::max(biggest, t.n_bytes);
            }
            const int64_t n_parts = 2 + int64_t(rng() % 6);
            auto plan = gguf::plan_split(tensors, n_parts);
            if (size_t(n_parts) > tensors.size()) {
                QVERIFY(!plan.ok());
                QCOMPARE(plan.status().code(), ErrorCode::invalid_argument);
                continue;
            }
            QVERIFY2(plan.ok(), plan.status().message().c_str());
            QCOMPARE(plan->size(), size_t(n_parts));
            size_t i = 0;
            for (size_t k = 0; k < plan->size(); ++k) {
                QVERIFY((*plan)[k] >= 1);
                uint64_t bytes = 0;
                for (size_t j = 0; j < (*plan)[k]; ++j) bytes += tensors[i++].n_bytes;
                QVERIFY2(bytes <= total / uint64_t(n_parts) + 2 * biggest + 1, qPrintable(QString::number(trial)));
            }
            QCOMPARE(i, tensors.size());
        }
        std::vector<gguf::TensorInfo> three(3);
        for (auto& t : three) t.n_bytes = 4;
        QVERIFY(!gguf::plan_split(three, 1).ok());
        QVERIFY(!gguf::plan_split(three, 0).ok());
        QVERIFY(!gguf::plan_split(three, 4).ok());
        QVERIFY(!gguf::plan_split(three, 65536).ok());
        QCOMPARE(*gguf::plan_split(three, 3), (std::vector<size_t>{1, 1, 1}));
    }

    // Loading the set (through its middle part) computes exactly what the single file does.
    void loadsToBitwiseTheSameLogits() {
        Engine engine;
        auto one = engine.load(single_.toStdString(), cpuOptions());
        QVERIFY2(one.ok(), one.status().message().c_str());
        auto set = engine.load(parts_[1].toStdString(), cpuOptions());
        QVERIFY2(set.ok(), set.status().message().c_str());
        auto s1 = (*one)->create_sequence();
        auto s2 = (*set)->create_sequence();
        QVERIFY(s1.ok() && s2.ok());
        std::vector<int32_t> prompt{1};
        uint32_t s = 17;
        for (int i = 0; i < 11; ++i) {
            s = s * 1664525u + 1013904223u;
            prompt.push_back(int32_t(3 + (s >> 8) % 290));
        }
        std::vector<float> a, b;
        QVERIFY((*s1)->eval(prompt, &a).ok());
        QVERIFY((*s2)->eval(prompt, &b).ok());
        for (int32_t tok : {5, 77, 123}) {
            QCOMPARE(a.size(), b.size());
            QVERIFY(!a.empty());
            float biggest = 0;
            for (float x : a) biggest = std::max(biggest, std::abs(x));
            QVERIFY(biggest > 0.1f);  // a dead model would make the comparison vacuous
            QVERIFY2(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, "logits differ");
            QVERIFY((*s1)->eval({tok}, &a).ok());
            QVERIFY((*s2)->eval({tok}, &b).ok());
        }
        QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    }

    // inspect_model and the planner see one model: the first part's path, the total size,
    // the same weights and the same plan as the single file.
    void inspectsAndPlansAsOneModel() {
        auto info = inspect_model(parts_[2].toStdString());
        QVERIFY2(info.ok(), info.status().message().c_str());
        auto one = inspect_model(single_.toStdString());
        QVERIFY(one.ok());
        uint64_t total = 0;
        for (const QString& p : parts_) total += uint64_t(QFileInfo(p).size());
        QCOMPARE(QString::fromStdString(info->path), parts_[0]);
        QCOMPARE(info->file_size, total);
        QCOMPARE(info->n_params, one->n_params);
        QCOMPARE(info->weight_bytes, one->weight_bytes);
        QCOMPARE(info->n_layer, one->n_layer);
        QCOMPARE(info->name, one->name);

        Engine engine;
        auto a = engine.plan(single_.toStdString(), cpuOptions());
        auto b = engine.plan(parts_[1].toStdString(), cpuOptions());
        QVERIFY2(a.ok(), a.status().message().c_str());
        QVERIFY2(b.ok(), b.status().message().c_str());
        QVERIFY(b->plan.fits);
        QCOMPARE(b->info.file_size, total);
        QCOMPARE(b->plan.devices.size(), a->plan.devices.size());
        for (size_t d = 0; d < a->plan.devices.size(); ++d) {
            QCOMPARE(b->plan.devices[d].weight_bytes, a->plan.devices[d].weight_bytes);
            QCOMPARE(b->plan.devices[d].kv_bytes, a->plan.devices[d].kv_bytes);
        }
    }

    // The name a set is known by, from any part's name alone (the app waits for it when a part
    // is given on the command line).
    void setPathFromAnyPartName() {
        QCOMPARE(model_set_path("/m/x-00002-of-00003.gguf"), std::string("/m/x-00001-of-00003.gguf"));
        QCOMPARE(model_set_path("/m/x-00001-of-00003.gguf"), std::string("/m/x-00001-of-00003.gguf"));
        QCOMPARE(model_set_path(parts_[2].toStdString()), parts_[0].toStdString());
        for (const char* whole : {"/m/x.gguf", "/m/x-00004-of-00003.gguf", "/m/x-00000-of-00003.gguf",
                                  "/m/x-0002-of-00003.gguf", "-00001-of-00002.gguf", "/m/x-00001-of-00002.bin"})
            QCOMPARE(model_set_path(whole), std::string(whole));
    }

    // A missing part is named, whichever part was opened; loading and inspecting say the same.
    void missingPartIsNamed() {
        const QStringList set = copySet(QStringLiteral("missing"));
        QCOMPARE(set.size(), 3);
        QVERIFY(QFile::remove(set[1]));
        for (int k : {0, 2}) {
            auto f = GgufFile::open(set[k].toStdString());
            QVERIFY(!f.ok());
            QCOMPARE(f.status().code(), ErrorCode::not_found);
            QVERIFY2(msg(f.status()).contains(set[1]), qPrintable(msg(f.status())));
            QVERIFY2(msg(f.status()).contains(QLatin1String("part 2 of 3")), qPrintable(msg(f.status())));
        }
        auto info = inspect_model(set[2].toStdString());
        QVERIFY(!info.ok());
        QVERIFY2(msg(info.status()).contains(set[1]), qPrintable(msg(info.status())));
        Engine engine;
        auto model = engine.load(set[0].toStdString(), cpuOptions());
        QVERIFY(!model.ok());
        QVERIFY2(msg(model.status()).contains(set[1]), qPrintable(msg(model.status())));
    }

    // A part of another set in place of one of ours is refused, naming the file and why.
    void partOfAnotherSetIsRefused_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("replaced");
        QTest::addColumn<QString>("why");
        QTest::newRow("another split.count") << "count" << 1 << "its split.count is 4, this set's is 3";
        QTest::newRow("another split.no") << "no" << 2 << "its split.no is 1 (part 2 of 3), its name says part 3 of 3";
        QTest::newRow("another split.tensors.count") << "tensors" << 1 << "its split.tensors.count is";
        QTest::newRow("a whole model") << "whole" << 2 << "it is a whole model";
    }
    void partOfAnotherSetIsRefused() {
        QFETCH(QString, kind);
        QFETCH(int, replaced);
        QFETCH(QString, why);
        const QStringList set = copySet(QStringLiteral("other-") + kind);
        QCOMPARE(set.size(), 3);
        QString source;
        if (kind == QLatin1String("count")) {
            auto w = gguf::write_split_set(*singleFile_, path(QStringLiteral("four")).toStdString(), 4);
            QVERIFY2(w.ok(), w.status().message().c_str());
            source = QString::fromStdString((*w)[1]);
        } else if (kind == QLatin1String("no")) {
            source = set[1];
        } else if (kind == QLatin1String("tensors")) {
            QString err;
            const QString other = test::writeRandomModel(dir_, QStringLiteral("two-layers"), smallConfig(7, 2), &err);
            QVERIFY2(!other.isEmpty(), qPrintable(err));
            auto f = GgufFile::open(other.toStdString());
            QVERIFY(f.ok());
            auto w = gguf::write_split_set(**f, path(QStringLiteral("two-layers")).toStdString(), 3);
            QVERIFY2(w.ok(), w.status().message().c_str());
            source = QString::fromStdString((*w)[1]);
        } else {
            source = single_;
        }
        QVERIFY(QFile::remove(set[replaced]));
        QVERIFY(QFile::copy(source, set[replaced]));
        auto f = GgufFile::open(set[0].toStdString());
        QVERIFY(!f.ok());
        QCOMPARE(f.status().code(), ErrorCode::corrupt);
        const QString m = msg(f.status());
        QVERIFY2(m.contains(set[replaced] + QStringLiteral(" is not part ")), qPrintable(m));
        QVERIFY2(m.contains(why), qPrintable(m));
    }

    // Split keys a converter would never write give clean errors naming the file and the key.
    void hostileSplitKeys_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("count");     // -1: not written
        QTest::addColumn<int>("no");        // -1: not written
        QTest::addColumn<int>("total");     // INT32_MIN: not written
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("expected");
        const int none = std::numeric_limits<int>::min();
        QTest::newRow("split.count 0") << "h-00001-of-00003.gguf" << 0 << 0 << 1 << int(ErrorCode::corrupt)
                                       << "key 'split.count' is 0";
        QTest::newRow("split.count 65535, plain name") << "h.gguf" << 65535 << 0 << 1 << int(ErrorCode::corrupt)
                                                       << "does not end in '-00001-of-65535.gguf'";
        QTest::newRow("split.count 65535, part name") << "h-00001-of-65535.gguf" << 65535 << 0 << 1
                                                      << int(ErrorCode::not_found)
                                                      << "part 2 of 65535 of this split set is missing";
        QTest::newRow("split.no out of range") << "h-00004-of-00003.gguf" << 3 << 3 << 1 << int(ErrorCode::corrupt)
                                               << "key 'split.no' is 3";
        QTest::newRow("split.no 65535") << "h-00001-of-00003.gguf" << 3 << 65535 << 1 << int(ErrorCode::corrupt)
                                        << "key 'split.no' is 65535";
        QTest::newRow("split.no missing") << "h-00001-of-00003.gguf" << 3 << -1 << 1 << int(ErrorCode::corrupt)
                                          << "key 'split.no' is missing";
        QTest::newRow("split.no set, count 1") << "h.gguf" << 1 << 2 << 1 << int(ErrorCode::corrupt)
                                               << "key 'split.no' is 2";
        QTest::newRow("split.tensors.count missing") << "h-00001-of-00003.gguf" << 3 << 0 << none
                                                     << int(ErrorCode::corrupt) << "key 'split.tensors.count' is missing";
        QTest::newRow("split.tensors.count negative") << "h-00001-of-00003.gguf" << 3 << 0 << -5
                                                      << int(ErrorCode::corrupt) << "key 'split.tensors.count' is -5";
    }
    void hostileSplitKeys() {
        QFETCH(QString, name);
        QFETCH(int, count);
        QFETCH(int, no);
        QFETCH(int, total);
        QFETCH(int, code);
        QFETCH(QString, expected);
        const QString folder = path(QStringLiteral("hostile-%1").arg(QTest::currentDataTag()));
        QVERIFY(QDir().mkpath(folder));
        const QString p = folder + QLatin1Char('/') + name;
        writePart(p, {"a"}, [&](gguf::GgufWriter& w) {
            if (count >= 0) w.set_u16(std::string(gguf::kSplitCountKey), uint16_t(count));
            if (no >= 0) w.set_u16(std::string(gguf::kSplitNoKey), uint16_t(no));
            if (total != std::numeric_limits<int>::min()) w.set_i32(std::string(gguf::kSplitTensorsCountKey), total);
        }, 1);
        auto f = GgufFile::open(p.toStdString());
        QVERIFY(!f.ok());
        QCOMPARE(int(f.status().code()), code);
        QVERIFY2(msg(f.status()).startsWith(p + QStringLiteral(": ")), qPrintable(msg(f.status())));
        QVERIFY2(msg(f.status()).contains(expected), qPrintable(msg(f.status())));
    }

    // Wrong types are refused too; split.count 1 (split.no 0) is a whole file.
    void splitKeyTypesAndOnePartSets() {
        const QString p = path(QStringLiteral("typed-00001-of-00003.gguf"));
        writePart(p, {"a"}, [](gguf::GgufWriter& w) { w.set_string(std::string(gguf::kSplitCountKey), "3"); }, 1);
        auto f = GgufFile::open(p.toStdString());
        QVERIFY(!f.ok());
        QVERIFY2(msg(f.status()).contains(QLatin1String("key 'split.count' has type string")), qPrintable(msg(f.status())));

        const QString big = path(QStringLiteral("big-00001-of-70000.gguf"));
        writePart(big, {"a"}, [](gguf::GgufWriter& w) {
            w.set_u32(std::string(gguf::kSplitCountKey), 70000);
            w.set_u32(std::string(gguf::kSplitNoKey), 0);
            w.set_i32(std::string(gguf::kSplitTensorsCountKey), 1);
        }, 2);
        auto b = GgufFile::open(big.toStdString());
        QVERIFY(!b.ok());
        QVERIFY2(msg(b.status()).contains(QLatin1String("key 'split.count' is 70000")), qPrintable(msg(b.status())));

        const QString one = path(QStringLiteral("one-00001-of-00001.gguf"));
        writePart(one, {"a", "b"}, splitKeys(0, 1, 2), 3);
        auto o = GgufFile::open(one.toStdString());
        QVERIFY2(o.ok(), o.status().message().c_str());
        QVERIFY(!(*o)->is_split());
        QCOMPARE((*o)->tensors().size(), size_t(2));
    }

    // Hand-made sets: a first part with metadata only (llama.cpp's --no-tensor-first-split)
    // opens; a tensor in two parts, or parts that do not add up to split.tensors.count, do not.
    void handMadeSets() {
        const QString folder = path(QStringLiteral("hand"));
        QVERIFY(QDir().mkpath(folder));
        auto partPath = [&](const QString& prefix, int k, int n) {
            return folder + QStringLiteral("/%1-%2-of-%3.gguf").arg(prefix).arg(k, 5, 10, QLatin1Char('0')).arg(n, 5, 10, QLatin1Char('0'));
        };
        writePart(partPath("empty", 1, 2), {}, splitKeys(0, 2, 2), 1);
        writePart(partPath("empty", 2, 2), {"a", "b"}, splitKeys(1, 2, 2), 2);
        auto e = GgufFile::open(partPath("empty", 2, 2).toStdString());
        QVERIFY2(e.ok(), e.status().message().c_str());
        QCOMPARE((*e)->tensors().size(), size_t(2));
        QCOMPARE((*e)->parts()[0].n_tensors, size_t(0));
        QCOMPARE((*e)->find_tensor("b")->part, uint32_t(1));

        writePart(partPath("dup", 1, 2), {"a", "b"}, splitKeys(0, 2, 4), 1);
        writePart(partPath("dup", 2, 2), {"b", "c"}, splitKeys(1, 2, 4), 3);
        auto d = GgufFile::open(partPath("dup", 1, 2).toStdString());
        QVERIFY(!d.ok());
        QVERIFY2(msg(d.status()).contains(QStringLiteral("tensor 'b' is in both %1 and %2")
                                              .arg(partPath("dup", 1, 2), partPath("dup", 2, 2))),
                 qPrintable(msg(d.status())));

        for (int k = 1; k <= 3; ++k) writePart(partPath("short", k, 3), {"t" + std::to_string(k)}, splitKeys(k - 1, 3, 4), k);
        auto s = GgufFile::open(partPath("short", 3, 3).toStdString());
        QVERIFY(!s.ok());
        QVERIFY2(msg(s.status()).contains(QLatin1String("split.tensors.count is 4 but the 3 parts hold 3 tensors")),
                 qPrintable(msg(s.status())));

        // A huge claim costs nothing before it is checked against what the parts hold.
        for (int k = 1; k <= 3; ++k)
            writePart(partPath("huge", k, 3), {"t" + std::to_string(k)}, splitKeys(k - 1, 3, INT32_MAX), k);
        auto h = GgufFile::open(partPath("huge", 1, 3).toStdString());
        QVERIFY(!h.ok());
        QVERIFY2(msg(h.status()).contains(QLatin1String("split.tensors.count is 2147483647 but the 3 parts hold 3")),
                 qPrintable(msg(h.status())));
    }

    // A part that is not GGUF at all (an interrupted download) is named with the parser's reason.
    void damagedPartIsNamed() {
        const QStringList set = copySet(QStringLiteral("damaged"));
        QCOMPARE(set.size(), 3);
        const QByteArray bytes = test::readFileBytes(set[2]);
        QVERIFY(test::writeFileBytes(set[2], bytes.left(bytes.size() - 100)));
        auto f = GgufFile::open(set[0].toStdString());
        QVERIFY(!f.ok());
        QCOMPARE(f.status().code(), ErrorCode::corrupt);
        QVERIFY2(msg(f.status()).contains(QStringLiteral("part 3 of 3: ") + set[2] + QStringLiteral(": ")),
                 qPrintable(msg(f.status())));
        QVERIFY2(msg(f.status()).contains(QLatin1String("past the end")), qPrintable(msg(f.status())));
    }

    // A whole-file copy of a set's metadata (the quantizer's) carries no split keys; a set
    // re-split into 2 parts reads as the same model.
    void copiesAndResplitsAreWhole() {
        auto set = GgufFile::open(parts_[1].toStdString());
        QVERIFY(set.ok());
        gguf::GgufWriter w;
        w.copy_metadata_from(**set);
        for (const gguf::TensorInfo& t : (*set)->tensors()) {
            QVERIFY(w.add_tensor(t.name, t.type, t.ne, std::vector<uint8_t>(t.data, t.data + t.n_bytes)).ok());
        }
        const QString merged = path(QStringLiteral("merged.gguf"));
        QVERIFY(w.write(merged.toStdString()).ok());
        auto m = GgufFile::open(merged.toStdString());
        QVERIFY2(m.ok(), m.status().message().c_str());
        QVERIFY(!(*m)->is_split());
        for (const gguf::KeyValue& kv : (*m)->metadata()) QVERIFY2(!isSplitKey(kv.key), kv.key.c_str());
        QCOMPARE((*m)->metadata().size(), singleFile_->metadata().size());

        auto two = gguf::write_split_set(**set, path(QStringLiteral("resplit")).toStdString(), 2);
        QVERIFY2(two.ok(), two.status().message().c_str());
        auto r = GgufFile::open(two->back());
        QVERIFY2(r.ok(), r.status().message().c_str());
        QCOMPARE((*r)->parts().size(), size_t(2));
        QCOMPARE((*r)->tensors().size(), singleFile_->tensors().size());
        for (size_t i = 0; i < (*r)->tensors().size(); ++i) {
            const auto& t = (*r)->tensors()[i];
            QVERIFY(std::memcmp(t.data, singleFile_->tensors()[i].data, t.n_bytes) == 0);
        }
    }

    // The writer refuses to write over its input, and a failure on the last part removes the
    // parts already written: no partial set, no *.partial.
    void writerFailsCleanly() {
        const QStringList set = copySet(QStringLiteral("self"));
        auto in = GgufFile::open(set[0].toStdString());
        QVERIFY(in.ok());
        const QByteArray before = test::readFileBytes(set[1]);
        auto over = gguf::write_split_set(**in, path(QStringLiteral("self/set")).toStdString(), 3);
        QVERIFY(!over.ok());
        QCOMPARE(over.status().code(), ErrorCode::invalid_argument);
        QVERIFY2(msg(over.status()).contains(QLatin1String("is a file of the input model")), qPrintable(msg(over.status())));
        QCOMPARE(test::readFileBytes(set[1]), before);

        const QString folder = path(QStringLiteral("fail"));
        QVERIFY(QDir().mkpath(folder + QStringLiteral("/out-00003-of-00003.gguf")));  // a folder: the rename fails
        auto failed = gguf::write_split_set(*singleFile_, (folder + QStringLiteral("/out")).toStdString(), 3);
        QVERIFY(!failed.ok());
        QVERIFY2(msg(failed.status()).contains(QLatin1String("out-00003-of-00003.gguf")), qPrintable(msg(failed.status())));
        const QStringList left = QDir(folder).entryList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(left, QStringList{QStringLiteral("out-00003-of-00003.gguf")});  // only our folder
    }
};

QTEST_GUILESS_MAIN(TestGgufSplit)
#include "tst_gguf_split.moc"
