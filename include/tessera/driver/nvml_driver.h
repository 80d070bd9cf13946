// tessera/driver/nvml_driver.h — GpuDriver over NVIDIA's NVML, loaded at run time.
//
// libnvidia-ml.so.1 is opened with dlopen when OpenNvmlDriver() is called: tessera has no build-time
// dependency on the NVIDIA driver and starts on machines without one. The environment variable
// TESSERA_NVML_LIBRARY overrides the library path (tests point it at a fake NVML).
//
// Example:
//   absl::StatusOr<std::unique_ptr<GpuDriver>> driver = OpenNvmlDriver();
//   if (!driver.ok()) { /* Unavailable: "no NVIDIA driver found (...)" */ }
//
// Only reading NVML calls are made. Not thread-safe: use one driver per thread.
#ifndef TESSERA_DRIVER_NVML_DRIVER_H_
#define TESSERA_DRIVER_NVML_DRIVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tessera/driver/gpu_driver.h"

namespace tessera::driver {

// Loads NVML (TESSERA_NVML_LIBRARY, else libnvidia-ml.so.1) and initializes it. Unavailable with
// "no NVIDIA driver found" when the library cannot be loaded, or NVML's own message when init fails.
absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver();
absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver(const std::string& library_path);

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_NVML_DRIVER_H_
