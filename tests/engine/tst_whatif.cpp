// The hardware what-if: the GPU catalogue and its tolerant lookup, "2x NAME" configurations,
// synthetic llama-shaped models, and the what-if itself — 70B Q4_K_M on 2× RTX 3090 vs 1× RTX
// 6000 Ada vs 2× RTX 4090 (fit, tok/s, $/Mtok), consistency (more bandwidth is faster, too little
// memory does not fit), the cost arithmetic by hand, a card failing, bad input, and
// `strata-cli whatif --json` end to end.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "strata/machine_profile.h"
#include "strata/whatif.h"
#include "cli_runner.h"

using namespace strata;

namespace {

GpuCatalogue shipped() {
    auto c = load_gpu_catalogue(find_resource("gpus.json"));
    if (!c.ok()) qFatal("%s", c.status().message().c_str());
    return std::move(c).value();
}

ModelFootprint llama70b_q4km() {
    auto m = synthetic_footprint(70e9, "Q4_K_M", nullptr);
    if (!m.ok()) qFatal("%s", m.status().message().c_str());
    return std::move(m).value();
}

WhatIfResult whatif(const GpuCatalogue& cat, const char* gpus, const ModelFootprint& model, const WhatIfOptions& o = {}) {
    auto config = parse_gpu_config(cat, gpus);
    if (!config.ok()) qFatal("%s", config.status().message().c_str());
    auto r = run_whatif(model, *config, o);
    if (!r.ok()) qFatal("%s", r.status().message().c_str());
    return std::move(r).value();
}

// Round figures, so the arithmetic below can be done by hand.
const char* kToyCatalogue = R"({"gpus": [
  {"name": "Toy 24", "memory_gib": 24, "bandwidth_gbs": 1000, "fp16_tflops": 100, "power_w": 400,
   "price_usd": 1000, "price_date": "2025-01", "cloud_usd_per_hour": 0.5, "cloud_date": "2025-01"},
  {"name": "Toy 24 Unpriced", "memory_gib": 24, "bandwidth_gbs": 1000, "fp16_tflops": 100, "power_w": 400}]})";

}  // namespace

class TestWhatIf : public QObject {
    Q_OBJECT
private slots:
    void catalogueHasTheCards() {
        const GpuCatalogue cat = shipped();
        QVERIFY(!cat.comment.empty());
        for (const char* name : {"RTX 3060 12GB", "RTX 3090", "RTX 4090", "RTX 5090", "RTX A6000", "RTX 6000 Ada", "L40S",
                                 "A100 40GB", "A100 80GB", "H100 PCIe", "H100 SXM", "H200"}) {
            auto g = find_gpu(cat, name);
            QVERIFY2(g.ok(), name);
            QCOMPARE(g->name, std::string(name));
            QVERIFY(g->memory_bytes > 0 && g->bandwidth_gbs > 0 && g->fp16_tflops > 0 && g->int8_tflops > 0 && g->power_w > 0);
            QVERIFY(g->price_usd > 0 && !g->price_date.empty() && g->cloud_usd_per_hour > 0 && !g->cloud_date.empty());
        }
    }

    void lookupIsTolerant() {
        const GpuCatalogue cat = shipped();
        for (const char* q : {"4090", "RTX 4090", "rtx4090", "NVIDIA GeForce RTX 4090", "rtx-4090"})
            QCOMPARE(find_gpu(cat, q).value().name, std::string("RTX 4090"));
        QCOMPARE(find_gpu(cat, "6000 ada").value().name, std::string("RTX 6000 Ada"));
        QCOMPARE(find_gpu(cat, "h100 sxm").value().name, std::string("H100 SXM"));
        auto ambiguous = find_gpu(cat, "H100");
        QVERIFY(!ambiguous.ok() && ambiguous.status().code() == ErrorCode::invalid_argument);
        QVERIFY(ambiguous.status().message().find("H100 PCIe") != std::string::npos);
        auto unknown = find_gpu(cat, "RTX 9999");
        QVERIFY(!unknown.ok() && unknown.status().code() == ErrorCode::not_found);
        QVERIFY(unknown.status().message().find("unknown GPU \"RTX 9999\"; the catalogue has: RTX 3060 12GB") == 0);
    }

