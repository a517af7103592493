// ChatPrompter: Model::chat_prompt for one loaded model. Compiles the model's chat template once
// (at load), renders conversations with it (or with a custom template), falls back to the
// built-in format of the template's family with a warning when it cannot, and tokenizes the
// result in one pass with control tokens read only outside the user-supplied ranges.
// Immutable after construction; prompt() is thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "strata/chat.h"
#include "strata/chat_prompt.h"
#include "strata/chat_template.h"
#include "strata/status.h"
#include "tokenizer/vocab.h"

namespace strata {

class ChatPrompter {
public:
    ChatPrompter(std::shared_ptr<const Vocab> vocab, const std::string& model_template);

    Result<ChatPrompt> prompt(const ChatPromptRequest& request) const;
    std::string summary() const;

private:
    Result<ChatPrompt> render(const ChatTemplate& tmpl, const ChatPromptRequest& request) const;
    ChatPrompt builtin(const ChatPromptRequest& request, std::string warning) const;

    std::shared_ptr<const Vocab> vocab_;
    std::optional<ChatTemplate> model_template_;
    std::string template_problem_;  // why the model's template is not used ("" when it is)
    ChatFormat family_;             // the built-in format for fallbacks
};

}  // namespace strata
