// strata-cli serve: the OpenAI-compatible HTTP API without the app (a GPU box without a display).
// Loads the model with --parallel N sequences, serves them through a SequencePool, and runs until
// SIGINT or SIGTERM. Prints "listening on URL" to stdout once it accepts requests (tests read the
// port from it when --port 0 picks a free one).
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli_common.h"
#include "load_options.h"
#include "strata/sequence_pool.h"
#include "strata/server/api_server.h"

namespace strata::cli {

namespace {

// The id /v1/models reports: the file name without its folder and .gguf.
std::string model_id_from_path(const std::string& path) {
    std::string name = path.substr(path.find_last_of('/') + 1);
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0) name.resize(name.size() - 5);
    return name;
}

}  // namespace

int cmd_serve(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr,
                     "usage: strata-cli serve -m MODEL [--host ADDR] [--port N] [--parallel N] [--api-key KEY]\n"
                     "                        [--cors-origin ORIGIN ...] [options]\n\n"
                     "Serves the OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models,\n"
                     "/health, /metrics) until interrupted. --parallel N requests generate at once, their\n"
                     "tokens batched into shared steps (default: up to 4, as many as the memory holds).\n\n%s"
                     "  --host ADDR             address to listen on (default 127.0.0.1); an address other\n"
                     "                          machines can reach needs --api-key\n"
                     "  --port N                port (default %d; 0: any free port)\n"
                     "  --api-key KEY           require \"Authorization: Bearer KEY\" (or set STRATA_API_KEY)\n"
                     "  --cors-origin ORIGIN    a web origin (http://host:port) allowed to call the API from a\n"
                     "                          browser; repeat for more, \"*\" for any (default: none)\n"
                     "  --queue N               requests that may wait for a free sequence (default 64);\n"
                     "                          beyond that: 503 with Retry-After\n"
                     "  --max-connections N     open connections at most (default 64)\n"
                     "  --request-timeout-ms N  time for a whole request to arrive (default 10000)\n",
                     model_options_help(), server::kDefaultPort);
        return 0;
    }
    ModelOptions mo;
    mo.load.n_seq = 0;  // without --parallel: as many sequences as fit, up to LoadOptions::kAutoSequences
    if (!parse_model_options(args, mo)) return 2;
    server::ServerOptions so;
    so.host = args.value({"--host"}).value_or("127.0.0.1");
    long long n = 0;
    if (auto v = args.value({"--port"})) {
        if (!Args::to_int(*v, "--port", n)) return 2;
        if (n < 0 || n > 65535) {
            std::fprintf(stderr, "error: --port must be from 0 to 65535\n");
            return 2;
        }
        so.port = int(n);
    }
    so.api_key = args.value({"--api-key"}).value_or("");
    if (so.api_key.empty())
        if (const char* env = std::getenv("STRATA_API_KEY")) so.api_key = env;
    so.cors_origins = args.values({"--cors-origin"});
    SequencePool::Options po;
    if (auto v = args.value({"--queue"})) {
        if (!Args::to_int(*v, "--queue", n)) return 2;
        if (n < 0) {
            std::fprintf(stderr, "error: --queue must be 0 or more\n");
            return 2;
        }
        po.max_waiting = size_t(n);
    }
    if (auto v = args.value({"--max-connections"})) {
        if (!Args::to_int(*v, "--max-connections", n)) return 2;
        if (n < 1) {
            std::fprintf(stderr, "error: --max-connections must be 1 or more\n");
            return 2;
        }
        so.limits.max_connections = int(n);
    }
    if (auto v = args.value({"--request-timeout-ms"})) {
        if (!Args::to_int(*v, "--request-timeout-ms", n)) return 2;
        if (n < 1) {
            std::fprintf(stderr, "error: --request-timeout-ms must be 1 or more\n");
            return 2;
        }
        so.limits.request_timeout = std::chrono::milliseconds(n);
    }
    if (!finish_model_args(args, mo, "serve")) return 2;
    for (const std::string& o : so.cors_origins)
        if (o.empty()) {
            std::fprintf(stderr, "error: --cors-origin needs an origin such as http://localhost:3000\n");
            return 2;
        }
    // Checked before loading: refusing after a minute of loading would waste it.
    if (server::serve_address_needs_key(so.host) && so.api_key.empty()) {
        std::fprintf(stderr,
                     "error: --host %s lets other machines reach the server, and then an API key is required: give "
                     "--api-key KEY (or set STRATA_API_KEY), or serve on 127.0.0.1\n",
                     so.host.c_str());
        return 2;
    }
    so.model_id = model_id_from_path(mo.model_path);

    // Signals are taken by sigwait below, not by handlers: block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    Engine engine;
    auto model = engine.load(mo.model_path, mo.load, print_load_progress);
    if (!model.ok()) {
        std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
        return 1;
    }
    auto pool = SequencePool::create(**model, po);
    if (!pool.ok()) {
        std::fprintf(stderr, "error: %s\n", pool.status().message().c_str());
        return 1;
    }
    int exit_code = 0;
    {
        server::ApiServer api(**model, **pool, so);
        if (Status st = api.start(); !st.ok()) {
            std::fprintf(stderr, "error: %s%s\n", st.message().c_str(),
                         st.code() == ErrorCode::busy ? "; choose another port with --port" : "");
            return 1;
        }
        std::fprintf(stderr, "serving %s with %d parallel sequence%s%s%s\n", so.model_id.c_str(), (*pool)->size(),
                     (*pool)->size() == 1 ? "" : "s", so.api_key.empty() ? "" : ", API key required",
                     so.cors_origins.empty() ? "" : ", CORS allow-list set");
        std::fprintf(stdout, "listening on %s\n", api.url().c_str());
        std::fflush(stdout);
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::fprintf(stderr, "stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        api.stop();
    }
    return exit_code;
}

}  // namespace strata::cli
