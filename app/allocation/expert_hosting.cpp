#include "allocation/expert_hosting.h"

#include <QLocale>
#include <QObject>

namespace strata::app {

namespace {

int stageDeviceOf(const strata::Plan& plan, int layer) {
    for (const strata::StagePlan& s : plan.stages)
        if (layer >= s.layer_begin && layer < s.layer_end) return s.device;
    return -1;
}

}  // namespace

QList<int> expertLayersHostedOn(const strata::Plan& plan, int device) {
    QList<int> out;
    for (int il = 0; il < int(plan.expert_device.size()); ++il)
        if (plan.expert_device[size_t(il)] == device && stageDeviceOf(plan, il) != device) out.append(il);
    return out;
}

QList<int> expertLayersAwayFrom(const strata::Plan& plan, int device) {
    QList<int> out;
    for (int il = 0; il < int(plan.expert_device.size()); ++il)
        if (plan.expert_device[size_t(il)] != device && stageDeviceOf(plan, il) == device) out.append(il);
    return out;
}

int expertHostDevice(const strata::Plan& plan) {
    for (int il = 0; il < int(plan.expert_device.size()); ++il) {
        const int d = plan.expert_device[size_t(il)];
        if (d >= 0 && d != stageDeviceOf(plan, il)) return d;
    }
    return -1;
}

quint64 expertBytes(const strata::ModelFootprint& model, const QList<int>& layers) {
    quint64 sum = 0;
    for (int il : layers)
        if (il >= 0 && size_t(il) < model.layer_expert_bytes.size()) sum += model.layer_expert_bytes[size_t(il)];
    return sum;
}

QString layerRanges(const QList<int>& layers) {
    QStringList parts;
    for (qsizetype i = 0; i < layers.size();) {
        qsizetype j = i;
        while (j + 1 < layers.size() && layers[j + 1] == layers[j] + 1) ++j;
        parts.append(i == j ? QString::number(layers[i]) : QStringLiteral("%1–%2").arg(layers[i]).arg(layers[j]));
        i = j + 1;
    }
    return parts.join(QStringLiteral(", "));
}

QString expertPlacementLine(const strata::PlanRequest& request, const strata::Plan& plan, int device) {
    const QList<int> hosted = expertLayersHostedOn(plan, device);
    if (!hosted.isEmpty()) {
        const QString bytes =
            QLocale().formattedDataSize(qint64(expertBytes(request.model, hosted)), 1, QLocale::DataSizeIecFormat);
        return hosted.size() == 1 ? QObject::tr("experts of layer %1 (%2)").arg(hosted.first()).arg(bytes)
                                  : QObject::tr("experts of layers %1 (%2)").arg(layerRanges(hosted), bytes);
    }
    const QList<int> away = expertLayersAwayFrom(plan, device);
    if (away.isEmpty()) return {};
    const int host = plan.expert_device[size_t(away.first())];
    const QString hostId = host >= 0 && size_t(host) < request.devices.size()
                               ? QString::fromStdString(request.devices[size_t(host)].info.id)
                               : QObject::tr("another device");
    int run = 0;  // layers this device runs: all of them away reads "experts on cpu"
    for (const strata::StagePlan& s : plan.stages)
        if (s.device == device) run += s.layer_end - s.layer_begin;
    if (away.size() == run) return QObject::tr("experts on %1").arg(hostId);
    return away.size() == 1 ? QObject::tr("experts of layer %1 on %2").arg(away.first()).arg(hostId)
                            : QObject::tr("experts of layers %1 on %2").arg(layerRanges(away), hostId);
}

}  // namespace strata::app
