#include "tessera/driver/gpu_driver.h"

#include "fmt/core.h"

namespace tessera::driver {

const char* MigModeName(MigMode mode) {
  switch (mode) {
    case MigMode::kDisabled:
      return "disabled";
    case MigMode::kEnabled:
      return "enabled";
    case MigMode::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

absl::StatusOr<int> GpuDriver::CreateGpuInstance(int gpu_index, std::string_view profile,
                                                 int start) {
  return absl::UnimplementedError(
      fmt::format("the {} driver cannot create GPU instances; create {} at {} on GPU {} by hand",
                  Name(), std::string(profile), start, gpu_index));
}

absl::Status GpuDriver::DestroyGpuInstance(int gpu_index, int instance_id) {
  return absl::UnimplementedError(
      fmt::format("the {} driver cannot destroy GPU instances; destroy instance {} on GPU {} by "
                  "hand",
                  Name(), instance_id, gpu_index));
}

absl::Status GpuDriver::SetMigMode(int gpu_index, bool enabled) {
  return absl::UnimplementedError(
      fmt::format("the {} driver cannot change the MIG mode; {} MIG on GPU {} by hand (nvidia-smi "
                  "-i {} -mig {})",
                  Name(), enabled ? "enable" : "disable", gpu_index, gpu_index, enabled ? 1 : 0));
}

}  // namespace tessera::driver
