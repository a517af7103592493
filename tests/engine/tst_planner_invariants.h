// The invariants every plan must satisfy, recomputed independently of the planner (see
// tst_planner_fixtures.h for the accounting helpers).
#pragma once

#include "tst_planner_fixtures.h"

namespace planner_test {

// Every invariant of a plan; `deep` also re-plans to check max_ctx_that_fits and suggestions.
// Callers check QTest::currentTestFailed() afterwards.
inline void check_invariants(const PlanRequest& r, const Plan& p, bool deep = true) {
    const QByteArray dump = QByteArray::fromStdString("\n" + format_plan(r, p));
    const int n = r.model.n_layer;
    const int n_dev = static_cast<int>(r.devices.size());
    if (p.fits) QVERIFY2(!p.stages.empty(), dump);

    // Stages: every layer once, contiguous, in device priority order, roles at the ends.
    if (!p.stages.empty()) {
        std::vector<int> cover(static_cast<size_t>(n), 0);
        int next = 0, last_dev = -1, n_emb = 0, n_out = 0;
        const size_t n_st = p.stages.size();
        for (size_t i = 0; i < n_st; ++i) {
            const StagePlan& s = p.stages[i];
            QVERIFY2(s.device >= 0 && s.device < n_dev, dump);
            QVERIFY2(r.devices[static_cast<size_t>(s.device)].enabled, "stage on a disabled device" + dump);
            QCOMPARE(s.device_id, r.devices[static_cast<size_t>(s.device)].info.id);
            QVERIFY2(s.layer_begin <= s.layer_end, dump);
            if (s.layer_end > s.layer_begin) {
                QVERIFY2(s.layer_begin == next, "stages not contiguous" + dump);
                QVERIFY2(s.device > last_dev, "stages not in device priority order" + dump);
                next = s.layer_end;
                last_dev = s.device;
                for (int il = s.layer_begin; il < s.layer_end; ++il) ++cover[static_cast<size_t>(il)];
            } else {
                QVERIFY2((i == 0 && s.has_embedding && !s.has_output) ||
                             (i + 1 == n_st && s.has_output && !s.has_embedding),
                         "a stage without layers that is not an embedding/output stage" + dump);
            }
            if (s.has_embedding) { ++n_emb; QVERIFY2(i == 0, "embedding not in the first stage" + dump); }
            if (s.has_output) { ++n_out; QVERIFY2(i + 1 == n_st, "output not in the last stage" + dump); }
        }
        QVERIFY2(next == n, "not every layer assigned" + dump);
        for (int c : cover) QVERIFY2(c == 1, "a layer assigned twice or never" + dump);
        QCOMPARE(n_emb, 1);
        QCOMPARE(n_out, 1);
        if (pin_valid(r, r.embedding_device)) QCOMPARE(p.stages.front().device, r.embedding_device);
        if (pin_valid(r, r.output_device)) QCOMPARE(p.stages.back().device, r.output_device);
    }

    // Devices: exactly the holders, bytes as recomputed here.
    std::vector<int> holders;
    for (const StagePlan& s : p.stages) holders.push_back(s.device);
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    QVERIFY2(p.devices.size() == holders.size(), dump);
    uint64_t sum_plan = 0, sum_expected = 0;
    bool all_fit = true;
    for (size_t i = 0; i < p.devices.size(); ++i) {
        const DeviceUse& u = p.devices[i];
        QCOMPARE(u.device, holders[i]);
        QCOMPARE(u.device_id, r.devices[static_cast<size_t>(u.device)].info.id);
        QCOMPARE(u.capacity, capacity_of(r.devices[static_cast<size_t>(u.device)]));
        uint64_t w = 0, k = 0, s = 0;
        const uint64_t total = expected_total(r, u.device, held_by(r, p, u.device), &w, &k, &s);
        QCOMPARE(u.weight_bytes, w);
        QCOMPARE(u.kv_bytes, k);
        QCOMPARE(u.scratch_bytes, s);
        sum_plan += u.total();
        sum_expected += total;
        all_fit = all_fit && u.total() <= u.capacity;
    }
    QCOMPARE(sum_plan, sum_expected);
    if (p.fits) {
        QVERIFY2(all_fit, "fits, but a device is over capacity" + dump);
        QVERIFY2(p.shortfalls.empty() && p.suggestions.empty(), dump);
    } else {
        QVERIFY2(!p.shortfalls.empty(), "does not fit, but no shortfall is stated" + dump);
    }

    const std::vector<int> counts = layer_counts(r, p);
    if (!p.stages.empty() && r.mode == SplitMode::ratios) {
        std::vector<long long> ratios;
        bool integral = true;
        for (const PlanDevice& d : r.devices) {
            const double v = d.enabled ? d.ratio : 0;
            integral = integral && v == std::floor(v);
            ratios.push_back(static_cast<long long>(v));
        }
        if (integral) QVERIFY2(counts == lr_counts(n, ratios), "ratios not honoured exactly" + dump);
    }
    if (!p.stages.empty() && r.mode == SplitMode::fewest) {
        // Each device but the last holding layers was full: one more layer would not fit.
        const bool emb_free = !pin_valid(r, r.embedding_device), out_free = !pin_valid(r, r.output_device);
        int last_layer_dev = -1;
        for (int d = 0; d < n_dev; ++d) if (counts[static_cast<size_t>(d)] > 0) last_layer_dev = d;
        int b = 0;
        for (int d = 0; d < last_layer_dev; ++d) {
            if (r.devices[static_cast<size_t>(d)].enabled) {
                Held h = held_by(r, p, d);
                const int e = b + h.n_layers;  // would take layer e next
                h.n_layers += 1;
                h.layer_bytes += layer_bytes_on(r, d, e);
                h.emb = h.emb || (emb_free && b == 0);
                h.out = h.out || (out_free && e + 1 == n);
                QVERIFY2(expected_total(r, d, h) > capacity_of(r.devices[static_cast<size_t>(d)]),
                         qPrintable("fewest moved past device " + QString::number(d) + " before it was full" + dump));
            }
            b += counts[static_cast<size_t>(d)];
        }
    }
    if (!deep) return;
    if (r.mode == SplitMode::even && !p.stages.empty()) {
        PlanRequest f = r;
        f.mode = SplitMode::fewest;
        const Plan fp = make_plan(f);
        QVERIFY2(fp.fits == p.fits, "even and fewest disagree on whether it fits" + dump);
        if (p.fits) {
            // Balanced: no device's layer share is above what fewest needed ...
            const double m = max_layer_share(r, p);
            QVERIFY2(m <= max_layer_share(f, fp) * (1 + 1e-9) + 1e-12, "even is less balanced than fewest" + dump);
            // ... and every device before the last one with layers either is full or would go
            // past the highest share with one more layer.
            const std::vector<int> c = layer_counts(r, p);
            int last = -1, b = 0;
            for (int d = 0; d < n_dev; ++d) if (c[static_cast<size_t>(d)] > 0) last = d;
            for (int d = 0; d < last; ++d) {
                const PlanDevice& dev = r.devices[static_cast<size_t>(d)];
                const int e = b + c[static_cast<size_t>(d)];
                b = e;
                if (!dev.enabled) continue;
                Held h = held_by(r, p, d);
                h.n_layers += 1;
                h.layer_bytes += layer_bytes_on(r, d, e);
                h.emb = h.emb || (!pin_valid(r, r.embedding_device) && e == 0);
                h.out = h.out || (!pin_valid(r, r.output_device) && e + 1 == n);
                const uint64_t cap = capacity_of(dev);
                if (expected_total(r, d, h) > cap) continue;  // full
                const double share = static_cast<double>(h.layer_bytes + expected_kv(r, h.n_layers)) /
                                     static_cast<double>(cap);
                QVERIFY2(share * (1 + 1e-9) + 1.0 / static_cast<double>(cap) > m,
                         qPrintable("even left device " + QString::number(d) + " underfilled" + dump));
            }
            // ... and moving one layer off the fullest device (when it alone is fullest) to a
            // neighbour cannot lower the highest share: the spread is as even as whole layers allow.
            auto shares = [&](const std::vector<int>& cnt, bool& ok) {
                const std::vector<Held> held = held_from_counts(r, cnt);
                std::vector<double> out(held.size(), 0);
                ok = true;
                for (size_t k = 0; k < held.size(); ++k) {
                    const uint64_t cap = capacity_of(r.devices[k]);
                    ok = ok && expected_total(r, static_cast<int>(k), held[k]) <= cap;
                    out[k] = static_cast<double>(held[k].layer_bytes + expected_kv(r, held[k].n_layers)) /
                             static_cast<double>(std::max<uint64_t>(1, cap));
                }
                return out;
            };
            bool ok = true;
            const std::vector<double> sh = shares(c, ok);
            const int j = static_cast<int>(std::max_element(sh.begin(), sh.end()) - sh.begin());
            int n_top = 0;
            for (double v : sh) n_top += v >= sh[static_cast<size_t>(j)] * (1 - 1e-12);
            std::vector<int> enabled;
            for (int d = 0; d < n_dev; ++d) if (r.devices[static_cast<size_t>(d)].enabled) enabled.push_back(d);
            const auto pos = std::find(enabled.begin(), enabled.end(), j) - enabled.begin();
            for (int step : {-1, 1}) {
                const auto q = pos + step;
                if (n_top != 1 || c[static_cast<size_t>(j)] == 0 || q < 0 || q >= static_cast<long>(enabled.size())) continue;
                // Only a layer at the shared boundary can move: j's first to the one before,
                // j's last to the one after (devices between them hold no layers).
                std::vector<int> moved = c;
                --moved[static_cast<size_t>(j)];
                ++moved[static_cast<size_t>(enabled[static_cast<size_t>(q)])];
                const std::vector<double> sh2 = shares(moved, ok);
                if (!ok) continue;
                QVERIFY2(*std::max_element(sh2.begin(), sh2.end()) >= sh[static_cast<size_t>(j)] * (1 - 1e-9),
                         qPrintable("moving a layer off device " + QString::number(j) + " evens it out more" + dump));
            }
        }
    }

    // max_ctx_that_fits: fits there, not 256 further.
    QVERIFY(p.max_ctx_that_fits % 256 == 0);
    {
        PlanRequest t = r;
        if (p.max_ctx_that_fits > 0) {
            t.n_ctx = p.max_ctx_that_fits;
            QVERIFY2(make_plan(t).fits, "max_ctx_that_fits does not fit" + dump);
        }
        if (p.max_ctx_that_fits < plan_detail::kMaxCtx) {
            t.n_ctx = p.max_ctx_that_fits + 256;
            QVERIFY2(!make_plan(t).fits, "max_ctx_that_fits + 256 fits too" + dump);
        }
    }

    // Suggestions: each re-planned fits; one exists when anything could fit.
    if (!p.fits) {
        const auto sugg = plan_detail::suggest_fixes(r, p);
        QCOMPARE(sugg.size(), p.suggestions.size());
        int n_fitting = 0;
        for (size_t i = 0; i < sugg.size(); ++i) {
            QCOMPARE(sugg[i].text, p.suggestions[i]);
            if (!sugg[i].request) continue;
            const Plan sp = make_plan(*sugg[i].request);
            QVERIFY2(sp.fits, qPrintable("suggestion does not fit: " + QString::fromStdString(sugg[i].text) + dump));
            check_invariants(*sugg[i].request, sp, false);
            ++n_fitting;
        }
        if (make_plan(relaxed(r)).fits)
            QVERIFY2(n_fitting > 0, "something fits, but no fitting suggestion" + dump);
        else
            QVERIFY2(!p.suggestions.empty(), "nothing fits, and the plan does not say so" + dump);
    }
}

}  // namespace planner_test
