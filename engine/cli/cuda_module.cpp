#include "cuda_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace strata::cli {

void* open_cuda_module(std::string& tried) {
    std::vector<std::string> c;
    if (const char* env = std::getenv("STRATA_CUDA_MODULE"); env && *env) c.emplace_back(env);
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::string dir = exe.parent_path().string();
        c.push_back(dir + "/libstrata_cuda.so");
        c.push_back(dir + "/../engine/src/backend/cuda/libstrata_cuda.so");
        c.push_back(dir + "/../lib/strata/libstrata_cuda.so");
    }
    for (const std::string& path : c) {
        if (!std::filesystem::exists(path)) continue;
        if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
        const char* e = dlerror();
        tried = path + ": " + (e ? e : "dlopen failed");
    }
    return nullptr;
}

}  // namespace strata::cli
