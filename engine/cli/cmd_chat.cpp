// strata-cli chat: an interactive conversation in the terminal. The conversation is rendered
// with the model's own chat template each turn (Model::chat_prompt; --template FILE for another
// one); the KV cache of the unchanged prefix is reused.
// Ctrl+C stops the answer being generated; Ctrl+D (end of input) or /quit leaves.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "load_options.h"
#include "strata/chat.h"
#include "strata/chat_turn.h"

namespace strata::cli {

namespace {
// The one piece of process-wide state: a signal handler can only reach a global. It points at
// the running chat's cancel flag and is cleared when the chat returns.
std::atomic<bool>* g_cancel_generation = nullptr;
void on_sigint(int) {
    if (g_cancel_generation) g_cancel_generation->store(true);
}
}  // namespace

int cmd_chat(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli chat -m MODEL [options]\n\n"
                             "Chats in the terminal. /reset starts over, /quit leaves; Ctrl+C stops an answer.\n\n%s%s"
                             "  --system TEXT           system prompt\n"
                             "  --template FILE         a Jinja chat template to use instead of the model's\n",
                     model_options_help(), generate_options_help());
        return 0;
    }
    ModelOptions mo;
    GenerateParams gp;
    gp.max_tokens = 1024;  // per answer
    if (!parse_model_options(args, mo) || !parse_generate_options(args, gp)) return 2;
    const std::string system = args.value({"--system"}).value_or("");
    ChatPromptRequest request;
    if (auto path = args.value({"--template"})) {
        std::ifstream in(*path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        if (!in || text.str().empty()) {
            std::fprintf(stderr, "error: cannot read the template file %s\n", path->c_str());
            return 2;
        }
        request.custom_template = text.str();
    }
    if (!finish_model_args(args, mo, "chat")) return 2;

    Engine engine;
    std::fprintf(stderr, "devices: %s\n", engine.gpu_status().c_str());
    auto model = engine.load(mo.model_path, mo.load, print_load_progress);
    if (!model.ok()) {
        std::fprintf(stderr, "error: %s\n", model.status().message().c_str());
        return 1;
    }
    Model& m = **model;
    std::fprintf(stderr, "%s — %s, %s, context %lld, chat template: %s\n", m.info().name.c_str(),
                 format_param_count(m.info().n_params).c_str(), m.info().quantization.c_str(),
                 static_cast<long long>(m.n_ctx()),
                 request.custom_template.empty() ? m.chat_template_summary().c_str() : "a custom template");
    for (const auto& st : m.plan().stages)
        std::fprintf(stderr, "  layers %d-%d on %s\n", st.layer_begin, st.layer_end - 1, st.device_id.c_str());
    std::fprintf(stderr, "Type a message and press Enter. /reset starts over, /quit leaves, Ctrl+C stops an answer.\n");

    auto seq = m.create_sequence();
    if (!seq.ok()) {
        std::fprintf(stderr, "error: %s\n", seq.status().message().c_str());
        return 1;
    }
    std::vector<ChatMessage> history;
    auto message = [](const char* role, const std::string& content) {
        ChatMessage m;
        m.role = role;
        m.content = content;
        return m;
    };
    if (!system.empty()) history.push_back(message("system", system));
    std::atomic<bool> cancel{false};
    g_cancel_generation = &cancel;
    std::signal(SIGINT, on_sigint);
    const bool interactive = isatty(STDIN_FILENO);
    bool warned = false;  // the built-in-format warning, once per chat
    ChatTurnOptions turn_options;
    turn_options.drop_oldest_turns = false;  // say so instead: the user decides what to drop
    std::string line;
    for (;;) {
        if (interactive) std::fprintf(stdout, "\n> ");
        std::fflush(stdout);
        if (!std::getline(std::cin, line)) break;
        if (line == "/quit" || line == "/exit") break;
        if (line == "/reset") {
            history.resize(system.empty() ? 0 : 1);
            std::fprintf(stderr, "(conversation cleared)\n");
            continue;
        }
        if (line.empty()) continue;
        history.push_back(message("user", line));
        request.messages = history;
        cancel.store(false);
        // Reasoning (Qwen 3 / R1 <think>, harmony's analysis channel) goes to stderr, the answer
        // to stdout; the history keeps the answer and its reasoning apart, as the templates expect.
        bool thinking = false;
        ChatTurnCallbacks callbacks;
        callbacks.on_prompt = [&](const ChatPrompt& prompt, const OutputFormats&) {
            if (!prompt.warning.empty() && !warned) {
                std::fprintf(stderr, "warning: using the %s format: %s\n", prompt.template_name.c_str(),
                             prompt.warning.c_str());
                warned = true;
            }
        };
        callbacks.on_delta = [&](const OutputDelta& d) {
            if (d.channel == OutputChannel::tool_call) return;  // shown parsed, below
            if (d.channel == OutputChannel::reasoning) {
                if (!thinking) std::fprintf(stderr, "[thinking] ");
                thinking = true;
                std::fwrite(d.text.data(), 1, d.text.size(), stderr);
                return;
            }
            if (thinking) std::fprintf(stderr, "\n[answer]\n");
            thinking = false;
            std::fwrite(d.text.data(), 1, d.text.size(), stdout);
            std::fflush(stdout);
        };
        auto turn = run_chat_turn(m, **seq, request, gp, callbacks, &cancel, turn_options);
        std::fprintf(stdout, "\n");
        if (!turn.ok()) {
            std::fprintf(stderr, "error: %s\n", turn.status().message().c_str());
            history.pop_back();
            continue;
        }
        for (const ToolCall& call : turn->output.calls)
            std::fprintf(stderr, "[tool call] %s(%s)\n", call.name.c_str(), call.arguments.c_str());
        for (const ToolCallProblem& problem : turn->output.problems)
            std::fprintf(stderr, "[tool call not understood] %s\n", problem.message.c_str());
        ChatMessage answer = message("assistant", turn->output.content);
        answer.reasoning = turn->output.reasoning;
        answer.tool_calls = turn->output.calls;
        history.push_back(std::move(answer));
        const GenerateStats& stats = turn->stats;
        std::fprintf(stderr, "[%d tokens, %.2f s to first token, %.1f tok/s%s]\n", stats.n_generated,
                     stats.time_to_first_token, stats.generate_tps(),
                     stats.stop == StopReason::cancelled ? ", stopped" : "");
    }
    g_cancel_generation = nullptr;
    std::signal(SIGINT, SIG_DFL);
    return 0;
}

}  // namespace strata::cli
