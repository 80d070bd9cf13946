// tessera/sim/batching.h — the dynamic batching rule, shared by the simulator and the server so
// that a served plan batches exactly as its simulation did.
//
// A queue of an assignment (a slot of ExecutionTimes) starts a batch when it holds a full batch,
// or when its oldest request has waited the batch timeout, or at the latest moment after which
// that request would miss its deadline although dispatching now would meet it. The batch then
// takes as many requests as the plan's batch size allows, but no more than lets the oldest still
// meet its deadline (a smaller batch finishes sooner); if even one would miss, a full batch.
//
// Example:
//   int64_t wake;
//   if (BatchReady(times, slot, {queued, oldest_arrival, oldest_deadline}, batch, timeout, now,
//                  &wake)) {
//     int n = BatchSizeNow(times, slot, {queued, oldest_arrival, oldest_deadline}, batch, now);
//   }
//
// Pure functions of their arguments; times are integer nanoseconds on one clock.
#ifndef TESSERA_SIM_BATCHING_H_
#define TESSERA_SIM_BATCHING_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "tessera/sim/execution.h"

namespace tessera::sim {

inline constexpr int64_t kNeverNs = std::numeric_limits<int64_t>::max();

// What the rule reads of a queue. REQUIRES for the functions below: queued >= 1.
struct QueueHead {
  size_t queued = 0;            // requests waiting
  int64_t oldest_arrival = 0;   // the front request's arrival
  int64_t oldest_deadline = 0;  // the front request's arrival + SLO
};

// Whether `slot` (plan batch size `batch`, batch timeout `timeout_ns`) should start a batch at
// `now`; if not, *wake is when it should (it may be <= now only when the result is true).
inline bool BatchReady(const ExecutionTimes& times, int slot, const QueueHead& head, int batch,
                       int64_t timeout_ns, int64_t now, int64_t* wake) {
  *wake = kNeverNs;
  if (head.queued >= static_cast<size_t>(batch)) return true;
  int64_t latest_start = head.oldest_deadline - times.BatchNs(slot, static_cast<int>(head.queued));
  *wake = std::min(head.oldest_arrival + timeout_ns, latest_start);
  return *wake <= now;
}

// The number of requests to put in a batch of `slot` starting at `now` (1..batch).
inline int BatchSizeNow(const ExecutionTimes& times, int slot, const QueueHead& head, int batch,
                        int64_t now) {
  int n = static_cast<int>(std::min<size_t>(head.queued, static_cast<size_t>(batch)));
  if (now + times.BatchNs(slot, n) <= head.oldest_deadline) return n;
  int fits = n;
  while (fits > 1 && now + times.BatchNs(slot, fits) > head.oldest_deadline) --fits;
  return now + times.BatchNs(slot, fits) <= head.oldest_deadline ? fits : n;
}

// Turn-taking between the assignments that share a partition, by deficit round-robin on expected
// batch time, without looping round by round: every ready slot gains share x quantum per round;
// jump to the first round in which some slot's credit covers its next batch (the earliest in
// round-robin order from `*next` on ties), credit every ready slot for those rounds, charge the
// chosen one its batch, and move `*next` past it. A slot that is not ready loses its credit (an
// idle slot does not bank any). Returns the chosen slot, or -1 when none is ready.
//   members: the partition's slots; slots[s] has `double deficit` and `double share`;
//   ready(s): whether s should start a batch now (it may arm a timer when not);
//   batch_ns(s): the time of the batch s would start now.
template <typename SlotState, typename Ready, typename BatchTime>
int DeficitRoundRobin(const std::vector<int>& members, double quantum_ns,
                      std::vector<SlotState>& slots, size_t* next, std::vector<int>& ready_scratch,
                      Ready&& ready, BatchTime&& batch_ns) {
  int chosen = -1;
  int64_t rounds = 0;
  ready_scratch.clear();
  for (size_t k = 0; k < members.size(); ++k) {
    int slot = members[(*next + k) % members.size()];
    SlotState& s = slots[slot];
    if (!ready(slot)) {
      s.deficit = 0;
      continue;
    }
    ready_scratch.push_back(slot);
    double per_round = quantum_ns * s.share;
    double missing = static_cast<double>(batch_ns(slot)) - s.deficit;
    int64_t needed = missing <= 0 ? 0 : static_cast<int64_t>(std::ceil(missing / per_round));
    if (chosen < 0 || needed < rounds) {
      chosen = slot;
      rounds = needed;
    }
  }
  if (chosen < 0) return -1;
  for (int slot : ready_scratch) slots[slot].deficit += rounds * quantum_ns * slots[slot].share;
  slots[chosen].deficit -= batch_ns(chosen);
  size_t position = std::find(members.begin(), members.end(), chosen) - members.begin();
  *next = (position + 1) % members.size();
  return chosen;
}

}  // namespace tessera::sim

#endif  // TESSERA_SIM_BATCHING_H_
