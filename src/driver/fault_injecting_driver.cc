#include "tessera/driver/fault_injecting_driver.h"

#include "fmt/core.h"

namespace tessera::driver {

FaultInjectingDriver::FaultInjectingDriver(GpuDriver* inner, Options options)
    : inner_(inner), options_(std::move(options)), rng_(options_.seed) {}

FaultInjectingDriver::Fault FaultInjectingDriver::Next(bool is_write) {
  ++calls_;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  // Always draw, so the fate of later calls does not depend on `enabled_` or `fail_calls`.
  double fail_draw = uniform(rng_);
  double perform_draw = uniform(rng_);
  if (!enabled_) return Fault::kNone;
  double p = is_write ? options_.write_failure_probability : options_.read_failure_probability;
  if (!options_.fail_calls.contains(calls_) && fail_draw >= p) return Fault::kNone;
  ++injected_;
  if (is_write && perform_draw < options_.perform_then_fail_probability) {
    ++performed_;
    return Fault::kPerformThenFail;
  }
  return Fault::kFail;
}

absl::Status FaultInjectingDriver::Injected(std::string_view call, bool performed) const {
  return absl::UnavailableError(fmt::format("injected fault in {} (call #{}{})", std::string(call),
                                            calls_, performed ? ", performed" : ""));
}

absl::StatusOr<std::vector<GpuInfo>> FaultInjectingDriver::ListGpus() {
  if (Next(false) != Fault::kNone) return Injected("ListGpus", false);
  return inner_->ListGpus();
}

absl::StatusOr<std::vector<ProfileInfo>> FaultInjectingDriver::GetProfiles(int gpu_index) {
  if (Next(false) != Fault::kNone) return Injected("GetProfiles", false);
  return inner_->GetProfiles(gpu_index);
}

absl::StatusOr<std::vector<GpuInstanceInfo>> FaultInjectingDriver::GetGpuInstances(int gpu_index) {
  if (Next(false) != Fault::kNone) return Injected("GetGpuInstances", false);
  return inner_->GetGpuInstances(gpu_index);
}

absl::StatusOr<int> FaultInjectingDriver::CreateGpuInstance(int gpu_index, std::string_view profile,
                                                            int start) {
  Fault fault = Next(true);
  if (fault == Fault::kFail) return Injected("CreateGpuInstance", false);
  absl::StatusOr<int> id = inner_->CreateGpuInstance(gpu_index, profile, start);
  if (fault == Fault::kPerformThenFail) return Injected("CreateGpuInstance", true);
  return id;
}

absl::Status FaultInjectingDriver::DestroyGpuInstance(int gpu_index, int instance_id) {
  Fault fault = Next(true);
  if (fault == Fault::kFail) return Injected("DestroyGpuInstance", false);
  absl::Status status = inner_->DestroyGpuInstance(gpu_index, instance_id);
  if (fault == Fault::kPerformThenFail) return Injected("DestroyGpuInstance", true);
  return status;
}

absl::Status FaultInjectingDriver::SetMigMode(int gpu_index, bool enabled) {
  Fault fault = Next(true);
  if (fault == Fault::kFail) return Injected("SetMigMode", false);
  absl::Status status = inner_->SetMigMode(gpu_index, enabled);
  if (fault == Fault::kPerformThenFail) return Injected("SetMigMode", true);
  return status;
}

}  // namespace tessera::driver
