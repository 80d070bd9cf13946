// tessera/runtime_cuda/profiler.h — measuring profile rows on the GPU (`tessera profiles
// measure`).
//
// For every configuration (model, input, batch) on a partition, the profiler builds an Engine on
// that partition, captures the forward as a CUDA graph, replays it `warmup` times, then times
// `repeats` replays with CUDA events and keeps the median (latency_ms) and the 90th percentile
// (latency_ms_p90). Partitions:
//   - `sm:N`: a green context of N SMs (rounded up to the GPU's split rule; the row says the SMs
//     actually granted, and the progress stream says when that differs from N);
//   - `whole` (or `sm:<the GPU's SMs>`): the whole device, written as `sm:<SMs>`;
//   - a MIG profile name (`3g.40gb`): only when the process runs inside that MIG instance
//     (CUDA_VISIBLE_DEVICES=MIG-<uuid>); a process sees one MIG device, so it measures one profile.
// memory_mib is the device memory the Engine holds for the row (Engine::MemoryBytes: weights,
// activations, workspaces) without the CUDA context, as the profile format defines it. Rows of
// one (partition, model, input) share one engine prepared in batch order: a row's memory is the
// memory after the group's first key plus what preparing the row's own key added (the weights are
// counted once per row; the first key's activations make it err a little on the large side).
//
// Example:
//   MeasureOptions options;                    // device 0, 10 warm-ups, 50 timed replays
//   ASSIGN_OR_RETURN(perf::ProfileTable table,
//                    MeasureProfiles({{"resnet50", 224, 8, "sm:32"}}, options, catalog,
//                    std::cerr));
//   perf::WriteProfileCsv(table, out);
//
// Errors: Unavailable without a driver or device (saying so), FailedPrecondition for a partition
// this device cannot give (a MIG profile outside that MIG instance, an SM count the split cannot
// make), InvalidArgument for a bad option. Single-threaded (the concurrent mode runs two threads
// of its own).
#ifndef TESSERA_RUNTIME_CUDA_PROFILER_H_
#define TESSERA_RUNTIME_CUDA_PROFILER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/perf/profiles.h"

namespace tessera::runtime_cuda {

struct MeasureConfig {
  std::string model;  // registry canonical name
  int input = 0;      // image side or sequence length
  int batch = 1;
  std::string partition;  // "sm:N", "whole" or a MIG profile name
  bool operator==(const MeasureConfig&) const = default;
};

struct MeasureOptions {
  int device = 0;    // CUDA ordinal
  std::string gpu;   // catalog name for the rows; "" = detect (NVML PCI id, then device name)
  int warmup = 10;   // untimed replays per configuration
  int repeats = 50;  // timed replays per configuration
  uint64_t seed = 1;
  // InvalidArgument naming the field: device >= 0, 0 <= warmup <= 100000, 1 <= repeats <= 100000.
  absl::Status Validate() const;
};

// Measures every configuration, grouped by (partition, model, input) in first-seen order; rows are
// `measured`. Progress (one line per row) goes to `progress`.
absl::StatusOr<perf::ProfileTable> MeasureProfiles(const std::vector<MeasureConfig>& configs,
                                                   const MeasureOptions& options,
                                                   const hw::Catalog& catalog,
                                                   std::ostream& progress);

// Two models on disjoint SM partitions of one split, each timed alone and then while the other
// replays continuously on its own partition (samples are kept only while both run).
struct ConcurrentRow {
  MeasureConfig config;
  int sms = 0;  // granted
  double alone_ms = 0;
  double together_ms = 0;
  std::string neighbour;  // the other configuration, "model input batch sm:N"
};
// REQUIRES: two configurations, each on an `sm:N` partition. FailedPrecondition when the two
// partitions do not fit in one split.
absl::StatusOr<std::vector<ConcurrentRow>> MeasureConcurrent(const std::vector<MeasureConfig>& pair,
                                                             const MeasureOptions& options,
                                                             std::ostream& progress);
// `model,partition,input,batch,alone_ms,together_ms,slowdown,neighbour`, one line per row.
void WriteConcurrentCsv(const std::vector<ConcurrentRow>& rows, std::ostream& out);

// The q-quantile (0 <= q <= 1, nearest rank) of `samples` (not empty); Median is q = 0.5 with the
// mean of the middle two for an even count.
double Quantile(std::vector<double> samples, double q);
double Median(std::vector<double> samples);

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_PROFILER_H_
