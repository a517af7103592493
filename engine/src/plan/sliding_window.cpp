#include "plan/sliding_window.h"

namespace strata {

Result<SlidingWindow> read_sliding_window(
    const std::string& arch, const std::function<Result<std::optional<int64_t>>(const std::string&)>& get_int,
    const std::string& source) {
    SlidingWindow swa;
    const bool gemma2 = arch == "gemma2", phi3 = arch == "phi3", gpt_oss = arch == "gpt-oss";
    if (!gemma2 && !phi3 && !gpt_oss && arch != "gemma3") return swa;
    const std::string p = arch + ".attention.";
    STRATA_ASSIGN_OR_RETURN(const std::optional<int64_t> window, get_int(p + "sliding_window"));
    STRATA_ASSIGN_OR_RETURN(const std::optional<int64_t> pattern, get_int(p + "sliding_window_pattern"));
    // gpt-oss's converter always writes its window (128); without it the file is broken, as
    // llama.cpp also says, rather than a model whose every layer sees the whole context.
    if (gpt_oss && !window)
        return Status(ErrorCode::corrupt, source + ": key '" + p + "sliding_window' is missing (gpt-oss's even layers use it)");
    swa.window = window.value_or(gemma2 ? 4096 : 0);
    if (swa.window < 0 || swa.window > (int64_t{1} << 24))
        return Status(ErrorCode::corrupt, source + ": key '" + p + "sliding_window' is " + std::to_string(swa.window) +
                                              ", outside 0.." + std::to_string(int64_t{1} << 24));
    if (swa.window == 0) return SlidingWindow{};
    if (phi3) return swa;  // every layer (Phi-3-mini-4k's 2047; the 128k models' 262144 is no limit)
    // Gemma 2 and gpt-oss alternate (layers 0, 2, 4 ... slide); Gemma 3 slides five of six.
    const int64_t n = pattern.value_or(gemma2 || gpt_oss ? 2 : 6);
    if (n < 1 || n > 4096)
        return Status(ErrorCode::corrupt, source + ": key '" + p + "sliding_window_pattern' is " + std::to_string(n) +
                                              ", outside 1..4096");
    swa.pattern = static_cast<int>(n);
    return swa;
}

}  // namespace strata
