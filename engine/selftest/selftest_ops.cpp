// selftest: every DeviceOps op on every device against a scalar double-precision reference
// written here (independent of both backends), on seeded Gaussian data at odd sizes. Outputs
// are poisoned (NaN bytes) before each run, so anything left unwritten fails.
//
// Measures and tolerances (err = max |out - ref| / rms(ref) unless said otherwise):
//   matmul    F32 1e-4 · F16 5e-3 (the GPU's prefill rounds activations to F16) · BF16 2e-2
//             (with STRATA_CPU_BF16_DOTS=1 on a CPU with AVX512-BF16 the CPU rounds them to
//             BF16, 8 significant bits: measured up to 0.009 at these sizes) ·
//             quantized 0.08 (both backends quantize activations to 8 bits: the CPU's own error
//             against this reference reaches 0.04 at these sizes)
//   rms_norm, rope 1e-5 · embed 1e-6 · swiglu, then add and add_bias on its output 3e-6 ·
//   attention 1e-4 (with gpt-oss's attention sinks too: a per-head logit in each softmax's
//             denominator, drawn about as large as the scores so some heads mostly attend to
//             nothing; the reference adds it in double precision)
//   store_kv  max |stored - x| / block max: f32 1e-7, f16 6e-4 (rounding: ≤ 2^-11),
//             q8_0 5e-3 (≤ half a step of amax/127 plus the fp16 scale's rounding); rows outside the
//             written positions must keep their bytes
#include <algorithm>
#include <array>
#include <cstring>

#include "backend/weight_storage.h"
#include "quant/quant.h"
#include "selftest.h"
#include "util/fp16.h"
#include "util/cpu_features.h"

