// Value types that travel between the GUI thread and the engine worker in queued signals and
// slots, registered with Qt's meta-type system (registerWorkerMetaTypes()).
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

#include "chat/chat_types.h"
#include "strata/bench.h"
#include "strata/engine.h"

namespace strata::app {

// A model the worker has loaded: its facts, the plan it runs under, and the chat format used.
struct LoadedModel {
    QString path;
    strata::ModelInfo info;
    strata::PlanRequest request;
    strata::Plan plan;
    qint64 nCtx = 0;
    int nSeq = 1;        // answers that can run at once (sequence slots)
    QString chatFormat;  // "ChatML", "plain", ...
    double loadSeconds = 0;
};

// What the device monitor shows: real allocations and per-stage timings of the loaded model.
struct EngineStats {
    QList<strata::DeviceMemory> memory;
    QList<strata::StageTiming> timings;
};

using DeviceInfoList = QList<strata::DeviceInfo>;
using DeviceSpecList = QList<strata::DeviceSpec>;

// Registers every type above (and the engine types they carry) for queued connections.
// Call once before connecting the worker (main.cpp and tests do).
void registerWorkerMetaTypes();

}  // namespace strata::app

Q_DECLARE_METATYPE(strata::ErrorCode)
Q_DECLARE_METATYPE(strata::LoadOptions)
Q_DECLARE_METATYPE(strata::GenerateParams)
Q_DECLARE_METATYPE(strata::GenerateStats)
Q_DECLARE_METATYPE(strata::PlanReport)
Q_DECLARE_METATYPE(strata::DeviceInfo)
Q_DECLARE_METATYPE(strata::DeviceSpec)
Q_DECLARE_METATYPE(strata::DeviceMemory)
Q_DECLARE_METATYPE(strata::StageTiming)
Q_DECLARE_METATYPE(strata::app::LoadedModel)
Q_DECLARE_METATYPE(strata::app::EngineStats)
Q_DECLARE_METATYPE(strata::BenchOptions)
Q_DECLARE_METATYPE(strata::LinkMatrix)
Q_DECLARE_METATYPE(strata::LinkProbeReport)
