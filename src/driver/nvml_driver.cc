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
#include "nvml_api.h"
#include "tessera/base/status.h"

namespace tessera::driver {
namespace {

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
  ResolveWrites(lib, api);
  return absl::OkStatus();
}

// NVML's answer for "this GPU has no such profile" (an index it lacks or does not know).
bool IsNoSuchProfile(nvmlReturn_t result) {
  return result == NVML_ERROR_NOT_SUPPORTED || result == NVML_ERROR_INVALID_ARGUMENT;
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
  return instances;
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

std::string LoadError(const std::string& path) {
  const char* error = dlerror();
  std::string detail = error != nullptr ? error : "cannot be loaded";
  if (detail.find(path) == std::string::npos) detail = path + ": " + detail;
  return fmt::format(
      "no NVIDIA driver found ({}); tessera can still plan and simulate without a GPU", detail);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GpuDriver>> OpenNvmlDriver(const std::string& library_path) {
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return absl::UnavailableError(LoadError(library_path));
  auto library = std::make_unique<Library>(handle, library_path);
  NvmlApi api;
  RETURN_IF_ERROR(ResolveAll(*library, api));
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
  return OpenNvmlDriver(path != nullptr && *path != '\0' ? path : kDefaultLibrary);
}

}  // namespace tessera::driver
