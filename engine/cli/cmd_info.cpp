// strata-cli info MODEL.gguf — placeholder until the GGUF reader lands.
#include <cstdio>

#include "cli_common.h"

namespace strata::cli {

int cmd_info(Args& args) {
    std::vector<std::string> pos;
    std::string err;
    if (!args.finish(pos, err) || pos.size() != 1) {
        std::fprintf(stderr, "usage: strata-cli info MODEL.gguf\n");
        return 2;
    }
    std::fprintf(stderr, "error: GGUF reader not built yet\n");
    return 1;
}

}  // namespace strata::cli
