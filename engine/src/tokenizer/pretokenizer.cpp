#include "tokenizer/pretokenizer.h"

#include <memory>
#include <mutex>
#include <unordered_map>

#include "tokenizer/pretokenizer_table.h"

namespace strata::tokenizer {

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    if (text.empty()) return pieces;
    pieces.push_back(text);
    std::vector<std::string_view> next;
    for (const SplitRegex& regex : patterns_) {
        next.clear();
        next.reserve(pieces.size() + text.size() / 4);
        for (std::string_view piece : pieces) regex.split(piece, next);
        pieces.swap(next);
    }
    return pieces;
}

namespace {

// Name → entry, built once; each entry's patterns are compiled on first use of that entry (so a
// process that only ever meets Llama 3 files compiles one regex), after which it never changes.
class Registry {
public:
    Registry() {
        const auto& specs = pre_tokenizer_specs();
        entries_ = std::make_unique<Entry[]>(specs.size());
        for (size_t i = 0; i < specs.size(); ++i) {
            entries_[i].spec = &specs[i];
            for (std::string_view name : specs[i].names) {
                by_name_.try_emplace(name, &entries_[i]);
                if (name.empty()) continue;
                if (!names_.empty()) names_ += ", ";
                names_ += name;
            }
        }
        n_entries_ = specs.size();
    }

    const PreTokenizer* find(std::string_view name) const {
        const auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : compiled(*it->second);
    }

    const PreTokenizer* find_by_patterns(const std::vector<std::string>& patterns) const {
        for (size_t i = 0; i < n_entries_; ++i) {
            const auto& want = entries_[i].spec->patterns;
            if (want.size() != patterns.size()) continue;
            bool same = true;
            for (size_t k = 0; k < want.size() && same; ++k) same = want[k] == patterns[k];
            if (same) return compiled(entries_[i]);
        }
        return nullptr;
    }

    const std::string& names() const { return names_; }

private:
    struct Entry {
        const PreTokenizerSpec* spec = nullptr;
        mutable std::once_flag once;
        mutable std::unique_ptr<const PreTokenizer> compiled;  // null if a pattern failed to compile
    };

    static const PreTokenizer* compiled(const Entry& e) {
        std::call_once(e.once, [&e] {
            std::vector<SplitRegex> regexes;
            for (std::string_view p : e.spec->patterns) {
                auto r = SplitRegex::create(std::string(p));
                if (!r.ok()) return;  // a table bug (tst_tokenizer_pretok compiles every entry)
                regexes.push_back(std::move(r).value());
            }
            e.compiled = std::make_unique<const PreTokenizer>(std::string(e.spec->names.front()), std::move(regexes),
                                                              e.spec->ignore_merges, e.spec->add_bos);
        });
        return e.compiled.get();
    }

    std::unique_ptr<Entry[]> entries_;
    size_t n_entries_ = 0;
    std::unordered_map<std::string_view, const Entry*> by_name_;
    std::string names_;
};

const Registry& registry() {
    static const Registry r;  // thread-safe initialization; immutable afterwards
    return r;
}

}  // namespace

const PreTokenizer* pre_tokenizer_from_name(std::string_view name) { return registry().find(name); }

const std::string& supported_pre_tokenizer_names() { return registry().names(); }

std::string pre_tokenizer_name_for_patterns(const std::vector<std::string>& patterns) {
    const PreTokenizer* pre = registry().find_by_patterns(patterns);
    return pre ? pre->name() : std::string();
}

}  // namespace strata::tokenizer
