#include "completion_handler.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <random>

#include "server_metrics.h"
#include "strata/chat_turn.h"
#include "strata/engine.h"
#include "strata/sequence_pool.h"
#include "strata/server/openai_json.h"

namespace strata::server {

namespace {

void send_error(httplib::Response& res, int status, const std::string& message, int retry_after = 0) {
    res.status = status;
    if (retry_after > 0) res.set_header("Retry-After", std::to_string(retry_after));
    res.set_content(error_json(status, message), "application/json");
}

// The HTTP status for a failed call into the engine.
int status_for(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_argument: return 400;
        case ErrorCode::busy:
        case ErrorCode::cancelled: return 503;
        default: return 500;
    }
}

std::string cancelled_message() {
    return "the request was cancelled (the client left, the server is stopping, or its model was unloaded)";
}

// Everything a streamed answer needs after the handler has returned.
struct Job {
    CompletionContext ctx;
    CompletionRequest request;
    ResponseMeta meta;
    std::vector<int32_t> tokens;  // text completions: the prompt
    PreparedChatTurn turn;        // chat completions: the rendered, fitted prompt
    SequencePool::Lease lease;
    std::atomic<bool>* cancel = nullptr;
};

// The finished answer of a chat turn, as the response carries it: tool calls only when tools
// were offered; otherwise the content is the text as it streamed.
ChatAnswer answer_of(const CompletionRequest& request, const ChatTurnResult& r, const std::string& streamed) {
    ChatAnswer a;
    a.reasoning = r.output.reasoning;
    if (request.tools_offered()) {
        a.content = r.output.content;
        a.tool_calls = r.output.calls;
    } else {
        a.content = streamed;
    }
    return a;
}

// A failed answer: a device failure is told to the model's owner, which may re-plan the model.
void report(const CompletionContext& ctx, const Status& failure) {
    if (failure.code() == ErrorCode::device_failure && ctx.source) ctx.source->device_failed(failure);
}

void count(const CompletionContext& ctx, const GenerateStats& s) {
    ctx.metrics.add_tokens(s.n_prompt + s.n_reused, s.n_generated);
}

// Runs a streamed answer, writing server-sent events to `sink`. False when the client is gone.
bool run_stream(Job& job, httplib::DataSink& sink) {
    std::atomic<bool>& cancel = *job.cancel;
    auto write = [&](const std::string& event) {
        if (cancel) return false;
        if (!sink.write(event.data(), event.size())) {
            cancel = true;  // the client left: the generation stops at its next token
            return false;
        }
        return true;
    };
    const ResponseMeta& meta = job.meta;
    GenerateStats stats;
    Status failure;
    std::string finish;
    if (meta.chat) {
        write(sse(chunk_json(meta, "", true, "")));
        std::string text;  // the content so far
        size_t sent = 0;   // how much of it has gone out
        OutputFormats formats;
        const bool tools = job.request.tools_offered();
        ChatTurnCallbacks callbacks;
        callbacks.on_prompt = [&](const ChatPrompt&, const OutputFormats& f) { formats = f; };
        callbacks.on_delta = [&](const OutputDelta& d) {
            if (d.channel == OutputChannel::reasoning) {
                write(sse(reasoning_chunk_json(meta, d.text)));
            } else if (d.channel == OutputChannel::content) {
                text += d.text;
                // While tools are offered, text that may be the start of a call waits for the
                // parse, so a client never sees a call's raw text.
                const size_t safe = tools ? tool_call_safe_prefix(text, formats.tool_calls) : text.size();
                if (safe > sent) {
                    write(sse(chunk_json(meta, text.substr(sent, safe - sent), false, "")));
                    sent = safe;
                }
            }
            // Harmony tool-call bodies are not text for anyone to read: the parse has the calls.
        };
        auto r = run_chat_turn(*job.lease, job.turn, job.request.params, callbacks, &cancel);
        job.lease = {};  // the sequence goes back to the pool at once
        if (!r.ok()) {
            failure = r.status();
            report(job.ctx, failure);
        } else {
            stats = r->stats;
            count(job.ctx, stats);
            if (stats.stop != StopReason::error && stats.stop != StopReason::cancelled) {
                const ChatAnswer a = answer_of(job.request, *r, text);
                finish = finish_reason(stats.stop);
                // What was held back: the parsed content's rest (the calls' text removed), then the calls.
                const std::string sent_text = text.substr(0, sent);
                if (a.content.size() > sent_text.size() && a.content.compare(0, sent_text.size(), sent_text) == 0)
                    write(sse(chunk_json(meta, a.content.substr(sent_text.size()), false, "")));
                if (!a.tool_calls.empty()) {
                    write(sse(tool_calls_chunk_json(meta, a.tool_calls)));
                    finish = "tool_calls";
                }
            }
        }
    } else {
        auto r = job.lease->generate(job.tokens, job.request.params,
                                     [&](std::string_view piece) { write(sse(chunk_json(meta, std::string(piece), false, ""))); },
                                     &cancel);
        job.lease = {};
        if (!r.ok()) {
            failure = r.status();
            report(job.ctx, failure);
        } else {
            stats = *r;
            count(job.ctx, stats);
            finish = finish_reason(stats.stop);
        }
    }
    // Cancelled because the model was taken away: the client is still there and is told why.
    const bool retired = cancel && job.ctx.retired && job.ctx.retired->load();
    if (cancel && !retired) return false;  // the client is gone (or the server stops): nothing more to say
    if (!failure.ok() || stats.stop == StopReason::error || stats.stop == StopReason::cancelled) {
        const int status = failure.ok() ? (stats.stop == StopReason::cancelled ? 503 : 500) : status_for(failure.code());
        const std::string message = !failure.ok() && !retired ? failure.message()
                                    : stats.stop == StopReason::cancelled || retired ? cancelled_message()
                                                                                     : "the answer failed";
        const std::string event = sse(error_json(status, message));
        if (!sink.write(event.data(), event.size())) return false;
        sink.done();
        return true;
    }
    write(sse(chunk_json(meta, "", false, finish)));
    if (job.request.include_usage) write(sse(usage_chunk_json(meta, stats)));
    write("data: [DONE]\n\n");
    if (cancel) return false;
    sink.done();
    return true;
}

}  // namespace

