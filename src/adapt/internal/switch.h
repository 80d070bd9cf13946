// src/adapt/internal/switch.h — one window's switch from the running allocation to the next: which
// slots keep running, which stop when, and when each new slot is ready.
//
// The engine keeps, per GPU, the running slots with the times they became (or become) ready and,
// for MIG GPUs, the placed layout. Switch works out, for a target allocation, the MIG operations
// (hw::PlanTransitionToMultiset: fewest destroys and creates, survivors untouched, busy instances
// drained before their destroy), runs them one after another from the window's start at the
// TransitionCosts durations, and dates every slot:
//   - a slot kept (same instance, tenant and role; on a shared GPU same label, tenant and role)
//   keeps
//     its ready time and serves on;
//   - a shared-GPU slot that keeps tenant and role but changes label (an SM partition resized) is
//     ready sm_resize_s after the start;
//   - a slot on a kept instance whose tenant or role changes, and a slot on a created instance,
//     starts a new process: ready StartupS after the instance exists (the start, or the create's
//     end); with pre_initialize, a process on an instance that exists at the start, or on one
//     created when nothing had to happen first (no operation of an earlier switch still queued, no
//     MIG mode change, no destroy before it), was warmed beforehand and is ready at the start;
//   - busy slots are placed before idle ones, each on the free instance of its profile that exists
//     earliest;
//   - an old slot that is not kept stops at the start, or, if its instance is destroyed, when the
//     destroy begins (it is drained just before: its queued requests go back to the tenant's
//     queue).
// Idle slots start no process.
#ifndef TESSERA_SRC_ADAPT_INTERNAL_SWITCH_H_
#define TESSERA_SRC_ADAPT_INTERNAL_SWITCH_H_

#include <vector>

#include "absl/status/statusor.h"
#include "tessera/adapt/perf_book.h"
#include "tessera/adapt/policy.h"
#include "tessera/hw/layout.h"

namespace tessera::adapt::internal {

// A slot with the interval in which it serves: [ready_s, stop_s).
struct TimedSlot {
  Slot slot;
  double ready_s = 0;
  double stop_s = 1e300;
  hw::Placement placement{};  // MIG GPUs
  double exists_s = 0;        // MIG GPUs: when the instance's create finished (or finishes)
};

struct RunningGpu {
  bool mig = true;
  hw::PlacedLayout layout;       // MIG GPUs: the placed instances
  std::vector<TimedSlot> slots;  // MIG GPUs: slots[i] runs on layout.instances[i]
  // MIG GPUs: when the last MIG operation of earlier switches ends; a later switch's operations
  // queue behind it (a 1 s window can be shorter than a transition).
  double ops_free_s = 0;
};

struct SwitchResult {
  std::vector<RunningGpu> gpus;    // the new running state
  std::vector<TimedSlot> stopped;  // old slots that stop in this window (for their last service)
  int mig_operations = 0;
  int restarts = 0;
  double downtime_s = 0;  // sum over new non-idle slots of (ready - start) where not kept
  // MIG operations, a process started or stopped, a GPU added or given back, or an SM partition
  // resized (a time share changing alone is not a reconfiguration).
  bool changed = false;
};

// REQUIRES: `target` validated (ValidateAllocation).
absl::StatusOr<SwitchResult> Switch(const std::vector<RunningGpu>& running,
                                    const Allocation& target, double start_s,
                                    const hw::GpuModel& gpu, const PerfBook& book,
                                    const TransitionCosts& costs);

// InvalidArgument naming the GPU and slot: more GPUs than `max_gpus`, a MIG GPU whose profiles are
// outside `space` or do not form a placeable multiset, a shared GPU whose shares per label exceed
// 1, a share outside (0, 1], a tenant out of range, a negative throughput, or a MIG or "whole"
// slot stating more throughput than the PerfBook gives it. (SM-partition slots from a planner's
// plan carry the planner's figures and labels; their sizes are not checked against the GPU.)
absl::Status ValidateAllocation(const Allocation& target, const hw::LayoutSpace& space,
                                const PerfBook& book, int max_gpus);

}  // namespace tessera::adapt::internal

#endif  // TESSERA_SRC_ADAPT_INTERNAL_SWITCH_H_
