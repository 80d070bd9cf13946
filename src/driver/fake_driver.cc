#include "tessera/driver/fake_driver.h"

#include <algorithm>
#include <utility>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"

namespace tessera::driver {
namespace {

// NVML's compute-instance profile index (NVML_COMPUTE_INSTANCE_PROFILE_*) for a slice count.
int ComputeInstanceProfile(int compute_slices) {
  switch (compute_slices) {
    case 1:
      return 0;
    case 2:
      return 1;
    case 3:
      return 2;
    case 4:
      return 3;
    case 7:
      return 4;
    case 8:
      return 5;
    case 6:
      return 6;
    default:
      return -1;
  }
}

std::string ProfileNames(const hw::GpuModel& model) {
  std::vector<std::string> names;
  for (const hw::MigProfile& profile : model.profiles) names.push_back(profile.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

ProfileInfo ToProfileInfo(int profile_index, const hw::MigProfile& profile) {
  ProfileInfo info;
  info.profile_index = profile_index;
  info.id = profile.nvml_id.value_or(-1);
  info.name = profile.name;
  info.slice_count = profile.compute_slices;
  info.instance_count = profile.max_count;
  info.sms = profile.sms.value_or(0);
  info.copy_engines = profile.engines.copy.value_or(0);
  info.decoders = profile.engines.decoder.value_or(0);
  info.encoders = profile.engines.encoder.value_or(0);
  info.jpegs = profile.engines.jpeg.value_or(0);
  info.ofas = profile.engines.ofa.value_or(0);
  info.memory_mib = profile.memory_mib.value_or(0);
  for (int start : profile.starts) info.placements.push_back({start, profile.memory_slices});
  return info;
}

bool Overlaps(const PlacementRange& a, const PlacementRange& b) {
  return a.start < b.start + b.size && b.start < a.start + a.size;
}

}  // namespace

int FakeDriver::AddGpu(const hw::GpuModel& model, GpuOptions options) {
  FakeGpu gpu;
  gpu.model = model;
  GpuInfo& info = gpu.info;
  info.index = static_cast<int>(gpus_.size());
  info.name = model.name;
  info.uuid = !options.uuid.empty()
                  ? options.uuid
                  : fmt::format("GPU-00000000-0000-0000-0000-{:012d}", info.index);
  info.pci_device_id = model.pci_device_ids.empty() ? 0 : model.pci_device_ids.front();
  info.pci_bus_id = fmt::format("00000000:{:02X}:00.0", info.index + 1);
  info.memory_total_mib = model.memory_mib.value_or(0);
  MigMode mode = options.mig_enabled ? MigMode::kEnabled : MigMode::kDisabled;
  if (model.compute_slices == 0) mode = MigMode::kUnsupported;
  info.mig_current = info.mig_pending = mode;
  gpus_.push_back(std::move(gpu));
  return info.index;
}

absl::StatusOr<FakeDriver::FakeGpu*> FakeDriver::Gpu(int gpu_index) {
  if (gpu_index < 0 || gpu_index >= static_cast<int>(gpus_.size())) {
    return absl::NotFoundError(fmt::format("no GPU with index {}; the fake driver has {} GPU(s)",
                                           gpu_index, gpus_.size()));
  }
  return &gpus_[gpu_index];
}

absl::Status FakeDriver::CheckPlacement(const FakeGpu& gpu, int profile_index, int start) {
  const hw::MigProfile& profile = gpu.model.profiles[profile_index];
  const std::vector<int>& starts = profile.starts;
  if (std::find(starts.begin(), starts.end(), start) == starts.end()) {
    return absl::InvalidArgumentError(
        fmt::format("{} cannot start at memory slice {} on a {}; allowed starts: {}", profile.name,
                    start, gpu.model.name, fmt::join(starts, ", ")));
  }
  PlacementRange range{start, profile.memory_slices};
  int same_profile = 0;
  int compute_slices = profile.compute_slices;
  for (const FakeInstance& other : gpu.instances) {
    const hw::MigProfile& other_profile = gpu.model.profiles[other.profile];
    if (Overlaps(range, other.info.placement)) {
      return absl::InvalidArgumentError(fmt::format(
          "{} at memory slices [{}, {}) overlaps the {} at [{}, {})", profile.name, range.start,
          range.start + range.size, other_profile.name, other.info.placement.start,
          other.info.placement.start + other.info.placement.size));
    }
    same_profile += other.profile == profile_index ? 1 : 0;
    compute_slices += other_profile.compute_slices;
  }
  if (same_profile >= profile.max_count) {
    return absl::InvalidArgumentError(fmt::format("a {} holds at most {} {} instance(s)",
                                                  gpu.model.name, profile.max_count, profile.name));
  }
  if (compute_slices > gpu.model.compute_slices) {
    return absl::InvalidArgumentError(
        fmt::format("{} needs {} compute slices in all, more than the {} of a {}", profile.name,
                    compute_slices, gpu.model.compute_slices, gpu.model.name));
  }
  return absl::OkStatus();
}

absl::Status FakeDriver::AddInstance(int gpu_index, std::string_view profile_name, int start) {
  return CreateGpuInstance(gpu_index, profile_name, start).status();
}

absl::StatusOr<int> FakeDriver::CreateGpuInstance(int gpu_index, std::string_view profile_name,
                                                  int start) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  if (gpu->info.mig_current != MigMode::kEnabled) {
    return absl::FailedPreconditionError(
        fmt::format("MIG is {} on GPU {} ({}); enable MIG before creating instances",
                    MigModeName(gpu->info.mig_current), gpu_index, gpu->model.name));
  }
  int profile_index = gpu->model.ProfileIndex(profile_name);
  if (profile_index < 0) {
    return absl::InvalidArgumentError(fmt::format("a {} has no MIG profile '{}'; profiles: {}",
                                                  gpu->model.name, profile_name,
                                                  ProfileNames(gpu->model)));
  }
  RETURN_IF_ERROR(CheckPlacement(*gpu, profile_index, start));
  const hw::MigProfile& profile = gpu->model.profiles[profile_index];
  FakeInstance instance;
  instance.profile = profile_index;
  instance.info.id = gpu->next_instance_id++;
  instance.info.profile_id = profile.nvml_id.value_or(-1);
  instance.info.placement = {start, profile.memory_slices};
  instance.info.profile_name = profile.name;
  instance.info.mig_device_uuid =
      fmt::format("MIG-fake-gpu{}-instance{}", gpu_index, instance.info.id);
  instance.info.compute_instances.push_back(
      {.id = 0,
       .profile_id = ComputeInstanceProfile(profile.compute_slices),
       .sms = profile.sms.value_or(0)});
  auto at = std::find_if(gpu->instances.begin(), gpu->instances.end(),
                         [start](const FakeInstance& i) { return i.info.placement.start > start; });
  int id = instance.info.id;
  gpu->instances.insert(at, std::move(instance));
  return id;
}

absl::StatusOr<FakeDriver::FakeInstance*> FakeDriver::Instance(FakeGpu& gpu, int instance_id) {
  for (FakeInstance& instance : gpu.instances) {
    if (instance.info.id == instance_id) return &instance;
  }
  return absl::NotFoundError(
      fmt::format("no GPU instance with id {} on GPU {}; it has {} instance(s)", instance_id,
                  gpu.info.index, gpu.instances.size()));
}

absl::Status FakeDriver::DestroyGpuInstance(int gpu_index, int instance_id) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  ASSIGN_OR_RETURN(FakeInstance * instance, Instance(*gpu, instance_id));
  if (instance->busy) {
    return absl::FailedPreconditionError(
        fmt::format("GPU instance {} ({}) on GPU {} is in use; drain it before destroying it",
                    instance_id, gpu->model.profiles[instance->profile].name, gpu_index));
  }
  gpu->instances.erase(gpu->instances.begin() + (instance - gpu->instances.data()));
  return absl::OkStatus();
}

absl::Status FakeDriver::SetMigMode(int gpu_index, bool enabled) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  if (gpu->info.mig_current == MigMode::kUnsupported) {
    return absl::FailedPreconditionError(
        fmt::format("GPU {} ({}) does not support MIG", gpu_index, gpu->model.name));
  }
  if (!gpu->instances.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("GPU {} still has {} GPU instance(s); destroy them before changing the MIG "
                    "mode",
                    gpu_index, gpu->instances.size()));
  }
  gpu->info.mig_current = gpu->info.mig_pending = enabled ? MigMode::kEnabled : MigMode::kDisabled;
  return absl::OkStatus();
}