void handle_completion(const CompletionContext& ctx, const std::string& body, bool chat, std::atomic<bool>& cancel,
                       httplib::Response& res) {
    auto job = std::make_shared<Job>(Job{ctx, {}, {}, {}, {}, {}, &cancel});
    CompletionRequest& request = job->request;
    if (auto e = chat ? parse_chat_request(body, request) : parse_completion_request(body, request)) {
        res.status = e->status;
        res.set_content(error_json(*e), "application/json");
        return;
    }
    Model& model = ctx.served->model;
    GenerateParams& params = request.params;
    // Unbounded by default, as with OpenAI: the answer runs until it ends or the context is full.
    if (!request.has_max_tokens)
        params.max_tokens = int(std::clamp<int64_t>(model.n_ctx(), 1, std::numeric_limits<int>::max()));
    if (!request.has_seed) {
        thread_local std::mt19937_64 rng{std::random_device{}()};
        params.sampler.seed = rng();
    }

    // The prompt's tokens pick the sequence whose cache shares the longest prefix with them.
    // A chat is rendered once: the fitted prompt both picks the sequence and is generated from.
    std::vector<int32_t> tokens;
    if (chat) {
        auto turn = prepare_chat_turn(model, request.prompt_request, params.max_tokens);
        if (!turn.ok()) return send_error(res, status_for(turn.status().code()), turn.status().message());
        job->turn = std::move(turn).value();
        tokens = job->turn.prompt.tokens;
    } else {
        // Special-token text ("<|im_start|>") is read as those tokens, as llama-server does, so a
        // client can write a chat template of its own.
        tokens = model.tokenize(request.prompt, true, true);
        if (int64_t(tokens.size()) >= model.n_ctx())
            return send_error(res, 400, "the prompt is " + std::to_string(tokens.size()) +
                                            " tokens; the model's context is " + std::to_string(model.n_ctx()));
    }
    auto lease = ctx.served->pool.acquire(tokens, &cancel);
    if (!lease.ok()) {
        const ErrorCode code = lease.status().code();
        if (code == ErrorCode::busy)
            return send_error(res, 503, "the server is busy: every sequence is generating and the queue is full; try again shortly",
                              ctx.retry_after_seconds);
        return send_error(res, status_for(code), code == ErrorCode::cancelled ? cancelled_message() : lease.status().message());
    }
    job->lease = std::move(*lease);
    job->meta = new_response_meta(chat, ctx.served->id);
    if (!chat) job->tokens = std::move(tokens);

    if (request.stream) {
        res.status = 200;
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider("text/event-stream",
                                         [job](size_t, httplib::DataSink& sink) { return run_stream(*job, sink); });
        return;
    }

    GenerateStats stats;
    if (chat) {
        std::string text;
        ChatTurnCallbacks callbacks;
        callbacks.on_delta = [&](const OutputDelta& d) {
            if (d.channel == OutputChannel::content) text += d.text;
        };
        auto r = run_chat_turn(*job->lease, job->turn, params, callbacks, &cancel);
        job->lease = {};
        if (!r.ok()) {
            report(ctx, r.status());
            return send_error(res, status_for(r.status().code()), r.status().message());
        }
        stats = r->stats;
        count(ctx, stats);
        if (stats.stop == StopReason::error) return send_error(res, 500, "the answer failed");
        if (stats.stop == StopReason::cancelled) return send_error(res, 503, cancelled_message());
        res.set_content(chat_completion_json(job->meta, answer_of(request, *r, text), stats), "application/json");
    } else {
        std::string text;
        auto r = job->lease->generate(job->tokens, params, [&](std::string_view piece) { text += piece; }, &cancel);
        job->lease = {};
        if (!r.ok()) {
            report(ctx, r.status());
            return send_error(res, status_for(r.status().code()), r.status().message());
        }
        stats = *r;
        count(ctx, stats);
        if (stats.stop == StopReason::error) return send_error(res, 500, "the answer failed");
        if (stats.stop == StopReason::cancelled) return send_error(res, 503, cancelled_message());
        res.set_content(completion_json(job->meta, text, stats), "application/json");
    }
}

}  // namespace strata::server
