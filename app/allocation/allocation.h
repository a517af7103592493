// Allocation settings: how the user wants a model spread over the devices (order, which are on,
// split mode and ratios, reserves, context, KV cache type, batch, and for mixture-of-experts
// models where the experts go), and the two things made from
// them — the planner request for the live fit preview and the LoadOptions for loading. Both are
// built from the same settings by the same rules, so the preview shows what Apply will do.
// Pure functions of value types; thread-safe.
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <optional>

#include "strata/device_info.h"
#include "strata/engine.h"
#include "strata/plan.h"

namespace strata::app {

// A device the app can use: the spec it was named by (from --devices, or made for a device the
// engine found) and what the engine says it is. `info.id` is the device's key in settings.
struct AppDevice {
    strata::DeviceSpec spec;
    strata::DeviceInfo info;
};
using AppDevices = QList<AppDevice>;

// Specs for the devices the engine found (every GPU, then the CPU), when no --devices was given.
AppDevices devicesFromInfos(const QList<strata::DeviceInfo>& infos);
// Pairs specs with their descriptions (same order, as Engine::describe_devices returns them).
AppDevices devicesFromSpecs(const QList<strata::DeviceSpec>& specs, const QList<strata::DeviceInfo>& infos);

// The ids the engine gives devices made from `specs` in this order ("cpu", "cpu1", ... for
// repeated CPU items, "cudaN"), as Engine::describe_devices documents.
QStringList engineDeviceIds(const QList<strata::DeviceSpec>& specs);

struct DeviceAllocation {
    QString key;                     // AppDevice::info.id
    bool enabled = true;
    std::optional<quint64> reserve;  // bytes kept free; unset = the engine's default for the type
    double ratio = 1.0;              // manual split weight (SplitMode::ratios)
    bool operator==(const DeviceAllocation&) const = default;
};

// Where a MoE model's experts go (strata::ExpertPlacement); ignored by dense models.
struct ExpertAllocation {
    strata::ExpertMode mode = strata::ExpertMode::automatic;
    int nHostLayers = 0;  // ExpertMode::first_n: the first N layers' experts on the expert host
    QString hostKey;      // AppDevice::info.id of the CPU device holding them; "" = the first CPU
    bool operator==(const ExpertAllocation&) const = default;
};

struct AllocationSettings {
    QList<DeviceAllocation> devices;  // priority order (first = preferred)
    strata::SplitMode mode = strata::SplitMode::fewest;
    qint64 nCtx = 0;                  // 0: the model's trained context, at most 4096
    strata::KvCacheType kvType = strata::KvCacheType::f16;
    qint64 nBatch = 512;
    // Sequence slots (answers at once); 0: the app's "Parallel answers" setting (App fills it
    // in; the planner budgets a KV cache for each).
    int nSeq = 0;
    ExpertAllocation experts;

    bool operator==(const AllocationSettings&) const = default;
    QJsonObject toJson() const;
    static AllocationSettings fromJson(const QJsonObject& o);
};

// Every device in `devices` exactly once: known keys keep their place and values, new devices
// are appended enabled, keys of devices that are gone are dropped (an expert host that is gone
// falls back to the first CPU).
AllocationSettings normalized(const AllocationSettings& settings, const AppDevices& devices);

// The engine's default reserve for a device of this type (LoadOptions::gpu_reserve / cpu_reserve).
quint64 defaultReserve(const strata::DeviceInfo& info);
// The context the settings ask for, for a model trained on nCtxTrain tokens (0 = unknown).
qint64 effectiveContext(const AllocationSettings& s, qint64 nCtxTrain);

// A context longer than the model was trained on (nCtxTrain, its <arch>.context_length) works
// for memory but not for the model: past the trained length answers degrade into gibberish.
// Returns the sentence to show ("32,768 tokens is beyond the 2,048 this model was trained on:
// answers past that point may turn into nonsense"), or "" when nCtx is within it or the
// trained length is unknown (0). The file's context_length is what converters write as the
// length the model supports, RoPE scaling included (gpt-oss: 131,072 from a 4,096 original);
// a file that declares a scaling reaching further than its context_length is held to the
// context_length too (the footprint does not carry rope.scaling.* yet).
QString contextWarning(qint64 nCtx, qint64 nCtxTrain);

// The devices in the settings' order (each AppDevice once).
AppDevices orderedDevices(const AllocationSettings& s, const AppDevices& devices);

// The expert host's place among orderedDevices() (-1: none chosen, or not among them). The
// request takes this index and the LoadOptions the engine id at it, so both name one device.
int expertHostIndex(const AllocationSettings& s, const AppDevices& ordered);

strata::PlanRequest buildPlanRequest(const strata::ModelFootprint& model, const AppDevices& devices,
                                     const AllocationSettings& settings);
strata::LoadOptions buildLoadOptions(const AppDevices& devices, const AllocationSettings& settings, qint64 nCtxTrain);

}  // namespace strata::app
