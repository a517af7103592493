// The what-if view shows the engine's numbers: for a 70B Q4_K_M model on 2× RTX 3090, 1× RTX
// 6000 Ada and 2× RTX 4090 the table holds exactly what `strata-cli whatif --json` reports for the
// same inputs (both call strata/whatif.h; this checks that nothing is lost or recomputed on the
// way), and bad input gives a clear message instead of a table.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>

#include "cli_runner.h"
#include "test_models.h"
#include "whatif/whatif_service.h"
#include "whatif/whatif_view.h"
#include "window_fixture.h"

using namespace strata;
using strata::app::WhatIfConfigInput;
using strata::app::WhatIfInputs;
using strata::app::WhatIfReport;
using strata::app::WhatIfService;
using strata::ui::WhatIfView;

class TstWhatIfView : public QObject {
    Q_OBJECT

    static WhatIfConfigInput config(const QString& gpu, int count) {
        WhatIfConfigInput c;
        c.gpu = gpu;
        c.count = count;
        return c;
    }

    static WhatIfInputs threeConfigs() {
        WhatIfInputs in;
        // The link left at its default, the CLI's (PCIe 4.0 without P2P, staged:25:10).
        in.configs = {config(QStringLiteral("RTX 3090"), 2), config(QStringLiteral("RTX 6000 Ada"), 1),
                      config(QStringLiteral("RTX 4090"), 2)};
        in.params = QStringLiteral("70B");
        in.quant = QStringLiteral("Q4_K_M");
        in.options.n_ctx = 8192;
        return in;
    }

    // Sets the inputs, computes, and waits for the report of that computation.
    static WhatIfReport runView(WhatIfService& service, WhatIfView& view, const WhatIfInputs& in) {
        if (service.gpuNames().isEmpty()) {
            QSignalSpy catalogue(&service, &WhatIfService::catalogueReady);
            if (!catalogue.wait(10000)) return {};
        }
        view.setInputs(in);
        QSignalSpy ready(&service, &WhatIfService::reportReady);
        view.compute();
        if (!ready.wait(20000)) return {};
        return ready.last().at(0).value<WhatIfReport>();
    }

