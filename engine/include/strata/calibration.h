// The planner's speed calibration: from the bench results log (strata/bench_log.h), per class of
// device, how this engine's measured speed compares with the planner's raw prediction, so that
// the plan's "~45 tok/s" is what a bench measured, not a bandwidth bound.
//
//   Calibration c = load_calibration();          // this machine's log (empty when switched off)
//   apply_calibration(request, c);               // PlanDevice::calibration of matching devices
//   Plan p = make_plan(request);                 // predictions calibrated; p.raw_* before them
//
// The model (SpeedCalibration in strata/plan.h): decode time per token = weight bytes ÷
// bandwidth ÷ an efficiency factor per weight type + a fixed time per layer per device class;
// prefill the same with flops ÷ compute and a fixed time per layer per batch step (records do
// not say their batch: steps of min(prompt, 512) tokens, the default). One factor per device could not fit a
// GPU whose small models are bound by per-token launch costs and whose quantized kernels read at
// a third of the F16 kernels' rate (docs/benchmarks.md, the H100 run on record). calibrate()
// fits it from single-device bench runs without depth:
//   - per phase, the fixed time c is fitted only when some weight type has runs whose raw time
//     per layer (prefill: per layer and step token) differs by at least 1.5× — models of
//     different sizes, prompts of different lengths — otherwise it cannot be told from the
//     factor, and is 0. Then it is the c in
//     [0, 0.9 × the least measured time per layer] minimising the runs' squared relative errors,
//     each type's factor for a given c being the median of (raw time) ÷ (measured time − c × layers);
//   - a type's factors come from its last `recent` runs; a type without runs gets the class's
//     (the median over the class's last `recent` runs of any type, the same formula). With c = 0
//     and one weight type this is the median of measured ÷ predicted, as before the fixed term.
// A CPU decode run whose weights per token fit in the CPU's last-level cache (the record's
// cache_bytes) is left out of the decode fit: it read from the cache, not from memory, and says
// nothing about the memory-bound models plans are made for (this machine's 480 MiB L3 decoded
// an 80 MB model at 1.3× and a 640 MB one at 0.7× the bandwidth bound, the same weight type).
// Plans for such small models are therefore predicted low, never high.
// Device classes: a CPU device is its CPU model, the kernels' ISA level and its thread count
// ("cpu|Intel Xeon Processor @ 2.80GHz|avx512_vnni|2"); a GPU is its name ("gpu|NVIDIA H100 80GB
// HBM3"). A seed file (resources/calibration.json) ships factors measured elsewhere (the H100
// run on record) for `strata-cli whatif`; this machine's log wins over a seed for the same class.
//
// Off switch: STRATA_NO_CALIBRATION=1 (tests set it; then load_calibration() is empty and every
// plan is the raw one, bit for bit) or LoadOptions::calibrate = false. Pure functions and file
// reads; no shared state; deterministic for a given log.
#pragma once

#include <string>
#include <vector>

#include "strata/bench_log.h"
#include "strata/plan.h"
#include "strata/status.h"

namespace strata {

inline constexpr int kCalibrationRecentRuns = 10;  // runs per class, weight type and phase

struct ClassCalibration {
    std::string device_class;  // speed_class()
    std::string label;         // "this CPU (Intel Xeon …, avx512_vnni, 2 threads)", "NVIDIA H100 80GB HBM3"
    SpeedCalibration factors;  // over every weight type the class ran (weight_type ""); its
                               // decode_layer_seconds is the class's; source: for explanations
    std::vector<SpeedCalibration> weight_types;  // per weight type that ran (weight_type set)
    // What a model of `weight_type` is predicted with: that type's factors for each phase it ran,
    // the class's otherwise; the class's fixed per-layer time either way.
    SpeedCalibration for_weight_type(const std::string& weight_type) const;
};

struct Calibration {
    std::vector<ClassCalibration> classes;
    std::vector<std::string> warnings;  // skipped log lines, a bad seed file
    const ClassCalibration* find(const std::string& device_class) const;
    // Adds `other`'s classes that this one lacks (this wins).
    void merge_missing(const Calibration& other);
};

// The class of a device as the planner describes it (CPU: the current kernels' ISA level) and of
// a device in a bench record.
std::string speed_class(const DeviceInfo& d);
std::string speed_class(const BenchRecordDevice& d);

// The model from `records` (oldest first): single-device runs with no depth, per class of the
// device that ran them, per phase with both a measurement and a raw prediction (the fit above).
Calibration calibrate(const std::vector<BenchRecord>& records, int recent = kCalibrationRecentRuns);

// Whether calibrate() fits decode from this record: a single-device run without depth with a
// decode measurement and raw prediction whose weights do not fit in its CPU's cache.
bool calibrates_decode(const BenchRecord& r);

// A record's calibrated decode / prefill prediction under `c` (what the planner would predict
// for its run with those factors), 0 when `c` has no class for it or the record no raw
// prediction. For `strata-cli calibration`, which shows how well the fit explains each run.
double calibrated_decode_tps(const BenchRecord& r, const Calibration& c);
double calibrated_prefill_tps(const BenchRecord& r, const Calibration& c);

// Whether STRATA_NO_CALIBRATION is set (to anything but "" or "0").
bool calibration_disabled();
// calibrate(read_bench_log(bench_log_path())), its warnings kept; empty when disabled.
Calibration load_calibration();

// The seed: {"source": "...", "classes": [{"gpu": "NVIDIA H100 80GB HBM3", "aliases": [...],
// "decode": 0.27, "decode_runs": 6, "prefill": 0.2, "prefill_runs": 6, "decode_layer_us": 51,
// "prefill_layer_us": 230,
// "weight_types": [{"type": "Q4_0", "decode": 0.55, "decode_runs": 1, ...}]}]} (the *_layer_us
// and weight_types optional). Each alias becomes a class of its own ("gpu|H100 SXM"), so
// catalogue names match. Errors name `source` and the field.
Result<Calibration> parse_seed_calibration(const std::string& json, const std::string& source);
// resources/calibration.json where the catalogue is found (strata/machine_profile.h's
// find_resource); empty with a warning when it is missing or bad, empty when disabled.
Calibration load_seed_calibration();

// What `strata-cli whatif` and the app's what-if use: load_calibration() with the seed's classes
// it lacks (this machine's runs win). Empty when disabled.
Calibration load_calibration_with_seed();

// The calibration of a catalogue card: the first class matching its name or an alias, compared
// without case and without a leading "NVIDIA " / "GeForce " ("NVIDIA H100 80GB HBM3" matches the
// alias "H100 80GB HBM3"). Null when none does.
const ClassCalibration* find_gpu_calibration(const Calibration& c, const std::string& name,
                                             const std::vector<std::string>& aliases);

// Sets PlanDevice::calibration of each request device whose class `c` has (for the request
// model's weight type); returns how many.
int apply_calibration(PlanRequest& request, const Calibration& c);

}  // namespace strata
