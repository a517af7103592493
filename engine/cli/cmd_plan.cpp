// strata-cli plan: how a model would be laid across devices, decided from its header alone.
// Exits 0 when it fits, 3 when it does not (so scripts can ask "does this fit?").
#include <cstdio>

#include "cli_common.h"
#include "load_options.h"
#include "strata/machine_profile.h"

namespace strata::cli {

namespace {

// --simulate: the profile's GPUs (then its host as "cpu") and links, instead of this machine's.
Result<PlanReport> plan_simulated(const std::string& profile_path, const ModelOptions& mo) {
    STRATA_ASSIGN_OR_RETURN(const MachineProfile profile, load_machine_profile(profile_path));
    STRATA_ASSIGN_OR_RETURN(ModelInspection inspection, inspect_model_file(mo.model_path));
    if (!inspection.footprint.ok()) return inspection.footprint.status();
    const SimulatedMachine machine = simulate_machine(profile, true);
    std::printf("simulated machine: %s (%s)\n", profile.name.c_str(), profile_path.c_str());
    STRATA_ASSIGN_OR_RETURN(PlanReport report, plan_on_devices(*inspection.footprint, machine.devices, machine.links, mo.load));
    report.info = std::move(inspection.info);
    return report;
}

}  // namespace

int cmd_plan(Args& args) {
    if (args.flag({"-h", "--help"})) {
        std::fprintf(stderr, "usage: strata-cli plan -m MODEL [options]\n\n"
                             "Prints the layer split, memory per device, and what would fit when it does not.\n"
                             "Exit status: 0 fits, 3 does not fit, 1 error.\n\n%s"
                             "  --simulate FILE         plan for a machine profile (JSON: GPUs, links, host) instead of\n"
                             "                          this machine's devices; shipped ones are in resources/machines/\n"
                             "                          (e.g. 4x-rtx4090-pcie.json). The plan names each hand-off's link.\n",
                     model_options_help());
        return 0;
    }
    const std::optional<std::string> simulate = args.value({"--simulate"});
    ModelOptions mo;
    if (!parse_model_options(args, mo)) return 2;
    if (!finish_model_args(args, mo, "plan")) return 2;
    if (simulate && !mo.load.devices.empty()) {
        std::fprintf(stderr, "error: give --devices or --simulate, not both (a simulated machine has its own devices)\n");
        return 2;
    }
    Engine engine;
    auto report = simulate ? plan_simulated(*simulate, mo) : engine.plan(mo.model_path, mo.load);
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
