// tessera/driver/fault_injecting_driver.h — a GpuDriver wrapper that fails chosen calls, for
// testing what the control path does when the driver fails halfway through a MIG transition.
//
// Every call through the wrapper gets a call number (1, 2, ...). A call fails when its number is in
// Options::fail_calls, or with the seeded probability for its kind (reads: ListGpus, GetProfiles,
// GetGpuInstances; writes: CreateGpuInstance, DestroyGpuInstance, SetMigMode). A failed call
// returns Unavailable ("injected fault ...") and, by default, does nothing. A failed write is
// instead performed first and then reported as failed with probability
// Options::perform_then_fail_probability — what a real driver does when it times out after the
// change took effect — so callers must re-read the state rather than trust the error. Calls that
// are not failed pass through unchanged (including the inner driver's own errors).
//
// Example:
//   FakeDriver fake; ...
//   FaultInjectingDriver::Options options;
//   options.seed = 7;
//   options.write_failure_probability = 0.2;
//   FaultInjectingDriver faulty(&fake, options);
//   absl::StatusOr<int> id = faulty.CreateGpuInstance(0, "1g.10gb", 6);   // may fail
//
// Deterministic for a given seed and call sequence. Not thread-safe.
#ifndef TESSERA_DRIVER_FAULT_INJECTING_DRIVER_H_
#define TESSERA_DRIVER_FAULT_INJECTING_DRIVER_H_

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/driver/gpu_driver.h"

namespace tessera::driver {

class FaultInjectingDriver : public GpuDriver {
 public:
  struct Options {
    uint64_t seed = 0;
    std::set<int> fail_calls;                    // call numbers (1-based) that fail
    double read_failure_probability = 0.0;       // in [0, 1]
    double write_failure_probability = 0.0;      // in [0, 1]
    double perform_then_fail_probability = 0.0;  // of the failed writes, in [0, 1]
  };

  // `inner` is not owned and must outlive the wrapper.
  FaultInjectingDriver(GpuDriver* inner, Options options);

  // Stops or resumes injecting (e.g. to read the true state in a test).
  void set_enabled(bool enabled) { enabled_ = enabled; }
  int calls() const { return calls_; }
  int injected_failures() const { return injected_; }
  // Injected failures whose write was performed anyway.
  int performed_failures() const { return performed_; }

  std::string Name() const override { return "faulty " + inner_->Name(); }
  absl::StatusOr<std::vector<GpuInfo>> ListGpus() override;
  absl::StatusOr<std::vector<ProfileInfo>> GetProfiles(int gpu_index) override;
  absl::StatusOr<std::vector<GpuInstanceInfo>> GetGpuInstances(int gpu_index) override;
  absl::StatusOr<int> CreateGpuInstance(int gpu_index, std::string_view profile,
                                        int start) override;
  absl::Status DestroyGpuInstance(int gpu_index, int instance_id) override;
  absl::Status SetMigMode(int gpu_index, bool enabled) override;

 private:
  enum class Fault { kNone, kFail, kPerformThenFail };
  // Numbers the call and decides its fate.
  Fault Next(bool is_write);
  absl::Status Injected(std::string_view call, bool performed) const;

  GpuDriver* inner_;
  Options options_;
  std::mt19937_64 rng_;
  bool enabled_ = true;
  int calls_ = 0;
  int injected_ = 0;
  int performed_ = 0;
};

}  // namespace tessera::driver

#endif  // TESSERA_DRIVER_FAULT_INJECTING_DRIVER_H_
