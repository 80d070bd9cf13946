#include "tessera/driver/nvml_driver.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "fmt/core.h"
#include "nvml_driver_internal.h"
#include "tessera/base/status.h"

namespace tessera::driver {
namespace internal {

// The layouts of nvml.h (NVML API 12, x86-64 and aarch64 Linux).
static_assert(sizeof(nvmlPciInfo_t) == 68);
static_assert(sizeof(nvmlMemory_t) == 24);
static_assert(sizeof(nvmlGpuInstanceProfileInfo_t) == 48);
static_assert(sizeof(nvmlGpuInstanceProfileInfo_v2_t) == 152);
static_assert(TESSERA_NVML_GPU_INSTANCE_PROFILE_INFO_V2 == 0x02000098u);
static_assert(sizeof(nvmlGpuInstanceInfo_t) == 24);
static_assert(sizeof(nvmlComputeInstanceProfileInfo_t) == 36);
static_assert(sizeof(nvmlComputeInstanceInfo_t) == 32);

constexpr char kDefaultLibrary[] = "libnvidia-ml.so.1";

absl::Status ResolveAll(const Library& lib, NvmlApi& api) {
  RETURN_IF_ERROR(lib.Resolve("nvmlInit_v2", api.Init));
  RETURN_IF_ERROR(lib.Resolve("nvmlShutdown", api.Shutdown));
  RETURN_IF_ERROR(lib.Resolve("nvmlErrorString", api.ErrorString));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetCount_v2", api.DeviceGetCount));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetHandleByIndex_v2", api.DeviceGetHandleByIndex));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetName", api.DeviceGetName));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetUUID", api.DeviceGetUuid));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetPciInfo_v3", api.DeviceGetPciInfo));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetMemoryInfo", api.DeviceGetMemoryInfo));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetMigMode", api.DeviceGetMigMode));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetGpuInstanceProfileInfo", api.ProfileInfo));
  RETURN_IF_ERROR(
      lib.Resolve("nvmlDeviceGetGpuInstancePossiblePlacements_v2", api.PossiblePlacements));
  RETURN_IF_ERROR(lib.Resolve("nvmlDeviceGetGpuInstances", api.DeviceGetGpuInstances));
  RETURN_IF_ERROR(lib.Resolve("nvmlGpuInstanceGetInfo", api.GpuInstanceGetInfo));
  RETURN_IF_ERROR(
      lib.Resolve("nvmlGpuInstanceGetComputeInstanceProfileInfo", api.ComputeProfileInfo));
  RETURN_IF_ERROR(lib.Resolve("nvmlGpuInstanceGetComputeInstances", api.GetComputeInstances));
  RETURN_IF_ERROR(lib.Resolve("nvmlComputeInstanceGetInfo_v2", api.ComputeInstanceGetInfo));
  if (!lib.Resolve("nvmlDeviceGetGpuInstanceProfileInfoV", api.ProfileInfoV).ok()) {
    api.ProfileInfoV = nullptr;  // optional: profiles are then reported without names
  }
  if (!lib.Resolve("nvmlDeviceGetMaxMigDeviceCount", api.MaxMigDeviceCount).ok() ||
      !lib.Resolve("nvmlDeviceGetMigDeviceHandleByIndex", api.MigDeviceHandleByIndex).ok() ||
      !lib.Resolve("nvmlDeviceGetGpuInstanceId", api.DeviceGetGpuInstanceId).ok()) {
    api.MaxMigDeviceCount = nullptr;  // optional: instances are then listed without MIG UUIDs
  }
  ResolveWrites(lib, api);
  return absl::OkStatus();
}

MigMode ToMigMode(unsigned int mode) {
  switch (mode) {
    case NVML_DEVICE_MIG_DISABLE:
      return MigMode::kDisabled;
    case NVML_DEVICE_MIG_ENABLE:
      return MigMode::kEnabled;
    default:
      return MigMode::kUnsupported;
  }
}

