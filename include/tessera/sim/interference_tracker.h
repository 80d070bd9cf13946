// Interference between SM partitions during a simulation (SimOptions::interference): which batches
// run on each GPU's SM partitions, and how much slower a batch starting now runs next to them.
//
// A tracked slot is a plan assignment on an SM (or MPS) partition of some plan GPU; MIG instances
// are never tracked (they do not interfere). Start(slot) returns the slowdown of a batch of `slot`
// starting now — the model's Slowdown(its job, the jobs of the batches in flight on the same GPU's
// other partitions), at least 1 — and counts that batch as running until Finish(slot). Slowdowns
// are memoized per (slot, sorted set of running neighbour slots), so a dispatch costs a scan of the
// GPU's running batches, not of the plan. Used by the simulator and by the serving layer's emulated
// backend (which guards it with a lock): single-threaded.
#ifndef TESSERA_SIM_INTERFERENCE_TRACKER_H_
#define TESSERA_SIM_INTERFERENCE_TRACKER_H_

#include <map>
#include <vector>

#include "tessera/hw/catalog.h"
#include "tessera/perf/interference.h"
#include "tessera/plan/plan.h"
#include "tessera/sim/execution.h"

namespace tessera::sim {

class InterferenceTracker {
 public:
  // `model` may be null (no interference: nothing is tracked); it must outlive the tracker.
  explicit InterferenceTracker(const perf::InterferenceModel* model) : model_(model) {}

  bool enabled() const { return model_ != nullptr; }
  // Tracks `slot`, an assignment running `job` on partition `partition` (any id unique across the
  // plan) of plan GPU `gpu`. REQUIRES: enabled(), slot and gpu >= 0.
  void AddSlot(int slot, int gpu, int partition, perf::InterferenceJob job);
  // Tracks every SM and MPS assignment of `plan`, numbered as `times` numbers them (partition ids
  // in plan order; an MPS share counts as its share of the GPU's SMs, from `catalog`, which may be
  // null: then 0). Does nothing when !enabled().
  void AddPlan(const plan::Plan& plan, const ExecutionTimes& times, const hw::Catalog* catalog);
  bool Tracks(int slot) const {
    return static_cast<size_t>(slot) < slots_.size() && slots_[slot].gpu >= 0;
  }
  // The slowdown (>= 1) of a batch of `slot` starting now; the batch counts as running from now.
  // REQUIRES: Tracks(slot).
  double Start(int slot);
  // The batch of `slot` that started first and is still running has finished.
  // REQUIRES: Tracks(slot) and a batch of it is running.
  void Finish(int slot);

 private:
  struct TrackedSlot {
    int gpu = -1;  // -1: not tracked
    int partition = 0;
    perf::InterferenceJob job;
    std::map<std::vector<int>, double> slowdowns;  // by sorted running neighbour slots
  };
  const perf::InterferenceModel* model_;
  std::vector<TrackedSlot> slots_;
  std::vector<std::vector<int>> running_;  // per plan GPU: one entry per batch in flight
  std::vector<int> scratch_;
};

}  // namespace tessera::sim

#endif  // TESSERA_SIM_INTERFERENCE_TRACKER_H_
