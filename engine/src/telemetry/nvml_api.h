// The few NVML types and entry points Strata uses, declared from NVIDIA's published NVML API
// reference (there is no nvml.h on our build machines, and the engine must not link NVML: it is
// dlopen()ed). Shared by the reader and by the tests' fake libnvidia-ml.
#pragma once

namespace strata::nvml {

// nvmlReturn_t (a C enum: int-sized). The values used here.
using Return = int;
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorLibraryNotFound = 12;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorUnknown = 999;

// "NVML_ERROR_GPU_IS_LOST" for a code, or nullptr for one not listed here.
const char* return_name(Return r);

// nvmlDevice_t: an opaque handle.
struct DeviceSt;
using Device = DeviceSt*;

// nvmlMemory_t (v1): bytes.
struct Memory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;  // reserved + allocated, by every process and the driver
};

// nvmlUtilization_t: percent of the last sample period.
struct Utilization {
    unsigned int gpu;     // a kernel was executing
    unsigned int memory;  // device memory was being read or written
};

// nvmlTemperatureSensors_t
inline constexpr int kTemperatureGpu = 0;

// Entry points, by symbol name.
using InitFn = Return (*)();                                           // nvmlInit_v2
using ShutdownFn = Return (*)();                                       // nvmlShutdown
using ErrorStringFn = const char* (*)(Return);                         // nvmlErrorString
using DeviceGetCountFn = Return (*)(unsigned int*);                    // nvmlDeviceGetCount_v2
using DeviceGetHandleByIndexFn = Return (*)(unsigned int, Device*);    // nvmlDeviceGetHandleByIndex_v2
using DeviceGetHandleByPciBusIdFn = Return (*)(const char*, Device*);  // nvmlDeviceGetHandleByPciBusId_v2
using DeviceGetUtilizationRatesFn = Return (*)(Device, Utilization*);  // nvmlDeviceGetUtilizationRates
using DeviceGetMemoryInfoFn = Return (*)(Device, Memory*);             // nvmlDeviceGetMemoryInfo
using DeviceGetTemperatureFn = Return (*)(Device, int, unsigned int*); // nvmlDeviceGetTemperature
using DeviceGetPowerUsageFn = Return (*)(Device, unsigned int*);       // nvmlDeviceGetPowerUsage (mW)
// Optional (older drivers or some boards lack them; the reader works without):
using DeviceGetThrottleReasonsFn = Return (*)(Device, unsigned long long*);  // nvmlDeviceGetCurrentClocksThrottleReasons
using DeviceGetTotalEccErrorsFn = Return (*)(Device, int, int, unsigned long long*);  // nvmlDeviceGetTotalEccErrors

// nvmlMemoryErrorType_t and nvmlEccCounterType_t
inline constexpr int kMemoryErrorUncorrected = 1;
inline constexpr int kVolatileEcc = 0;  // since the driver loaded

}  // namespace strata::nvml
