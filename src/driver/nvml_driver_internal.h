// The NVML driver's pieces shared by its two source files (internal to src/driver): the entry
// points resolved from libnvidia-ml with dlsym, the library handle, and the NvmlDriver class.
// nvml_driver.cc opens the library and reads GPU and MIG state; nvml_driver_writes.cc changes it
// (MIG mode, GPU and compute instances).
#ifndef TESSERA_SRC_DRIVER_NVML_DRIVER_INTERNAL_H_
#define TESSERA_SRC_DRIVER_NVML_DRIVER_INTERNAL_H_

#include <dlfcn.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/core.h"
#include "nvml_api.h"  // beside this header
#include "tessera/driver/gpu_driver.h"

namespace tessera::driver::internal {

// The NVML entry points, resolved with dlsym. Only ProfileInfoV may be null.
struct NvmlApi {
  decltype(&nvmlInit_v2) Init = nullptr;
  decltype(&nvmlShutdown) Shutdown = nullptr;
  decltype(&nvmlErrorString) ErrorString = nullptr;
  decltype(&nvmlDeviceGetCount_v2) DeviceGetCount = nullptr;
  decltype(&nvmlDeviceGetHandleByIndex_v2) DeviceGetHandleByIndex = nullptr;
  decltype(&nvmlDeviceGetName) DeviceGetName = nullptr;
  decltype(&nvmlDeviceGetUUID) DeviceGetUuid = nullptr;
  decltype(&nvmlDeviceGetPciInfo_v3) DeviceGetPciInfo = nullptr;
  decltype(&nvmlDeviceGetMemoryInfo) DeviceGetMemoryInfo = nullptr;
  decltype(&nvmlDeviceGetMigMode) DeviceGetMigMode = nullptr;
  decltype(&nvmlDeviceGetGpuInstanceProfileInfo) ProfileInfo = nullptr;
  decltype(&nvmlDeviceGetGpuInstanceProfileInfoV) ProfileInfoV = nullptr;
  decltype(&nvmlDeviceGetGpuInstancePossiblePlacements_v2) PossiblePlacements = nullptr;
  decltype(&nvmlDeviceGetGpuInstances) DeviceGetGpuInstances = nullptr;
  decltype(&nvmlGpuInstanceGetInfo) GpuInstanceGetInfo = nullptr;
  decltype(&nvmlGpuInstanceGetComputeInstanceProfileInfo) ComputeProfileInfo = nullptr;
  decltype(&nvmlGpuInstanceGetComputeInstances) GetComputeInstances = nullptr;
  decltype(&nvmlComputeInstanceGetInfo_v2) ComputeInstanceGetInfo = nullptr;
  // MIG devices; null when the library lacks them (instances then have no mig_device_uuid).
  decltype(&nvmlDeviceGetMaxMigDeviceCount) MaxMigDeviceCount = nullptr;
  decltype(&nvmlDeviceGetMigDeviceHandleByIndex) MigDeviceHandleByIndex = nullptr;
  decltype(&nvmlDeviceGetGpuInstanceId) DeviceGetGpuInstanceId = nullptr;
  // Writes; all null when the library lacks any of them (the driver then only reads).
  decltype(&nvmlDeviceSetMigMode) SetMigMode = nullptr;
  decltype(&nvmlDeviceCreateGpuInstanceWithPlacement) CreateGpuInstance = nullptr;
  decltype(&nvmlDeviceGetGpuInstanceById) GetGpuInstanceById = nullptr;
  decltype(&nvmlGpuInstanceDestroy) DestroyGpuInstance = nullptr;
  decltype(&nvmlGpuInstanceCreateComputeInstance) CreateComputeInstance = nullptr;
  decltype(&nvmlComputeInstanceDestroy) DestroyComputeInstance = nullptr;
  std::string missing_write;  // the first write function the library lacks, if any
};

// Owns a dlopen handle.
class Library {
 public:
  Library(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() { dlclose(handle_); }

  template <typename Fn>
  absl::Status Resolve(const char* symbol, Fn& fn) const {
    fn = reinterpret_cast<Fn>(dlsym(handle_, symbol));
    if (fn != nullptr) return absl::OkStatus();
    return absl::UnavailableError(
        fmt::format("{} has no {}: it is not NVML, or the NVIDIA driver is too old for tessera's "
                    "MIG queries; update the driver",
                    path_, symbol));
  }

 private:
  void* handle_;
  std::string path_;
};

// Resolves the write functions; records the first one missing in api.missing_write.
void ResolveWrites(const Library& lib, NvmlApi& api);

// NVML's answer for "this GPU has no such profile" (an index it lacks or does not know).
inline bool IsNoSuchProfile(nvmlReturn_t result) {
  return result == NVML_ERROR_NOT_SUPPORTED || result == NVML_ERROR_INVALID_ARGUMENT;
}

class NvmlDriver : public GpuDriver {
 public:
  NvmlDriver(std::unique_ptr<Library> library, NvmlApi api)
      : library_(std::move(library)), api_(api) {}
  NvmlDriver(const NvmlDriver&) = delete;
  NvmlDriver& operator=(const NvmlDriver&) = delete;
  ~NvmlDriver() override { api_.Shutdown(); }

