// Sample data for `strata --screenshot`: a two-GPU machine, a library of well-known models
// (facts and footprints computed from their published shapes), and a few conversations. Only
// for rendering the README's pictures; nothing here touches a real model.
#pragma once

#include <memory>

#include "allocation/allocation.h"
#include "hub/download_manager.h"
#include "hub/hub_types.h"
#include "engine/engine_backend.h"
#include "engine/worker_types.h"
#include "library/model_catalog.h"
#include "strata/gpu_telemetry.h"

namespace strata::app {
class ChatStore;
class DeviceMonitor;
struct BenchRun;
}

namespace strata::ui::sample {

QList<strata::DeviceInfo> devices();
std::unique_ptr<app::EngineBackend> makeBackend();

QList<app::CatalogEntry> catalogEntries();
strata::Result<strata::ModelFootprint> footprint(const std::string& path);
QString path70b();
QString path8b();

// Fills the store with a few conversations; returns the id of the one to show.
qint64 addConversations(app::ChatStore& store);

// A loaded model (its plan computed by the planner) and figures as the worker would report them.
app::LoadedModel loadedModel(const QString& path, const strata::PlanRequest& request, const strata::Plan& plan);
app::EngineStats stats(const app::LoadedModel& model);
// Live figures of the two sample GPUs while that model generates (all processes: a desktop
// session holds a little memory on the first card too).
QList<strata::GpuTelemetry> telemetry();
// An hour of history ending at `nowMs` as the monitor would have recorded it: idle stretches and
// a few answers (GPU load, memory, power and temperature rising and falling, tokens/s, stage
// busy, transfer time), the answers' figures, and an answer running at the end (its last
// reading is telemetry()).
void replayHistory(app::DeviceMonitor& monitor, const app::LoadedModel& model, qint64 nowMs);
// A few bench runs of the sample models on the sample machine over the last weeks.
QList<app::BenchRun> benchRuns(qint64 nowMs);

// Discover: search results for "qwen3 32b", a repository's files with the verdicts the planner
// gives on the sample machine (two 24 GiB GPUs and the CPU), and downloads in each state.
app::HubRepoRows hubResults();
QString hubRepository();
QString hubCard();
app::HubFileRows hubFiles(bool withVerdicts);
QList<app::DownloadItem> downloads();

}  // namespace strata::ui::sample
