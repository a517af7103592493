#include "backend/cuda/cuda_weight_layout.h"

#include <cstring>

#include "backend/weight_storage.h"
#include "quant/quant.h"

namespace strata::cuda {

namespace {

size_t align256(size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

int dev_type_of(TensorType t) {
    switch (t) {
        case TensorType::F32: return 0;
        case TensorType::F16: return 1;
        case TensorType::BF16: return 2;
        case TensorType::Q4_0: return 3;
        case TensorType::Q8_0: return 4;
        case TensorType::Q4_K: return 5;
        case TensorType::Q5_K: return 6;
        case TensorType::Q6_K: return 7;
        default: return -1;
    }
}

Result<WeightLayout> plan_weight_layout(const HostTensor& t) {
    WeightLayout L;
    L.n_rows = t.n_rows;
    L.n_cols = t.n_cols;
    if (t.n_rows <= 0 || t.n_cols <= 0)
        return Status(ErrorCode::invalid_argument, t.name + ": empty tensor");
    const TensorTypeTraits& tr = tensor_type_traits(t.type);
    if (!tr.known || t.n_cols % tr.block_size != 0)
        return Status(ErrorCode::unsupported, t.name + ": " + tr.name + " rows of " + std::to_string(t.n_cols) +
                                                  " values cannot be read");
    L.stored = cuda_storage_type(t.type, t.role, t.n_cols);
    L.converted = L.stored != t.type;
    if (L.converted && !quant::can_dequantize(t.type))
        return Status(ErrorCode::unsupported,
                      t.name + ": the CUDA backend cannot compute with " + std::string(tr.name) + " weights");
    L.dev_type = dev_type_of(L.stored);
    CudaSplit s;
    L.split = cuda_split(L.stored, t.role, s);
    if (L.split) {
        L.d_per_row = t.n_cols / s.block_elems;
        L.row_bytes = L.d_per_row * s.main_bytes;
    } else {
        L.row_bytes = static_cast<int64_t>(tensor_row_bytes(L.stored, t.n_cols));
    }
    L.main_bytes = static_cast<size_t>(L.n_rows * L.row_bytes);
    if (L.split) {
        L.d_offset = align256(L.main_bytes);
        L.total_bytes = L.d_offset + static_cast<size_t>(L.n_rows * L.d_per_row) * 2;
    } else {
        L.total_bytes = L.main_bytes;
    }
    return L;
}

void pack_weight_rows(const WeightLayout& L, const HostTensor& t, int64_t r0, int64_t r1, uint8_t* main_out,
                      uint16_t* d_out, std::vector<float>& tmp, std::vector<uint8_t>& tmp_bytes) {
    const size_t src_row = tensor_row_bytes(t.type, t.n_cols);
    const size_t stored_row = tensor_row_bytes(L.stored, t.n_cols);
    CudaSplit s;
    cuda_split(L.stored, t.role, s);
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* src = static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * src_row;
        uint8_t* main = main_out + (r - r0) * L.row_bytes;
        if (L.converted && quant::can_transcode(t.type, L.stored)) {
            tmp_bytes.resize(stored_row);
            quant::transcode_row(t.type, L.stored, src, tmp_bytes.data(), t.n_cols);
            src = tmp_bytes.data();
        } else if (L.converted) {
            tmp.resize(static_cast<size_t>(t.n_cols));
            quant::dequantize_row_ref(t.type, src, tmp.data(), t.n_cols);
            if (L.stored == TensorType::F32) {
                std::memcpy(main, tmp.data(), stored_row);
                continue;
            }
            tmp_bytes.resize(stored_row);
            quant::quantize_row_ref(L.stored, tmp.data(), tmp_bytes.data(), t.n_cols);
            src = tmp_bytes.data();
        }
        if (!L.split) {
            std::memcpy(main, src, stored_row);
            continue;
        }
        uint16_t* d = d_out + (r - r0) * L.d_per_row;
        for (int64_t b = 0; b < L.d_per_row; ++b) {
            const uint8_t* blk = src + b * s.block_bytes;
            std::memcpy(d + b, blk + s.d_at, 2);
            uint8_t* dst = main + b * s.main_bytes;
            if (s.d_at == 0) {
                std::memcpy(dst, blk + 2, static_cast<size_t>(s.main_bytes));
            } else {
                std::memcpy(dst, blk, static_cast<size_t>(s.main_bytes));
            }
        }
    }
}

}  // namespace strata::cuda
