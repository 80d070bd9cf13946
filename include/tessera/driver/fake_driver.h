// tessera/driver/fake_driver.h — an in-memory GpuDriver for tests, built from the catalog.
//
// Each fake GPU is a catalog GpuModel with a MIG mode and a set of existing instances. It answers
// what NVML would answer for that model (profile info from the catalog; unknown catalog values are
// reported as 0), so control-path code and `gpus verify` can be tested without a GPU.
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
  // Creates a GPU instance (with one full compute instance) of `profile` at `start`. Fails like NVML
  // would: FailedPrecondition when MIG is disabled, InvalidArgument for an unknown profile or an
  // illegal placement.
  absl::Status AddInstance(int gpu_index, std::string_view profile, int start);

  std::string Name() const override { return "fake"; }
  absl::StatusOr<std::vector<GpuInfo>> ListGpus() override;
  absl::StatusOr<std::vector<ProfileInfo>> GetProfiles(int gpu_index) override;
  absl::StatusOr<std::vector<GpuInstanceInfo>> GetGpuInstances(int gpu_index) override;

 private:
  struct FakeGpu {
    hw::GpuModel model;
    GpuInfo info;
    std::vector<GpuInstanceInfo> instances;
  };
  absl::StatusOr<FakeGpu*> Gpu(int gpu_index);

  std::vector<FakeGpu> gpus_;
};

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_FAKE_DRIVER_H_