    static bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

private slots:
    void sameNumbersAsTheCli() {
        const QString cli = strata::test::strataCliPath();
        if (cli.isEmpty()) QSKIP("STRATA_CLI is not set");
        const auto run = strata::test::runProgram(
            cli, {QStringLiteral("whatif"), QStringLiteral("--gpus"), QStringLiteral("2x RTX 3090"), QStringLiteral("--gpus"),
                  QStringLiteral("RTX 6000 Ada"), QStringLiteral("--gpus"), QStringLiteral("2x RTX 4090"), QStringLiteral("--params"),
                  QStringLiteral("70B"), QStringLiteral("--type"), QStringLiteral("Q4_K_M"), QStringLiteral("--ctx"),
                  QStringLiteral("8192"), QStringLiteral("--json")});
        QVERIFY2(run.code == 0 || run.code == 3, qPrintable(run.err));
        const QJsonObject cliJson = QJsonDocument::fromJson(run.out.toUtf8()).object();
        const QJsonArray configs = cliJson.value(QStringLiteral("configurations")).toArray();
        QCOMPARE(configs.size(), 3);

        WhatIfService service;
        WhatIfView view(service);
        const WhatIfReport report = runView(service, view, threeConfigs());
        QVERIFY2(report.ok(), qPrintable(report.error));
        QCOMPARE(int(report.results.size()), 3);
        QCOMPARE(view.table()->columnCount(), 3);
        QVERIFY(view.errorText().isEmpty());

        bool anyFits = false, anyFails = false;
        for (int c = 0; c < 3; ++c) {
            const QJsonObject j = configs[c].toObject();
            const strata::WhatIfResult& r = report.results[size_t(c)];
            QCOMPARE(QString::fromStdString(r.label), j.value(QStringLiteral("label")).toString());
            QVERIFY(view.table()->horizontalHeaderItem(c)->text().startsWith(j.value(QStringLiteral("label")).toString()));
            QCOMPARE(r.fits, j.value(QStringLiteral("fits")).toBool());
            QCOMPARE(view.cell(QStringLiteral("Fits"), c), r.fits ? QStringLiteral("yes") : QStringLiteral("NO"));
            anyFits = anyFits || r.fits;
            anyFails = anyFails || !r.fits;
            struct Figure {
                const char* key;
                double value;
                const char* row;
                QString (*format)(double);
            };
            const Figure figures[] = {
                {"decode_tps", r.decode_tps, "Decode tok/s (1 user)", &WhatIfView::formatTps},
                {"prefill_tps", r.prefill_tps, "Prefill tok/s", &WhatIfView::formatTps},
                {"served_tps", r.served_tps, "Served tok/s (1 user)", &WhatIfView::formatTps},
                {"purchase_usd", r.purchase_usd, "Price to buy", &WhatIfView::formatUsd},
                {"cloud_usd_per_hour", r.cloud_usd_per_hour, "Cloud $/hour", &WhatIfView::formatUsd},
                {"own_usd_per_hour", r.own_usd_per_hour, "Owned $/hour", &WhatIfView::formatUsd},
                {"own_usd_per_mtok", r.own_usd_per_mtok, "$/Mtok owned", &WhatIfView::formatUsd},
                {"cloud_usd_per_mtok", r.cloud_usd_per_mtok, "$/Mtok in a cloud", &WhatIfView::formatUsd},
                {"own_tokens_per_usd", r.own_tokens_per_usd, "Tokens per $ owned", &WhatIfView::formatCount},
                {"cloud_tokens_per_usd", r.cloud_tokens_per_usd, "Tokens per $ in a cloud", &WhatIfView::formatCount},
            };
            for (const Figure& f : figures) {
                const double expected = j.value(QLatin1String(f.key)).toDouble();
                QVERIFY2(close(f.value, expected), qPrintable(QStringLiteral("%1 %2: %3 vs the CLI's %4").arg(QString::fromStdString(r.label), QLatin1String(f.key)).arg(f.value).arg(expected)));
                QCOMPARE(view.cell(QLatin1String(f.row), c), f.format(expected));
            }
            QVERIFY(close(r.power_w, j.value(QStringLiteral("power_w")).toDouble()));
            QCOMPARE(view.cell(QStringLiteral("Power (board power) W"), c), QString::number(j.value(QStringLiteral("power_w")).toDouble(), 'f', 0));
            // Per card: used / usable as the CLI reports them.
            const QJsonArray devices = j.value(QStringLiteral("devices")).toArray();
            QCOMPARE(devices.size(), int(r.gpus.size()));
            for (int d = 0; d < devices.size(); ++d) {
                const QJsonObject dev = devices[d].toObject();
                const QString text = view.cell(QStringLiteral("cuda%1 GiB used / usable").arg(d), c);
                const QString want = QString::asprintf("%.1f / %.1f", dev.value(QStringLiteral("used_bytes")).toDouble() / (1 << 30),
                                                       dev.value(QStringLiteral("usable_bytes")).toDouble() / (1 << 30));
                QVERIFY2(text.startsWith(want), qPrintable(text + QStringLiteral(" vs ") + want));
                QCOMPARE(text.contains(QChar(0x2717)), !dev.value(QStringLiteral("fits")).toBool());
            }
            // One card failed: the same verdicts and speeds.
            const QJsonArray failures = j.value(QStringLiteral("if_one_card_fails")).toArray();
            QCOMPARE(failures.size(), int(r.failures.size()));
            const QString failText = view.cell(QStringLiteral("If one card fails"), c);
            for (int k = 0; k < failures.size(); ++k) {
                const QJsonObject f = failures[k].toObject();
                QCOMPARE(r.failures[size_t(k)].fits, f.value(QStringLiteral("fits")).toBool());
                QVERIFY(close(r.failures[size_t(k)].decode_tps, f.value(QStringLiteral("decode_tps")).toDouble()));
                if (f.value(QStringLiteral("fits")).toBool())
                    QVERIFY2(failText.contains(WhatIfView::formatTps(f.value(QStringLiteral("decode_tps")).toDouble())), qPrintable(failText));
            }
            QVERIFY(!failText.isEmpty());
        }
        // The three differ: a 70B Q4_K_M (about 40 GiB) cannot be on one 24 GiB card alone.
        QVERIFY(anyFits);

        // The cheapest that fits: the CLI's pick, starred, and said below the table.
        const QJsonValue cheapest = cliJson.value(QStringLiteral("cheapest_fitting"));
        if (cheapest.isString()) {
            QVERIFY(report.cheapest >= 0);
            QCOMPARE(QString::fromStdString(report.results[size_t(report.cheapest)].label), cheapest.toString());
            QVERIFY(view.table()->horizontalHeaderItem(report.cheapest)->text().contains(QChar(0x2605)));
            QVERIFY2(view.cheapestText().contains(cheapest.toString()), qPrintable(view.cheapestText()));
        } else {
            QCOMPARE(report.cheapest, -1);
        }
        // The view says the speeds are upper bounds.
        auto* note = view.findChild<QLabel*>(QStringLiteral("whatifUpperBounds"));
        QVERIFY(note);
        QVERIFY(note->text().contains(QStringLiteral("upper bounds")));
        Q_UNUSED(anyFails);
    }

