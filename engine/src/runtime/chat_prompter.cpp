#include "runtime/chat_prompter.h"

namespace strata {

namespace {

std::string special_text(const Vocab& v, int32_t id) { return id >= 0 && id < v.n_tokens() ? v.token_text(id) : ""; }

// A message as the templates read it (ChatTemplateMessage::to_json gives assistant reasoning as
// both `reasoning_content` and `thinking`: each template reads its own key).
// Tool-call arguments are given as an object when they parse (Hugging Face's convention, which
// templates that `tojson` them rely on), else as the string the client sent.
nlohmann::ordered_json template_message(const ChatMessage& m) {
    ChatTemplateMessage msg;
    msg.role = m.role;
    msg.content = m.content;
    if (!m.reasoning.empty()) msg.reasoning_content = m.reasoning;
    if (!m.tool_calls.empty()) {
        nlohmann::ordered_json calls = nlohmann::ordered_json::array();
        for (const ToolCall& c : m.tool_calls) {
            nlohmann::ordered_json args = nlohmann::ordered_json::parse(c.arguments, nullptr, /*allow_exceptions=*/false);
            if (args.is_discarded()) args = c.arguments;
            calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", args}}}});
        }
        msg.tool_calls = std::move(calls);
        if (m.content.empty()) msg.content.reset();  // OpenAI: a call-only message has null content
    }
    if (!m.tool_call_id.empty()) msg.tool_call_id = m.tool_call_id;
    if (!m.name.empty()) msg.name = m.name;
    return msg.to_json();
}

}  // namespace

ChatPrompter::ChatPrompter(std::shared_ptr<const Vocab> vocab, const std::string& model_template)
    : vocab_(std::move(vocab)), family_(detect_chat_format(model_template)) {
    if (model_template.empty()) {
        template_problem_ = "the model has no chat template";
        return;
    }
    ChatTemplateError err;
    auto compiled = ChatTemplate::compile(model_template, &err);
    if (!compiled.ok()) {
        template_problem_ = "its chat template does not parse (" + err.to_string() + ")";
        return;
    }
    model_template_ = std::move(compiled).value();
}

std::string ChatPrompter::summary() const {
    if (model_template_) return "the model's template";
    return std::string("built-in ") + chat_format_name(family_) + ": " + template_problem_;
}

Result<ChatPrompt> ChatPrompter::render(const ChatTemplate& tmpl, const ChatPromptRequest& request) const {
    ChatTemplateInput in;
    for (const ChatMessage& m : request.messages) in.messages.push_back(template_message(m));
    in.tools = request.tools;
    in.add_generation_prompt = request.add_generation_prompt;
    in.bos_token = special_text(*vocab_, vocab_->bos());
    in.eos_token = special_text(*vocab_, vocab_->eos());
    if (request.extra_vars.is_object()) in.extra_vars = request.extra_vars;
    ChatTemplateError err;
    auto rendered = tmpl.render(in, &err);
    if (!rendered.ok()) return rendered.status();
    ChatPrompt p;
    p.text = std::move(rendered->text);
    std::vector<std::pair<size_t, size_t>> literal;
    for (const PromptRange& r : rendered->untrusted) literal.emplace_back(r.begin, r.end);
    if (!request.assistant_prefix.empty()) {  // the answer so far: model text, read literally
        literal.emplace_back(p.text.size(), p.text.size() + request.assistant_prefix.size());
        p.text += request.assistant_prefix;
    }
    // BOS where the model wants one, unless the template wrote it (most do: "{{ bos_token }}").
    const std::string bos = special_text(*vocab_, vocab_->bos());
    EncodeOptions eo;
    eo.add_bos = vocab_->add_bos() && !(bos.size() > 0 && p.text.starts_with(bos));
    eo.parse_special = true;
    eo.literal = &literal;
    p.tokens = vocab_->encode(p.text, eo);
    p.stop_strings = chat_stop_strings(family_);
    return p;
}

ChatPrompt ChatPrompter::builtin(const ChatPromptRequest& request, std::string warning) const {
    ChatPrompt p;
    p.source = ChatTemplateSource::builtin;
    p.template_name = std::string("built-in ") + chat_format_name(family_);
    p.warning = std::move(warning);
    p.text = render_chat(family_, request.messages, request.add_generation_prompt) + request.assistant_prefix;
    // The built-in formats keep no provenance: control spellings in user text are read as
    // tokens here, as before templates ran; the model's own (or a custom) template guards them.
    p.tokens = vocab_->encode(p.text, vocab_->add_bos(), true);
    p.stop_strings = chat_stop_strings(family_);
    return p;
}

Result<ChatPrompt> ChatPrompter::prompt(const ChatPromptRequest& request) const {
    if (!request.custom_template.empty()) {
        ChatTemplateError err;
        auto compiled = ChatTemplate::compile(request.custom_template, &err);
        if (!compiled.ok())
            return Status(ErrorCode::invalid_argument, "the custom chat template does not parse: " + err.to_string());
        auto p = render(*compiled, request);
        if (!p.ok()) return p.status().with_context("the custom chat template");
        p->source = ChatTemplateSource::custom;
        p->template_name = "a custom template";
        return p;
    }
    if (!model_template_) return builtin(request, template_problem_);
    auto p = render(*model_template_, request);
    if (!p.ok()) return builtin(request, "its chat template failed on this conversation (" + p.status().message() + ")");
    p->source = ChatTemplateSource::model;
    p->template_name = "the model's template";
    return p;
}

}  // namespace strata
