#include "test_models.h"

namespace strata::test {

QString writeRandomModel(const QTemporaryDir& dir, const QString& name, const RandomModelConfig& config,
                         QString* error) {
    const QString path = dir.filePath(name + QStringLiteral(".gguf"));
    const Status st = write_random_model(config, path.toStdString());
    if (!st.ok()) {
        if (error) *error = QString::fromStdString(st.message());
        return {};
    }
    return path;
}

LoadOptions cpuLoadOptions(KvCacheType kv, int64_t n_ctx, int64_t n_batch) {
    LoadOptions o;
    DeviceSpec cpu;
    cpu.kind = "cpu";
    o.devices = {cpu};
    o.n_ctx = n_ctx;
    o.n_batch = n_batch;
    o.kv_type = kv;
    o.n_threads = 2;
    return o;
}

std::vector<int32_t> seededTokens(int n, int n_vocab, uint32_t seed) {
    std::vector<int32_t> t{1};
    uint32_t s = seed;
    for (int i = 1; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        t.push_back(static_cast<int32_t>(3 + (s >> 8) % static_cast<uint32_t>(n_vocab - 3)));
    }
    return t;
}

GreedyRun greedyRun(Model& m, const std::vector<int32_t>& prompt, int n) {
    GreedyRun g;
    auto seq = m.create_sequence();
    if (!seq.ok()) {
        g.status = seq.status();
        return g;
    }
    GenerateParams p;
    p.sampler.temperature = 0;
    p.sampler.repeat_penalty = 1.0f;
    p.max_tokens = n;
    p.stop_at_eos = false;
    auto r = (*seq)->generate(prompt, p, [&](std::string_view t) { g.text += t; }, nullptr,
                              [&](const float* l, int64_t k) { g.logits.insert(g.logits.end(), l, l + k); });
    g.status = r.ok() ? Status() : r.status();
    const std::vector<int32_t>& all = (*seq)->tokens();
    g.tokens.assign(all.begin() + static_cast<std::ptrdiff_t>(prompt.size()), all.end());
    return g;
}

}  // namespace strata::test
