// strata-cli plan: how a model would be laid across devices, decided from its header alone.
// Exits 0 when it fits, 3 when it does not (so scripts can ask "does this fit?").
#include <cstdio>

#include "cli_common.h"
#include "load_options.h"

namespace strata::cli {

int cmd_plan(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli plan -m MODEL [options]\n\n"
                             "Prints the layer split, memory per device, and what would fit when it does not.\n"
                             "Exit status: 0 fits, 3 does not fit, 1 error.\n\n%s", model_options_help());
        return 0;
    }
    ModelOptions mo;
    if (!parse_model_options(args, mo)) return 2;
    if (!finish_model_args(args, mo, "plan")) return 2;
    Engine engine;
    auto report = engine.plan(mo.model_path, mo.load);
    if (!report.ok()) {
        std::fprintf(stderr, "error: %s\n", report.status().message().c_str());
        return 1;
    }
    std::printf("%s — %s params, %s, %s\n", report->info.name.c_str(), format_param_count(report->info.n_params).c_str(),
                report->info.quantization.c_str(), format_bytes(report->info.weight_bytes).c_str());
    std::printf("%s\n", format_plan(report->request, report->plan).c_str());
    return report->plan.fits ? 0 : 3;
}

}  // namespace strata::cli