std::string ProfileName(const char* nvml_name) {
  std::string_view name(nvml_name, strnlen(nvml_name, NVML_NAME_BUFFER_SIZE));
  constexpr std::string_view kPrefix = "MIG ";
  if (name.substr(0, kPrefix.size()) == kPrefix) name.remove_prefix(kPrefix.size());
  return std::string(name);
}

ProfileInfo ToProfileInfo(int profile_index, const nvmlGpuInstanceProfileInfo_t& info) {
  ProfileInfo p;
  p.profile_index = profile_index;
  p.id = static_cast<int>(info.id);
  p.slice_count = static_cast<int>(info.sliceCount);
  p.instance_count = static_cast<int>(info.instanceCount);
  p.sms = static_cast<int>(info.multiprocessorCount);
  p.copy_engines = static_cast<int>(info.copyEngineCount);
  p.decoders = static_cast<int>(info.decoderCount);
  p.encoders = static_cast<int>(info.encoderCount);
  p.jpegs = static_cast<int>(info.jpegCount);
  p.ofas = static_cast<int>(info.ofaCount);
  p.memory_mib = static_cast<int64_t>(info.memorySizeMB);
  return p;
}

absl::Status NvmlDriver::Check(const char* function, nvmlReturn_t result) const {
  if (result == NVML_SUCCESS) return absl::OkStatus();
  std::string message =
      fmt::format("{} failed: {} (NVML error {})", function, api_.ErrorString(result), result);
  switch (result) {
    case NVML_ERROR_NO_PERMISSION:
      return absl::PermissionDeniedError(message + "; run as root or with the GPU's admin rights");
    case NVML_ERROR_NOT_FOUND:
      return absl::NotFoundError(message);
    case NVML_ERROR_IN_USE:
      return absl::FailedPreconditionError(message + "; stop the processes using it first");
    case NVML_ERROR_INSUFFICIENT_RESOURCES:
      return absl::FailedPreconditionError(message + "; the placement overlaps or is full");
    case NVML_ERROR_INVALID_ARGUMENT:
      return absl::InternalError(message);
    default:
      return absl::UnavailableError(message);
  }
}

absl::StatusOr<int> NvmlDriver::GpuCount() const {
  unsigned int count = 0;
  RETURN_IF_ERROR(Check("nvmlDeviceGetCount_v2", api_.DeviceGetCount(&count)));
  return static_cast<int>(count);
}

absl::StatusOr<nvmlDevice_t> NvmlDriver::Device(int gpu_index) const {
  ASSIGN_OR_RETURN(int count, GpuCount());
  if (gpu_index < 0 || gpu_index >= count) {
    return absl::NotFoundError(
        fmt::format("no GPU with index {}; NVML sees {} GPU(s)", gpu_index, count));
  }
  nvmlDevice_t device = nullptr;
  RETURN_IF_ERROR(
      Check("nvmlDeviceGetHandleByIndex_v2",
            api_.DeviceGetHandleByIndex(static_cast<unsigned int>(gpu_index), &device)));
  return device;
}

