// tessera/workload/arrivals.h — request arrivals, generated lazily in time order.
//
// An ArrivalSource yields the arrivals of one or more workload models in non-decreasing time.
// Sources are pulled one arrival at a time, so memory does not grow with the length of a trace or
// the simulated duration: a trace file is streamed row by row, a generator keeps only its next
// arrival. (An Azure Functions source keeps the chosen minutes' counts of its functions, at most
// 1440 numbers per model: the file stores a function's whole day on one line.)
//
// Example:
//   ASSIGN_OR_RETURN(auto sources, MakeArrivalSources(workload, registry, {.duration_s = 60,
//                                                                           .seed = 1}));
//   Arrival a;
//   while (sources[0]->Next(a)) { ... a.time_ns, a.model, a.input ... }
//   RETURN_IF_ERROR(sources[0]->status());   // a trace read error ends the stream with a status
//
// Sources are single-threaded. Randomness is per model: arrival times draw from
// RngStream(seed, model index) and input sizes from RngStream(seed, kInputStreamBase + model
// index), so the same seed gives the same arrivals, and changing a model's input distribution never
// moves its arrival times.
#ifndef TESSERA_WORKLOAD_ARRIVALS_H_
#define TESSERA_WORKLOAD_ARRIVALS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/base/rng.h"
#include "tessera/models/registry.h"
#include "tessera/workload/workload.h"

namespace tessera::workload {

struct Arrival {
  int64_t time_ns = 0;  // from the start of the run
  int model = 0;        // index into Workload::models
  int input = 0;        // input size in the model's unit
  bool operator==(const Arrival&) const = default;
};

class ArrivalSource {
 public:
  virtual ~ArrivalSource() = default;
  // Writes the next arrival and returns true, or returns false at the end (of the duration, or of
  // the trace, or on an error, which status() then reports with the trace file and line). After
  // false, every later call returns false.
  virtual bool Next(Arrival& arrival) = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
};

struct ArrivalOptions {
  double duration_s = 60;  // arrivals at or after this time are not generated
  uint64_t seed = 1;
  // duration_s must be positive and at most 9e9 s (times are int64 nanoseconds).
  absl::Status Validate() const;
};

// The RNG stream id offset of the input-size streams (see the banner).
inline constexpr uint64_t kInputStreamBase = uint64_t{1} << 32;
// The RNG stream id offset of an Azure LLM trace's `repeat` coin flips (one stream per model).
inline constexpr uint64_t kRepeatStreamBase = uint64_t{2} << 32;

// One source per model with a Poisson or Gamma demand (in model order), then one per trace spec in
// use (in `workload.traces` order; a trace drives all of its models, merged in time order, ties by
// model index). Sources copy what they need of `workload`; a CSV trace source maps model names
// through `registry`, which must outlive it. Opening a trace file that cannot be read, or an Azure
// Functions key that matches no row (or several), is an error here, not later. The workload needs
// not come from the loader, but must hold what it guarantees (known models, valid distributions and
// rates, defined traces).
absl::StatusOr<std::vector<std::unique_ptr<ArrivalSource>>> MakeArrivalSources(
    const Workload& workload, const models::ModelRegistry& registry, const ArrivalOptions& options);

// Draws input sizes from an InputDistribution in O(1) (alias method for empirical distributions).
// REQUIRES: a valid distribution (as the loader produces: positive sizes and weights, min <= max).
class InputSampler {
 public:
  explicit InputSampler(const InputDistribution& distribution);
  int Sample(RngStream& rng) const;

 private:
  InputDistribution::Kind kind_;
  int fixed_ = 0, min_ = 0, max_ = 0;
  std::vector<int> sizes_;
  std::vector<double> probability_;  // alias table
  std::vector<int> alias_;
};

}  // namespace tessera::workload

#endif  // TESSERA_WORKLOAD_ARRIVALS_H_
