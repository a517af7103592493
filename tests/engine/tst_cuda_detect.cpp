// The CUDA module on machines without a GPU (CI): it builds and loads (when this build has
// CUDA), detection returns zero devices cleanly with a reason in words, asking for a GPU fails
// with a Status instead of crashing, and the engine still runs models on the CPU. On a machine
// with GPUs the same checks hold for what it reports.
#include <dlfcn.h>

#include <QtTest>
#include <filesystem>

#include "backend/backend_module.h"
#include "backend/registry.h"
#include "strata/engine.h"
#include "test_models.h"

using namespace strata;

namespace {
[[maybe_unused]] std::string module_path() {  // unused in builds without the CUDA module
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (exe.parent_path() / "../engine/src/backend/cuda/libstrata_cuda.so").lexically_normal().string();
}
}  // namespace

class TestCudaDetect : public QObject {
    Q_OBJECT

private slots:
    void moduleLoadsAndDetects() {
#ifndef STRATA_HAVE_CUDA
        QSKIP("this build has no CUDA module (configured without nvcc)");
#else
        const std::string path = module_path();
        QVERIFY2(std::filesystem::exists(path), ("the CUDA module was not built at " + path).c_str());
        void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        QVERIFY2(h, dlerror());
        auto entry = reinterpret_cast<BackendModuleEntry>(dlsym(h, kBackendModuleEntry));
        QVERIFY2(entry, "the module does not export strata_backend_module_create");
        QVERIFY(dlsym(h, "strata_cuda_probe"));
        std::unique_ptr<BackendModule> m(entry());
        QVERIFY(m);
        QCOMPARE(std::string(m->name()), std::string("cuda"));
        const auto devices = m->devices();
        if (devices.empty()) {
            const std::string why = m->unavailable_reason();
            QVERIFY2(!why.empty(), "no devices and no reason given");
            qInfo("no CUDA devices: %s", why.c_str());
            // Asking for a device that is not there is an error, not a crash.
            auto d = m->create_device(0, 0, 0);
            QVERIFY(!d.ok());
            QCOMPARE(d.status().code(), ErrorCode::not_found);
        } else {
            for (size_t i = 0; i < devices.size(); ++i) {
                QCOMPARE(devices[i].id, "cuda" + std::to_string(i));
                QCOMPARE(devices[i].type, DeviceType::cuda);
                QVERIFY(!devices[i].name.empty());
                QVERIFY(devices[i].total_memory > 0);
            }
        }
        // The module stays loaded, as the registry leaves it.
#endif
    }

    void registrySaysWhy() {
        DeviceRegistry reg;
        const auto avail = reg.available();
        QVERIFY(!avail.empty());
        QCOMPARE(avail.back().type, DeviceType::cpu);
        int n_gpu = 0;
        for (const auto& d : avail) n_gpu += d.type == DeviceType::cuda;
        const std::string& status = reg.gpu_status();
        if (n_gpu == 0) {
            QVERIFY2(status.rfind("no CUDA devices found: ", 0) == 0, status.c_str());
            QVERIFY2(status.size() > std::string("no CUDA devices found: ").size() + 5, status.c_str());
            // Default specs fall back to the CPU alone; naming a GPU fails cleanly.
            const auto specs = reg.default_specs();
            QCOMPARE(specs.size(), size_t(1));
            QCOMPARE(specs[0].kind, std::string("cpu"));
            DeviceSpec gpu;
            gpu.kind = "cuda";
            gpu.index = 0;
            auto created = reg.create({gpu});
            QVERIFY(!created.ok());
            QVERIFY2(created.status().message().find("no CUDA devices found") != std::string::npos,
                     created.status().message().c_str());
        } else {
            QCOMPARE(status, std::to_string(n_gpu) + (n_gpu == 1 ? " CUDA device" : " CUDA devices"));
        }
    }

    void disabledByEnvironment() {
        qputenv("STRATA_NO_CUDA", "1");
        DeviceRegistry reg;
        qunsetenv("STRATA_NO_CUDA");
        QVERIFY2(reg.gpu_status().find("STRATA_NO_CUDA") != std::string::npos, reg.gpu_status().c_str());
        QCOMPARE(reg.available().size(), size_t(1));
    }

    void engineRunsOnTheCpu() {
        QTemporaryDir dir;
        RandomModelConfig c;
        c.n_vocab = 300;
        c.n_embd = 64;
        c.n_layer = 2;
        c.n_head = 4;
        c.n_head_kv = 2;
        c.n_ff = 128;
        c.weight_type = TensorType::Q8_0;
        c.seed = 9;
        QString err;
        const QString path = test::writeRandomModel(dir, "m", c, &err);
        QVERIFY2(!path.isEmpty(), qPrintable(err));
        Engine engine;
        LoadOptions o;
        std::string perr;
        QVERIFY(parse_device_specs("cpu", o.devices, perr));
        o.n_ctx = 64;
        auto model = engine.load(path.toStdString(), o);
        QVERIFY2(model.ok(), model.ok() ? "" : model.status().message().c_str());
        auto seq = (*model)->create_sequence();
        QVERIFY(seq.ok());
        GenerateParams g;
        g.sampler.temperature = 0;
        g.max_tokens = 8;
        g.stop_at_eos = false;
        int pieces = 0;
        auto r = (*seq)->generate({1, 5, 9}, g, [&](std::string_view) { ++pieces; });
        QVERIFY2(r.ok(), r.ok() ? "" : r.status().message().c_str());
        QVERIFY(pieces > 0);
    }
};

QTEST_GUILESS_MAIN(TestCudaDetect)
#include "tst_cuda_detect.moc"
