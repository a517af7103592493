#include "whatif/whatif_service.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include "strata/engine.h"

namespace strata::app {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

struct CatalogueResult {  // QFuture needs a default-constructible result
    QString error;
    QStringList names;
};

}  // namespace

WhatIfReport computeWhatIf(const WhatIfInputs& in) {
    WhatIfReport r;
    if (in.configs.isEmpty()) {
        r.error = QObject::tr("Pick at least one configuration of GPUs.");
        return r;
    }
    if (in.configs.size() > kWhatIfMaxConfigs) {
        r.error = QObject::tr("At most %1 configurations side by side (%2 given).").arg(kWhatIfMaxConfigs).arg(in.configs.size());
        return r;
    }
    const std::string catPath = in.cataloguePath.isEmpty() ? strata::find_resource("gpus.json") : in.cataloguePath.toStdString();
    if (catPath.empty()) {
        r.error = QObject::tr("The GPU catalogue gpus.json was not found (set STRATA_RESOURCES to Strata's resources folder).");
        return r;
    }
    auto catalogue = strata::load_gpu_catalogue(catPath);
    if (!catalogue.ok()) {
        r.error = q(catalogue.status().message());
        return r;
    }

    strata::ModelFootprint model;
    if (!in.modelPath.isEmpty()) {
        auto fp = strata::read_model_footprint(in.modelPath.toStdString());
        if (!fp.ok()) {
            r.error = q(fp.status().message());
            return r;
        }
        model = std::move(fp).value();
        r.model = in.modelPath;
    } else {
        if (in.params.trimmed().isEmpty()) {
            r.error = QObject::tr("Give the model's size in parameters (e.g. 70B) or pick a model file.");
            return r;
        }
        auto p = strata::parse_param_count(in.params.trimmed().toStdString());
        if (!p.ok()) {
            r.error = q(p.status().message());
            return r;
        }
        std::string shape;
        auto fp = strata::synthetic_footprint(*p, in.quant.trimmed().toStdString(), &shape);
        if (!fp.ok()) {
            r.error = q(fp.status().message());
            return r;
        }
        model = std::move(fp).value();
        r.model = q(shape);
    }
    r.nLayer = model.n_layer;
    r.weightBytes = model.embedding_bytes + model.output_norm_bytes + (model.output_tied ? 0 : model.output_bytes);
    for (uint64_t b : model.layer_bytes) r.weightBytes += b;

    for (const WhatIfConfigInput& c : in.configs) {
        // The CLI's own spelling ("2x RTX 3090"), so both go through the same parser.
        const std::string text = std::to_string(c.count) + "x " + c.gpu.toStdString();
        auto config = strata::parse_gpu_config(*catalogue, text);
        if (!config.ok()) {
            r.error = q(config.status().message());
            r.results.clear();
            return r;
        }
        strata::WhatIfOptions o = in.options;
        o.calibration = strata::load_calibration_with_seed();  // the measured factors (strata/calibration.h)
        o.link = c.link;
        auto result = strata::run_whatif(model, *config, o);
        if (!result.ok()) {
            r.error = q(result.status().message());
            r.results.clear();
            return r;
        }
        r.results.push_back(std::move(result).value());
    }
    r.cheapest = strata::cheapest_fitting(r.results, in.minDecodeTps);
    return r;
}

WhatIfService::WhatIfService(QObject* parent) : QObject(parent) {
    qRegisterMetaType<strata::app::WhatIfReport>();
}

WhatIfService::~WhatIfService() { waitForIdle(); }

quint64 WhatIfService::run(const WhatIfInputs& inputs) {
    const quint64 id = m_nextId++;
    m_newest = id;
    ++m_pending;
    auto* watcher = new QFutureWatcher<WhatIfReport>(this);
    m_watchers.append(watcher);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        m_watchers.removeOne(watcher);
        watcher->deleteLater();
        --m_pending;
        WhatIfReport report = watcher->result();
        if (report.id != m_newest) return;  // superseded by a newer request
        m_last = report;
        emit reportReady(m_last);
    });
    watcher->setFuture(QtConcurrent::run([inputs, id] {
        WhatIfReport r;
        try {
            r = computeWhatIf(inputs);
        } catch (const std::exception& e) {
            r = WhatIfReport{};
            r.error = QObject::tr("The what-if failed: %1").arg(QString::fromUtf8(e.what()));
        }
        r.id = id;
        return r;
    }));
    return id;
}

void WhatIfService::loadCatalogue(const QString& path) {
    auto* watcher = new QFutureWatcher<CatalogueResult>(this);
    m_watchers.append(watcher);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        m_watchers.removeOne(watcher);
        watcher->deleteLater();
        const CatalogueResult r = watcher->result();
        if (!r.error.isEmpty()) {
            emit catalogueFailed(r.error);
            return;
        }
        m_gpuNames = r.names;
        emit catalogueReady(m_gpuNames);
    });
    watcher->setFuture(QtConcurrent::run([path] {
        CatalogueResult out;
        const std::string p = path.isEmpty() ? strata::find_resource("gpus.json") : path.toStdString();
        if (p.empty()) {
            out.error = QObject::tr("The GPU catalogue gpus.json was not found (set STRATA_RESOURCES to Strata's resources folder).");
            return out;
        }
        auto c = strata::load_gpu_catalogue(p);
        if (!c.ok()) {
            out.error = q(c.status().message());
            return out;
        }
        for (const strata::GpuSpec& g : c->gpus) out.names.append(q(g.name));
        return out;
    }));
}

void WhatIfService::waitForIdle() {
    // Copy: finishing a watcher's future does not run its slot here (queued to the event loop).
    const QList<QObject*> watchers = m_watchers;
    for (QObject* o : watchers) {
        if (auto* w = dynamic_cast<QFutureWatcher<WhatIfReport>*>(o)) w->waitForFinished();
        else if (auto* c = dynamic_cast<QFutureWatcher<CatalogueResult>*>(o)) c->waitForFinished();
    }
}

}  // namespace strata::app