absl::Status FakeDriver::SetBusy(int gpu_index, int instance_id, bool busy) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  ASSIGN_OR_RETURN(FakeInstance * instance, Instance(*gpu, instance_id));
  instance->busy = busy;
  return absl::OkStatus();
}

absl::StatusOr<bool> FakeDriver::IsBusy(int gpu_index, int instance_id) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  ASSIGN_OR_RETURN(FakeInstance * instance, Instance(*gpu, instance_id));
  return instance->busy;
}

absl::StatusOr<std::vector<GpuInfo>> FakeDriver::ListGpus() {
  std::vector<GpuInfo> infos;
  for (const FakeGpu& gpu : gpus_) infos.push_back(gpu.info);
  return infos;
}

absl::StatusOr<std::vector<ProfileInfo>> FakeDriver::GetProfiles(int gpu_index) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  std::vector<ProfileInfo> profiles;
  for (const hw::MigProfile& profile : gpu->model.profiles) {
    profiles.push_back(ToProfileInfo(static_cast<int>(profiles.size()), profile));
  }
  return profiles;
}

absl::StatusOr<std::vector<GpuInstanceInfo>> FakeDriver::GetGpuInstances(int gpu_index) {
  ASSIGN_OR_RETURN(FakeGpu * gpu, Gpu(gpu_index));
  std::vector<GpuInstanceInfo> instances;
  for (const FakeInstance& instance : gpu->instances) instances.push_back(instance.info);
  return instances;
}

}  // namespace tessera::driver
