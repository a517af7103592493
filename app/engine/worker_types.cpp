#include "engine/worker_types.h"

namespace strata::app {

void registerWorkerMetaTypes() {
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
    qRegisterMetaType<DeviceInfoList>();
    qRegisterMetaType<DeviceSpecList>();
    qRegisterMetaType<ChatTurn>();
    qRegisterMetaType<ChatTurns>();
    qRegisterMetaType<SamplingSettings>();
    qRegisterMetaType<AnswerStats>();
}

}  // namespace strata::app
