#include "strata/engine.h"

#include <algorithm>
#include <mutex>

#include "backend/registry.h"
#include "gguf/gguf_file.h"
#include "model/model_inspection.h"
#include "plan/model_footprint.h"
#include "runtime/loaded_model.h"
#include "strata/calibration.h"
#include "strata/link_store.h"
#include "tokenizer/vocab_loader.h"

namespace strata {

struct EngineTopologyCache {
    std::once_flag once;
    GpuTopology topology;
};

namespace {

int64_t choose_ctx(const LoadOptions& options, int64_t n_ctx_train) {
    if (options.n_ctx > 0) return options.n_ctx;
    return std::min<int64_t>(n_ctx_train > 0 ? n_ctx_train : 4096, 4096);
}

Status check_options(const LoadOptions& o) {
    if (o.n_batch < 1 || o.n_batch > 8192)
        return Status(ErrorCode::invalid_argument, "batch size must be 1..8192, is " + std::to_string(o.n_batch));
    if (o.n_seq < 0 || o.n_seq > 256)
        return Status(ErrorCode::invalid_argument,
                      "parallel sequences must be 1..256 (0: automatic), is " + std::to_string(o.n_seq));
    if (o.n_ctx < 0 || o.n_ctx > (1 << 22))
        return Status(ErrorCode::invalid_argument, "context length must be 1..4194304, is " + std::to_string(o.n_ctx));
    for (double r : o.ratios)
        if (!(r >= 0.0)) return Status(ErrorCode::invalid_argument, "split ratios must be zero or positive");
    return {};
}

struct Planned {
    PlanRequest request;
    Plan plan;
};

// The plan for `options`. n_seq 0 asks for the most parallel sequences, up to kAutoSequences,
// whose plan fits (each adds a KV cache): halved until it fits, 1 when nothing does (the plan
// then says what is short). The decision is the plan's first line of reasons.
Result<Planned> plan_for(const ModelFootprint& footprint, const std::vector<DeviceInfo>& devices,
                         const LoadOptions& options, int64_t n_ctx, const LinkMatrix& links = {},
                         const Calibration& calibration = {}) {
    LoadOptions o = options;
    const bool automatic = o.n_seq == 0;
    for (int n = automatic ? LoadOptions::kAutoSequences : o.n_seq;; n /= 2) {
        o.n_seq = n;
        auto request = make_plan_request(footprint, devices, o, n_ctx);
        if (!request.ok()) return request.status();
        request->links = links;
        apply_calibration(*request, calibration);
        Plan plan = make_plan(*request);
        if (plan.fits || !automatic || n == 1) {
            if (automatic) {
                std::string why = std::to_string(n) + (n == 1 ? " sequence" : " parallel sequences") +
                                  " (each with its own KV cache): ";
                why += n == LoadOptions::kAutoSequences
                           ? "the default number"
                           : "the most that fit, of up to " + std::to_string(LoadOptions::kAutoSequences);
                plan.decisions.insert(plan.decisions.begin(), why);
            }
            return Planned{std::move(request).value(), std::move(plan)};
        }
    }
}

// The links between `devices` on this machine — the NVML topology's, with this machine's stored
// measurements over them (strata/link_store.h) — and where they came from. Only GPUs have any:
// without one nothing is loaded and the planner keeps its assumption.
LinkMatrix links_here(const DeviceRegistry& registry, EngineTopologyCache& cache, const std::vector<DeviceInfo>& devices,
                      std::vector<std::string>* notes) {
    const bool any_gpu = std::any_of(devices.begin(), devices.end(), [](const DeviceInfo& d) { return d.type == DeviceType::cuda; });
    if (!any_gpu) return {};
    std::call_once(cache.once, [&] { cache.topology = read_gpu_topology(); });
    MachineLinks here = machine_links(devices, registry.available(), cache.topology);
    if (notes) *notes = std::move(here.notes);
    return std::move(here.links);
}

// This machine's calibration (strata/calibration.h) unless the options or the environment turn
// it off; unreadable log lines become notes.
Calibration calibration_here(const LoadOptions& options, std::vector<std::string>* notes) {
    if (!options.calibrate) return {};
    Calibration c = load_calibration();
    if (notes)
        for (const std::string& w : c.warnings) notes->push_back("bench log: " + w);
    return c;
}

std::string explain_no_fit(const Plan& plan) {
    std::string msg = "the model does not fit on the chosen devices";
    for (const auto& s : plan.shortfalls) msg += "\n  - " + s;
    if (!plan.suggestions.empty()) {
        msg += "\nwhat would fit:";
        for (const auto& s : plan.suggestions) msg += "\n  - " + s;
    }
    return msg;
}

}  // namespace

Result<ModelFootprint> read_model_footprint(const std::string& path) {
    try {
        auto file = gguf::GgufFile::open(path);
        if (!file.ok()) return file.status();
        return model_footprint(**file);
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::out_of_memory, "out of host memory while reading " + path);
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, path + ": " + e.what());
    }
}

Engine::Engine() : registry_(std::make_unique<DeviceRegistry>()), topology_(std::make_unique<EngineTopologyCache>()) {}
Engine::~Engine() = default;

