#include "engine/worker_types.h"

#include "perf/bench_run.h"

namespace strata::app {

void registerWorkerMetaTypes() {
    qRegisterMetaType<strata::ErrorCode>();
    qRegisterMetaType<strata::LoadOptions>();
    qRegisterMetaType<strata::GenerateParams>();
    qRegisterMetaType<strata::GenerateStats>();
    qRegisterMetaType<strata::PlanReport>();
    qRegisterMetaType<strata::DeviceInfo>();
    qRegisterMetaType<strata::DeviceSpec>();
    qRegisterMetaType<strata::DeviceMemory>();
    qRegisterMetaType<strata::StageTiming>();
    qRegisterMetaType<LoadedModel>();
    qRegisterMetaType<EngineStats>();
    // Typedefs used in signatures must also be known by the name written there.
    qRegisterMetaType<DeviceInfoList>("strata::app::DeviceInfoList");
    qRegisterMetaType<DeviceSpecList>("strata::app::DeviceSpecList");
    qRegisterMetaType<ChatTurn>();
    qRegisterMetaType<ChatTurns>("strata::app::ChatTurns");
    qRegisterMetaType<SamplingSettings>();
    qRegisterMetaType<AnswerStats>();
    qRegisterMetaType<ChatRequest>();
    qRegisterMetaType<PromptInfo>();
    qRegisterMetaType<ParsedAnswer>();
    qRegisterMetaType<BenchRun>();
    qRegisterMetaType<strata::BenchOptions>();
    qRegisterMetaType<strata::LinkMatrix>("strata::LinkMatrix");
    qRegisterMetaType<strata::LinkProbeReport>();
}

}  // namespace strata::app
