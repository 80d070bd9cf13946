// tessera/runtime_cuda/mig.h — finding the MIG device (its `MIG-<uuid>`) that serves a plan's MIG
// partition. Read-only: the runtime never creates, destroys or reconfigures MIG instances (that is
// `tessera apply`'s job); a partition whose instance does not exist is an error saying so.
//
// A plan's MIG partition is (GPU, profile, start). The GPU instance with that profile and start is
// found through the GpuDriver (NVML); its CUDA device UUID, which CUDA_VISIBLE_DEVICES takes, is
// read from NVML's MIG device handles (nvmlDeviceGetMigDeviceHandleByIndex,
// nvmlDeviceGetGpuInstanceId, nvmlDeviceGetUUID) through dlopen, like the NVML driver.
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

// One MIG device as NVML lists it under its parent GPU.
struct MigDevice {
  int gpu_instance_id = 0;
  std::string uuid;  // "MIG-..."
  bool operator==(const MigDevice&) const = default;
};

// The GPU instance of `profile` at `start` on the driver's GPU `gpu_index`. FailedPrecondition
// when MIG is disabled or no such instance exists (listing the instances that do, and saying that
// `tessera apply` makes them).
absl::StatusOr<driver::GpuInstanceInfo> FindMigInstance(driver::GpuDriver& driver, int gpu_index,
                                                        const std::string& profile, int start);

// The UUID of the MIG device of GPU instance `gpu_instance_id` among `devices`; NotFound
// otherwise.
absl::StatusOr<std::string> MigUuidOf(const std::vector<MigDevice>& devices, int gpu_instance_id);

// The MIG devices of NVML GPU `gpu_index` (TESSERA_NVML_LIBRARY or libnvidia-ml.so.1).
// Unavailable without NVML or when the library lacks the MIG functions.
absl::StatusOr<std::vector<MigDevice>> ListMigDevices(int gpu_index);

// The driver index of the GPU with `uuid`; `fallback_index` when uuid is empty.
absl::StatusOr<int> DriverIndexOf(driver::GpuDriver& driver, const std::string& uuid,
                                  int fallback_index);

// FindMigInstance + ListMigDevices + MigUuidOf.
absl::StatusOr<std::string> FindMigDeviceUuid(driver::GpuDriver& driver, int gpu_index,
                                              const std::string& profile, int start);

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_MIG_H_
