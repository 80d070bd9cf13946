// NvmlDriver's writes: MIG mode, GPU instances with one compute instance each (see
// nvml_driver_internal.h).
#include <algorithm>

#include "nvml_driver_internal.h"
#include "tessera/base/status.h"

namespace tessera::driver::internal {

void ResolveWrites(const Library& lib, NvmlApi& api) {
  auto resolve = [&](const char* symbol, auto& fn) {
    if (!api.missing_write.empty()) return;
    if (!lib.Resolve(symbol, fn).ok()) api.missing_write = symbol;
  };
  resolve("nvmlDeviceSetMigMode", api.SetMigMode);
  resolve("nvmlDeviceCreateGpuInstanceWithPlacement", api.CreateGpuInstance);
  resolve("nvmlDeviceGetGpuInstanceById", api.GetGpuInstanceById);
  resolve("nvmlGpuInstanceDestroy", api.DestroyGpuInstance);
  resolve("nvmlGpuInstanceCreateComputeInstance", api.CreateComputeInstance);
  resolve("nvmlComputeInstanceDestroy", api.DestroyComputeInstance);
}

absl::Status NvmlDriver::CheckWritable() const {
  if (api_.missing_write.empty()) return absl::OkStatus();
  return absl::UnimplementedError(
      fmt::format("this NVML library has no {}, so tessera cannot change MIG state through it; "
                  "update the NVIDIA driver",
                  api_.missing_write));
}

absl::StatusOr<int> NvmlDriver::CreateGpuInstance(int gpu_index, std::string_view profile_name,
                                                  int start) {
  RETURN_IF_ERROR(CheckWritable());
  ASSIGN_OR_RETURN(nvmlDevice_t device, Device(gpu_index));
  GpuInfo gpu;
  RETURN_IF_ERROR(ReadMigMode(device, gpu));
  if (gpu.mig_current != MigMode::kEnabled) {
    return absl::FailedPreconditionError(
        fmt::format("MIG is {} on GPU {}; enable MIG before creating instances",
                    MigModeName(gpu.mig_current), gpu_index));
  }
  ASSIGN_OR_RETURN(std::vector<ProfileInfo> profiles, ReadProfiles(device));
  auto profile = std::find_if(profiles.begin(), profiles.end(),
                              [&](const ProfileInfo& p) { return p.name == profile_name; });
  if (profile == profiles.end()) {
    return absl::InvalidArgumentError(
        fmt::format("GPU {} has no MIG profile '{}'", gpu_index, std::string(profile_name)));
  }
  ASSIGN_OR_RETURN(std::vector<PlacementRange> placements, ReadPlacements(device, profile->id));
  auto placement = std::find_if(placements.begin(), placements.end(),
                                [&](const PlacementRange& p) { return p.start == start; });
  if (placement == placements.end()) {
    return absl::InvalidArgumentError(fmt::format("{} cannot start at memory slice {} on GPU {}",
                                                  profile->name, start, gpu_index));
  }
  nvmlGpuInstancePlacement_t where = {static_cast<unsigned int>(placement->start),
                                      static_cast<unsigned int>(placement->size)};
  nvmlGpuInstance_t instance = nullptr;
  RETURN_IF_ERROR(Check(
      "nvmlDeviceCreateGpuInstanceWithPlacement",
      api_.CreateGpuInstance(device, static_cast<unsigned int>(profile->id), &where, &instance)));
  absl::StatusOr<unsigned int> ci_profile = FullComputeProfile(instance, profile->slice_count);
  nvmlComputeInstance_t compute = nullptr;
  absl::Status created = ci_profile.ok()
                             ? Check("nvmlGpuInstanceCreateComputeInstance",
                                     api_.CreateComputeInstance(instance, *ci_profile, &compute))
                             : ci_profile.status();
  if (!created.ok()) {
    api_.DestroyGpuInstance(instance);  // roll back; the caller re-reads the GPU either way
    return created;
  }
  nvmlGpuInstanceInfo_t info = {};
  RETURN_IF_ERROR(Check("nvmlGpuInstanceGetInfo", api_.GpuInstanceGetInfo(instance, &info)));
  return static_cast<int>(info.id);
}

absl::StatusOr<unsigned int> NvmlDriver::FullComputeProfile(nvmlGpuInstance_t instance,
                                                            int slices) const {
  for (unsigned int index = 0; index < TESSERA_NVML_COMPUTE_INSTANCE_PROFILE_LIMIT; ++index) {
    nvmlComputeInstanceProfileInfo_t profile = {};
    nvmlReturn_t answer = api_.ComputeProfileInfo(
        instance, index, NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &profile);
    if (IsNoSuchProfile(answer)) continue;
    RETURN_IF_ERROR(Check("nvmlGpuInstanceGetComputeInstanceProfileInfo", answer));
    if (static_cast<int>(profile.sliceCount) == slices) return profile.id;
  }
  return absl::InternalError(
      fmt::format("the new GPU instance offers no compute-instance profile of {} slices", slices));
}

absl::Status NvmlDriver::DestroyComputeInstances(nvmlGpuInstance_t instance) const {
  return ForEachComputeInstance(
      instance, [&](nvmlComputeInstance_t handle, const nvmlComputeInstanceProfileInfo_t&) {
        return Check("nvmlComputeInstanceDestroy", api_.DestroyComputeInstance(handle));
      });
}

absl::Status NvmlDriver::DestroyGpuInstance(int gpu_index, int instance_id) {
  RETURN_IF_ERROR(CheckWritable());
  ASSIGN_OR_RETURN(nvmlDevice_t device, Device(gpu_index));
  nvmlGpuInstance_t instance = nullptr;
  nvmlReturn_t found =
      api_.GetGpuInstanceById(device, static_cast<unsigned int>(instance_id), &instance);
  if (found == NVML_ERROR_NOT_FOUND || found == NVML_ERROR_INVALID_ARGUMENT) {
    return absl::NotFoundError(
        fmt::format("no GPU instance with id {} on GPU {}", instance_id, gpu_index));
  }
  RETURN_IF_ERROR(Check("nvmlDeviceGetGpuInstanceById", found));
  RETURN_IF_ERROR(DestroyComputeInstances(instance));
  return Check("nvmlGpuInstanceDestroy", api_.DestroyGpuInstance(instance));
}

absl::Status NvmlDriver::SetMigMode(int gpu_index, bool enabled) {
  RETURN_IF_ERROR(CheckWritable());
  ASSIGN_OR_RETURN(nvmlDevice_t device, Device(gpu_index));
  nvmlReturn_t activation = NVML_SUCCESS;
  RETURN_IF_ERROR(
      Check("nvmlDeviceSetMigMode",
            api_.SetMigMode(device, enabled ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE,
                            &activation)));
  if (activation != NVML_SUCCESS) {
    return absl::FailedPreconditionError(fmt::format(
        "MIG mode on GPU {} is pending: activation failed ({}); stop the GPU's processes and reset "
        "it (nvidia-smi -i {} -r)",
        gpu_index, api_.ErrorString(activation), gpu_index));
  }
  return absl::OkStatus();
}

}  // namespace tessera::driver::internal
