// The state the simulator's engine keeps per plan assignment (Slot), per partition, per input
// bucket of a model, and its events (internal to simulator.cc; split out to keep the engine's file
// about its rules).
#ifndef TESSERA_SRC_SIM_INTERNAL_ENGINE_STATE_H_
#define TESSERA_SRC_SIM_INTERNAL_ENGINE_STATE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ring.h"  // beside this header
#include "tessera/base/rng.h"
#include "tessera/sim/metrics.h"

namespace tessera::sim::internal {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// Seconds to nanoseconds, saturating at a century so that sums of times never overflow.
int64_t SecondsToNs(double s) {
  constexpr double kMaxNs = 100.0 * 365 * 24 * 3600 * 1e9;
  return std::llround(std::clamp(s * 1e9, -kMaxNs, kMaxNs));
}

// One plan assignment being simulated: its queue, its executors and its batching state.
struct Slot {
  int model = -1;  // workload model index, -1 when the workload does not have it
  int partition = 0;
  int batch = 1;
  int procs = 1;
  double share = 1;
  int64_t slo_ns = 0;
  int64_t timeout_ns = 0;
  int64_t full_batch_ns = 0;
  int64_t batch_ns_per_executor = 0;  // full_batch_ns / procs, for the router's estimate
  Ring queue;
  int busy = 0;               // batches in flight
  int64_t outstanding = 0;    // queued + in flight requests
  int64_t timer_at = kNever;  // the pending batching timer, if any
  uint64_t timer_version = 0;
  std::vector<int64_t> free_at;  // per executor: when it finishes its batch
  double deficit = 0;
  // For the router, kept up to date as requests come and go: when an executor frees up (0 while one
  // is free), and the time to work off the queue and one more batch.
  int64_t free_at_or_zero = 0;
  int64_t backlog_ns = 0;
  int partial = 0;  // queue size modulo batch

  void Push(int64_t arrival) {
    queue.push(arrival);
    if (++partial == batch) {
      partial = 0;
      backlog_ns += batch_ns_per_executor;
    }
  }
  int64_t Pop() {
    if (--partial < 0) {
      partial = batch - 1;
      backlog_ns -= batch_ns_per_executor;
    }
    return queue.pop();
  }
  void UpdateFreeAt() {
    free_at_or_zero = busy < procs ? 0 : *std::min_element(free_at.begin(), free_at.end());
  }
};

struct PartitionState {
  std::vector<int> slots;
  int owner = -1;   // with several slots: the one whose batches run now
  size_t next = 0;  // deficit round-robin position
  double quantum_ns = 0;
  RngStream noise;
  int64_t busy_ns = 0;
  int64_t batches = 0;
  int64_t requests = 0;
  PartitionMetrics metrics;
  explicit PartitionState(RngStream rng) : noise(rng) {}
};

// The slots that serve one input bucket of a model.
struct Bucket {
  int input_min = 0;
  int input_max = 0;
  std::vector<int> slots;
  size_t round_robin = 0;  // the next slot in turn, < slots.size()
  // The slot index whose turn it is, advancing the turn (no division: this runs per request).
  size_t NextInTurn() {
    size_t turn = round_robin;
    if (++round_robin == slots.size()) round_robin = 0;
    return turn;
  }
};

struct Event {
  int64_t time;
  uint64_t seq;
  int slot;
  int kind;          // kComplete or kTimer
  uint64_t payload;  // kComplete: batch size; kTimer: version
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};
constexpr int kComplete = 0;
constexpr int kTimer = 1;

}  // namespace tessera::sim::internal

#endif  // TESSERA_SRC_SIM_INTERNAL_ENGINE_STATE_H_
