// The test controls of the fake libnvidia-ml (fake_nvml.cpp), for tests that dlopen() it.
#pragma once

#include <dlfcn.h>

#include <string>

#define FAKE_NVML_EXPORT __attribute__((visibility("default")))

extern "C" {

// One fake GPU's canned figures.
struct FakeNvmlValues {
    unsigned utilisation;             // %
    unsigned long long memory_used;   // bytes
    unsigned long long memory_total;  // bytes
    unsigned temperature;             // °C
    unsigned power_mw;                // milliwatts
    char bus_id[32];                  // as NVML spells it: "00000000:3B:00.0"
    unsigned long long throttle_reasons;  // NVML's throttle reason bits (0 after a reset)
    unsigned long long ecc_uncorrected;   // volatile uncorrected ECC errors (0 after a reset)
};

// Forgets failures and counts; n_devices GPUs (at most 4) with figures drawn from `seed`, wired
// as a 4-GPU box (fake_nvml.cpp). A process that never calls it gets $FAKE_NVML_DEVICES GPUs.
using FakeNvmlReset = void (*)(unsigned seed, int n_devices);
// Copies device `device`'s figures; 0 for a bad index.
using FakeNvmlGetValues = int (*)(int device, FakeNvmlValues* out);
// From now on `function` ("nvmlDeviceGetPowerUsage", "nvmlInit_v2", ...) returns `code` for
// `device` (-1: every device; 0 = succeed again).
using FakeNvmlFail = void (*)(const char* function, int device, int code);
// Device `device` falls off the bus: its handle's calls return NVML_ERROR_GPU_IS_LOST.
using FakeNvmlRemove = void (*)(int device);
// Sets device `device`'s throttle reason bits and uncorrected ECC error count.
using FakeNvmlSetHealth = void (*)(int device, unsigned long long throttle_reasons, unsigned long long ecc_uncorrected);
// Sets the common ancestor (nvmlGpuTopologyLevel_t) and P2P status (read and write alike) of the
// pair a, b, both ways.
using FakeNvmlSetPair = void (*)(int a, int b, int ancestor, int p2p_status);
// Device `device`'s first n_links NVLink links end at an NVSwitch (an 8-GPU SXM board), the rest down.
using FakeNvmlSetNvSwitch = void (*)(int device, unsigned n_links, unsigned version);
// How often nvmlInit_v2 succeeded and nvmlShutdown was called since the last reset.
using FakeNvmlCalls = void (*)(int* inits, int* shutdowns);

}

// The fake's controls in a test: the library dlopen()ed and every control looked up (closed
// again on destruction). `error` is empty when all were found.
struct FakeNvmlControls {
    void* lib = nullptr;
    FakeNvmlReset reset = nullptr;
    FakeNvmlGetValues values = nullptr;
    FakeNvmlFail fail = nullptr;
    FakeNvmlRemove remove = nullptr;
    FakeNvmlCalls calls = nullptr;
    FakeNvmlSetHealth health = nullptr;
    FakeNvmlSetPair set_pair = nullptr;
    FakeNvmlSetNvSwitch set_nvswitch = nullptr;
    std::string error;

    explicit FakeNvmlControls(const char* path) {
        lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            error = dlerror();
            return;
        }
        reset = reinterpret_cast<FakeNvmlReset>(dlsym(lib, "fake_nvml_reset"));
        values = reinterpret_cast<FakeNvmlGetValues>(dlsym(lib, "fake_nvml_values"));
        fail = reinterpret_cast<FakeNvmlFail>(dlsym(lib, "fake_nvml_fail"));
        remove = reinterpret_cast<FakeNvmlRemove>(dlsym(lib, "fake_nvml_remove"));
        calls = reinterpret_cast<FakeNvmlCalls>(dlsym(lib, "fake_nvml_calls"));
        health = reinterpret_cast<FakeNvmlSetHealth>(dlsym(lib, "fake_nvml_set_health"));
        set_pair = reinterpret_cast<FakeNvmlSetPair>(dlsym(lib, "fake_nvml_set_pair"));
        set_nvswitch = reinterpret_cast<FakeNvmlSetNvSwitch>(dlsym(lib, "fake_nvml_set_nvswitch"));
        if (!reset || !values || !fail || !remove || !calls || !health || !set_pair || !set_nvswitch) error = std::string(path) + " lacks a fake_nvml_* control";
    }
    ~FakeNvmlControls() {
        if (lib) dlclose(lib);
    }
    FakeNvmlControls(const FakeNvmlControls&) = delete;
    FakeNvmlControls& operator=(const FakeNvmlControls&) = delete;
};
