#include "allocation/allocation.h"

#include <QJsonArray>
#include <QLocale>
#include <QObject>

namespace strata::app {

namespace {

const strata::LoadOptions kEngineDefaults{};

QString modeName(strata::SplitMode m) {
    switch (m) {
        case strata::SplitMode::fewest: return QStringLiteral("fewest");
        case strata::SplitMode::even: return QStringLiteral("even");
        case strata::SplitMode::ratios: return QStringLiteral("ratios");
    }
    return QStringLiteral("fewest");
}

strata::SplitMode parseMode(const QString& s) {
    if (s == QLatin1String("even")) return strata::SplitMode::even;
    if (s == QLatin1String("ratios")) return strata::SplitMode::ratios;
    return strata::SplitMode::fewest;
}

QString kvName(strata::KvCacheType t) {
    switch (t) {
        case strata::KvCacheType::f32: return QStringLiteral("f32");
        case strata::KvCacheType::f16: return QStringLiteral("f16");
        case strata::KvCacheType::q8_0: return QStringLiteral("q8_0");
    }
    return QStringLiteral("f16");
}

strata::KvCacheType parseKv(const QString& s) {
    if (s == QLatin1String("f32")) return strata::KvCacheType::f32;
    if (s == QLatin1String("q8_0")) return strata::KvCacheType::q8_0;
    return strata::KvCacheType::f16;
}

QString expertModeName(strata::ExpertMode m) {
    switch (m) {
        case strata::ExpertMode::automatic: return QStringLiteral("automatic");
        case strata::ExpertMode::cpu: return QStringLiteral("cpu");
        case strata::ExpertMode::first_n: return QStringLiteral("first_n");
    }
    return QStringLiteral("automatic");
}

strata::ExpertMode parseExpertMode(const QString& s) {
    if (s == QLatin1String("cpu")) return strata::ExpertMode::cpu;
    if (s == QLatin1String("first_n")) return strata::ExpertMode::first_n;
    return strata::ExpertMode::automatic;
}

}  // namespace

AppDevices devicesFromInfos(const QList<strata::DeviceInfo>& infos) {
    AppDevices out;
    for (const strata::DeviceInfo& info : infos) {
        AppDevice d;
        d.info = info;
        if (info.type == strata::DeviceType::cuda) {
            d.spec.kind = "cuda";
            d.spec.index = QString::fromStdString(info.id).mid(4).toInt();
        } else {
            d.spec.kind = "cpu";
        }
        out.append(d);
    }
    return out;
}

AppDevices devicesFromSpecs(const QList<strata::DeviceSpec>& specs, const QList<strata::DeviceInfo>& infos) {
    AppDevices out;
    for (qsizetype i = 0; i < specs.size() && i < infos.size(); ++i) out.append({specs[i], infos[i]});
    return out;
}

QStringList engineDeviceIds(const QList<strata::DeviceSpec>& specs) {
    QStringList ids;
    int nCpu = 0;
    for (const strata::DeviceSpec& s : specs) {
        if (s.kind == "cpu") {
            ids.append(nCpu == 0 ? QStringLiteral("cpu") : QStringLiteral("cpu%1").arg(nCpu));
            ++nCpu;
        } else {
            ids.append(QStringLiteral("%1%2").arg(QString::fromStdString(s.kind)).arg(s.index));
        }
    }
    return ids;
}

QJsonObject AllocationSettings::toJson() const {
    QJsonArray devs;
    for (const DeviceAllocation& d : devices) {
        QJsonObject o{{QStringLiteral("key"), d.key}, {QStringLiteral("enabled"), d.enabled},
                      {QStringLiteral("ratio"), d.ratio}};
        if (d.reserve) o.insert(QStringLiteral("reserve"), QString::number(*d.reserve));
        devs.append(o);
    }
    return {{QStringLiteral("devices"), devs},
            {QStringLiteral("mode"), modeName(mode)},
            {QStringLiteral("n_ctx"), nCtx},
            {QStringLiteral("kv_type"), kvName(kvType)},
            {QStringLiteral("n_batch"), nBatch},
            {QStringLiteral("n_seq"), nSeq},
            {QStringLiteral("experts"), QJsonObject{{QStringLiteral("mode"), expertModeName(experts.mode)},
                                                    {QStringLiteral("n_host_layers"), experts.nHostLayers},
                                                    {QStringLiteral("host"), experts.hostKey}}}};
}

AllocationSettings AllocationSettings::fromJson(const QJsonObject& o) {
    AllocationSettings s;
    for (const QJsonValue& v : o.value(QStringLiteral("devices")).toArray()) {
        const QJsonObject d = v.toObject();
        DeviceAllocation a;
        a.key = d.value(QStringLiteral("key")).toString();
        a.enabled = d.value(QStringLiteral("enabled")).toBool(true);
        a.ratio = d.value(QStringLiteral("ratio")).toDouble(1.0);
        if (d.contains(QStringLiteral("reserve")))
            a.reserve = d.value(QStringLiteral("reserve")).toString().toULongLong();
        if (!a.key.isEmpty()) s.devices.append(a);
    }
    s.mode = parseMode(o.value(QStringLiteral("mode")).toString());
    s.nCtx = o.value(QStringLiteral("n_ctx")).toInteger(0);
    s.kvType = parseKv(o.value(QStringLiteral("kv_type")).toString());
    s.nBatch = o.value(QStringLiteral("n_batch")).toInteger(512);
    s.nSeq = std::max(0, o.value(QStringLiteral("n_seq")).toInt(0));  // absent: the app's setting
    // Settings saved before expert placement existed have no "experts": automatic.
    const QJsonObject e = o.value(QStringLiteral("experts")).toObject();
    s.experts.mode = parseExpertMode(e.value(QStringLiteral("mode")).toString());
    s.experts.nHostLayers = e.value(QStringLiteral("n_host_layers")).toInt(0);
    s.experts.hostKey = e.value(QStringLiteral("host")).toString();
    return s;
}

AllocationSettings normalized(const AllocationSettings& settings, const AppDevices& devices) {
    AllocationSettings out = settings;
    out.devices.clear();
    auto known = [&](const QString& key) {
        for (const AppDevice& d : devices)
            if (QString::fromStdString(d.info.id) == key) return true;
        return false;
    };
    for (const DeviceAllocation& a : settings.devices) {
        bool seen = false;
        for (const DeviceAllocation& b : out.devices) seen = seen || b.key == a.key;
        if (!seen && known(a.key)) out.devices.append(a);
    }
    for (const AppDevice& d : devices) {
        const QString key = QString::fromStdString(d.info.id);
        bool present = false;
        for (const DeviceAllocation& a : out.devices) present = present || a.key == key;
        if (!present) out.devices.append(DeviceAllocation{key, true, std::nullopt, 1.0});
    }
    if (out.nBatch < 1) out.nBatch = kEngineDefaults.n_batch;
    if (out.nCtx < 0) out.nCtx = 0;
    if (out.experts.nHostLayers < 0) out.experts.nHostLayers = 0;
    if (!out.experts.hostKey.isEmpty() && !known(out.experts.hostKey)) out.experts.hostKey.clear();
    return out;
}

quint64 defaultReserve(const strata::DeviceInfo& info) {
    return info.type == strata::DeviceType::cuda ? kEngineDefaults.gpu_reserve : kEngineDefaults.cpu_reserve;
}

qint64 effectiveContext(const AllocationSettings& s, qint64 nCtxTrain) {
    if (s.nCtx > 0) return s.nCtx;
    return std::min<qint64>(nCtxTrain > 0 ? nCtxTrain : 4096, 4096);  // LoadOptions::n_ctx's rule
}

QString contextWarning(qint64 nCtx, qint64 nCtxTrain) {
    if (nCtxTrain <= 0 || nCtx <= nCtxTrain) return {};
    const QLocale l;
    return QObject::tr("%1 tokens is beyond the %2 this model was trained on: answers past that point may turn "
                       "into nonsense")
        .arg(l.toString(nCtx), l.toString(nCtxTrain));
}

AppDevices orderedDevices(const AllocationSettings& s, const AppDevices& devices) {
    AppDevices out;
    for (const DeviceAllocation& a : s.devices)
        for (const AppDevice& d : devices)
            if (QString::fromStdString(d.info.id) == a.key) out.append(d);
    return out;
}

int expertHostIndex(const AllocationSettings& s, const AppDevices& ordered) {
    if (s.experts.hostKey.isEmpty()) return -1;
    for (qsizetype i = 0; i < ordered.size(); ++i)
        if (QString::fromStdString(ordered[i].info.id) == s.experts.hostKey) return int(i);
    return -1;
}

strata::PlanRequest buildPlanRequest(const strata::ModelFootprint& model, const AppDevices& devices,
                                     const AllocationSettings& settings) {
    const AllocationSettings s = normalized(settings, devices);
    const AppDevices ordered = orderedDevices(s, devices);
    QList<strata::DeviceSpec> specs;
    for (const AppDevice& d : ordered) specs.append(d.spec);
    const QStringList ids = engineDeviceIds(specs);

    strata::PlanRequest req;
    req.model = model;
    req.n_ctx = effectiveContext(s, model.usable_context());
    req.n_batch = s.nBatch;
    req.n_seq = std::max(1, s.nSeq);
    req.kv_type = s.kvType;
    req.mode = s.mode;
    for (qsizetype i = 0; i < ordered.size(); ++i) {
        const DeviceAllocation& a = s.devices[i];
        strata::PlanDevice p;
        p.info = ordered[i].info;
        p.info.id = ids[i].toStdString();  // what the engine will call it in this order
        p.enabled = a.enabled;
        p.reserve_bytes = a.reserve.value_or(defaultReserve(ordered[i].info));
        p.ratio = s.mode == strata::SplitMode::ratios ? a.ratio : 0.0;
        req.devices.push_back(p);
    }
    req.experts.mode = s.experts.mode;
    req.experts.n_host_layers = s.experts.nHostLayers;
    req.experts.host = expertHostIndex(s, ordered);
    // The experimental CUDA MoE kernels (experts, attention sinks), as the engine's load reads
    // the switch: the preview shows the placement the load will make.
    strata::apply_cuda_moe_switch(req);
    return req;
}

strata::LoadOptions buildLoadOptions(const AppDevices& devices, const AllocationSettings& settings, qint64 nCtxTrain) {
    const AllocationSettings s = normalized(settings, devices);
    const AppDevices ordered = orderedDevices(s, devices);
    QList<strata::DeviceSpec> specs;
    for (const AppDevice& d : ordered) specs.append(d.spec);
    const QStringList ids = engineDeviceIds(specs);

    strata::LoadOptions o;
    o.mode = s.mode;
    o.n_ctx = effectiveContext(s, nCtxTrain);
    o.n_batch = s.nBatch;
    o.n_seq = std::max(1, s.nSeq);
    o.kv_type = s.kvType;
    for (qsizetype i = 0; i < ordered.size(); ++i) {
        const DeviceAllocation& a = s.devices[i];
        const std::string id = ids[i].toStdString();
        o.devices.push_back(ordered[i].spec);
        if (!a.enabled) o.disabled.push_back(id);
        o.reserve[id] = a.reserve.value_or(defaultReserve(ordered[i].info));
        if (s.mode == strata::SplitMode::ratios) o.ratios.push_back(a.ratio);
    }
    o.expert_mode = s.experts.mode;
    o.n_cpu_moe = s.experts.nHostLayers;
    if (const int host = expertHostIndex(s, ordered); host >= 0) o.expert_device = ids[host].toStdString();
    return o;
}

}  // namespace strata::app