    void configurations() {
        const GpuCatalogue cat = shipped();
        auto a = parse_gpu_config(cat, "2x RTX 3090");
        QVERIFY(a.ok());
        QCOMPARE(a->count, 2);
        QCOMPARE(a->label, std::string("2× RTX 3090"));
        QCOMPARE(parse_gpu_config(cat, "4x4090").value().count, 4);
        QCOMPARE(parse_gpu_config(cat, "3 × 4090").value().count, 3);
        QCOMPARE(parse_gpu_config(cat, "3090").value().count, 1);
        QCOMPARE(parse_gpu_config(cat, " RTX 6000 Ada ").value().gpu.name, std::string("RTX 6000 Ada"));
        auto nine = parse_gpu_config(cat, "9x RTX 4090");
        QVERIFY(!nine.ok());
        QVERIFY2(nine.status().message().find("9 cards; the what-if takes at most 8") != std::string::npos,
                 nine.status().message().c_str());
        auto zero = parse_gpu_config(cat, "0x RTX 4090");
        QVERIFY(!zero.ok() && zero.status().message().find("the count must be 1 to 8") != std::string::npos);
        QVERIFY(!parse_gpu_config(cat, "").ok());
        QVERIFY(!parse_gpu_config(cat, "2x").ok());
        QVERIFY(parse_gpu_config(cat, "2x RTX 9999").status().code() == ErrorCode::not_found);
    }

    void syntheticModels() {
        std::string shape;
        auto m = synthetic_footprint(70e9, "Q4_K_M", &shape);
        QVERIFY2(m.ok(), m.status().message().c_str());
        QCOMPARE(m->n_layer, 80);
        QCOMPARE(m->n_embd, int64_t{8192});
        QCOMPARE(m->n_embd_kv, int64_t{1024});
        QVERIFY2(shape.find("the shape of Llama 3.1 70B") == 0, shape.c_str());
        uint64_t weights = m->embedding_bytes + m->output_bytes + m->output_norm_bytes;
        for (uint64_t b : m->layer_bytes) weights += b;
        // Q4_K_M averages about 4.8-4.9 bits per weight on a 70B: 40-44 GB.
        QVERIFY2(weights > 40e9 && weights < 44e9, std::to_string(weights).c_str());
        // A size between published shapes scales the nearest one's layer count.
        auto s = synthetic_footprint(50e9, "Q8_0", &shape);
        QVERIFY(s.ok());
        QVERIFY2(shape.find("scaled from Llama 3.1 70B") == 0, shape.c_str());
        QVERIFY(s->n_layer > 50 && s->n_layer < 60);
        QCOMPARE(synthetic_footprint(8e9, "F16", &shape).value().n_layer, 32);
        QVERIFY(synthetic_footprint(8e9, "Q4_K_M", nullptr).value().layer_flops_per_token > 0);
        QVERIFY(!synthetic_footprint(8e9, "Q4_K_X", nullptr).ok());
        QCOMPARE(parse_param_count("70B").value(), 70e9);
        QCOMPARE(parse_param_count("1.5b").value(), 1.5e9);
        QCOMPARE(parse_param_count("500M").value(), 500e6);
        QVERIFY(!parse_param_count("seventy").ok());
        QVERIFY(!parse_param_count("5T").ok());
        QVERIFY(!parse_param_count("").ok());
    }

