// tessera/sim/execution.h — how long a batch runs: the one execution-time function that the
// simulator and the serving layer's emulated backend both use.
//
// For every assignment of a plan (numbered in plan order: GPU, partition, assignment), the batch
// latency for each batch size 1..batch at the bucket bound (input_max) is looked up once from the
// profiles (interpolated along batch, input and SM count where needed; never extrapolated) and kept
// in a table, so a lookup during simulation is an array read. A batch smaller than the smallest
// measured one is padded to it (its measured time is an upper bound), so a plan whose batch size
// can be looked up can always be timed.
//
// Example:
//   ASSIGN_OR_RETURN(ExecutionTimes times, ExecutionTimes::Build(plan, profiles));
//   int64_t ns = times.BatchNs(slot, /*batch=*/5);
//   int64_t noisy = times.NoisyBatchNs(slot, 5, /*noise_cv=*/0.05, rng);
//
// Immutable after Build; safe to share between threads (the noise RNG is the caller's).
#ifndef TESSERA_SIM_EXECUTION_H_
#define TESSERA_SIM_EXECUTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/rng.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"

namespace tessera::sim {

// Where an assignment sits in the plan.
struct SlotRef {
  int gpu = 0;        // index into plan.gpus
  int partition = 0;  // index into plan.gpus[gpu].partitions
  int assignment = 0;
};

class ExecutionTimes {
 public:
  // InvalidArgument naming the assignment (`gpus[0].partitions[1].assignments[0]`) when a batch
  // size's latency cannot be looked up from the profiles.
  static absl::StatusOr<ExecutionTimes> Build(const plan::Plan& plan,
                                              const perf::ProfileTable& profiles);

  int slots() const { return static_cast<int>(refs_.size()); }
  const SlotRef& ref(int slot) const { return refs_[slot]; }
  // Latency in ns of a batch of `batch` requests (1 <= batch <= the plan's batch size).
  int64_t BatchNs(int slot, int batch) const { return ns_[offset_[slot] + batch - 1]; }
  // The same with multiplicative lognormal noise of coefficient of variation `noise_cv` (mean
  // kept).
  int64_t NoisyBatchNs(int slot, int batch, double noise_cv, RngStream& rng) const;

 private:
  std::vector<SlotRef> refs_;
  std::vector<int> offset_;  // per slot, into ns_
  std::vector<int64_t> ns_;  // per slot, batch 1..B
};

}  // namespace tessera::sim

#endif  // TESSERA_SIM_EXECUTION_H_
