// How a weight is laid out on a CUDA device, and the host-side packing into that layout.
// Plain C++ (no CUDA): the device streams packed rows through pinned staging memory.
//
//  - the stored type is backend/weight_storage.h's rule (the planner budgets with it): vectors
//    F32; the types the kernels read as they are; others converted once on the host, level for
//    level where quant::transcode_row can (Q3_K → Q6_K, ...), else through floats to Q8_0;
//  - matrices of Q4_0, Q8_0 and Q6_K are "split": the fp16 block scale d moves to its own
//    array so the rest of each block (16, 32, 208 bytes) is 16-byte aligned for vector loads.
//    Embedding tables keep the file layout (the embed kernel reads single rows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/device.h"

namespace strata::cuda {

struct WeightLayout {
    int dev_type = 0;                     // cuk::DevType of the stored data
    TensorType stored = TensorType::F32;  // type of the stored data
    bool converted = false;               // stored != the file's type
    bool split = false;
    int64_t n_rows = 0, n_cols = 0;
    int64_t row_bytes = 0;                // bytes of `main` per row
    int64_t d_per_row = 0;                // split: fp16 scales per row
    size_t main_bytes = 0;                // n_rows * row_bytes
    size_t d_offset = 0;                  // split: where the scales start (256-aligned)
    size_t total_bytes = 0;               // device allocation
    bool quantized() const { return dev_type >= 3; }  // int8 activations in the matvec path
};

// Decides the layout; errors (ErrorCode::unsupported) for types nothing here can read.
Result<WeightLayout> plan_weight_layout(const HostTensor& t);

// Packs rows [r0, r1) of `t`: their `main` bytes to main_out (row_bytes each, rows
// consecutive) and, for split layouts, their scales to d_out (d_per_row each).
// `tmp` is reused scratch for conversions.
void pack_weight_rows(const WeightLayout& layout, const HostTensor& t, int64_t r0, int64_t r1, uint8_t* main_out,
                      uint16_t* d_out, std::vector<float>& tmp, std::vector<uint8_t>& tmp_bytes);

// Device type id of a TensorType the kernels read directly, or -1.
int dev_type_of(TensorType t);

}  // namespace strata::cuda