    // The issue's comparison: 70B Q4_K_M on 2× 3090, 1× RTX 6000 Ada and 2× 4090.
    void llama70bComparison() {
        const GpuCatalogue cat = shipped();
        const ModelFootprint model = llama70b_q4km();
        WhatIfOptions o;
        o.n_ctx = 8192;
        const WhatIfResult r3090 = whatif(cat, "2x RTX 3090", model, o);
        const WhatIfResult ada = whatif(cat, "1x RTX 6000 Ada", model, o);
        const WhatIfResult r4090 = whatif(cat, "2x RTX 4090", model, o);
        for (const WhatIfResult* r : {&r3090, &ada, &r4090}) {
            QVERIFY2(r->fits, r->label.c_str());
            QVERIFY(r->decode_tps > 5 && r->decode_tps < 60);  // ~40 GB over ~1 TB/s
            QVERIFY(r->prefill_tps > r->decode_tps);
            QVERIFY(r->cloud_usd_per_mtok > 0 && r->own_usd_per_mtok > 0);
            QVERIFY(std::abs(r->own_tokens_per_usd * r->own_usd_per_mtok - 1e6) < 1e-3);
        }
        // More bandwidth, faster: 4090 (1008 GB/s) > 6000 Ada (960, one card, no hand-off) > 3090 (936).
        QVERIFY(r4090.decode_tps > ada.decode_tps);
        QVERIFY(ada.decode_tps > r3090.decode_tps);
        QCOMPARE(r3090.plan.handoffs.size(), size_t{1});
        QVERIFY(ada.plan.handoffs.empty());
        // Too little memory: one 24 GB card does not hold it.
        QVERIFY(!whatif(cat, "RTX 4090", model, o).fits);
        QVERIFY(!whatif(cat, "RTX 3090", model, o).fits);
        QCOMPARE(whatif(cat, "RTX 4090", model, o).own_usd_per_mtok, 0.0);  // no cost for what does not fit
        // A card failing: two 24 GB cards cannot lose one; four can.
        QCOMPARE(r3090.failures.size(), size_t{1});
        QVERIFY(!r3090.failures[0].fits);
        QVERIFY(ada.failures.empty());
        const WhatIfResult four = whatif(cat, "4x RTX 4090", model, o);
        QVERIFY(four.fits && four.failures.size() == 1 && four.failures[0].fits);
        QVERIFY(four.failures[0].decode_tps > 0);
        const std::vector<WhatIfResult> all{r3090, ada, r4090};
        const int cheapest = cheapest_fitting(all);
        QVERIFY(cheapest >= 0);
        for (const WhatIfResult& r : all) QVERIFY(all[static_cast<size_t>(cheapest)].own_usd_per_mtok <= r.own_usd_per_mtok);
        // "At this speed": only 2× 4090 decodes faster than the RTX 6000 Ada.
        QCOMPARE(cheapest_fitting(all, ada.decode_tps + 0.01), 2);
        QCOMPARE(cheapest_fitting(all, 1000), -1);
    }

