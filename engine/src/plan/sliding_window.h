// The sliding-window layout of a model from its keys (strata/plan.h SlidingWindow), read the
// same way for the planner's footprint and for the model's hyperparameters. Pure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

// get_int(key) → the key's integer value, nullopt when absent, or an error. Gemma 2: window
// `<arch>.attention.sliding_window` (default 4096) on every other layer (pattern
// `attention.sliding_window_pattern`, default 2); Gemma 3: the window where the file gives one,
// on five layers of six by default; Phi-3: the window where the file gives one (not 0), on
// every layer, as its reference code masks (llama.cpp ignores it); no window for other
// architectures. Errors name the key.
Result<SlidingWindow> read_sliding_window(
    const std::string& arch, const std::function<Result<std::optional<int64_t>>(const std::string&)>& get_int,
    const std::string& source);

}  // namespace strata