    void badInputSaysWhat() {
        WhatIfService service;
        WhatIfView view(service);
        WhatIfInputs in = threeConfigs();
        in.params = QStringLiteral("seventy");
        WhatIfReport report = runView(service, view, in);
        QVERIFY(!report.ok());
        QVERIFY2(view.errorText().contains(QStringLiteral("seventy")), qPrintable(view.errorText()));
        QCOMPARE(view.table()->columnCount(), 0);

        in = threeConfigs();
        in.configs[1].gpu = QStringLiteral("RTX 9999");
        report = runView(service, view, in);
        QVERIFY(!report.ok());
        QVERIFY2(view.errorText().contains(QStringLiteral("9999")), qPrintable(view.errorText()));

        in = threeConfigs();
        in.quant = QStringLiteral("Q9_Z");
        report = runView(service, view, in);
        QVERIFY(!report.ok());
        QVERIFY2(view.errorText().contains(QStringLiteral("Q9_Z")), qPrintable(view.errorText()));

        in = threeConfigs();
        in.params.clear();
        in.modelPath = QStringLiteral("/nonexistent/model.gguf");
        report = runView(service, view, in);
        QVERIFY(!report.ok());
        QVERIFY2(!view.errorText().isEmpty(), "a missing file says so");

        // Good input again: the message goes and the table comes back.
        report = runView(service, view, threeConfigs());
        QVERIFY2(report.ok(), qPrintable(report.error));
        QVERIFY(view.errorText().isEmpty());
        QCOMPARE(view.table()->columnCount(), 3);
    }

    // A library file: only its header is read (on the service's pool thread), and the what-if
    // plans that model; the report names the file.
    void aModelFile() {
        QTemporaryDir dir;
        QString error;
        const QString path = strata::test::writeRandomModel(dir, QStringLiteral("whatif"), strata::test::tinyModelConfig(), &error);
        QVERIFY2(!path.isEmpty(), qPrintable(error));
        WhatIfService service;
        WhatIfView view(service);
        view.setModels({{path, QStringLiteral("whatif")}}, path);  // the loaded one is picked
        QCOMPARE(view.inputs().modelPath, path);
        WhatIfInputs in = view.inputs();
        in.configs = {config(QStringLiteral("RTX 4090"), 1)};
        const WhatIfReport report = runView(service, view, in);
        QVERIFY2(report.ok(), qPrintable(report.error));
        QCOMPARE(report.model, path);
        QCOMPARE(report.nLayer, 2);
        QCOMPARE(int(report.results.size()), 1);
        QVERIFY(report.results[0].fits);
        QCOMPARE(view.cell(QStringLiteral("Fits"), 0), QStringLiteral("yes"));
    }

    // At the window's smallest size the page shows every input and all three configurations
    // (the table's columns) without scrolling sideways; at 1280×800 too.
    void fitsTheSmallestWindow() {
        strata::test::UiFixture f;
        f.window->resize(f.window->minimumSize());
        f.window->showPage(strata::ui::MainWindow::WhatIfPage);
        WhatIfService& service = f.app->whatif();
        QTRY_VERIFY_WITH_TIMEOUT(service.lastReport().results.size() == 3 && !service.isRunning(), 30000);
        WhatIfView* view = f.window->whatIfView();
        QCOMPARE(view->table()->columnCount(), 3);
        QCOMPARE(f.window->size(), f.window->minimumSize());
        QCOMPARE(strata::test::sidewaysScrolling(view), QString());
        f.window->resize(1280, 800);
        QCOMPARE(strata::test::sidewaysScrolling(view), QString());
    }

    void noConfigurationIsAnError() {
        WhatIfInputs in = threeConfigs();
        in.configs.clear();
        const WhatIfReport r = strata::app::computeWhatIf(in);
        QVERIFY(!r.ok());
        QVERIFY(r.error.contains(QStringLiteral("configuration")));
    }
};

QTEST_MAIN(TstWhatIfView)
#include "tst_whatif_view.moc"
