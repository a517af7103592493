#include "screenshot/sample_data.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>

#include "devices/device_monitor.h"
#include "perf/bench_run.h"
#include "perf/bench_service.h"
#include "storage/chat_store.h"

namespace strata::ui::sample {

namespace {

constexpr uint64_t kGiB = 1ull << 30;

struct Shape {
    const char* file;
    const char* name;
    const char* arch;
    const char* quant;
    int nLayer;
    int64_t nEmbd, nHead, nHeadKv, nFf, nVocab, nCtxTrain;
    double bitsPerWeight;
};

const Shape kShapes[] = {
    {"Llama-3.3-70B-Instruct-Q4_K_M.gguf", "Llama 3.3 70B Instruct", "llama", "Q4_K_M", 80, 8192, 64, 8, 28672, 128256, 131072, 4.85},
    {"Qwen2.5-14B-Instruct-Q4_K_M.gguf", "Qwen2.5 14B Instruct", "qwen2", "Q4_K_M", 48, 5120, 40, 8, 13824, 152064, 32768, 4.85},
    {"Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "Meta Llama 3.1 8B Instruct", "llama", "Q4_K_M", 32, 4096, 32, 8, 14336, 128256, 131072, 4.85},
    {"Mistral-7B-Instruct-v0.3-Q5_K_M.gguf", "Mistral 7B Instruct v0.3", "llama", "Q5_K_M", 32, 4096, 32, 8, 14336, 32768, 32768, 5.69},
    {"Qwen2.5-0.5B-Instruct-Q8_0.gguf", "Qwen2.5 0.5B Instruct", "qwen2", "Q8_0", 24, 896, 14, 2, 4864, 151936, 32768, 8.5},
};

QString pathOf(const Shape& s) { return QStringLiteral("/home/ada/models/%1").arg(QString::fromLatin1(s.file)); }

strata::ModelFootprint footprintOf(const Shape& s) {
    strata::ModelFootprint f;
    f.architecture = s.arch;
    f.n_layer = s.nLayer;
    f.n_embd = s.nEmbd;
    f.n_head = s.nHead;
    f.n_head_kv = s.nHeadKv;
    f.head_dim = s.nEmbd / s.nHead;
    f.n_embd_kv = s.nHeadKv * f.head_dim;
    f.n_ff = s.nFf;
    f.n_vocab = s.nVocab;
    f.n_ctx_train = s.nCtxTrain;
    const double perLayer = double(s.nEmbd) * double(2 * s.nEmbd + 2 * f.n_embd_kv) + 3.0 * double(s.nEmbd) * double(s.nFf);
    f.layer_bytes.assign(size_t(s.nLayer), uint64_t(perLayer * s.bitsPerWeight / 8.0));
    f.embedding_bytes = uint64_t(double(s.nVocab) * double(s.nEmbd) * s.bitsPerWeight / 8.0);
    f.output_bytes = uint64_t(double(s.nVocab) * double(s.nEmbd) * 6.56 / 8.0);  // Q6_K head
    f.output_norm_bytes = uint64_t(s.nEmbd) * 4;
    f.layer_flops_per_token = uint64_t(2.0 * perLayer);
    return f;
}

uint64_t paramsOf(const Shape& s) {
    const strata::ModelFootprint f = footprintOf(s);
    const double perLayer = double(s.nEmbd) * double(2 * s.nEmbd + 2 * f.n_embd_kv) + 3.0 * double(s.nEmbd) * double(s.nFf);
    return uint64_t(perLayer * s.nLayer + 2.0 * double(s.nVocab) * double(s.nEmbd));
}

class SampleBackend final : public app::EngineBackend {
public:
    std::vector<strata::DeviceInfo> availableDevices() override {
        const QList<strata::DeviceInfo> d = devices();
        return {d.begin(), d.end()};
    }
    strata::Result<std::vector<strata::DeviceInfo>> describeDevices(const std::vector<strata::DeviceSpec>&) override {
        return availableDevices();
    }
    std::string gpuStatus() override { return "2 CUDA devices"; }
    strata::Result<app::BackendModel> load(const std::string&, const strata::LoadOptions&, const strata::LoadProgressFn&,
                                           const std::atomic<bool>*) override {
        return unavailable();
    }
    void unload() override {}
    bool hasModel() const override { return false; }
    strata::Result<strata::ChatTurnResult> generate(const strata::ChatPromptRequest&, const strata::GenerateParams&,
                                                    const strata::ChatTurnCallbacks&, const std::atomic<bool>*) override {
        return unavailable();
    }
    uint64_t generation() const override { return 0; }
    strata::Result<app::BackendModel> recover(uint64_t) override { return unavailable(); }
    std::vector<strata::DeviceMemory> memory() const override { return {}; }
    std::vector<strata::StageTiming> stageTimings() const override { return {}; }

private:
    static strata::Status unavailable() {
        return strata::Status(strata::ErrorCode::unsupported, "screenshot mode shows sample data only");
    }
};

}  // namespace

QList<strata::DeviceInfo> devices() {
    strata::DeviceInfo g0;
    g0.id = "cuda0";
    g0.name = "NVIDIA GeForce RTX 4090";
    g0.type = strata::DeviceType::cuda;
    g0.total_memory = 24 * kGiB;
    g0.free_memory = 23 * kGiB + 300 * (kGiB >> 10);
    g0.memory_bandwidth_gbs = 1008;
    g0.matmul_tflops = 82;
    g0.note = "compute capability 8.9";
    strata::DeviceInfo g1 = g0;
    g1.id = "cuda1";
    g1.name = "NVIDIA GeForce RTX 3090";
    g1.free_memory = 23 * kGiB + 550 * (kGiB >> 10);
    g1.memory_bandwidth_gbs = 936;
    g1.matmul_tflops = 35;
    g1.note = "compute capability 8.6";
    strata::DeviceInfo cpu;
    cpu.id = "cpu";
    cpu.name = "AMD Ryzen 9 7950X 16-Core Processor (32 threads)";
    cpu.type = strata::DeviceType::cpu;
    cpu.total_memory = 64 * kGiB;
    cpu.free_memory = 51 * kGiB;
    cpu.memory_bandwidth_gbs = 64;
    cpu.matmul_tflops = 1.2;
    cpu.n_threads = 32;
    return {g0, g1, cpu};
}

std::unique_ptr<app::EngineBackend> makeBackend() { return std::make_unique<SampleBackend>(); }

QList<app::CatalogEntry> catalogEntries() {
    QList<app::CatalogEntry> out;
    const QDateTime now = QDateTime::currentDateTime();
    int i = 0;
    for (const Shape& s : kShapes) {
        app::CatalogEntry e;
        e.path = pathOf(s);
        e.name = QString::fromLatin1(s.name);
        e.architecture = QString::fromLatin1(s.arch);
        e.quantization = QString::fromLatin1(s.quant);
        e.nLayer = quint32(s.nLayer);
        e.contextLength = quint32(s.nCtxTrain);
        e.nParams = paramsOf(s);
        const strata::ModelFootprint f = footprintOf(s);
        e.fileSize = f.embedding_bytes + f.output_bytes + f.layer_bytes.front() * f.layer_bytes.size() + 8 * 1024 * 1024;
        e.addedAt = now.addDays(-(i * 3 + 1)).addSecs(-3600 * i);
        out.append(e);
        ++i;
    }
    return out;
}

strata::Result<strata::ModelFootprint> footprint(const std::string& path) {
    for (const Shape& s : kShapes)
        if (pathOf(s).toStdString() == path) return footprintOf(s);
    return strata::Status(strata::ErrorCode::not_found, path + ": not a sample model");
}

QString path70b() { return pathOf(kShapes[0]); }
QString path8b() { return pathOf(kShapes[2]); }

qint64 addConversations(app::ChatStore& store) {
    const char* older[] = {"Haiku about memory bandwidth", "Explain Rust lifetimes with an example",
                           "Summarise the Q3 planning notes", "SQL window functions: running totals"};
    for (const char* title : older) {
        app::Conversation c;
        c.title = QString::fromLatin1(title);
        c.modelPath = path8b();
        if (auto id = store.createConversation(c)) {
            store.appendMessage(*id, app::Role::user, QStringLiteral("…"));
            store.appendMessage(*id, app::Role::assistant, QStringLiteral("…"));
        }
    }
    app::Conversation c;
    c.title = QStringLiteral("Running a 70B model on two GPUs");
    c.modelPath = path70b();
    const auto id = store.createConversation(c);
    if (!id) return 0;
    store.appendMessage(*id, app::Role::user,
                        QStringLiteral("I have an RTX 4090 and an RTX 3090. Can I run Llama 3.3 70B at Q4_K_M, "
                                       "and how should the layers be split?"));
    const QString answer = QStringLiteral(
        "Yes. The Q4_K_M file holds about **40 GiB** of weights and the two cards have about "
        "**46 GiB** free, so the whole model fits on the GPUs with room for the cache.\n\n"
        "A good starting point:\n\n"
        "1. Put the **first layers on the 4090** (it is faster) and the rest on the 3090.\n"
        "2. Use a **q8_0 KV cache**: it halves the cache's memory with almost no quality loss.\n"
        "3. Keep the context at **8192** tokens until you see how much room is left.\n\n"
        "| Device | Layers | Weights | KV cache |\n"
        "|---|---|---|---|\n"
        "| cuda0 (4090) | 0–42 | 21.4 GiB | 0.7 GiB |\n"
        "| cuda1 (3090) | 43–79 | 18.7 GiB | 0.6 GiB |\n\n"
        "From a terminal, the same split is:\n\n"
        "```bash\n"
        "strata-cli run -m Llama-3.3-70B-Instruct-Q4_K_M.gguf \\\n"
        "    --devices cuda0,cuda1 --kv-type q8_0 --ctx 8192 -p \"Hello\"\n"
        "```\n\n"
        "Decoding reads every weight once per token and the two stages take turns, so expect "
        "about *20–23 tokens/s*; the CPU is not needed.");
    if (auto a = store.appendMessage(*id, app::Role::assistant, answer)) {
        app::AnswerStats s;
        s.nTokens = 298;
        s.timeToFirstTokenMs = 612;
        s.tokensPerSecond = 21.8;
        store.updateMessage(*a, answer, app::MessageState::complete, s);
    }
    store.appendMessage(*id, app::Role::user, QStringLiteral("And with 32K context?"));
    const QString second = QStringLiteral(
        "At 32K the f16 KV cache alone is about 10 GiB, which no longer fits next to the weights "
        "on the two cards. Either let the last layers run on the CPU (slower), or use **q8_0** "
        "(≈5 GiB), which fits about 28K tokens. "
        "The *Allocate* page shows both options live, with what is short where.");
    // A thinking model's answer: its reasoning is kept apart, collapsed above the answer.
    const QString reasoning = QStringLiteral(
        "32768 tokens × 80 layers × 8 KV heads × 128 × 2 (K and V) × 2 bytes ≈ 10 GiB for f16. "
        "Free after weights: about 6 GiB. q8_0 halves it.");
    if (auto a = store.appendMessage(*id, app::Role::assistant, second)) {
        app::AnswerStats s;
        s.nTokens = 64;
        s.timeToFirstTokenMs = 395;
        s.tokensPerSecond = 22.1;
        s.thinkingMs = 4200;
        store.updateMessage(*a, second, app::MessageState::complete, s, reasoning);
    }
    return *id;
}

app::LoadedModel loadedModel(const QString& path, const strata::PlanRequest& request, const strata::Plan& plan) {
    app::LoadedModel m;
    m.path = path;
    for (const app::CatalogEntry& e : catalogEntries()) {
        if (e.path != path) continue;
        m.info.name = e.name.toStdString();
        m.info.architecture = e.architecture.toStdString();
        m.info.n_params = e.nParams;
        m.info.quantization = e.quantization.toStdString();
        m.info.n_layer = e.nLayer;
        m.info.context_length = e.contextLength;
    }
    m.request = request;
    m.plan = plan;
    m.nCtx = request.n_ctx;
    m.chatFormat = QStringLiteral("Llama 3");
    return m;
}

app::EngineStats stats(const app::LoadedModel& model) {
    app::EngineStats s;
    for (const strata::DeviceUse& u : model.plan.devices) {
        strata::DeviceMemory m;
        m.device_id = u.device_id;
        m.weights = u.weight_bytes;
        m.kv_cache = u.kv_bytes;
        m.scratch = u.scratch_bytes;
        m.capacity = u.capacity;
        s.memory.append(m);
    }
    for (const strata::StagePlan& st : model.plan.stages) {
        // A CPU stage is the slow one: it sets the pace, the GPUs wait for it.
        const bool gpu = st.device_id.rfind("cuda", 0) == 0;
        const double busy = gpu ? 0.16 * (st.layer_end - st.layer_begin) : 5.9 * (st.layer_end - st.layer_begin);
        strata::StageTiming t;
        t.device_id = st.device_id;
        t.layer_begin = st.layer_begin;
        t.layer_end = st.layer_end;
        t.busy_seconds = busy;
        t.idle_seconds = 60.0 - busy;
        t.tokens = 1044;
        t.batches = 962;
        t.transfer_bytes = 1044ull * uint64_t(model.request.model.n_embd) * 4;
        t.transfer_seconds = double(t.transfer_bytes) / 12e9;  // PCIe 4.0 x16, roughly
        t.transport = gpu ? "peer copy" : "host copy";
        s.timings.append(t);
    }
    return s;
}

QList<strata::GpuTelemetry> telemetry() {
    auto gpu = [](const char* id, unsigned load, double usedGiB, int celsius, double watts) {
        strata::GpuTelemetry t;
        t.device_id = id;
        t.matched_by = "NVML index (sample data)";
        t.utilisation_percent = load;
        t.memory_used_bytes = uint64_t(usedGiB * double(kGiB));
        t.memory_total_bytes = 24 * kGiB;
        t.temperature_c = celsius;
        t.power_watts = watts;
        return t;
    };
    return {gpu("cuda0", 91, 23.2, 66, 371.4), gpu("cuda1", 84, 20.3, 71, 318.9)};
}

app::HubRepoRows hubResults() {
    return {
        {QStringLiteral("Qwen/Qwen3-32B-GGUF"), 412873, 189, QStringLiteral("2026-10-28T09:12:00.000Z"), false},
        {QStringLiteral("unsloth/Qwen3-32B-GGUF"), 298114, 143, QStringLiteral("2026-11-02T17:40:00.000Z"), false},
        {QStringLiteral("bartowski/Qwen_Qwen3-32B-GGUF"), 176540, 98, QStringLiteral("2026-10-30T11:05:00.000Z"), false},
        {QStringLiteral("lmstudio-community/Qwen3-32B-GGUF"), 91322, 41, QStringLiteral("2026-10-29T08:00:00.000Z"), false},
        {QStringLiteral("Qwen/Qwen3-32B-Instruct-AWQ-GGUF"), 12804, 17, QStringLiteral("2026-09-14T15:21:00.000Z"), false},
        {QStringLiteral("mradermacher/Qwen3-32B-i1-GGUF"), 8870, 12, QStringLiteral("2026-11-04T22:47:00.000Z"), false},
        {QStringLiteral("meta-llama/Llama-3.3-70B-Instruct-GGUF"), 5120, 310, QStringLiteral("2026-08-01T10:00:00.000Z"), true},
    };
}

QString hubRepository() { return QStringLiteral("Qwen/Qwen3-32B-GGUF"); }

QString hubCard() {
    return QStringLiteral("Qwen3 is the latest generation of large language models in the Qwen series, offering dense and "
                          "mixture-of-experts models. This repository holds Qwen3-32B in GGUF format, quantized with llama.cpp.");
}

app::HubFileRows hubFiles(bool withVerdicts) {
    struct S {
        const char* name;
        const char* quant;
        double gib;
        int parts;
        app::HubFitState fit;
        const char* verdict;
        const char* smaller;
    };
    using F = app::HubFitState;
    const S files[] = {
        {"Qwen3-32B-Q3_K_M.gguf", "Q3_K_M", 14.8, 1, F::fits, "fits on cuda0 at 32k context (up to 40k), ~41 tok/s predicted", ""},
        {"Qwen3-32B-Q4_K_M.gguf", "Q4_K_M", 18.4, 1, F::fits, "fits on cuda0 and cuda1 at 32k context (up to 40k), ~34 tok/s predicted", ""},
        {"Qwen3-32B-Q5_K_M.gguf", "Q5_K_M", 21.6, 1, F::fits, "fits on cuda0 and cuda1 at 32k context (up to 40k), ~29 tok/s predicted", ""},
        {"Qwen3-32B-Q6_K.gguf", "Q6_K", 25.0, 1, F::fits, "fits on cuda0 and cuda1 at 32k context, ~25 tok/s predicted", ""},
        {"Qwen3-32B-Q8_0.gguf", "Q8_0", 32.4, 1, F::fits, "fits on cuda0, cuda1 and cpu at 32k context, ~9.6 tok/s predicted", ""},
        {"Qwen3-32B-BF16-00001-of-00002.gguf", "BF16", 61.0, 2, F::doesNotFit, "does not fit: needs 13.2 GiB more; fits at 8k context; Q8_0 would fit", "Q8_0"},
    };
    app::HubFileRows rows;
    for (const S& f : files) {
        app::HubFileRow r;
        r.name = QString::fromLatin1(f.name);
        r.quant = QString::fromLatin1(f.quant);
        r.size = quint64(f.gib * double(1ull << 30));
        for (int k = 0; k < f.parts; ++k) r.parts.append({r.name, r.size / quint64(f.parts), {}});
        if (withVerdicts) {
            r.fit = f.fit;
            r.verdict = QString::fromLatin1(f.verdict);
            r.smallerFit = QString::fromLatin1(f.smaller);
        }
        rows.append(r);
    }
    return rows;
}

QList<app::DownloadItem> downloads() {
    const quint64 gib = 1ull << 30;
    app::DownloadItem a;
    a.id = 1;
    a.repo = hubRepository();
    a.name = QStringLiteral("Qwen3-32B-Q4_K_M.gguf");
    a.state = app::DownloadState::running;
    a.total = quint64(18.4 * double(gib));
    a.done = quint64(7.9 * double(gib));
    a.bytesPerSecond = 86.0 * double(1 << 20);
    app::DownloadItem b;
    b.id = 2;
    b.repo = QStringLiteral("unsloth/Qwen3-8B-GGUF");
    b.name = QStringLiteral("Qwen3-8B-Q6_K.gguf");
    b.state = app::DownloadState::paused;
    b.total = quint64(6.3 * double(gib));
    b.done = quint64(2.1 * double(gib));
    app::DownloadItem c;
    c.id = 3;
    c.repo = QStringLiteral("meta-llama/Llama-3.3-70B-Instruct-GGUF");
    c.name = QStringLiteral("Llama-3.3-70B-Instruct-Q4_K_M.gguf");
    c.state = app::DownloadState::failed;
    c.total = quint64(39.6 * double(gib));
    c.error = QStringLiteral("This repository is gated: it needs a Hugging Face token with access. Set one in Settings ▸ "
                             "General ▸ Hugging Face Hub (or $HF_TOKEN), then Resume.");
    return {a, b, c};
}

void replayHistory(app::DeviceMonitor& monitor, const app::LoadedModel& model, qint64 nowMs) {
    // Answers: start (seconds before now) and length (seconds); the last one runs at `nowMs`.
    const struct {
        double start, length;
    } kAnswers[] = {{3300, 34}, {2460, 21}, {1800, 48}, {1330, 27}, {720, 39}, {400, 18}, {250, 44}, {95, 30}, {24, 40}};
    auto activity = [&](double ago) {  // 0 idle .. 1 decoding; 2 the prefill's first second
        for (const auto& a : kAnswers)
            if (ago <= a.start && ago > a.start - a.length) return a.start - ago < 1.2 ? 2.0 : 1.0;
        return 0.0;
    };
    const double loadedAgo = 3480;  // the model was loaded 58 minutes ago
    uint32_t seed = 12345;
    auto noise = [&seed] {  // -1 .. 1
        seed = seed * 1664525u + 1013904223u;
        return double(seed >> 8) / double(1u << 23) - 1.0;
    };
    // GPU figures, with temperatures that follow the load slowly.
    struct Gpu {
        const char* id;
        double baseGiB, modelGiB, idleW, busyW, temp;
    } gpus[] = {{"cuda0", 0.6, 22.6, 38, 365, 41}, {"cuda1", 0.2, 20.1, 31, 315, 39}};
    // Stage busy shares while decoding: the slowest stage sets the pace.
    QList<strata::StageTiming> timings;
    double slowest = 0;
    const app::EngineStats shape = stats(model);
    for (const strata::StageTiming& t : shape.timings) slowest = std::max(slowest, t.busy_seconds);
    for (strata::StageTiming t : shape.timings) {
        t.busy_seconds = t.idle_seconds = 0;
        t.tokens = t.batches = t.transfer_bytes = 0;
        t.transfer_seconds = 0;
        timings.append(t);
    }
    app::EngineStats cumulative = shape;
    const double start = 3600;
    double lastStats = start + 1;
    for (double ago = start; ago >= 0; ago -= (activity(ago) > 0 || ago < 120 ? 0.1 : 1.0)) {
        const qint64 t = nowMs - qint64(ago * 1000);
        const double a = std::min(activity(ago), 1.0);
        const bool loaded = ago < loadedAgo;
        app::TelemetrySample sample;
        sample.atMs = t;
        for (Gpu& g : gpus) {
            strata::GpuTelemetry r;
            r.device_id = g.id;
            r.matched_by = "NVML index (sample data)";
            const double load = a > 0 ? 86 + 8 * noise() : std::max(0.0, 1.5 + 1.5 * noise());
            const double target = a > 0 ? 72 : 40;
            g.temp += (target - g.temp) * (a > 0 ? 0.004 : 0.0015) * (ago < 120 || a > 0 ? 1 : 10);
            r.utilisation_percent = unsigned(std::lround(std::clamp(load, 0.0, 100.0)));
            r.memory_used_bytes = uint64_t((g.baseGiB + (loaded ? g.modelGiB : 0) + 0.05 * noise()) * double(kGiB));
            r.memory_total_bytes = 24 * kGiB;
            r.temperature_c = int(std::lround(g.temp + 0.6 * noise()));
            r.power_watts = a > 0 ? g.busyW + 25 * noise() : g.idleW + 6 * noise();
            sample.readings.append(r);
        }
        monitor.recordSample(sample);
        // The worker's stats: four times a second while answering, once a second idle.
        const double statsEvery = a > 0 ? 0.25 : 1.0;
        if (loaded && lastStats - ago >= statsEvery - 1e-6) {
            const double wall = lastStats - ago;
            lastStats = ago;
            const double mode = activity(ago);
            const double tokens = mode >= 2 ? 640 * wall : mode > 0 ? (10.5 + 0.8 * noise()) * wall : 0;
            for (int i = 0; i < cumulative.timings.size(); ++i) {
                const double share = mode > 0 ? std::min(0.97, 0.95 * shape.timings[i].busy_seconds / slowest + 0.02 * noise()) : 0.0;
                timings[i].busy_seconds += share * wall;
                timings[i].idle_seconds += (1 - share) * wall;
                timings[i].tokens += uint64_t(tokens);
                timings[i].transfer_bytes += uint64_t(tokens) * uint64_t(model.request.model.n_embd) * 4;
                timings[i].transfer_seconds += mode > 0 ? (0.0009 + 0.0002 * noise()) * wall : 0.0;
            }
            cumulative.timings = timings;
            monitor.recordStats(cumulative, t);
        }
    }
    // The last reading: the sample GPUs' figures mid-answer.
    app::TelemetrySample last;
    last.atMs = nowMs + 1;
    last.readings = telemetry();
    monitor.recordSample(last);
    // The finished answers' figures.
    for (const auto& a : kAnswers) {
        if (a.start - a.length < 0) continue;  // still running
        app::AnswerFigures f;
        f.atMs = nowMs - qint64((a.start - a.length) * 1000);
        f.ttftSeconds = 0.42 + 0.1 * noise();
        f.promptTokensPerSecond = 610 + 40 * noise();
        f.decodeTokensPerSecond = 10.6 + 0.7 * noise();
        f.generated = int(a.length * f.decodeTokensPerSecond);
        monitor.recordAnswer(f);
    }
    monitor.setGenerating(true);
}

QList<app::BenchRun> benchRuns(qint64 nowMs) {
    const QList<strata::DeviceInfo> infos = devices();
    app::AppDevices machine;
    for (const strata::DeviceInfo& d : infos) {
        app::AppDevice a;
        a.info = d;
        machine.append(a);
    }
    const struct {
        double daysAgo;
        const char* model;
        const char* plan;
        const char* version;
        double prefill, decode;
    } kRuns[] = {
        {20.2, "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "cuda0 L0–31", "0.7.0", 2890, 118.4},
        {16.1, "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "cuda0 L0–31", "0.8.0", 3420, 131.9},
        {12.9, "Llama-3.3-70B-Instruct-Q4_K_M.gguf", "cuda0 L0–38 → cuda1 L39–73 → cpu L74–79", "0.8.0", 402, 7.9},
        {8.3, "Llama-3.3-70B-Instruct-Q4_K_M.gguf", "cuda0 L0–38 → cuda1 L39–73 → cpu L74–79", "0.9.0", 571, 9.6},
        {3.0, "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "cuda0 L0–31", "0.9.0", 3610, 139.2},
        {0.02, "Llama-3.3-70B-Instruct-Q4_K_M.gguf", "cuda0 L0–38 → cuda1 L39–73 → cpu L74–79", "0.9.0", 628, 10.8},
    };
    QList<app::BenchRun> out;
    for (const auto& k : kRuns) {
        app::BenchRun r;
        r.createdAtMs = nowMs - qint64(k.daysAgo * 86400.0 * 1000.0);
        r.machine = app::BenchService::machineName(machine);
        r.machineId = app::BenchService::machineId(machine);
        r.model = QString::fromUtf8(k.model);
        r.modelPath = QStringLiteral("/models/") + r.model;
        r.plan = QString::fromUtf8(k.plan);
        r.version = QString::fromUtf8(k.version);
        r.prefillTokensPerSecond = k.prefill;
        r.decodeTokensPerSecond = k.decode;
        r.tests = {{QStringLiteral("pp128"), k.prefill * 0.83}, {QStringLiteral("pp512"), k.prefill}, {QStringLiteral("tg64"), k.decode}};
        out.append(r);
    }
    return out;
}

}  // namespace strata::ui::sample
