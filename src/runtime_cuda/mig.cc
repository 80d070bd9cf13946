#include "tessera/runtime_cuda/mig.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda {
namespace {

// NVML's C types as tessera's NVML driver declares them (src/driver/nvml_api.h).
using NvmlDevice = void*;
using NvmlReturn = int;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr int kUuidBufferSize = 96;

struct Nvml {
  void* library = nullptr;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*handle_by_index)(unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*max_mig_count)(NvmlDevice, unsigned int*) = nullptr;
  NvmlReturn (*mig_handle)(NvmlDevice, unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*instance_id)(NvmlDevice, unsigned int*) = nullptr;
  NvmlReturn (*uuid)(NvmlDevice, char*, unsigned int) = nullptr;
  ~Nvml() {
    if (shutdown != nullptr) shutdown();
    if (library != nullptr) dlclose(library);
  }
};

template <typename Fn>
absl::Status Symbol(Nvml& nvml, const char* name, Fn* slot) {
  *slot = reinterpret_cast<Fn>(dlsym(nvml.library, name));
  if (*slot == nullptr) {
    return absl::UnavailableError(fmt::format("NVML lacks {}: update the NVIDIA driver", name));
  }
  return absl::OkStatus();
}

absl::Status OpenNvml(Nvml& nvml) {
  const char* path = std::getenv("TESSERA_NVML_LIBRARY");
  if (path == nullptr || *path == '\0') path = "libnvidia-ml.so.1";
  nvml.library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (nvml.library == nullptr) {
    return absl::UnavailableError(fmt::format("no NVIDIA driver found ({})", dlerror()));
  }
  RETURN_IF_ERROR(Symbol(nvml, "nvmlInit_v2", &nvml.init));
  RETURN_IF_ERROR(Symbol(nvml, "nvmlDeviceGetHandleByIndex_v2", &nvml.handle_by_index));
  RETURN_IF_ERROR(Symbol(nvml, "nvmlDeviceGetMaxMigDeviceCount", &nvml.max_mig_count));
  RETURN_IF_ERROR(Symbol(nvml, "nvmlDeviceGetMigDeviceHandleByIndex", &nvml.mig_handle));
  RETURN_IF_ERROR(Symbol(nvml, "nvmlDeviceGetGpuInstanceId", &nvml.instance_id));
  RETURN_IF_ERROR(Symbol(nvml, "nvmlDeviceGetUUID", &nvml.uuid));
  decltype(nvml.shutdown) shutdown = nullptr;
  RETURN_IF_ERROR(Symbol(nvml, "nvmlShutdown", &shutdown));
  if (nvml.init() != kNvmlSuccess) return absl::UnavailableError("nvmlInit_v2 failed");
  nvml.shutdown = shutdown;  // shut down only what was initialized
  return absl::OkStatus();
}

std::string Describe(const std::vector<driver::GpuInstanceInfo>& instances) {
  std::vector<std::string> parts;
  for (const driver::GpuInstanceInfo& gi : instances) {
    parts.push_back(fmt::format("{}@{} (id {})", gi.profile_name, gi.placement.start, gi.id));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<driver::GpuInstanceInfo> FindMigInstance(driver::GpuDriver& driver, int gpu_index,
                                                        const std::string& profile, int start) {
  ASSIGN_OR_RETURN(std::vector<driver::GpuInfo> gpus, driver.ListGpus());
  for (const driver::GpuInfo& gpu : gpus) {
    if (gpu.index == gpu_index && gpu.mig_current != driver::MigMode::kEnabled) {
      return absl::FailedPreconditionError(fmt::format(
          "GPU {} ({}) has MIG {}: the plan's MIG partition {}@{} needs MIG enabled and the "
          "instance created (`tessera apply`); the runtime never changes MIG state",
          gpu_index, gpu.name, driver::MigModeName(gpu.mig_current), profile, start));
    }
  }
  ASSIGN_OR_RETURN(std::vector<driver::GpuInstanceInfo> instances,
                   driver.GetGpuInstances(gpu_index));
  for (const driver::GpuInstanceInfo& gi : instances) {
    if (gi.profile_name == profile && gi.placement.start == start) return gi;
  }
  return absl::FailedPreconditionError(fmt::format(
      "GPU {} has no MIG instance {} at start {} (it has: {}); create the plan's layout with "
      "`tessera apply` first: the runtime never changes MIG state",
      gpu_index, profile, start, Describe(instances)));
}

absl::StatusOr<std::string> MigUuidOf(const std::vector<MigDevice>& devices, int gpu_instance_id) {
  for (const MigDevice& d : devices) {
    if (d.gpu_instance_id == gpu_instance_id) return d.uuid;
  }
  return absl::NotFoundError(
      fmt::format("NVML lists no MIG device for GPU instance {} (has it a compute instance?)",
                  gpu_instance_id));
}

absl::StatusOr<std::vector<MigDevice>> ListMigDevices(int gpu_index) {
  Nvml nvml;
  RETURN_IF_ERROR(OpenNvml(nvml));
  NvmlDevice gpu = nullptr;
  unsigned int max = 0;
  if (nvml.handle_by_index(gpu_index, &gpu) != kNvmlSuccess ||
      nvml.max_mig_count(gpu, &max) != kNvmlSuccess) {
    return absl::UnavailableError(fmt::format("NVML cannot list MIG devices of GPU {}", gpu_index));
  }
  std::vector<MigDevice> devices;
  for (unsigned int i = 0; i < max; ++i) {
    NvmlDevice mig = nullptr;
    unsigned int id = 0;
    char uuid[kUuidBufferSize] = {};
    if (nvml.mig_handle(gpu, i, &mig) != kNvmlSuccess) continue;  // no device at this index
    if (nvml.instance_id(mig, &id) != kNvmlSuccess ||
        nvml.uuid(mig, uuid, kUuidBufferSize) != kNvmlSuccess) {
      return absl::UnavailableError(
          fmt::format("NVML cannot read MIG device {} of GPU {}", i, gpu_index));
    }
    devices.push_back({static_cast<int>(id), uuid});
  }
  return devices;
}

absl::StatusOr<int> DriverIndexOf(driver::GpuDriver& driver, const std::string& uuid,
                                  int fallback_index) {
  if (uuid.empty()) return fallback_index;
  ASSIGN_OR_RETURN(std::vector<driver::GpuInfo> gpus, driver.ListGpus());
  for (const driver::GpuInfo& gpu : gpus) {
    if (gpu.uuid == uuid) return gpu.index;
  }
  return absl::NotFoundError(fmt::format("no GPU of this machine has UUID {}", uuid));
}

absl::StatusOr<std::string> FindMigDeviceUuid(driver::GpuDriver& driver, int gpu_index,
                                              const std::string& profile, int start) {
  ASSIGN_OR_RETURN(driver::GpuInstanceInfo gi, FindMigInstance(driver, gpu_index, profile, start));
  ASSIGN_OR_RETURN(std::vector<MigDevice> devices, ListMigDevices(gpu_index));
  return MigUuidOf(devices, gi.id);
}

}  // namespace tessera::runtime_cuda