    // The cost arithmetic of strata/whatif.h, by hand on round figures.
    void costArithmeticByHand() {
        auto cat = parse_gpu_catalogue(kToyCatalogue, "toy");
        QVERIFY2(cat.ok(), cat.status().message().c_str());
        auto model = synthetic_footprint(8e9, "Q8_0", nullptr);
        QVERIFY(model.ok());
        WhatIfOptions o;
        o.years = 2;
        o.hours_per_day = 12;
        o.kwh_price = 0.25;
        o.users = 1;
        const WhatIfResult r = whatif(*cat, "2x Toy 24", *model, o);
        QVERIFY(r.fits);
        QCOMPARE(r.power_w, 800.0);
        QCOMPARE(r.purchase_usd, 2000.0);
        QCOMPARE(r.cloud_usd_per_hour, 1.0);
        // 0.8 kW × $0.25 = $0.20 an hour; $2000 over 2 × 365 × 12 = 8760 hours = $0.228311 an hour.
        QVERIFY(std::abs(r.electricity_usd_per_hour - 0.2) < 1e-12);
        QVERIFY(std::abs(r.own_usd_per_hour - (2000.0 / 8760.0 + 0.2)) < 1e-12);
        const double mtok_per_hour = r.decode_tps * 3600 / 1e6;
        QCOMPARE(r.served_tps, r.decode_tps);
        QVERIFY(std::abs(r.cloud_usd_per_mtok - 1.0 / mtok_per_hour) < 1e-9);
        QVERIFY(std::abs(r.own_usd_per_mtok - (2000.0 / 8760.0 + 0.2) / mtok_per_hour) < 1e-9);
        QVERIFY(std::abs(r.cloud_tokens_per_usd - 1e6 / r.cloud_usd_per_mtok) < 1e-6);
        // Four users: four times the tokens for the same hour (below the compute limit), so a
        // quarter of the cost per token.
        o.users = 4;
        const WhatIfResult r4 = whatif(*cat, "2x Toy 24", *model, o);
        QVERIFY(r4.fits);
        QVERIFY(r4.served_tps <= r4.prefill_tps);
        QVERIFY(std::abs(r4.served_tps - 4 * r4.decode_tps) < 1e-9);
        QVERIFY(std::abs(r4.own_usd_per_mtok * 4 - (2000.0 / 8760.0 + 0.2) / mtok_per_hour * r.decode_tps / r4.decode_tps) < 1e-9);
        // A card without a price has no cost figures, but still a speed.
        const WhatIfResult unpriced = whatif(*cat, "Toy 24 Unpriced", *model, o);
        QVERIFY(unpriced.fits && unpriced.decode_tps > 0);
        QCOMPARE(unpriced.own_usd_per_mtok, 0.0);
        QCOMPARE(unpriced.cloud_usd_per_mtok, 0.0);
    }

    void badOptions() {
        const GpuCatalogue cat = shipped();
        const GpuConfig c = parse_gpu_config(cat, "RTX 4090").value();
        const ModelFootprint model = synthetic_footprint(8e9, "Q4_K_M", nullptr).value();
        WhatIfOptions o;
        o.users = 0;
        QVERIFY(run_whatif(model, c, o).status().message().find("--users") != std::string::npos);
        o = {};
        o.years = -1;
        QVERIFY(run_whatif(model, c, o).status().message().find("--years") != std::string::npos);
        ModelFootprint moe = model;
        moe.n_expert = 8;
        moe.n_expert_used = 2;
        auto refused = run_whatif(moe, c, {});
        QVERIFY(!refused.ok() && refused.status().code() == ErrorCode::unsupported);
        QVERIFY(refused.status().message().find("mixture-of-experts") != std::string::npos);
        GpuConfig none = c;
        none.count = 0;
        QVERIFY(run_whatif(model, none, {}).status().message().find("1 to 8 cards") != std::string::npos);
        QVERIFY(!parse_gpu_catalogue(R"({"gpus": [{"name": "x"}]})", "c.json").ok());
        QVERIFY(parse_gpu_catalogue(R"({"gpus": [{"name": "x"}]})", "c.json").status().message() ==
                "c.json: gpus[0].memory_gib is missing (a number)");
    }

    void machineProfileAsAConfiguration() {
        auto m = load_machine_profile(find_resource("machines/2x-rtx3090-nvlink.json"));
        QVERIFY(m.ok());
        const GpuCatalogue cat = shipped();
        auto r = run_whatif(llama70b_q4km(), *m, cat, {});
        QVERIFY2(r.ok(), r.status().message().c_str());
        QVERIFY(r->fits);
        QCOMPARE(r->purchase_usd, 2 * find_gpu(cat, "RTX 3090").value().price_usd);
        QVERIFY(r->plan.handoffs.at(0).link.kind == LinkKind::nvlink);
        // NVLink instead of the default staged PCIe link: faster.
        QVERIFY(r->decode_tps > whatif(cat, "2x RTX 3090", llama70b_q4km()).decode_tps);
    }

