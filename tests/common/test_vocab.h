// A small SentencePiece vocabulary for prompt and detokenizer tests: <unk>, <s>, </s>, then the
// given control tokens (ids 3, 4, ...), the 256 byte-fallback tokens (so any text encodes), then
// the given normal pieces. BOS 1, EOS 2, UNK 0.
#pragma once

#include <QtGlobal>

#include <cstdio>
#include <initializer_list>
#include <memory>

#include "tokenizer/vocab.h"

namespace strata::test {

inline std::shared_ptr<const Vocab> byteFallbackVocab(std::initializer_list<const char*> controls,
                                                      std::initializer_list<const char*> pieces) {
    VocabData d;
    d.kind = VocabKind::spm;
    d.tokens = {"<unk>", "<s>", "</s>"};
    d.types = {TokenType::unknown, TokenType::control, TokenType::control};
    for (const char* c : controls) {
        d.tokens.emplace_back(c);
        d.types.push_back(TokenType::control);
    }
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        d.tokens.emplace_back(buf);
        d.types.push_back(TokenType::byte);
    }
    for (const char* piece : pieces) {
        d.tokens.emplace_back(piece);
        d.types.push_back(TokenType::normal);
    }
    d.scores.assign(d.tokens.size(), 0.0f);
    d.bos_id = 1;
    d.eos_id = 2;
    d.unk_id = 0;
    auto v = Vocab::create(std::move(d));
    if (!v.ok()) qFatal("%s", v.status().message().c_str());
    return *v;
}

}  // namespace strata::test
