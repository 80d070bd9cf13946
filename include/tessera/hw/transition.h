// tessera/hw/transition.h — the fewest drain / destroy / create steps from one MIG layout to
// another.
//
// A transition takes one GPU from its current placed layout to a target, which is either a placed
// layout (exact starts) or a multiset of profiles (any legal placement will do; this is what the
// planners produce). The steps are:
//   - kDrain(instance):   stop sending requests to a busy instance and reroute what it holds;
//   - kDestroy(instance): destroy an idle instance;
//   - kCreate(instance):  create `profile` at `start`.
// Instances are named by their Placement (a placement is unique within one layout).
//
// Guarantees of the returned plan:
//   - every instance present in both the current layout and the reached target (same profile and
//     start) survives untouched: it is never drained, destroyed or re-created;
//   - the layout after every step is legal (CheckLayout);
//   - a busy instance is drained immediately before it is destroyed, never destroyed while busy;
//   - the number of destroy + create operations is the minimum over all legal step sequences.
//
// Why it is minimal: every instance of current \ target must be destroyed at least once and every
// instance of target \ current created at least once, so |current Δ target| is a lower bound; it is
// reached because a subset of a legal layout is legal (destroying first never breaks legality) and
// every intermediate layout here is a subset of current ∪ target whose creates are checked with
// CanPlace. For a multiset target the planner enumerates every legal placement of the multiset and
// keeps the one with the smallest |current Δ placement| (ties: fewest busy instances drained, then
// the first placement in (start, profile) order), which is exact because the state space is tiny
// (at most a few hundred placements per multiset). Drain steps are not operations.
//
// Order: creates are done as early as possible (make before break: a new instance is created as
// soon as it fits, keeping capacity up), and among destroys idle instances go before busy ones and
// an instance whose removal lets a pending create fit goes first.
//
// Example:
//   ASSIGN_OR_RETURN(TransitionPlan plan,
//                    PlanTransitionToMultiset(h100, current, target_multiset, /*busy=*/{{4, 0}}));
//   for (const TransitionStep& step : plan.steps) ...;   // plan.target is the layout reached
//
// Pure functions; thread-safe.
#ifndef TESSERA_HW_TRANSITION_H_
#define TESSERA_HW_TRANSITION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"

namespace tessera::hw {

struct TransitionStep {
  enum class Kind { kDrain, kDestroy, kCreate };
  Kind kind = Kind::kCreate;
  Placement instance;
  bool operator==(const TransitionStep&) const = default;
};
const char* TransitionStepKindName(TransitionStep::Kind kind);

struct TransitionPlan {
  PlacedLayout current;  // where the plan starts
  PlacedLayout target;   // the placed layout the steps reach
  std::vector<TransitionStep> steps;
  int destroys = 0;
  int creates = 0;
  int drains = 0;

  int operations() const { return destroys + creates; }
  bool operator==(const TransitionPlan&) const = default;
  // One line per step: "drain 3g.40gb@4", "destroy 3g.40gb@4", "create 1g.10gb@6"; "no change" when
  // there are no steps.
  std::string DebugString(const GpuModel& gpu) const;
};

// Plans the transition to the placed layout `target`. `busy` lists the current instances that hold
// requests. InvalidArgument when `current` or `target` is illegal on `gpu`, or a busy instance is
// not in `current`.
absl::StatusOr<TransitionPlan> PlanTransition(const GpuModel& gpu, const PlacedLayout& current,
                                              const PlacedLayout& target,
                                              const std::vector<Placement>& busy);

// Plans the transition to some legal placement of `target` (counts per profile index), choosing
// the placement that needs the fewest operations. InvalidArgument as above, and when `target` has
// the wrong size, a negative count, or no legal placement.
absl::StatusOr<TransitionPlan> PlanTransitionToMultiset(const GpuModel& gpu,
                                                        const PlacedLayout& current,
                                                        const Multiset& target,
                                                        const std::vector<Placement>& busy);

// Every legal placed layout realizing `multiset`, in (start, profile) order. REQUIRES:
// multiset.size() == gpu.profiles.size() and no negative count.
std::vector<PlacedLayout> AllPlacementsOf(const GpuModel& gpu, const Multiset& multiset);

}  // namespace tessera::hw

#endif  // TESSERA_HW_TRANSITION_H_
