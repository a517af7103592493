// Transports between devices of the CUDA module (backend/device.h's Transport):
//   same GPU                 → "device copy"  (cudaMemcpyAsync device to device)
//   peer access possible     → "peer copy"    (cudaMemcpyPeerAsync, peer access enabled)
//   otherwise, NCCL loadable → "nccl"         (ncclSend / ncclRecv in one group; communicators
//                                              for all the module's GPUs from ncclCommInitAll,
//                                              made at the first transfer)
//   otherwise                → none: the registry stages through host memory.
// STRATA_CUDA_TRANSPORT=host|peer|nccl forces a choice where it is possible (for testing).
// NCCL is loaded with dlopen, so the module runs where NCCL is not installed.
#pragma once

#include <memory>
#include <vector>

#include "backend/device.h"

namespace strata::cuda {

class CudaDevice;
class NcclState;

// Shared by the module and its transports (which may outlive the module object).
std::shared_ptr<NcclState> make_nccl_state(const std::vector<int>& ordinals);

std::unique_ptr<Transport> make_cuda_transport(CudaDevice& src, CudaDevice& dst,
                                               const std::shared_ptr<NcclState>& nccl);

}  // namespace strata::cuda
