// The trace-driven ArrivalSources behind MakeArrivalSources (tessera/workload/arrivals.h).
//
// Internal to tessera_workload.
#ifndef TESSERA_WORKLOAD_INTERNAL_SOURCES_H_
#define TESSERA_WORKLOAD_INTERNAL_SOURCES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/rng.h"
#include "tessera/models/registry.h"
#include "tessera/workload/arrivals.h"
#include "tessera/workload/workload.h"

namespace tessera::workload::internal {

// One workload model fed by a source: where its input sizes come from.
struct ModelTarget {
  ModelTarget(const Workload& workload, int model, const models::ModelInfo& info, uint64_t seed);
  // The trace's input when the model takes its inputs from the trace, else a sampled one.
  int Input(std::optional<int> from_trace);

  int model;
  std::string name;  // the model's canonical name
  int max_input;
  Demand demand;
  InputSampler sampler;
  RngStream input_rng;
};

// Arrival times as int64 nanoseconds (truncated).
inline int64_t SecondsToNs(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

// REQUIRES for each: `models` non-empty, each a model whose demand names `trace`.
absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeFunctionsSource(const TraceSpec& trace,
                                                                   std::vector<ModelTarget> models,
                                                                   const ArrivalOptions& options);
absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeLlmSource(const TraceSpec& trace,
                                                             std::vector<ModelTarget> models,
                                                             const ArrivalOptions& options);
absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeCsvTraceSource(
    const TraceSpec& trace, std::vector<ModelTarget> models, const models::ModelRegistry& registry,
    const ArrivalOptions& options);

}  // namespace tessera::workload::internal

#endif  // TESSERA_WORKLOAD_INTERNAL_SOURCES_H_