  std::string Name() const override { return "nvml"; }
  absl::StatusOr<std::vector<GpuInfo>> ListGpus() override;
  absl::StatusOr<std::vector<ProfileInfo>> GetProfiles(int gpu_index) override;
  absl::StatusOr<std::vector<GpuInstanceInfo>> GetGpuInstances(int gpu_index) override;
  absl::StatusOr<int> CreateGpuInstance(int gpu_index, std::string_view profile,
                                        int start) override;
  absl::Status DestroyGpuInstance(int gpu_index, int instance_id) override;
  absl::Status SetMigMode(int gpu_index, bool enabled) override;

 private:
  absl::Status CheckWritable() const;
  // The compute-instance profile id spanning all `slices` of `instance`.
  absl::StatusOr<unsigned int> FullComputeProfile(nvmlGpuInstance_t instance, int slices) const;
  absl::Status DestroyComputeInstances(nvmlGpuInstance_t instance) const;
  absl::Status Check(const char* function, nvmlReturn_t result) const;
  absl::StatusOr<int> GpuCount() const;
  absl::StatusOr<nvmlDevice_t> Device(int gpu_index) const;
  absl::StatusOr<GpuInfo> ReadGpu(int gpu_index) const;
  absl::Status ReadMigMode(nvmlDevice_t device, GpuInfo& gpu) const;
  // The profile at `profile_index`, or nullopt when the GPU has none there.
  absl::StatusOr<std::optional<ProfileInfo>> ReadProfile(nvmlDevice_t device,
                                                         int profile_index) const;
  std::string ReadProfileName(nvmlDevice_t device, int profile_index) const;
  absl::StatusOr<std::vector<PlacementRange>> ReadPlacements(nvmlDevice_t device,
                                                             int profile_id) const;
  absl::StatusOr<std::vector<ProfileInfo>> ReadProfiles(nvmlDevice_t device) const;
  absl::StatusOr<GpuInstanceInfo> ReadGpuInstance(nvmlGpuInstance_t instance) const;
  // The UUIDs ("MIG-...") of `device`'s MIG devices by GPU instance id; empty when the library
  // cannot list them.
  std::map<int, std::string> ReadMigDeviceUuids(nvmlDevice_t device) const;
  absl::StatusOr<std::vector<ComputeInstanceInfo>> ReadComputeInstances(
      nvmlGpuInstance_t instance) const;
  // Calls `visit` on every compute instance of `instance` (each profile id once), stopping at the
  // first error.
  absl::Status ForEachComputeInstance(
      nvmlGpuInstance_t instance,
      const std::function<absl::Status(nvmlComputeInstance_t,
                                       const nvmlComputeInstanceProfileInfo_t&)>& visit) const;

  std::unique_ptr<Library> library_;
  NvmlApi api_;
};

}  // namespace tessera::driver::internal

#endif  // TESSERA_SRC_DRIVER_NVML_DRIVER_INTERNAL_H_
