// tessera/runtime_cuda/mig.h — finding the MIG device (its `MIG-<uuid>`) that serves a plan's MIG
// partition. Read-only: the runtime never creates, destroys or reconfigures MIG instances (that is
// `tessera apply`'s job); a partition whose instance does not exist is an error saying so.
//
// A plan's MIG partition is (GPU, profile, start). The GPU instance with that profile and start is
// found through the GpuDriver (NVML), with the UUID of its CUDA device, which CUDA_VISIBLE_DEVICES
// takes (GpuInstanceInfo::mig_device_uuid: the driver reads NVML's MIG device handles).
//
// Example:
//   ASSIGN_OR_RETURN(auto nvml, driver::OpenNvmlDriver());
//   ASSIGN_OR_RETURN(std::string uuid, FindMigDeviceUuid(*nvml, /*gpu_index=*/0, "3g.40gb", 4));
//   // "MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f": start `tessera worker` with
//   // CUDA_VISIBLE_DEVICES=<uuid>
#ifndef TESSERA_RUNTIME_CUDA_MIG_H_
#define TESSERA_RUNTIME_CUDA_MIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/driver/gpu_driver.h"

namespace tessera::runtime_cuda {

// The GPU instance of `profile` at `start` on the driver's GPU `gpu_index`. FailedPrecondition
// when MIG is disabled or no such instance exists (listing the instances that do, and saying that
// `tessera apply` makes them).
absl::StatusOr<driver::GpuInstanceInfo> FindMigInstance(driver::GpuDriver& driver, int gpu_index,
                                                        const std::string& profile, int start);

// The driver index of the GPU with `uuid`; `fallback_index` when uuid is empty.
absl::StatusOr<int> DriverIndexOf(driver::GpuDriver& driver, const std::string& uuid,
                                  int fallback_index);

// FindMigInstance, then its mig_device_uuid (FailedPrecondition when the driver has none).
absl::StatusOr<std::string> FindMigDeviceUuid(driver::GpuDriver& driver, int gpu_index,
                                              const std::string& profile, int start);

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_MIG_H_
