// tessera/driver/gpu_driver.h — the one seam between tessera and the GPUs of a machine.
//
// GpuDriver reads GPU state: the GPUs, their MIG mode, what each MIG profile offers and where it
// can be placed, and the GPU/compute instances that exist. This drivers only read; changing
// MIG state arrives later behind the same interface. Implementations:
//   - NvmlDriver (nvml_driver.h): the real GPUs, through libnvidia-ml.so.1 loaded with dlopen;
//   - FakeDriver (fake_driver.h): in-memory GPUs built from the catalog, for tests.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver());
//   ASSIGN_OR_RETURN(std::vector<GpuInfo> gpus, driver->ListGpus());
//   ASSIGN_OR_RETURN(std::vector<ProfileInfo> profiles, driver->GetProfiles(gpus[0].index));
//
// Errors: Unavailable when the driver or library is missing or the GPU does not answer;
// NotFound for a GPU index that does not exist; PermissionDenied when the driver refuses a query to
// an unprivileged user. Implementations are not thread-safe unless they say
// so.
#ifndef TESSERA_DRIVER_GPU_DRIVER_H_
#define TESSERA_DRIVER_GPU_DRIVER_H_

#include <cstdint>
#include <string>
#include <vector>

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
};

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_GPU_DRIVER_H_
