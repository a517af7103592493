// Opening the CUDA module (libstrata_cuda.so) from strata-cli for its exported C probes
// (selftest --probe, probe links): the registry's search order.
#pragma once

#include <string>

namespace strata::cli {

// $STRATA_CUDA_MODULE, then next to the executable, the build tree's module directory and
// ../lib/strata. nullptr when none loads (`tried`: the last failure, "" when none was found).
// The handle stays open for the process (the probes' code lives in it).
void* open_cuda_module(std::string& tried);

}  // namespace strata::cli
