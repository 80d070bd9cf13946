// tessera/driver/nvml_driver.h — GpuDriver over NVIDIA's NVML, loaded at run time.
//
// libnvidia-ml.so.1 is opened with dlopen when OpenNvmlDriver() is called: tessera has no
// build-time dependency on the NVIDIA driver and starts on machines without one. The environment
// variable TESSERA_NVML_LIBRARY overrides the library path (tests point it at a fake NVML).
//
// Example:
//   absl::StatusOr<std::unique_ptr<GpuDriver>> driver = OpenNvmlDriver();
//   if (!driver.ok()) { /* Unavailable: "no NVIDIA driver found (...)" */ }
//
// Only reading NVML calls are made. Not thread-safe: use one driver per thread. The driver owns the
// library: it calls nvmlShutdown and dlclose when destroyed.
//
// Errors: every failed NVML call becomes a Status naming the function and NVML's own message
// (nvmlErrorString): PermissionDenied for NVML_ERROR_NO_PERMISSION, NotFound for
// NVML_ERROR_NOT_FOUND, Internal for NVML_ERROR_INVALID_ARGUMENT (a bug in tessera), Unavailable
// for the rest. A library that lacks a required function is Unavailable naming the function.
//
// What is read: GetProfiles asks every NVML profile index (NVML_GPU_INSTANCE_PROFILE_*) and skips
// those the GPU answers NOT_SUPPORTED or INVALID_ARGUMENT; profile names come from
// nvmlDeviceGetGpuInstanceProfileInfoV and are empty on drivers without it. GetGpuInstances lists
// each GPU instance's compute instances (one per existing CI, with its CI profile's SM count).
#ifndef TESSERA_DRIVER_NVML_DRIVER_H_
#define TESSERA_DRIVER_NVML_DRIVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tessera/driver/gpu_driver.h"

namespace tessera::driver {

// Loads NVML (TESSERA_NVML_LIBRARY, else libnvidia-ml.so.1) and initializes it. Unavailable with
// "no NVIDIA driver found" when the library cannot be loaded, or NVML's own message when init
// fails.
absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver();
absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver(const std::string& library_path);

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_NVML_DRIVER_H_