namespace strata::selftest {

namespace {

std::string fmt(const char* f, long long a, long long b = 0, long long c = 0, long long d = 0) {
    char buf[160];
    std::snprintf(buf, sizeof buf, f, a, b, c, d);
    return buf;
}

double matmul_tol(TensorType t) {
    if (t == TensorType::F32) return 1e-4;
    if (t == TensorType::F16) return 5e-3;
    // Looser only where the CPU side rounds activations to BF16 (STRATA_CPU_BF16_DOTS=1).
    if (t == TensorType::BF16) return cpu_bf16_dots() ? 2e-2 : 5e-3;
    return 0.08;
}

void check_matmul(Device& d, TensorType type, int64_t n_tok, int64_t rows, int64_t cols, uint64_t seed, Report& rep) {
    const std::string group = std::string("matmul ") + tensor_type_name(type);
    const std::string detail = fmt("n_tok=%lld rows=%lld cols=%lld", n_tok, rows, cols) + (seed % 2 ? " (tail ws)" : "");
    Rng rng(seed);
    const auto wbytes = random_weight(type, rows, cols, rng, 1.0f / std::sqrt(static_cast<float>(cols)));
    const auto x = rng.gauss_vec(static_cast<size_t>(n_tok * cols));
    std::vector<double> ref(static_cast<size_t>(n_tok * rows));
    std::vector<float> wr(static_cast<size_t>(cols));
    const size_t rb = tensor_row_bytes(type, cols);
    for (int64_t r = 0; r < rows; ++r) {
        quant::dequantize_row_ref(type, wbytes.data() + static_cast<size_t>(r) * rb, wr.data(), cols);
        for (int64_t t = 0; t < n_tok; ++t) {
            double s = 0;
            for (int64_t k = 0; k < cols; ++k) s += static_cast<double>(wr[k]) * x[t * cols + k];
            ref[t * rows + r] = s;
        }
    }
    auto w = d.upload_weight(host_tensor("w", WeightRole::matrix, type, rows, cols, wbytes));
    if (!w.ok()) return rep.fail(group, d.id(), detail, w.status().message());
    auto xb = upload(d, x.data(), x.size() * 4);
    // Odd seeds put the output at the start of a big scratch buffer, so a GPU takes its
    // workspace from that buffer's end (as in a stage); even seeds give it no room there.
    const size_t out_bytes = static_cast<size_t>(n_tok * rows) * 4;
    auto ob = poisoned(d, out_bytes + (seed % 2 ? (96u << 20) : 0), seed % 2 ? MemoryUse::scratch : MemoryUse::kv_cache);
    if (!xb.ok() || !ob.ok()) return rep.fail(group, d.id(), detail, "allocation failed");
    Status st = d.ops().matmul(**w, (*xb)->as<float>(), n_tok, (*ob)->as<float>());
    std::vector<float> out(ref.size());
    if (st.ok()) st = download(d, **ob, out.data(), out_bytes);
    if (!st.ok()) return rep.fail(group, d.id(), detail, st.message());
    rep.add(group, d.id(), detail, rel_max_err(out, ref), matmul_tol(type));
}

void check_rms_norm(Device& d, int64_t n_tok, int64_t n, bool alias, uint64_t seed, Report& rep) {
    const std::string detail = fmt("n_tok=%lld n=%lld", n_tok, n) + (alias ? " in place" : "");
    Rng rng(seed);
    const auto x = rng.gauss_vec(static_cast<size_t>(n_tok * n), 2.0f);
    auto wv = rng.gauss_vec(static_cast<size_t>(n), 0.2f);
    for (auto& v : wv) v += 1.0f;
    std::vector<double> ref(x.size());
    for (int64_t t = 0; t < n_tok; ++t) {
        double ss = 0;
        for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[t * n + i]) * x[t * n + i];
        const double sc = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-5);
        for (int64_t i = 0; i < n; ++i) ref[t * n + i] = x[t * n + i] * sc * wv[i];
    }
    const auto wb = f32_bytes(wv);
    auto w = d.upload_weight(host_tensor("norm", WeightRole::vector, TensorType::F32, 1, n, wb));
    auto xb = upload(d, x.data(), x.size() * 4);
    auto ob = poisoned(d, x.size() * 4);
    if (!w.ok() || !xb.ok() || !ob.ok()) return rep.fail("rms_norm", d.id(), detail, "allocation failed");
    float* out_ptr = alias ? (*xb)->as<float>() : (*ob)->as<float>();
    Status st = d.ops().rms_norm((*xb)->as<float>(), **w, 1e-5f, n_tok, n, out_ptr);
    std::vector<float> out(x.size());
    if (st.ok()) st = download(d, alias ? **xb : **ob, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail("rms_norm", d.id(), detail, st.message());
    rep.add("rms_norm", d.id(), detail, rel_max_err(out, ref), 1e-5);
}

void check_embed(Device& d, TensorType type, int64_t cols, uint64_t seed, Report& rep) {
    const std::string group = std::string("embed ") + tensor_type_name(type);
    const int64_t rows = 300;
    const std::string detail = fmt("vocab=%lld cols=%lld", rows, cols);
    Rng rng(seed);
    const auto table = random_weight(type, rows, cols, rng, 1.0f);
    const std::vector<int32_t> tokens = {0, 299, static_cast<int32_t>(rng.below(rows)), 7, 0};
    std::vector<double> ref;
    std::vector<float> row(static_cast<size_t>(cols));
    for (int32_t id : tokens) {
        quant::dequantize_row_ref(type, table.data() + static_cast<size_t>(id) * tensor_row_bytes(type, cols), row.data(), cols);
        ref.insert(ref.end(), row.begin(), row.end());
    }
    auto w = d.upload_weight(host_tensor("tok", WeightRole::embedding, type, rows, cols, table));
    auto tb = upload(d, tokens.data(), tokens.size() * 4);
    auto ob = poisoned(d, ref.size() * 4);
    if (!w.ok() || !tb.ok() || !ob.ok()) return rep.fail(group, d.id(), detail, "allocation failed");
    const auto n_tok = static_cast<int64_t>(tokens.size());
    Status st = d.ops().embed(**w, (*tb)->as<int32_t>(), n_tok, (*ob)->as<float>());
    std::vector<float> out(ref.size());
    if (st.ok()) st = download(d, **ob, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail(group, d.id(), detail, st.message());
    // A GPU stores the types its kernels do not read as another (weight_storage.h): level for
    // level for Q3_K, Q5_0, IQ4_NL (exact) and IQ4_XS (group scales rounded to fp16: ≤ 2^-11 of
    // a value, under 4e-3 of the RMS with the table's max/RMS ratio);
    // through floats to Q8_0 for Q4_1, Q5_1, Q2_K (up to half a step of the block max / 127,
    // ≈ 0.015 of the RMS).
    const TensorType stored = cuda_storage_type(type, WeightRole::embedding, cols);
    const double tol = d.info().type == DeviceType::cpu || cuda_reads_type(type) ? 1e-6
                       : quant::can_transcode(type, stored)                       ? (type == TensorType::IQ4_XS ? 4e-3 : 1e-6)
                                                                                  : 0.03;
    rep.add(group, d.id(), detail, rel_max_err(out, ref), tol);

    // A token outside the table must be reported (at the op or at the next synchronize).
    const int32_t bad = static_cast<int32_t>(rows);
    st = d.copy_from_host(**tb, 4, &bad, 4);
    if (st.ok()) st = d.ops().embed(**w, (*tb)->as<int32_t>(), n_tok, (*ob)->as<float>());
    if (st.ok()) st = d.synchronize();
    if (st.ok() || st.code() != ErrorCode::invalid_argument) {
        rep.fail(group, d.id(), "token id 300 of 300", st.ok() ? "no error reported" : "wrong error: " + st.message());
    } else {
        rep.add(group, d.id(), "token id 300 of 300 is refused", 0, 0, st.message());
    }
}

void check_elementwise(Device& d, uint64_t seed, Report& rep) {
    Rng rng(seed);
    const int64_t n_tok = 3, n = 1001;
    const auto x = rng.gauss_vec(static_cast<size_t>(n_tok * n), 3.0f), y = rng.gauss_vec(x.size(), 3.0f);
    const auto bias = rng.gauss_vec(static_cast<size_t>(n));
    auto xb = upload(d, x.data(), x.size() * 4), yb = upload(d, y.data(), y.size() * 4);
    auto ob = poisoned(d, x.size() * 4);
    const auto bb = f32_bytes(bias);
    auto bw = d.upload_weight(host_tensor("bias", WeightRole::vector, TensorType::F32, 1, n, bb));
    if (!xb.ok() || !yb.ok() || !ob.ok() || !bw.ok()) return rep.fail("elementwise", d.id(), "", "allocation failed");
    std::vector<float> out(x.size());
    std::vector<double> ref(x.size());
    // swiglu into a separate output, then in place (out = gate).
    for (size_t i = 0; i < x.size(); ++i) ref[i] = x[i] / (1.0 + std::exp(-static_cast<double>(x[i]))) * y[i];
    Status st = d.ops().swiglu((*xb)->as<float>(), (*yb)->as<float>(), static_cast<int64_t>(x.size()), (*ob)->as<float>());
    if (st.ok()) st = download(d, **ob, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail("swiglu", d.id(), "", st.message());
    rep.add("swiglu", d.id(), "n=3003", rel_max_err(out, ref), 3e-6);
    st = d.ops().swiglu((*xb)->as<float>(), (*yb)->as<float>(), static_cast<int64_t>(x.size()), (*xb)->as<float>());
    if (st.ok()) st = download(d, **xb, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail("swiglu", d.id(), "in place", st.message());
    rep.add("swiglu", d.id(), "n=3003 in place", rel_max_err(out, ref), 3e-6);
    // add: x(now swiglu) += y; add_bias: += bias per row.
    for (size_t i = 0; i < x.size(); ++i) ref[i] += y[i];
    st = d.ops().add((*xb)->as<float>(), (*yb)->as<float>(), static_cast<int64_t>(x.size()));
    if (st.ok()) st = download(d, **xb, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail("add", d.id(), "", st.message());
    rep.add("add", d.id(), "n=3003", rel_max_err(out, ref), 3e-6);
    for (size_t i = 0; i < x.size(); ++i) ref[i] += bias[i % static_cast<size_t>(n)];
    st = d.ops().add_bias((*xb)->as<float>(), **bw, n_tok, n);
    if (st.ok()) st = download(d, **xb, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail("add_bias", d.id(), "", st.message());
    rep.add("add_bias", d.id(), "n_tok=3 n=1001", rel_max_err(out, ref), 3e-6);
}

// Rotary embedding against the double formula. `scaled` adds what long-context files use:
// per-pair frequency factors (Llama 3.1 / LongRoPE), YaRN's ramp and a magnitude factor.
void check_rope(Device& d, RopeStyle style, int64_t hd, int n_rot, int64_t n_tok, int64_t pos0, float scale,
                bool scaled, uint64_t seed, Report& rep) {
    const std::string group = std::string(style == RopeStyle::neox ? "rope neox" : "rope interleaved") +
                              (scaled ? " scaled" : "");
    const std::string detail = fmt("hd=%lld n_rot=%lld n_tok=%lld pos0=%lld", hd, n_rot, n_tok, pos0);
    const int64_t n_head = 5;
    RopeParams rp;
    rp.n_rot = n_rot;
    rp.freq_base = seed % 2 ? 1e6f : 10000.0f;
    rp.freq_scale = scale;
    rp.style = style;
    Rng rng(seed);
    std::vector<float> factors(static_cast<size_t>(n_rot / 2), 1.0f);
    if (scaled) {
        rp.ext_factor = 1.0f;
        rp.corr_low = static_cast<float>(n_rot / 8);
        rp.corr_high = static_cast<float>(n_rot / 3);
        rp.mscale = 1.25f;
        for (float& f : factors) f = 1.0f + 7.0f * static_cast<float>(std::fabs(rng.gauss()));
    }
    const auto x = rng.gauss_vec(static_cast<size_t>(n_tok * n_head * hd));
    std::vector<double> ref(x.begin(), x.end());
    for (int64_t t = 0; t < n_tok; ++t)
        for (int i = 0; i < n_rot / 2; ++i) {
            // Extrapolated and interpolated frequencies, blended by YaRN's ramp where it is on.
            const double f_ex = std::pow(static_cast<double>(rp.freq_base), -2.0 * i / n_rot) / factors[static_cast<size_t>(i)];
            const double f_in = f_ex * rp.freq_scale;
            double ramp = 0.0;
            if (scaled)
                ramp = 1.0 - std::clamp((i - static_cast<double>(rp.corr_low)) /
                                            std::max(0.001, static_cast<double>(rp.corr_high) - rp.corr_low), 0.0, 1.0);
            const double theta = static_cast<double>(pos0 + t) * (f_in * (1.0 - ramp) + f_ex * ramp);
            const double c = std::cos(theta) * rp.mscale, s = std::sin(theta) * rp.mscale;
            for (int64_t h = 0; h < n_head; ++h) {
                const int64_t base = (t * n_head + h) * hd;
                const int64_t a = style == RopeStyle::neox ? i : 2 * i, b = style == RopeStyle::neox ? i + n_rot / 2 : 2 * i + 1;
                ref[base + a] = x[base + a] * c - x[base + b] * s;
                ref[base + b] = x[base + a] * s + x[base + b] * c;
            }
        }
    auto xb = upload(d, x.data(), x.size() * 4);
    if (!xb.ok()) return rep.fail(group, d.id(), detail, "allocation failed");
    std::unique_ptr<DeviceWeight> fw;
    std::vector<uint8_t> fb(factors.size() * 4);  // outlives fw: a CPU device reads vectors in place
    if (scaled) {
        std::memcpy(fb.data(), factors.data(), fb.size());
        auto w = d.upload_weight(host_tensor("rope_freqs", WeightRole::vector, TensorType::F32, 1, n_rot / 2, fb));
        if (!w.ok()) return rep.fail(group, d.id(), detail, w.status().message());
        fw = std::move(w).value();
    }
    Status st = d.ops().rope((*xb)->as<float>(), n_tok, n_head, hd, pos0, rp, fw.get());
    std::vector<float> out(x.size());
    if (st.ok()) st = download(d, **xb, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail(group, d.id(), detail, st.message());
    rep.add(group, d.id(), detail, rel_max_err(out, ref), 1e-5);
}

TensorType kv_tensor(KvCacheType t) {
    return t == KvCacheType::f32 ? TensorType::F32 : t == KvCacheType::f16 ? TensorType::F16 : TensorType::Q8_0;
}

// A cache of n_ctx random rows in `type`; also their dequantized values.
std::vector<uint8_t> random_cache(KvCacheType type, int64_t n_ctx, int64_t n_embd_kv, Rng& rng, std::vector<float>* values) {
    const TensorType tt = kv_tensor(type);
    const auto bytes = random_weight(tt, n_ctx, n_embd_kv, rng, 1.0f);
    if (values) {
        values->resize(static_cast<size_t>(n_ctx * n_embd_kv));
        for (int64_t p = 0; p < n_ctx; ++p)
            quant::dequantize_row_ref(tt, bytes.data() + static_cast<size_t>(p) * tensor_row_bytes(tt, n_embd_kv),
                                      values->data() + p * n_embd_kv, n_embd_kv);
    }
    return bytes;
}

void check_store_kv(Device& d, KvCacheType type, int64_t n_embd_kv, int64_t n_tok, int64_t pos0, uint64_t seed,
                    Report& rep) {
    const std::string group = std::string("store_kv ") + kv_cache_type_name(type);
    const std::string detail = fmt("n_embd_kv=%lld n_tok=%lld pos0=%lld", n_embd_kv, n_tok, pos0);
    const int64_t n_ctx = 64;
    Rng rng(seed);
    const auto kc = random_cache(type, n_ctx, n_embd_kv, rng, nullptr), vc = random_cache(type, n_ctx, n_embd_kv, rng, nullptr);
    const auto k = rng.gauss_vec(static_cast<size_t>(n_tok * n_embd_kv)), v = rng.gauss_vec(k.size());
    auto kb = upload(d, kc.data(), kc.size()), vb = upload(d, vc.data(), vc.size());
    auto kin = upload(d, k.data(), k.size() * 4), vin = upload(d, v.data(), v.size() * 4);
    if (!kb.ok() || !vb.ok() || !kin.ok() || !vin.ok()) return rep.fail(group, d.id(), detail, "allocation failed");
    KvView kv{(*kb)->data(), (*vb)->data(), type, n_ctx, n_embd_kv};
    Status st = d.ops().store_kv((*kin)->as<float>(), (*vin)->as<float>(), kv, pos0, n_tok);
    std::vector<uint8_t> ko(kc.size()), vo(vc.size());
    if (st.ok()) st = download(d, **kb, ko.data(), ko.size());
    if (st.ok()) st = d.copy_to_host(vo.data(), **vb, 0, vo.size());
    if (!st.ok()) return rep.fail(group, d.id(), detail, st.message());
    const TensorType tt = kv_tensor(type);
    const size_t rb = tensor_row_bytes(tt, n_embd_kv);
    double worst = 0;
    bool untouched = true;
    std::vector<float> row(static_cast<size_t>(n_embd_kv));
    for (int which = 0; which < 2; ++which) {
        const auto& before = which ? vc : kc;
        const auto& after = which ? vo : ko;
        const auto& in = which ? v : k;
        for (int64_t p = 0; p < n_ctx; ++p) {
            const uint8_t* a = after.data() + static_cast<size_t>(p) * rb;
            if (p < pos0 || p >= pos0 + n_tok) {
                untouched = untouched && std::memcmp(a, before.data() + static_cast<size_t>(p) * rb, rb) == 0;
                continue;
            }
            quant::dequantize_row_ref(tt, a, row.data(), n_embd_kv);
            const float* x = in.data() + (p - pos0) * n_embd_kv;
            for (int64_t b0 = 0; b0 < n_embd_kv; b0 += 32) {
                double amax = 1e-30, e = 0;
                for (int64_t i = b0; i < std::min(n_embd_kv, b0 + 32); ++i) {
                    amax = std::max(amax, static_cast<double>(std::fabs(x[i])));
                    e = std::max(e, static_cast<double>(std::fabs(row[i] - x[i])));
                }
                worst = std::max(worst, std::isnan(row[b0]) ? INFINITY : e / amax);
            }
        }
    }
    const double tol = type == KvCacheType::f32 ? 1e-7 : type == KvCacheType::f16 ? 6e-4 : 5e-3;
    if (!untouched) return rep.fail(group, d.id(), detail, "rows outside the written positions changed");
    std::string why;
    if (worst > tol && type == KvCacheType::q8_0) {
        // Say what the first block holds against what the reference quantizer would store.
        std::vector<uint8_t> want(rb);
        quant::quantize_row_ref(tt, k.data(), want.data(), n_embd_kv);
        const uint8_t* got = ko.data() + static_cast<size_t>(pos0) * rb;
        uint16_t dg, dw;
        std::memcpy(&dg, got, 2);
        std::memcpy(&dw, want.data(), 2);
        char buf[256];
        std::snprintf(buf, sizeof buf, "first K block: d %g (want %g), q[0..5] %d %d %d %d %d %d (want %d %d %d %d %d %d)",
                      fp16_to_fp32(dg), fp16_to_fp32(dw), int8_t(got[2]), int8_t(got[3]), int8_t(got[4]), int8_t(got[5]),
                      int8_t(got[6]), int8_t(got[7]), int8_t(want[2]), int8_t(want[3]), int8_t(want[4]), int8_t(want[5]),
                      int8_t(want[6]), int8_t(want[7]));
        why = buf;
    }
    rep.add(group, d.id(), detail, worst, tol, why);
}

struct AttnCase {
    KvCacheType type;
    int64_t n_head, n_head_kv, hd, n_ctx, n_tok, pos0;
    float softcap = 0.0f;   // Gemma 2's score cap
    int64_t window = 0;     // sliding window
    bool sinks = false;     // gpt-oss's attention sinks: one learned logit per query head
};

void check_attention(Device& d, const AttnCase& c, uint64_t seed, Report& rep) {
    const std::string group = std::string("attention ") + kv_cache_type_name(c.type) +
                              (c.softcap > 0 ? " softcap" : "") + (c.window > 0 ? " window" : "") +
                              (c.sinks ? " sinks" : "");
    const std::string detail = fmt("heads=%lld/%lld hd=%lld ctx=%lld", c.n_head, c.n_head_kv, c.hd, c.n_ctx) +
                               fmt(" n_tok=%lld pos0=%lld", c.n_tok, c.pos0) +
                               (c.window > 0 ? fmt(" window=%lld", c.window, 0LL) : std::string());
    const int64_t n_kv = c.n_head_kv * c.hd, n_q = c.n_head * c.hd;
    Rng rng(seed);
    std::vector<float> kval, vval;
    const auto kc = random_cache(c.type, c.n_ctx, n_kv, rng, &kval), vc = random_cache(c.type, c.n_ctx, n_kv, rng, &vval);
    const auto q = rng.gauss_vec(static_cast<size_t>(c.n_tok * n_q));
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
    // Scores here are about N(0, 1): sinks of N(1, 2²) sit below some heads' largest score and
    // far above others' (the kernels' max then starts at the sink).
    std::vector<float> sinks;
    if (c.sinks) sinks = rng.gauss_vec(static_cast<size_t>(c.n_head), 2.0f);
    for (float& v : sinks) v += 1.0f;
    std::vector<double> ref(q.size());
    std::vector<double> sc(static_cast<size_t>(c.n_ctx));
    for (int64_t t = 0; t < c.n_tok; ++t)
        for (int64_t h = 0; h < c.n_head; ++h) {
            const int64_t kvh = h / (c.n_head / c.n_head_kv), n_pos = c.pos0 + t + 1;
            const int64_t first = c.window > 0 ? std::max<int64_t>(0, n_pos - c.window) : 0;
            double mx = -1e300, sum = 0;
            for (int64_t j = first; j < n_pos; ++j) {
                double s = 0;
                for (int64_t i = 0; i < c.hd; ++i)
                    s += static_cast<double>(q[(t * c.n_head + h) * c.hd + i]) * kval[j * n_kv + kvh * c.hd + i];
                sc[j] = s * scale;
                if (c.softcap > 0) sc[j] = c.softcap * std::tanh(sc[j] / c.softcap);
                mx = std::max(mx, sc[j]);
            }
            if (c.sinks) mx = std::max(mx, static_cast<double>(sinks[h]));
            if (c.sinks) sum = std::exp(sinks[h] - mx);  // in the denominator only: no value row
            for (int64_t j = first; j < n_pos; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
            for (int64_t i = 0; i < c.hd; ++i) {
                double o = 0;
                for (int64_t j = first; j < n_pos; ++j) o += sc[j] * vval[j * n_kv + kvh * c.hd + i];
                ref[(t * c.n_head + h) * c.hd + i] = o / sum;
            }
        }
    // As plan/memory_estimate.cpp lays it out: per CPU thread, one KV head's group of query heads.
    const size_t cpu_scratch = static_cast<size_t>(std::max(1, d.info().n_threads)) *
                               static_cast<size_t>(c.n_head / c.n_head_kv) * static_cast<size_t>(c.n_ctx);
    const size_t gpu_scratch = static_cast<size_t>(c.n_head * 8 * 256 * (2 + c.hd));
    auto kb = upload(d, kc.data(), kc.size()), vb = upload(d, vc.data(), vc.size());
    auto qb = upload(d, q.data(), q.size() * 4);
    auto ob = poisoned(d, q.size() * 4);
    auto sb = d.allocate(std::max(cpu_scratch, gpu_scratch) * 4, MemoryUse::kv_cache);
    if (!kb.ok() || !vb.ok() || !qb.ok() || !ob.ok() || !sb.ok()) return rep.fail(group, d.id(), detail, "allocation failed");
    KvView kv{(*kb)->data(), (*vb)->data(), c.type, c.n_ctx, n_kv};
    std::unique_ptr<DeviceWeight> sink_w;
    const std::vector<uint8_t> sink_bytes = f32_bytes(sinks);  // a CPU weight may view them: kept to the end
    if (c.sinks) {
        auto w = d.upload_weight(host_tensor("attn_sinks", WeightRole::vector, TensorType::F32, 1, c.n_head, sink_bytes));
        if (!w.ok()) return rep.fail(group, d.id(), detail, w.status().message());
        sink_w = std::move(w).value();
    }
    const AttentionParams ap{scale, c.softcap, c.window, sink_w.get()};
    Status st = d.ops().attention((*qb)->as<float>(), kv, c.pos0, c.n_tok, c.n_head, c.n_head_kv, c.hd, ap,
                                  (*sb)->as<float>(), (*ob)->as<float>());
    std::vector<float> out(q.size());
    if (st.ok()) st = download(d, **ob, out.data(), out.size() * 4);
    if (!st.ok()) return rep.fail(group, d.id(), detail, st.message());
    rep.add(group, d.id(), detail, rel_max_err(out, ref), 1e-4);
}

}  // namespace

void run_op_checks(const std::vector<Device*>& devices, const Options& opt, Report& rep) {
    const bool q = opt.quick;
    std::vector<TensorType> types = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q8_0,
                                     TensorType::Q4_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
    if (!q) {
        for (TensorType t : {TensorType::Q5_0, TensorType::Q4_1, TensorType::Q3_K, TensorType::IQ4_NL,
                             TensorType::IQ4_XS})  // converted on GPUs
            if (quant::can_quantize(t) && quant::can_dequantize(t)) types.push_back(t);
    }
    for (Device* dp : devices) {
        Device& d = *dp;
        // One seed sequence per suite, so `--only SUITE` reproduces a full run's cases.
        uint64_t s_mm = 1000, s_emb = 3000, s_rms = 4000, s_el = 5000, s_rope = 6000, s_kv = 7000, s_att = 8000;
        for (TensorType t : types) {
            if (!opt.wants("matmul") && !opt.wants("embed")) break;
            const int64_t block = tensor_type_traits(t).block_size;
            std::vector<int64_t> cols = block == 256 ? std::vector<int64_t>{256, 768}
                                        : block == 32 ? std::vector<int64_t>{96, 352}
                                                      : std::vector<int64_t>{40, 100};
            if (!q) cols.push_back(4096);
            for (int64_t n_tok : q ? std::vector<int64_t>{1, 17} : std::vector<int64_t>{1, 3, 8, 17, 64})
                for (int64_t rows : q ? std::vector<int64_t>{37} : std::vector<int64_t>{37, 300})
                    for (int64_t c : q ? std::vector<int64_t>{cols[1]} : cols) {
                        if (c == 4096 && (rows != 300 || (n_tok != 1 && n_tok != 64))) continue;
                        if (opt.wants("matmul")) check_matmul(d, t, n_tok, rows, c, ++s_mm, rep);
                    }
            const int64_t ecols = block == 256 ? 512 : block == 32 ? 96 : 100;
            if (opt.wants("embed")) check_embed(d, t, ecols, ++s_emb, rep);
        }
        for (int64_t n : {64, 100, 4096})
            for (int64_t n_tok : {1, 17})
                for (bool alias : {false, true})
                    if (opt.wants("rms_norm")) check_rms_norm(d, n_tok, n, alias, ++s_rms, rep);
        if (opt.wants("elementwise")) check_elementwise(d, ++s_el, rep);
        for (RopeStyle style : {RopeStyle::interleaved, RopeStyle::neox})
            for (int64_t hd : {64, 128, 80})
                for (int64_t n_tok : {1, 17}) {
                    if (!opt.wants("rope")) continue;
                    check_rope(d, style, hd, static_cast<int>(hd), n_tok, 0, 1.0f, false, ++s_rope, rep);
                    if (!q) check_rope(d, style, hd, static_cast<int>(hd / 2), n_tok, 1000, 0.25f, false, ++s_rope, rep);
                    if (!q) check_rope(d, style, hd, static_cast<int>(hd), n_tok, 100000, 0.125f, true, ++s_rope, rep);
                }
        for (KvCacheType kt : {KvCacheType::f32, KvCacheType::f16, KvCacheType::q8_0})
            for (int64_t n_embd_kv : {64, 256, 96})
                for (int64_t n_tok : {1, 17}) {
                    if (!opt.wants("store_kv")) continue;
                    check_store_kv(d, kt, n_embd_kv, n_tok, 0, ++s_kv, rep);
                    check_store_kv(d, kt, n_embd_kv, n_tok, 64 - n_tok, ++s_kv, rep);
                    if (!q) check_store_kv(d, kt, n_embd_kv, n_tok, 30, ++s_kv, rep);
                }
        std::vector<AttnCase> attn;
        for (KvCacheType kt : {KvCacheType::f32, KvCacheType::f16, KvCacheType::q8_0}) {
            // (heads, kv heads, head size): GQA, MHA, odd group sizes; hd 16 needs no 32-blocks.
            std::vector<std::array<int64_t, 3>> shapes = {{8, 2, 64}, {4, 4, 128}, {6, 3, 32}};
            if (kt != KvCacheType::q8_0) shapes.push_back({4, 2, 16});
            for (const auto& s : shapes) {
                for (int64_t n_tok : {1, 3}) {
                    for (int64_t ctx : q ? std::vector<int64_t>{1500} : std::vector<int64_t>{64, 1500, 5000}) {
                        attn.push_back({kt, s[0], s[1], s[2], ctx, n_tok, ctx - n_tok});
                        if (!q) attn.push_back({kt, s[0], s[1], s[2], ctx, n_tok, ctx / 3});
                    }
                }
                for (int64_t n_tok : q ? std::vector<int64_t>{17} : std::vector<int64_t>{17, 64, 150}) {
                    attn.push_back({kt, s[0], s[1], s[2], 300, n_tok, 0});
                    if (!q) attn.push_back({kt, s[0], s[1], s[2], 1500, n_tok, 1100});
                }
            }
        }
        if (!q) attn.push_back({KvCacheType::f16, 2, 1, 288, 400, 17, 100});  // head size > 256
        // Gemma's attention: soft-capped scores and sliding windows, decode and prefill, windows
        // shorter and longer than a split-K chunk, a window wider than the context so far.
        for (KvCacheType kt : {KvCacheType::f16, KvCacheType::q8_0}) {
            attn.push_back({kt, 8, 4, 256, 1500, 1, 1499, 50.0f, 0});
            attn.push_back({kt, 8, 4, 256, 1500, 3, 1200, 0.0f, 512});
            attn.push_back({kt, 8, 4, 128, 5000, 1, 4999, 0.0f, 7});
            attn.push_back({kt, 8, 4, 256, 600, 64, 500, 50.0f, 100});
            attn.push_back({kt, 8, 2, 256, 300, 17, 0, 0.0f, 4096});
            if (!q) attn.push_back({kt, 8, 4, 128, 1500, 150, 1100, 30.0f, 33});
        }
        // gpt-oss's attention: sinks on its shape (64 query heads of 64 over 8 KV heads, scaled
        // down to 16 / 2), alternating windowed (128) and full layers: decode (split-K with the
        // sink in the combine, several chunks and one) and prefill (the generic tiled kernel), a
        // window inside and past a prefill tile, and a head size > 256 (split-K for prefill).
        for (KvCacheType kt : {KvCacheType::f16, KvCacheType::f32, KvCacheType::q8_0}) {
            if (q && kt != KvCacheType::f16) continue;
            for (int64_t window : {int64_t{0}, int64_t{128}}) {
                attn.push_back({kt, 16, 2, 64, 1500, 1, 1499, 0.0f, window, true});
                attn.push_back({kt, 16, 2, 64, 64, 3, 10, 0.0f, window, true});
                attn.push_back({kt, 16, 2, 64, 600, 64, 300, 0.0f, window, true});
                attn.push_back({kt, 16, 2, 64, 300, 150, 0, 0.0f, window, true});
                if (!q) attn.push_back({kt, 8, 4, 128, 1500, 17, 1100, 0.0f, window, true});
            }
            if (!q) attn.push_back({kt, 2, 1, 288, 400, 17, 100, 0.0f, 0, true});
        }
        if (opt.wants("attention"))
            for (const AttnCase& c : attn) check_attention(d, c, ++s_att, rep);
    }
}

}  // namespace strata::selftest