std::vector<DeviceInfo> Engine::available_devices() const { return registry_->available(); }

LinkMatrix Engine::links_between(const std::vector<DeviceInfo>& devices) {
    return links_here(*registry_, *topology_, devices, nullptr);
}
const std::string& Engine::gpu_status() const { return registry_->gpu_status(); }

Result<std::vector<DeviceInfo>> Engine::describe_devices(const std::vector<DeviceSpec>& specs, int n_threads) const {
    try {
        return registry_->describe(specs.empty() ? registry_->default_specs() : specs, n_threads);
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string("describing devices failed: ") + e.what());
    }
}

Result<PlanReport> Engine::plan(const std::string& path, const LoadOptions& options) {
    try {
        STRATA_RETURN_IF_ERROR(check_options(options));
        auto file = gguf::GgufFile::open(path);
        if (!file.ok()) return file.status();
        auto inspection = inspect_open_model(**file);  // the file just opened, not a second opening
        if (!inspection.ok()) return inspection.status();
        ModelInspection& model = *inspection;
        if (!model.footprint.ok()) return model.footprint.status();
        auto report = plan_footprint(*model.footprint, options);  // the same plan, from the footprint read here
        if (!report.ok()) return report.status();
        report->info = std::move(model.info);
        return report;
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string("planning failed: ") + e.what());
    }
}

Result<PlanReport> Engine::plan_footprint(const ModelFootprint& footprint, const LoadOptions& options) {
    try {
        STRATA_RETURN_IF_ERROR(check_options(options));
        const auto specs = options.devices.empty() ? registry_->default_specs() : options.devices;
        auto devices = registry_->describe(specs, options.n_threads);
        if (!devices.ok()) return devices.status();
        std::vector<std::string> link_notes;
        const LinkMatrix links = links_here(*registry_, *topology_, *devices, &link_notes);
        const Calibration calibration = calibration_here(options, &link_notes);
        auto planned = plan_for(footprint, *devices, options, choose_ctx(options, footprint.n_ctx_train), links, calibration);
        if (!planned.ok()) return planned.status();
        for (std::string& n : link_notes) planned->plan.decisions.push_back(std::move(n));
        PlanReport report;
        report.request = std::move(planned->request);
        report.plan = std::move(planned->plan);
        return report;
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string("planning failed: ") + e.what());
    }
}

Result<PlanReport> plan_on_devices(const ModelFootprint& footprint, const std::vector<DeviceInfo>& devices,
                                   const LinkMatrix& links, const LoadOptions& options) {
    try {
        STRATA_RETURN_IF_ERROR(check_options(options));
        if (!options.devices.empty())
            return Status(ErrorCode::invalid_argument, "devices are given twice: as a list and as the simulated machine");
        if (devices.empty()) return Status(ErrorCode::invalid_argument, "no devices to plan on");
        auto planned = plan_for(footprint, devices, options, choose_ctx(options, footprint.n_ctx_train), links);
        if (!planned.ok()) return planned.status();
        PlanReport report;
        report.request = std::move(planned->request);
        report.plan = std::move(planned->plan);
        return report;
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string("planning failed: ") + e.what());
    }
}

Result<std::unique_ptr<Model>> Engine::load(const std::string& path, const LoadOptions& options,
                                            const LoadProgressFn& progress, const std::atomic<bool>* cancel) {
    try {
        STRATA_RETURN_IF_ERROR(check_options(options));
        auto inputs = read_load_inputs(path);
        if (!inputs.ok()) return inputs.status();
        LoadInputs in = std::move(inputs).value();

        // Plan on the devices' descriptions first: a plan that cannot fit is refused before
        // any device is created or any byte allocated.
        const auto specs = options.devices.empty() ? registry_->default_specs() : options.devices;
        auto described = registry_->describe(specs, options.n_threads);
        if (!described.ok()) return described.status();
        RuntimeConfig config;
        config.n_ctx = choose_ctx(options, in.hp.n_ctx_train);
        config.n_batch = options.n_batch;
        config.kv_type = options.kv_type;
        auto planned = plan_for(in.footprint, *described, options, config.n_ctx, links_here(*registry_, *topology_, *described, nullptr),
                                calibration_here(options, nullptr));
        if (!planned.ok()) return planned.status();
        if (!planned->plan.fits) return Status(ErrorCode::out_of_memory, explain_no_fit(planned->plan));
        config.n_seq = planned->request.n_seq;

        auto devices = registry_->create(specs, options.n_threads);
        if (!devices.ok()) return devices.status();
        auto model = std::make_unique<LoadedModel>(std::move(in), *registry_, std::move(devices).value(),
                                                   std::move(planned->request), std::move(planned->plan), config);
        STRATA_RETURN_IF_ERROR(model->build(progress, cancel));
        return std::unique_ptr<Model>(std::move(model));
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::out_of_memory, "out of host memory while loading " + path);
    } catch (const std::exception& e) {
        return Status(ErrorCode::internal, std::string("loading failed: ") + e.what());
    }
}

}  // namespace strata
