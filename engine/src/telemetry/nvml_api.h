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

// ---- topology (strata/gpu_topology.h); every one optional ----
// nvmlPciInfo_t (the layout since CUDA 9: the v2/v3 entry points fill it).
struct PciInfo {
    char bus_id_legacy[16];  // "0000:3B:00.0"
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pci_device_id;
    unsigned int pci_subsystem_id;
    char bus_id[32];         // "00000000:3B:00.0"
};
// nvmlGpuTopologyLevel_t: the closest common ancestor of two GPUs in the PCIe tree.
inline constexpr int kTopologyInternal = 0;     // the same board (a dual-GPU card)
inline constexpr int kTopologySingle = 10;      // one PCIe switch
inline constexpr int kTopologyMultiple = 20;    // several PCIe switches, no host bridge
inline constexpr int kTopologyHostBridge = 30;  // one PCIe host bridge
inline constexpr int kTopologyNode = 40;        // host bridges of one NUMA node (CPU socket)
inline constexpr int kTopologySystem = 50;      // across NUMA nodes (the sockets' interconnect)
// nvmlGpuP2PCapsIndex_t and nvmlGpuP2PStatus_t
inline constexpr int kP2PCapsRead = 0;
inline constexpr int kP2PCapsWrite = 1;
inline constexpr int kP2PCapsNvLink = 2;  // P2P over NVLink (also through NVSwitches)
inline constexpr int kP2PStatusOk = 0;
inline constexpr int kP2PStatusChipsetNotSupported = 1;
inline constexpr int kP2PStatusGpuNotSupported = 2;
inline constexpr int kP2PStatusIohTopologyNotSupported = 3;
inline constexpr int kP2PStatusDisabledByRegkey = 4;
inline constexpr int kP2PStatusNotSupported = 5;
inline constexpr int kP2PStatusUnknown = 6;
// nvmlEnableState_t
inline constexpr int kFeatureEnabled = 1;
// nvmlClockType_t
inline constexpr int kClockSm = 1;
inline constexpr int kClockMem = 2;
// NVML_NVLINK_MAX_LINKS in current headers (older drivers: 6, then 12; they answer
// NVML_ERROR_INVALID_ARGUMENT or NOT_SUPPORTED beyond their count).
inline constexpr unsigned kNvLinkMaxLinks = 18;
// nvmlNvlinkVersion_t: 1 = NVLink 1.0, 2 = 2.0, 3 = 2.2, 4 = 3.0, 5 = 3.1, 6 = 4.0, 7 = 5.0.

using SystemGetDriverVersionFn = Return (*)(char*, unsigned int);                  // nvmlSystemGetDriverVersion
using DeviceGetNameFn = Return (*)(Device, char*, unsigned int);                   // nvmlDeviceGetName
using DeviceGetPciInfoFn = Return (*)(Device, PciInfo*);                          // nvmlDeviceGetPciInfo_v3
using DeviceGetUintFn = Return (*)(Device, unsigned int*);  // nvmlDeviceGet{Curr,Max}PcieLink{Generation,Width}, GetNumaNodeId
using DeviceGetCpuAffinityFn = Return (*)(Device, unsigned int, unsigned long*);  // nvmlDeviceGetCpuAffinity (words, mask)
using DeviceGetClockFn = Return (*)(Device, int, unsigned int*);                  // nvmlDeviceGet{,Max}ClockInfo (MHz)
using DeviceGetNvLinkUintFn = Return (*)(Device, unsigned int, unsigned int*);    // nvmlDeviceGetNvLink{State,Version}
using DeviceGetNvLinkRemotePciFn = Return (*)(Device, unsigned int, PciInfo*);    // nvmlDeviceGetNvLinkRemotePciInfo_v2
using DeviceGetCommonAncestorFn = Return (*)(Device, Device, int*);               // nvmlDeviceGetTopologyCommonAncestor
using DeviceGetP2PStatusFn = Return (*)(Device, Device, int, int*);               // nvmlDeviceGetP2PStatus

// nvmlMemoryErrorType_t and nvmlEccCounterType_t
inline constexpr int kMemoryErrorUncorrected = 1;
inline constexpr int kVolatileEcc = 0;  // since the driver loaded

}  // namespace strata::nvml
