// Part of strata_cuda_probe: this backend's own kernels on Llama-2-7B-sized matrices, so a
// benchmark's decode and prefill figures can be split into "kernel" and "everything around it".
//  - matvec (n_tok = 1): 100 back-to-back launches of the kernel itself, timed with CUDA events,
//    rotating through copies of the matrix that together are 4× the L2 cache, so every launch
//    reads its weights from memory as a decode step does; and the same on one copy ("L2-warm"):
//    an H100's 50 MB L2 holds a whole 7B matrix between launches, which flattered the figure;
//  - prefill matmul (n_tok = 512): through the device's ops (F16 conversion, tile dequantization
//    overlapped with cublasGemmEx), 5 calls per synchronize; and the tile dequantization alone.
// Weights are random bytes (their values do not change the work done).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "backend/cuda/cuda_device.h"
#include "backend/cuda/cuda_gemm_plan.h"
#include "backend/cuda/cuda_probe_abi.h"
#include "backend/cuda/kernels.h"

namespace strata::cuda {

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void add_timing(StrataCudaProbe* out, const std::string& what, double us, double bytes, double flops) {
    if (out->n_kernels >= static_cast<int>(sizeof out->kernels / sizeof out->kernels[0]) || us <= 0) return;
    StrataCudaKernelTiming& k = out->kernels[out->n_kernels++];
    std::snprintf(k.what, sizeof k.what, "%s", what.c_str());
    k.us = us;
    k.gbs = bytes / (us * 1e-6) / 1e9;
    k.tflops = flops / (us * 1e-6) / 1e12;
}

}  // namespace

