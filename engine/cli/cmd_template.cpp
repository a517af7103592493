// strata-cli template: prints the exact prompt a model gets for a conversation, rendered with
// the model's own chat template (tokenizer.chat_template) by Strata's Jinja interpreter.
//
//   strata-cli template -m MODEL.gguf --messages chat.json [--tools tools.json]
//                       [--no-generation-prompt] [--var key=value]... [--vars vars.json]
//                       [--ids] [--mark-untrusted]
//   strata-cli template --template FILE.jinja --messages chat.json [--bos TEXT] [--eos TEXT] ...
//
// --ids prints the token ids instead: the template's own text is tokenized with special-token
// parsing on, text from the messages and tools with it off (so "<|im_start|>" typed by a user
// stays text), and no BOS is added beyond what the template writes (as transformers does).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "gguf/gguf_file.h"
#include "strata/chat_template.h"
#include "tokenizer/vocab_loader.h"

namespace strata::cli {

namespace {

using json = nlohmann::ordered_json;

bool read_text(const std::string& path, std::string& out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "error: cannot read '%s'\n", path.c_str());
        return false;
    }
    std::stringstream s;
    s << f.rdbuf();
    out = s.str();
    return true;
}

bool read_json(const std::string& path, json& out) {
    std::string text;
    if (!read_text(path, text)) return false;
    try {
        out = json::parse(text);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: '%s' is not valid JSON: %s\n", path.c_str(), e.what());
        return false;
    }
    return true;
}

// One --var: "key=value", split at the first '='. A value that parses as JSON (false, 3,
// [1,2], {"a": 1}, "x") is that value; anything else is the text itself, commas and '=' included
// (so `--var note=a,b=c` sets note to "a,b=c"). Repeat --var for more variables.
bool parse_var(const std::string& item, json& vars) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "error: --var expects key=value, got '%s'\n", item.c_str());
        return false;
    }
    const std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    json parsed = json::parse(value, nullptr, /*allow_exceptions=*/false);
    vars[key] = parsed.is_discarded() ? json(value) : std::move(parsed);
    return true;
}

void print_usage() {
    std::fprintf(stderr,
                 "usage: strata-cli template (-m MODEL | --template FILE.jinja) --messages FILE.json\n"
                 "                           [--tools FILE.json] [--no-generation-prompt]\n"
                 "                           [--var key=value]... [--vars FILE.json]\n"
                 "                           [--bos TEXT] [--eos TEXT] [--ids] [--mark-untrusted]\n"
                 "  --messages        a JSON array of {\"role\", \"content\", ...} (or {\"messages\": [...]})\n"
                 "  --var key=value   an extra template variable, repeatable: --var enable_thinking=false\n"
                 "                    --var reasoning_effort=high; the value is JSON when it parses as\n"
                 "                    JSON, else the text as is (commas included); applied after --vars\n"
                 "  --vars FILE.json  extra template variables from a JSON object\n"
                 "  --bos / --eos     token text for a bare --template (with -m: the model's own)\n"
                 "  --ids             print token ids (needs -m); template text parses special tokens,\n"
                 "                    message text does not\n"
                 "  --mark-untrusted  show text that came from the messages between \xC2\xAB and \xC2\xBB\n");
}

}  // namespace

int cmd_template(Args& args) {
    const auto model = args.value({"-m", "--model"});
    const auto template_path = args.value({"--template"});
    const auto messages_path = args.value({"--messages"});
    const auto tools_path = args.value({"--tools"});
    const std::vector<std::string> var_items = args.values({"--var"});
    const auto vars_path = args.value({"--vars"});
    const auto bos = args.value({"--bos"});
    const auto eos = args.value({"--eos"});
    const bool no_generation_prompt = args.flag({"--no-generation-prompt"});
    const bool ids = args.flag({"--ids"});
    const bool mark = args.flag({"--mark-untrusted"});
    const bool help = args.flag({"-h", "--help"});
    std::vector<std::string> pos;
    std::string err;
    if (help) {
        print_usage();
        return 0;
    }
    if (!args.finish(pos, err) || !pos.empty() || !messages_path || (!model == !template_path) || (ids && !model)) {
        if (!err.empty()) std::fprintf(stderr, "error: %s\n", err.c_str());
        print_usage();
        return 2;
    }

    ChatTemplateInput input;
    json messages;
    if (!read_json(*messages_path, messages)) return 1;
    if (messages.is_object() && messages.contains("messages")) {
        if (messages.contains("tools") && !tools_path) input.tools = messages["tools"];
        messages = messages["messages"];
    }
    input.messages = std::move(messages);
    if (tools_path) {
        json tools;
        if (!read_json(*tools_path, tools)) return 1;
        input.tools = std::move(tools);
    }
    if (vars_path && !read_json(*vars_path, input.extra_vars)) return 1;
    if (vars_path && !input.extra_vars.is_object()) {
        std::fprintf(stderr, "error: '%s' must hold a JSON object of variables\n", vars_path->c_str());
        return 1;
    }
    for (const std::string& item : var_items)
        if (!parse_var(item, input.extra_vars)) return 1;
    input.add_generation_prompt = !no_generation_prompt;

    std::string source;
    std::shared_ptr<const Vocab> vocab;
    if (model) {
        auto file = gguf::GgufFile::open(*model);
        if (!file.ok()) {
            std::fprintf(stderr, "error: %s\n", file.status().message().c_str());
            return 1;
        }
        auto tmpl = (*file)->get_string("tokenizer.chat_template");
        if (!tmpl.ok() || !tmpl->has_value()) {
            std::fprintf(stderr, "error: %s has no tokenizer.chat_template\n", model->c_str());
            return 1;
        }
        source = **tmpl;
        auto v = load_vocab(**file);
        if (!v.ok()) {
            std::fprintf(stderr, "error: %s\n", v.status().message().c_str());
            return 1;
        }
        vocab = *v;
        if (vocab->bos() >= 0) input.bos_token = vocab->token_text(vocab->bos());
        if (vocab->eos() >= 0) input.eos_token = vocab->token_text(vocab->eos());
    } else if (!read_text(*template_path, source)) {
        return 1;
    }
    if (bos) input.bos_token = *bos;
    if (eos) input.eos_token = *eos;

    ChatTemplateError error;
    auto compiled = ChatTemplate::compile(source, &error);
    if (!compiled.ok()) {
        std::fprintf(stderr, "error: %s\n", compiled.status().message().c_str());
        return 1;
    }
    auto rendered = compiled->render(input, &error);
    if (!rendered.ok()) {
        std::fprintf(stderr, "error: %s\n", rendered.status().message().c_str());
        return 1;
    }

    if (ids) {
        bool first = true;
        for (const auto& segment : rendered->segments()) {
            for (int32_t id : vocab->encode(segment.text, /*add_bos=*/false, /*parse_special=*/segment.trusted)) {
                std::printf("%s%d", first ? "" : " ", id);
                first = false;
            }
        }
        std::printf("\n");
        return 0;
    }
    if (mark) {
        for (const auto& segment : rendered->segments()) {
            if (!segment.trusted) std::fputs("\xC2\xAB", stdout);
            std::fwrite(segment.text.data(), 1, segment.text.size(), stdout);
            if (!segment.trusted) std::fputs("\xC2\xBB", stdout);
        }
        return 0;
    }
    std::fwrite(rendered->text.data(), 1, rendered->text.size(), stdout);
    return 0;
}

}  // namespace strata::cli
