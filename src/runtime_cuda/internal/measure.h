// Shared by the profiler's two modes (profiler.cc, profiler_concurrent.cc): where an engine runs
// (a green context, the whole device, a MIG instance) and how replays are timed.
#ifndef TESSERA_SRC_RUNTIME_CUDA_INTERNAL_MEASURE_H_
#define TESSERA_SRC_RUNTIME_CUDA_INTERNAL_MEASURE_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/partition.h"
#include "tessera/runtime_cuda/engine.h"
#include "tessera/runtime_cuda/green_context.h"
#include "tessera/runtime_cuda/profiler.h"

namespace tessera::runtime_cuda::internal {

// The device being measured.
struct DeviceInfo {
  int device = 0;
  std::string name;         // CUDA's name ("NVIDIA H100 80GB HBM3 MIG 3g.40gb" inside MIG)
  std::string mig_profile;  // the MIG profile when the device is a MIG instance, else ""
  int sm_count = 0;
};
absl::StatusOr<DeviceInfo> ReadDevice(int device);

// Where one group of rows runs; owns its split, green context and stream. Engines made for it
// must be destroyed before it.
struct Place {
  std::unique_ptr<SmSplit> split;
  std::unique_ptr<GreenContext> green;  // null: the whole device (or the MIG instance)
  void* stream = nullptr;               // null: the engine makes its own
  hw::Partition written;                // the partition the rows say
  absl::Status MakeCurrent(int device) const;
};
// `partition` is "whole", "sm:N" or a MIG profile name (see profiler.h).
absl::StatusOr<std::unique_ptr<Place>> MakePlace(const std::string& partition,
                                                 const DeviceInfo& device, std::ostream& progress);

// An engine on `place` with `key` prepared.
absl::StatusOr<std::unique_ptr<Engine>> MakeEngine(const Place& place, int device, uint64_t seed);

// `warmup` untimed then `repeats` timed replays of `key`; the timed ones in ms.
absl::StatusOr<std::vector<double>> TimeReplays(Engine& engine, const ModelKey& key, int warmup,
                                                int repeats);

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_INTERNAL_MEASURE_H_
