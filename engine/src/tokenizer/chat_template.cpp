#include "strata/chat.h"

namespace strata {

const char* chat_format_name(ChatFormat f) {
    switch (f) {
        case ChatFormat::plain: return "plain";
        case ChatFormat::chatml: return "ChatML";
        case ChatFormat::llama3: return "Llama 3";
        case ChatFormat::llama2: return "Llama 2 [INST]";
        case ChatFormat::zephyr: return "Zephyr";
        case ChatFormat::gemma: return "Gemma";
        case ChatFormat::phi3: return "Phi-3";
    }
    return "?";
}

ChatFormat detect_chat_format(const std::string& t) {
    auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
    if (has("<|im_start|>")) return ChatFormat::chatml;
    if (has("<|start_header_id|>")) return ChatFormat::llama3;
    if (has("<start_of_turn>")) return ChatFormat::gemma;
    if (has("<|assistant|>") && has("<|end|>")) return ChatFormat::phi3;
    if (has("<|user|>")) return ChatFormat::zephyr;
    if (has("[INST]")) return ChatFormat::llama2;
    return ChatFormat::plain;
}

std::string render_chat(ChatFormat f, const std::vector<ChatMessage>& msgs, bool add_assistant_prefix) {
    std::string out;
    switch (f) {
        case ChatFormat::chatml:
            for (const auto& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
            if (add_assistant_prefix) out += "<|im_start|>assistant\n";
            break;
        case ChatFormat::llama3:
            for (const auto& m : msgs)
                out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
            if (add_assistant_prefix) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
            break;
        case ChatFormat::gemma:
            // Gemma has no system role: a system message is prepended to the first user turn.
            {
                std::string pending_system;
                for (const auto& m : msgs) {
                    if (m.role == "system") { pending_system += m.content + "\n\n"; continue; }
                    const std::string role = m.role == "assistant" ? "model" : "user";
                    out += "<start_of_turn>" + role + "\n" + (role == "user" ? pending_system : "") + m.content +
                           "<end_of_turn>\n";
                    if (role == "user") pending_system.clear();
                }
                if (add_assistant_prefix) out += "<start_of_turn>model\n";
            }
            break;
        case ChatFormat::zephyr:
        case ChatFormat::phi3: {
            const char* end = f == ChatFormat::zephyr ? "</s>\n" : "<|end|>\n";
            for (const auto& m : msgs) out += "<|" + m.role + "|>\n" + m.content + end;
            if (add_assistant_prefix) out += "<|assistant|>\n";
            break;
        }
        case ChatFormat::llama2: {
            // [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer</s><s>[INST] user [/INST]
            std::string system;
            bool first_user = true;
            for (const auto& m : msgs) {
                if (m.role == "system") { system = m.content; continue; }
                if (m.role == "user") {
                    if (!first_user) out += "<s>";
                    out += "[INST] ";
                    if (first_user && !system.empty()) out += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
                    out += m.content + " [/INST]";
                    first_user = false;
                } else {
                    out += " " + m.content + " </s>";
                }
            }
            break;
        }
        case ChatFormat::plain:
            for (const auto& m : msgs) {
                const std::string who = m.role == "system" ? "System" : m.role == "user" ? "User" : "Assistant";
                out += who + ": " + m.content + "\n";
            }
            if (add_assistant_prefix) out += "Assistant:";
            break;
    }
    return out;
}

std::vector<std::string> chat_stop_strings(ChatFormat f) {
    switch (f) {
        case ChatFormat::chatml: return {"<|im_end|>", "<|im_start|>"};
        case ChatFormat::llama3: return {"<|eot_id|>", "<|start_header_id|>"};
        case ChatFormat::gemma: return {"<end_of_turn>"};
        case ChatFormat::zephyr: return {"</s>", "<|user|>"};
        case ChatFormat::phi3: return {"<|end|>", "<|user|>"};
        case ChatFormat::llama2: return {"[INST]"};
        case ChatFormat::plain: return {"\nUser:"};
    }
    return {};
}

}  // namespace strata
