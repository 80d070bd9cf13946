// tessera/driver/fake_driver.h — an in-memory GpuDriver for tests, built from the catalog.
//
// Each fake GPU is a catalog GpuModel with a MIG mode and a set of existing instances. It answers
// what NVML would answer for that model, so control-path code and `gpus verify` can be tested
// without a GPU:
//   - GpuInfo: the model's name, its first PCI device id, its memory; MIG unsupported for a model
//     without MIG slices;
//   - ProfileInfo: one per catalog profile, in catalog order; profile_index is that order (not
//     NVML's index), id is the catalog's nvml_id or -1 when it is null, other unknown catalog
//     values are 0; placements are the profile's starts, each memory_slices long; name is the
//     catalog's;
//   - GpuInstanceInfo: ids 1, 2, ... in creation order; each has one compute instance (id 0) whose
//     profile_id is NVML's compute-instance profile index for the profile's compute slices
//     (NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE = 0, ... 7_SLICE = 4) and the profile's SMs;
//     profile_name is the catalog's name.
//
// Writes enforce the rules NVML enforces: CreateGpuInstance checks the placement like AddInstance;
// DestroyGpuInstance refuses a busy instance (SetBusy marks one as holding requests, as a running
// inference server would) with FailedPrecondition; SetMigMode refuses while any instance exists
// (FailedPrecondition) and on a GPU without MIG (FailedPrecondition), and takes effect at once
// (current = pending; a real GPU may need a reset).
//
// Example:
//   FakeDriver fake;
//   fake.AddGpu(*catalog.Find("h100").value(), {.mig_enabled = true});
//   ASSERT_OK(fake.AddInstance(0, "3g.40gb", 4));
//
// Not thread-safe.
#ifndef TESSERA_DRIVER_FAKE_DRIVER_H_
#define TESSERA_DRIVER_FAKE_DRIVER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "tessera/driver/gpu_driver.h"
#include "tessera/hw/catalog.h"

namespace tessera::driver {

class FakeDriver : public GpuDriver {
 public:
  struct GpuOptions {
    bool mig_enabled = false;
    std::string uuid;  // generated from the index when empty
  };

  // Adds a GPU of `model`; returns its index.
  int AddGpu(const hw::GpuModel& model, GpuOptions options);
  int AddGpu(const hw::GpuModel& model) { return AddGpu(model, GpuOptions()); }
  // Creates a GPU instance (with one full compute instance) of `profile` at `start`. Fails like
  // NVML would: NotFound for an unknown GPU, FailedPrecondition when MIG is disabled,
  // InvalidArgument for an unknown profile or an illegal placement (a start the profile does not
  // allow, memory slices overlapping an existing instance, more than the profile's max count, or
  // more compute slices than the GPU has).
  absl::Status AddInstance(int gpu_index, std::string_view profile, int start);

  std::string Name() const override { return "fake"; }
  absl::StatusOr<std::vector<GpuInfo>> ListGpus() override;
  absl::StatusOr<std::vector<ProfileInfo>> GetProfiles(int gpu_index) override;
  absl::StatusOr<std::vector<GpuInstanceInfo>> GetGpuInstances(int gpu_index) override;
  absl::StatusOr<int> CreateGpuInstance(int gpu_index, std::string_view profile,
                                        int start) override;
  absl::Status DestroyGpuInstance(int gpu_index, int instance_id) override;
  absl::Status SetMigMode(int gpu_index, bool enabled) override;

  // Test hooks: marks the instance as holding requests (a busy instance cannot be destroyed), and
  // reads the mark. NotFound for an unknown GPU or instance.
  absl::Status SetBusy(int gpu_index, int instance_id, bool busy);
  absl::StatusOr<bool> IsBusy(int gpu_index, int instance_id);

 private:
  struct FakeInstance {
    int profile = 0;  // index into model.profiles
    GpuInstanceInfo info;
    bool busy = false;
  };
  struct FakeGpu {
    hw::GpuModel model;
    GpuInfo info;
    std::vector<FakeInstance> instances;  // ordered by start
    int next_instance_id = 1;
  };
  absl::StatusOr<FakeGpu*> Gpu(int gpu_index);
  static absl::Status CheckPlacement(const FakeGpu& gpu, int profile, int start);
  static absl::StatusOr<FakeInstance*> Instance(FakeGpu& gpu, int instance_id);

  std::vector<FakeGpu> gpus_;
};

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_FAKE_DRIVER_H_
