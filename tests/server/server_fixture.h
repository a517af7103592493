// A served random-weight model for the server tests: the model, its SequencePool and an
// ApiServer on a free loopback port, all in this process.
#pragma once

#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <string>

#include "strata/engine.h"
#include "strata/sequence_pool.h"
#include "strata/server/api_server.h"
#include "test_models.h"

namespace strata::test {

struct ServedModel {
    Engine engine;  // before the model: it owns the devices the model runs on
    std::unique_ptr<Model> model;
    std::unique_ptr<SequencePool> pool;
    std::unique_ptr<server::ApiServer> server;
    std::string error;

    int port() const { return server->port(); }

    // Loads a tiny llama from `dir` with `n_seq` sequences and serves it with `options` (port 0).
    bool start(const QTemporaryDir& dir, int n_seq, server::ServerOptions options, size_t max_waiting = 64,
               int64_t n_ctx = 4096) {
        if (!load(dir, n_seq, max_waiting, n_ctx)) return false;
        options.port = 0;
        if (options.model_id.empty()) options.model_id = "tiny";
        server = std::make_unique<server::ApiServer>(*model, *pool, options);
        if (Status st = server->start(); !st.ok()) return fail(st.message());
        return true;
    }

    // The model and its pool only (a test serves them its own way). `name` names the file.
    bool load(const QTemporaryDir& dir, int n_seq, size_t max_waiting = 64, int64_t n_ctx = 4096,
              const QString& name = QStringLiteral("tiny")) {
        RandomModelConfig config;
        config.n_vocab = 512;
        config.n_embd = 64;
        config.n_layer = 2;
        config.n_ctx_train = 4096;
        QString why;
        const QString path = writeRandomModel(dir, name, config, &why);
        if (path.isEmpty()) return fail(why.toStdString());
        LoadOptions lo = cpuLoadOptions(KvCacheType::f32, n_ctx, 64);
        lo.n_seq = n_seq;
        auto m = engine.load(path.toStdString(), lo);
        if (!m.ok()) return fail(m.status().message());
        model = std::move(*m);
        SequencePool::Options po;
        po.max_waiting = max_waiting;
        auto p = SequencePool::create(*model, po);
        if (!p.ok()) return fail(p.status().message());
        pool = std::move(*p);
        return true;
    }

    ~ServedModel() {
        server.reset();  // before the pool and the model
        pool.reset();
    }

private:
    bool fail(std::string why) {
        error = std::move(why);
        return false;
    }
};

// Limits small enough for tests to reach them quickly.
inline server::ServerOptions testServerOptions() {
    server::ServerOptions o;
    o.limits.max_body_bytes = 64 * 1024;
    o.limits.max_headers = 20;
    o.limits.max_connections = 8;
    o.limits.request_timeout = std::chrono::milliseconds(300);
    o.limits.idle_timeout = std::chrono::milliseconds(3000);
    return o;
}

}  // namespace strata::test
