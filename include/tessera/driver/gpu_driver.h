// tessera/driver/gpu_driver.h — the one seam between tessera and the GPUs of a machine.
//
// GpuDriver reads GPU state: the GPUs, their MIG mode, what each MIG profile offers and where it
// can be placed, and the GPU/compute instances that exist. It also writes MIG state: enable or
// disable MIG, create a GPU instance at a placement, destroy one. Compute instances are not managed
// separately: CreateGpuInstance also creates one compute instance spanning the whole GPU instance
// (every slice, shared engines), and DestroyGpuInstance destroys the instance's compute instances
// first; tessera serves one model process per GPU instance, so finer compute instances are never
// needed. Implementations:
//   - NvmlDriver (nvml_driver.h): the real GPUs, through libnvidia-ml.so.1 loaded with dlopen;
//   - FakeDriver (fake_driver.h): in-memory GPUs built from the catalog, for tests;
//   - FaultInjectingDriver (fault_injecting_driver.h): wraps another driver and fails chosen calls.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver());
//   ASSIGN_OR_RETURN(std::vector<GpuInfo> gpus, driver->ListGpus());
//   ASSIGN_OR_RETURN(std::vector<ProfileInfo> profiles, driver->GetProfiles(gpus[0].index));
//
// Errors: Unavailable when the driver or library is missing or the GPU does not answer;
// NotFound for a GPU index that does not exist; PermissionDenied when the driver refuses a query to
// an unprivileged user; FailedPrecondition when a write is not allowed in the current state (MIG
// disabled, the instance busy, instances still present when changing the MIG mode);
// InvalidArgument for an illegal placement; Unimplemented for writes a driver does not support.
// Implementations are not thread-safe unless they say so.
#ifndef TESSERA_DRIVER_GPU_DRIVER_H_
#define TESSERA_DRIVER_GPU_DRIVER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::driver {

enum class MigMode { kDisabled, kEnabled, kUnsupported };
const char* MigModeName(MigMode mode);

struct GpuInfo {
  int index = 0;
  std::string name;            // as the driver reports it, e.g. "NVIDIA H100 80GB HBM3"
  std::string uuid;            // "GPU-..."
  uint32_t pci_device_id = 0;  // the device id alone (NVML's pciDeviceId >> 16), e.g. 0x2330
  std::string pci_bus_id;      // "00000000:19:00.0"
  int64_t memory_total_mib = 0;
  MigMode mig_current = MigMode::kUnsupported;
  MigMode mig_pending = MigMode::kUnsupported;
  bool operator==(const GpuInfo&) const = default;
};

// One allowed placement of a GPU-instance profile, in memory slices.
struct PlacementRange {
  int start = 0;
  int size = 0;
  bool operator==(const PlacementRange&) const = default;
};

// What the driver reports for one GPU-instance profile (NVML's nvmlGpuInstanceProfileInfo_t plus
// the possible placements).
struct ProfileInfo {
  int profile_index = 0;  // NVML's profile index (NVML_GPU_INSTANCE_PROFILE_*), not the id
  int id = 0;             // the profile id (differs between GPU models)
  std::string name;       // e.g. "1g.10gb" (NVML's v2 info without its "MIG " prefix); may be empty
  int slice_count = 0;    // compute slices
  int instance_count = 0;  // most instances of this profile
  int sms = 0;
  int copy_engines = 0;
  int decoders = 0;
  int encoders = 0;
  int jpegs = 0;
  int ofas = 0;
  int64_t memory_mib = 0;
  std::vector<PlacementRange> placements;
  bool operator==(const ProfileInfo&) const = default;
};

struct ComputeInstanceInfo {
  int id = 0;
  int profile_id = 0;
  int sms = 0;
  bool operator==(const ComputeInstanceInfo&) const = default;
};

struct GpuInstanceInfo {
  int id = 0;
  int profile_id = 0;
  PlacementRange placement;
  std::vector<ComputeInstanceInfo> compute_instances;
  std::string profile_name;  // the profile's name as GetProfiles reports it; empty when unknown
  // The CUDA device of its compute instance, as CUDA_VISIBLE_DEVICES takes it ("MIG-<uuid>");
  // empty when the driver cannot tell.
  std::string mig_device_uuid;
  bool operator==(const GpuInstanceInfo&) const = default;
};

class GpuDriver {
 public:
  virtual ~GpuDriver() = default;
  // A short name for messages ("nvml", "fake").
  virtual std::string Name() const = 0;
  // Every GPU of the machine, by index.
  virtual absl::StatusOr<std::vector<GpuInfo>> ListGpus() = 0;
  // Every GPU-instance profile the GPU supports, with its possible placements. Works whether or not
  // MIG is enabled; empty for a GPU without MIG support.
  virtual absl::StatusOr<std::vector<ProfileInfo>> GetProfiles(int gpu_index) = 0;
  // The GPU instances that exist now (empty when MIG is disabled), ordered by start.
  virtual absl::StatusOr<std::vector<GpuInstanceInfo>> GetGpuInstances(int gpu_index) = 0;

  // Writes. The defaults return Unimplemented naming the driver.
  //
  // Creates a GPU instance of the profile named `profile` (as GetProfiles names it) whose memory
  // slices start at `start`, with one compute instance spanning it; returns the GPU instance id.
  // REQUIRES MIG enabled. On failure nothing is left behind, as far as the driver can tell.
  virtual absl::StatusOr<int> CreateGpuInstance(int gpu_index, std::string_view profile, int start);
  // Destroys the GPU instance `instance_id` and its compute instances. FailedPrecondition while a
  // process uses it (drain it first); NotFound for an unknown id.
  virtual absl::Status DestroyGpuInstance(int gpu_index, int instance_id);
  // Enables or disables MIG. FailedPrecondition while GPU instances exist or the GPU is in use.
  virtual absl::Status SetMigMode(int gpu_index, bool enabled);
};

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_GPU_DRIVER_H_
