// Shared pieces of the tool-call parsers (internal): JSON validation of one call, and the
// collector that numbers calls and records problems. One parser per format, each in its own
// output_tool_<format>.cpp.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "strata/chat_output.h"

namespace strata::chat_output {

using Json = nlohmann::ordered_json;  // keeps the model's key order in `arguments`

// Parses `text` as JSON without throwing; on failure `error` says why.
std::optional<Json> parse_json(std::string_view text, std::string* error);

// Compact JSON text; invalid UTF-8 inside strings becomes U+FFFD instead of an exception.
std::string dump_compact(const Json& value);

// A call's arguments as JSON object text: an object as is, a string that holds a JSON object
// (some models encode it twice), null or absent as "{}". Anything else: nullopt and `why`.
std::optional<std::string> arguments_text(const Json* value, std::string* why);

struct CallFields {
    std::string name;
    std::string arguments;
    std::string id;  // empty when the call carries none
};

// Reads {"name": "...", <one of arg_keys>: {...}, optionally "id": "..."}; nullopt and `why`
// when the object is not a call.
std::optional<CallFields> call_from_json(const Json& value, std::initializer_list<const char*> arg_keys,
                                         std::string* why);

// Collects calls and problems into a ParsedToolCalls: ids "call_<index>" unless given, and
// problem messages that say which call and where.
class CallCollector {
public:
    explicit CallCollector(ParsedToolCalls& out) : out_(out) {}
    void add(CallFields fields);
    void problem(ToolCallProblem::Kind kind, size_t offset, std::string_view text, const std::string& why);
    size_t attempts() const { return attempts_; }

private:
    ParsedToolCalls& out_;
    size_t attempts_ = 0;
};

ParsedToolCalls parse_hermes_calls(std::string_view text);
ParsedToolCalls parse_llama3_calls(std::string_view text);
ParsedToolCalls parse_mistral_calls(std::string_view text);
ParsedToolCalls parse_deepseek_calls(std::string_view text);
// starts_in_analysis: the prompt ended inside an analysis message (see HarmonyStream).
ParsedToolCalls parse_harmony_calls(std::string_view text, bool starts_in_analysis = false);

}  // namespace strata::chat_output