void probe_kernels(int index, int ordinal, StrataCudaProbe* out) {
    auto created = CudaDevice::create(index, ordinal, 0, 0, device_options_from_env());
    if (!created.ok()) return;
    CudaDevice& dev = **created;
    cudaSetDevice(ordinal);
    // Owned, so every return releases them (the early ones used to leak them). Declared before
    // the device's buffers below, they are released after those and before the device.
    CudaStream stream;
    CudaEvent ev0, ev1;
    if (stream.create(cudaStreamDefault) != cudaSuccess || ev0.create(cudaEventDefault) != cudaSuccess ||
        ev1.create(cudaEventDefault) != cudaSuccess) {
        cudaGetLastError();
        return;
    }
    const cudaStream_t s = stream.get();
    const cudaEvent_t e0 = ev0.get(), e1 = ev1.get();
    int l2 = 0;
    if (cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, ordinal) != cudaSuccess) l2 = 0;
    const size_t l2_bytes = static_cast<size_t>(std::max(l2, 0));
    std::mt19937_64 rng(7);
    const int64_t cols = 4096;
    const int64_t max_tok = 512;
    std::vector<float> xh(static_cast<size_t>(max_tok * cols));
    std::normal_distribution<float> nd;
    for (auto& v : xh) v = nd(rng);
    auto x = dev.allocate(xh.size() * 4, MemoryUse::scratch);
    auto act = dev.allocate(act_q8_size(1, cols) + 256, MemoryUse::scratch);
    // Output at the start of a buffer with room for the GEMM workspace at its end (as in a stage).
    auto outb = dev.allocate(static_cast<size_t>(max_tok * 11008) * 4 + (160u << 20), MemoryUse::scratch);
    if (!x.ok() || !act.ok() || !outb.ok() || !dev.copy_from_host(**x, 0, xh.data(), xh.size() * 4).ok() ||
        !dev.synchronize().ok())
        return;
    const cuk::ActQ8 a8 = cuk::act_q8_at((*act)->data(), 1, cols);
    cuk::launch_quantize_act((*x)->as<float>(), 1, cols, a8, s);

    for (TensorType t : {TensorType::Q4_0, TensorType::Q4_K, TensorType::Q6_K, TensorType::Q8_0, TensorType::F16}) {
        for (int64_t rows : {int64_t{4096}, int64_t{11008}}) {
            std::vector<uint8_t> bytes(tensor_row_bytes(t, cols) * static_cast<size_t>(rows));
            for (size_t i = 0; i < bytes.size(); i += 8) {
                const uint64_t r = rng();
                std::memcpy(bytes.data() + i, &r, std::min<size_t>(8, bytes.size() - i));
            }
            if (t == TensorType::F16) {  // keep F16 values finite and small
                for (size_t i = 1; i < bytes.size(); i += 2) bytes[i] = static_cast<uint8_t>(bytes[i] & 0x3b);
            }
            HostTensor h;
            h.name = "probe";
            h.role = WeightRole::matrix;
            h.type = t;
            h.n_cols = cols;
            h.n_rows = rows;
            h.data = bytes.data();
            h.n_bytes = bytes.size();
            // Copies enough to be 4× the L2 together (at most 32); fewer if memory runs short.
            std::vector<std::unique_ptr<DeviceWeight>> copies;
            const size_t want = std::clamp<size_t>(4 * l2_bytes / bytes.size() + 1, 1, 32);
            while (copies.size() < want) {
                auto w = dev.upload_weight(h);
                if (!w.ok()) break;
                copies.push_back(std::move(*w));
            }
            if (copies.empty()) continue;
            const auto& cw = static_cast<const CudaWeight&>(*copies[0]);
            const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
            // matvec: the kernel alone.
            cuk::MatvecArgs m;
            m.n_mat = 1;
            m.out[0] = (*outb)->as<float>();
            m.row_begin[1] = m.row_begin[2] = m.row_begin[3] = rows;
            m.n_cols = cols;
            m.n_tok = 1;
            m.x = (*x)->as<float>();
            m.act = a8;
            const bool q = cw.layout().quantized();
            std::vector<double> batches;
            auto time_matvecs = [&](size_t n_copies) {
                batches.clear();
                for (int b = 0; b < 4; ++b) {
                    cudaEventRecord(e0, s);
                    for (int i = 0; i < 100; ++i) {
                        m.w[0] = static_cast<const CudaWeight&>(*copies[static_cast<size_t>(i) % n_copies]).view();
                        if (q) {
                            cuk::launch_matvec_q(m, s);
                        } else {
                            cuk::launch_matvec_f(m, s);
                        }
                    }
                    cudaEventRecord(e1, s);
                    cudaEventSynchronize(e1);
                    float ms = 0;
                    cudaEventElapsedTime(&ms, e0, e1);
                    if (b > 0) batches.push_back(ms * 1e3 / 100);  // the first batch warms up
                }
                return cudaGetLastError() == cudaSuccess;
            };
            const std::string mv = std::string("matvec ") + tensor_type_name(t) + " " + shape + " n_tok=1";
            const double w_bytes = static_cast<double>(cw.layout().total_bytes), flops = 2.0 * rows * cols;
            if (copies.size() > 1 && time_matvecs(copies.size())) add_timing(out, mv, median(batches), w_bytes, flops);
            if (time_matvecs(1)) add_timing(out, mv + " L2-warm", median(batches), w_bytes, flops);
            const DeviceWeight& w0 = *copies[0];
            // The prefill path's tile dequantization alone (every tile of the GEMM plan, one
            // stream, nothing overlapped): with the matmul below, it says how much of a quantized
            // prefill matmul is dequantization.
            if (rows == 11008 && q) {
                const GemmPlan g = plan_gemm(cw.layout().dev_type, rows, cols, max_tok);
                void* tile = static_cast<char*>((*outb)->data()) + static_cast<size_t>(max_tok * 11008) * 4;
                batches.clear();
                for (int b = 0; b < 4; ++b) {
                    cudaEventRecord(e0, s);
                    for (int64_t rt = 0; rt < g.n_row_tiles; ++rt) {
                        const int64_t r0 = rt * g.tile_rows, nr = std::min(g.tile_rows, rows - r0);
                        for (int64_t cc = 0; cc < g.n_col_chunks; ++cc) {
                            const int64_t c0 = cc * g.tile_cols, nc = std::min(g.tile_cols, cols - c0);
                            cuk::launch_dequant_tile(cw.view(), r0, nr, c0, nc, tile, s);
                        }
                    }
                    cudaEventRecord(e1, s);
                    cudaEventSynchronize(e1);
                    float ms = 0;
                    cudaEventElapsedTime(&ms, e0, e1);
                    if (b > 0) batches.push_back(ms * 1e3);
                }
                if (cudaGetLastError() == cudaSuccess)
                    add_timing(out, std::string("dequant ") + tensor_type_name(t) + " " + shape + " to F16 tiles",
                               median(batches), static_cast<double>(cw.layout().total_bytes) + 2.0 * rows * cols, 0);
            }
            // Prefill matmul through the device (conversion, dequantization, cuBLAS).
            if (rows == 11008 || t == TensorType::F16) {
                batches.clear();
                for (int b = 0; b < 3; ++b) {
                    const auto t0 = std::chrono::steady_clock::now();
                    Status st;
                    for (int i = 0; i < 5 && st.ok(); ++i)
                        st = dev.ops().matmul(w0, (*x)->as<float>(), max_tok, (*outb)->as<float>());
                    if (st.ok()) st = dev.synchronize();
                    if (!st.ok()) break;
                    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 5;
                    if (b > 0) batches.push_back(us);
                }
                add_timing(out, std::string("matmul ") + tensor_type_name(t) + " " + shape + " n_tok=512", median(batches),
                           static_cast<double>(cw.layout().total_bytes), 2.0 * rows * cols * max_tok);
            }
        }
    }
    // The buffers are released next (reverse declaration order): nothing queued on s may still
    // use them.
    cudaStreamSynchronize(s);
    cudaGetLastError();
}

}  // namespace strata::cuda
