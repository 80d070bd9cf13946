#include "tessera/runtime_cuda/mig.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda {
namespace {

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
  if (gi.mig_device_uuid.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "GPU {}: the {} instance at start {} (id {}) has no MIG device that NVML can name: it "
        "needs a compute instance (`tessera apply` makes one), and a driver whose NVML lists MIG "
        "devices",
        gpu_index, profile, start, gi.id));
  }
  return gi.mig_device_uuid;
}

}  // namespace tessera::runtime_cuda