    void cliWhatIf() {
        const QString cli = qEnvironmentVariable("STRATA_CLI");
        if (cli.isEmpty() || !QFileInfo(cli).isExecutable()) QSKIP("STRATA_CLI not set or not built (run through ctest)");
        auto run = [&](const QStringList& args) {
            const strata::test::CliRun r = strata::test::runProgram(cli, QStringList{"whatif"} + args);
            return std::make_tuple(r.code, r.out, r.err);
        };
        const QStringList three{"--gpus", "2x RTX 3090", "--gpus", "1x RTX 6000 Ada", "--gpus", "2x RTX 4090",
                                "--params", "70B", "--type", "Q4_K_M", "--ctx", "8192"};
        {
            const auto [code, out, err] = run(three + QStringList{"--json"});
            QVERIFY2(code == 0, qPrintable(err));
            const QJsonObject j = QJsonDocument::fromJson(out.toUtf8()).object();
            const QJsonArray configs = j["configurations"].toArray();
            QCOMPARE(configs.size(), 3);
            QCOMPARE(configs[0].toObject()["label"].toString(), QString("2× RTX 3090"));
            for (const auto& c : configs) {
                QVERIFY(c.toObject()["fits"].toBool());
                QVERIFY(c.toObject()["decode_tps"].toDouble() > 0);
                QVERIFY(c.toObject()["own_usd_per_mtok"].toDouble() > 0);
            }
            QCOMPARE(configs[0].toObject()["handoffs"].toArray()[0].toObject()["kind"].toString(), QString("staged"));
            QVERIFY(!configs[0].toObject()["if_one_card_fails"].toArray()[0].toObject()["fits"].toBool());
            QVERIFY(!j["cheapest_fitting"].toString().isEmpty());
        }
        {
            const auto [code, out, err] = run(three);
            QVERIFY2(code == 0, qPrintable(err));
            QVERIFY2(out.contains("cheapest configuration that fits: "), qPrintable(out));
            QVERIFY2(out.contains("$/Mtok owned"), qPrintable(out));
            QVERIFY2(out.contains("if one card fails"), qPrintable(out));
        }
        {
            const auto [code, out, err] = run(three + QStringList{"--min-tps", "1000"});
            QCOMPARE(code, 0);
            QVERIFY2(out.contains("no configuration that fits decodes 1000.0 tok/s or more"), qPrintable(out));
        }
        {
            const auto [code, out, err] = run({"--gpus", "9x RTX 4090", "--params", "8B"});
            QCOMPARE(code, 1);
            QVERIFY2(err.contains("9 cards; the what-if takes at most 8"), qPrintable(err));
        }
        {
            const auto [code, out, err] = run({"--gpus", "2x RTX 9999", "--params", "8B"});
            QCOMPARE(code, 1);
            QVERIFY2(err.contains("unknown GPU \"RTX 9999\""), qPrintable(err));
        }
        {
            const auto [code, out, err] = run({"--params", "8B"});
            QCOMPARE(code, 2);
            QVERIFY2(err.contains("no GPUs given"), qPrintable(err));
        }
        {
            const auto [code, out, err] = run({"--gpus", "RTX 3060", "--params", "70B"});
            QCOMPARE(code, 3);  // nothing fits
            QVERIFY2(out.contains("no configuration fits"), qPrintable(out));
        }
        {
            QTemporaryDir dir;
            QFile f(dir.filePath("broken.json"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"name": "b", "gpus": [{"name": "A"}]})");
            f.close();
            const auto [code, out, err] = run({"--simulate", f.fileName(), "--params", "8B"});
            QCOMPARE(code, 1);
            QVERIFY2(err.contains("broken.json: gpus[0].memory_gib is missing"), qPrintable(err));
        }
    }
};

QTEST_GUILESS_MAIN(TestWhatIf)
#include "tst_whatif.moc"