absl::StatusOr<std::vector<GpuInfo>> NvmlDriver::ListGpus() {
  ASSIGN_OR_RETURN(int count, GpuCount());
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(GpuInfo gpu, ReadGpu(i));
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

absl::StatusOr<GpuInfo> NvmlDriver::ReadGpu(int gpu_index) const {
  ASSIGN_OR_RETURN(nvmlDevice_t device, Device(gpu_index));
  GpuInfo gpu;
  gpu.index = gpu_index;
  char name[NVML_NAME_BUFFER_SIZE] = {};
  RETURN_IF_ERROR(Check("nvmlDeviceGetName", api_.DeviceGetName(device, name, sizeof(name))));
  gpu.name = name;
  char uuid[NVML_UUID_BUFFER_SIZE] = {};
  RETURN_IF_ERROR(Check("nvmlDeviceGetUUID", api_.DeviceGetUuid(device, uuid, sizeof(uuid))));
  gpu.uuid = uuid;
  nvmlPciInfo_t pci = {};
  RETURN_IF_ERROR(Check("nvmlDeviceGetPciInfo_v3", api_.DeviceGetPciInfo(device, &pci)));
  gpu.pci_device_id = pci.pciDeviceId >> 16;
  gpu.pci_bus_id = std::string(pci.busId, strnlen(pci.busId, sizeof(pci.busId)));
  nvmlMemory_t memory = {};
  RETURN_IF_ERROR(Check("nvmlDeviceGetMemoryInfo", api_.DeviceGetMemoryInfo(device, &memory)));
  gpu.memory_total_mib = static_cast<int64_t>(memory.total >> 20);
  RETURN_IF_ERROR(ReadMigMode(device, gpu));
  return gpu;
}

absl::Status NvmlDriver::ReadMigMode(nvmlDevice_t device, GpuInfo& gpu) const {
  unsigned int current = 0;
  unsigned int pending = 0;
  nvmlReturn_t result = api_.DeviceGetMigMode(device, &current, &pending);
  if (result == NVML_ERROR_NOT_SUPPORTED) {
    gpu.mig_current = gpu.mig_pending = MigMode::kUnsupported;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(Check("nvmlDeviceGetMigMode", result));
  gpu.mig_current = ToMigMode(current);
  gpu.mig_pending = ToMigMode(pending);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ProfileInfo>> NvmlDriver::ReadProfile(nvmlDevice_t device,
                                                                   int profile_index) const {
  nvmlGpuInstanceProfileInfo_t info = {};
  nvmlReturn_t result = api_.ProfileInfo(device, static_cast<unsigned int>(profile_index), &info);
  if (IsNoSuchProfile(result)) return std::nullopt;
  RETURN_IF_ERROR(Check("nvmlDeviceGetGpuInstanceProfileInfo", result));
  return ToProfileInfo(profile_index, info);
}

std::string NvmlDriver::ReadProfileName(nvmlDevice_t device, int profile_index) const {
  if (api_.ProfileInfoV == nullptr) return "";
  nvmlGpuInstanceProfileInfo_v2_t info = {};
  info.version = TESSERA_NVML_GPU_INSTANCE_PROFILE_INFO_V2;
  nvmlReturn_t result = api_.ProfileInfoV(device, static_cast<unsigned int>(profile_index), &info);
  return result == NVML_SUCCESS ? ProfileName(info.name) : "";
}

absl::StatusOr<std::vector<PlacementRange>> NvmlDriver::ReadPlacements(nvmlDevice_t device,
                                                                       int profile_id) const {
  constexpr char kFunction[] = "nvmlDeviceGetGpuInstancePossiblePlacements_v2";
  unsigned int id = static_cast<unsigned int>(profile_id);
  unsigned int count = 0;
  RETURN_IF_ERROR(Check(kFunction, api_.PossiblePlacements(device, id, nullptr, &count)));
  std::vector<nvmlGpuInstancePlacement_t> placements(count);
  RETURN_IF_ERROR(Check(kFunction, api_.PossiblePlacements(device, id, placements.data(), &count)));
  std::vector<PlacementRange> ranges;
  for (unsigned int i = 0; i < std::min<size_t>(count, placements.size()); ++i) {
    ranges.push_back({static_cast<int>(placements[i].start), static_cast<int>(placements[i].size)});
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const PlacementRange& a, const PlacementRange& b) { return a.start < b.start; });
  return ranges;
}

// Every profile of the GPU with its name; no placements. A profile id answered by two indices is
// listed once, at the first.
absl::StatusOr<std::vector<ProfileInfo>> NvmlDriver::ReadProfiles(nvmlDevice_t device) const {
  std::vector<ProfileInfo> profiles;
  std::set<int> ids;
  for (int index = 0; index < TESSERA_NVML_GPU_INSTANCE_PROFILE_LIMIT; ++index) {
    ASSIGN_OR_RETURN(std::optional<ProfileInfo> profile, ReadProfile(device, index));
    if (!profile || !ids.insert(profile->id).second) continue;
    profile->name = ReadProfileName(device, index);
    profiles.push_back(std::move(*profile));
  }
  return profiles;
}

absl::StatusOr<std::vector<ProfileInfo>> NvmlDriver::GetProfiles(int gpu_index) {
  ASSIGN_OR_RETURN(nvmlDevice_t device, Device(gpu_index));
  ASSIGN_OR_RETURN(std::vector<ProfileInfo> profiles, ReadProfiles(device));
  for (ProfileInfo& profile : profiles) {
    ASSIGN_OR_RETURN(profile.placements, ReadPlacements(device, profile.id));
  }
  return profiles;
}

absl::StatusOr<std::vector<GpuInstanceInfo>> NvmlDriver::GetGpuInstances(int gpu_index) {
  ASSIGN_OR_RETURN(nvmlDevice_t device, Device(gpu_index));
  GpuInfo gpu;
  RETURN_IF_ERROR(ReadMigMode(device, gpu));
  if (gpu.mig_current != MigMode::kEnabled) return std::vector<GpuInstanceInfo>();
  ASSIGN_OR_RETURN(std::vector<ProfileInfo> profiles, ReadProfiles(device));
  std::vector<GpuInstanceInfo> instances;
  for (const ProfileInfo& profile : profiles) {
    std::vector<nvmlGpuInstance_t> handles(std::max(profile.instance_count, 1));
    unsigned int count = 0;
    RETURN_IF_ERROR(Check("nvmlDeviceGetGpuInstances",
                          api_.DeviceGetGpuInstances(device, static_cast<unsigned int>(profile.id),
                                                     handles.data(), &count)));
    for (unsigned int i = 0; i < std::min<size_t>(count, handles.size()); ++i) {
      ASSIGN_OR_RETURN(GpuInstanceInfo instance, ReadGpuInstance(handles[i]));
      instance.profile_name = profile.name;
      instances.push_back(std::move(instance));
    }
  }
  std::sort(instances.begin(), instances.end(),
            [](const GpuInstanceInfo& a, const GpuInstanceInfo& b) {
              return a.placement.start < b.placement.start;
            });
  std::map<int, std::string> uuids = ReadMigDeviceUuids(device);
  for (GpuInstanceInfo& instance : instances) {
    if (auto it = uuids.find(instance.id); it != uuids.end()) instance.mig_device_uuid = it->second;
  }
  return instances;
}

std::map<int, std::string> NvmlDriver::ReadMigDeviceUuids(nvmlDevice_t device) const {
  std::map<int, std::string> uuids;
  unsigned int count = 0;
  if (api_.MaxMigDeviceCount == nullptr || api_.MaxMigDeviceCount(device, &count) != NVML_SUCCESS) {
    return uuids;
  }
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t mig = nullptr;
    unsigned int id = 0;
    char uuid[NVML_UUID_BUFFER_SIZE] = {};
    if (api_.MigDeviceHandleByIndex(device, i, &mig) != NVML_SUCCESS ||
        api_.DeviceGetGpuInstanceId(mig, &id) != NVML_SUCCESS ||
        api_.DeviceGetUuid(mig, uuid, sizeof(uuid)) != NVML_SUCCESS) {
      continue;  // an index without a MIG device (NOT_FOUND), or one NVML cannot describe
    }
    uuids[static_cast<int>(id)] = std::string(uuid, strnlen(uuid, sizeof(uuid)));
  }
  return uuids;
}

absl::StatusOr<GpuInstanceInfo> NvmlDriver::ReadGpuInstance(nvmlGpuInstance_t handle) const {
  nvmlGpuInstanceInfo_t info = {};
  RETURN_IF_ERROR(Check("nvmlGpuInstanceGetInfo", api_.GpuInstanceGetInfo(handle, &info)));
  GpuInstanceInfo instance;
  instance.id = static_cast<int>(info.id);
  instance.profile_id = static_cast<int>(info.profileId);
  instance.placement = {static_cast<int>(info.placement.start),
                        static_cast<int>(info.placement.size)};
  ASSIGN_OR_RETURN(instance.compute_instances, ReadComputeInstances(handle));
  return instance;
}

absl::Status NvmlDriver::ForEachComputeInstance(
    nvmlGpuInstance_t instance,
    const std::function<absl::Status(nvmlComputeInstance_t,
                                     const nvmlComputeInstanceProfileInfo_t&)>& visit) const {
  std::set<unsigned int> ids;
  for (unsigned int index = 0; index < TESSERA_NVML_COMPUTE_INSTANCE_PROFILE_LIMIT; ++index) {
    nvmlComputeInstanceProfileInfo_t profile = {};
    nvmlReturn_t answer = api_.ComputeProfileInfo(
        instance, index, NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &profile);
    if (IsNoSuchProfile(answer)) continue;
    RETURN_IF_ERROR(Check("nvmlGpuInstanceGetComputeInstanceProfileInfo", answer));
    if (!ids.insert(profile.id).second) continue;
    std::vector<nvmlComputeInstance_t> handles(std::max(profile.instanceCount, 1u));
    unsigned int count = 0;
    RETURN_IF_ERROR(Check("nvmlGpuInstanceGetComputeInstances",
                          api_.GetComputeInstances(instance, profile.id, handles.data(), &count)));
    for (unsigned int i = 0; i < std::min<size_t>(count, handles.size()); ++i) {
      RETURN_IF_ERROR(visit(handles[i], profile));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ComputeInstanceInfo>> NvmlDriver::ReadComputeInstances(
    nvmlGpuInstance_t instance) const {
  std::vector<ComputeInstanceInfo> result;
  RETURN_IF_ERROR(ForEachComputeInstance(
      instance, [&](nvmlComputeInstance_t handle, const nvmlComputeInstanceProfileInfo_t& profile) {
        nvmlComputeInstanceInfo_t info = {};
        RETURN_IF_ERROR(
            Check("nvmlComputeInstanceGetInfo_v2", api_.ComputeInstanceGetInfo(handle, &info)));
        result.push_back({static_cast<int>(info.id), static_cast<int>(info.profileId),
                          static_cast<int>(profile.multiprocessorCount)});
        return absl::OkStatus();
      }));
  std::sort(result.begin(), result.end(),
            [](const ComputeInstanceInfo& a, const ComputeInstanceInfo& b) { return a.id < b.id; });
  return result;
}

std::string LoadError(const std::string& path) {
  const char* error = dlerror();
  std::string detail = error != nullptr ? error : "cannot be loaded";
  if (detail.find(path) == std::string::npos) detail = path + ": " + detail;
  return fmt::format(
      "no NVIDIA driver found ({}); tessera can still plan and simulate without a GPU", detail);
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver(const std::string& library_path) {
  using internal::Library;
  using internal::NvmlApi;
  using internal::NvmlDriver;
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return absl::UnavailableError(internal::LoadError(library_path));
  auto library = std::make_unique<Library>(handle, library_path);
  NvmlApi api;
  RETURN_IF_ERROR(internal::ResolveAll(*library, api));
  nvmlReturn_t result = api.Init();
  if (result != NVML_SUCCESS) {
    return absl::UnavailableError(
        fmt::format("nvmlInit_v2 failed: {} (NVML error {}); is the NVIDIA kernel driver loaded? "
                    "(try nvidia-smi)",
                    api.ErrorString(result), result));
  }
  return std::make_unique<NvmlDriver>(std::move(library), api);
}

absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver() {
  const char* path = std::getenv("TESSERA_NVML_LIBRARY");
  return OpenNvmlDriver(path != nullptr && *path != '\0' ? path : internal::kDefaultLibrary);
}

}  // namespace tessera::driver
