// Where a mixture-of-experts model's experts sit under a plan, as the views describe it: the
// expert host's layers and bytes, and for a device that runs layers, which of them keep their
// experts on another device. Read from Plan::expert_device, which is empty for dense models, so
// every answer is empty for them. Device numbers are indices into PlanRequest::devices.
// Pure functions; thread-safe.
#pragma once

#include <QList>
#include <QString>

#include "strata/plan.h"

namespace strata::app {

// Layers whose experts sit on `device` while the layer itself runs on another device.
QList<int> expertLayersHostedOn(const strata::Plan& plan, int device);
// Layers that run on `device` and keep their experts on another device.
QList<int> expertLayersAwayFrom(const strata::Plan& plan, int device);
// The device holding experts of layers that run elsewhere (the engine allows one), or -1.
int expertHostDevice(const strata::Plan& plan);
// Router + expert bytes of `layers` (ModelFootprint::layer_expert_bytes).
quint64 expertBytes(const strata::ModelFootprint& model, const QList<int>& layers);
// Ascending layers as ranges: "0–35", "0–3, 8, 10–11".
QString layerRanges(const QList<int>& layers);

// One line about `device`'s part in the expert placement, "" when it has none: for the host
// "experts of layers 0–35 (61.9 GiB)", for a device whose layers' experts are elsewhere
// "experts on cpu" (or "experts of layers 0–9 on cpu" when only some are).
QString expertPlacementLine(const strata::PlanRequest& request, const strata::Plan& plan, int device);

}  // namespace strata::app
