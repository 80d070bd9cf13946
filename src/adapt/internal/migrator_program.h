// migrator's per-window integer program (internal; docs/design.md, "Adaptation: migrator's
// per-window integer program"): the data built from one observation, the objective of any decision
// (the tests check the solver's optimum against brute force with it), and the CBC solve.
//
// A decision is, per GPU, one of its candidate layouts (the maximal multisets of the space and the
// current one, less those another candidate dominates) and how many instances of each profile serve
// each (tenant, role). Its value, over the planning horizon H:
//   sum_t acc_t served_t + kBurstWeight acc_t burst_t + kLateWeight late_t + V_t progress_t
//     - sum_g change_cost[g][layout_g] - kNewProcessWeight new_processes,
// where served_t <= forecast_t H, burst_t <= BurstRps_t H (valuation.h), late_t <= backlog_t,
// served_t + burst_t + late_t <= inference capacity,
// progress_t <= remaining_t and <= retraining capacity; capacities are per-slot rates times H less
// kRestartCaution x the startup seconds of every new process (hidden by pre-initialization on a
// kept layout). A process is new when its GPU ran fewer of that (profile, tenant, role) before.
//
// Single-threaded; a WindowProgram is a value built for one decision and refers to the context it
// was built from.
#ifndef TESSERA_SRC_ADAPT_INTERNAL_MIGRATOR_PROGRAM_H_
#define TESSERA_SRC_ADAPT_INTERNAL_MIGRATOR_PROGRAM_H_

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "tessera/adapt/policy.h"
#include "tessera/hw/layout.h"

namespace tessera::planners::internal {
struct Program;
}

namespace tessera::adapt::internal {

// Benefits are counted over max(window, kMinHorizonS): a reconfiguration is paid once, and what it
// buys lasts beyond one 1-s window (a program valuing one second only would never pay a MIG change
// that takes longer than the window).
inline constexpr double kMinHorizonS = 10;
// A new process is charged this many times its startup in lost capacity: forecasts at a 1 s grain
// scatter, so a change that merely pays for itself on the forecast often does not on the arrivals
// (on cl-hour-llm, 1 s windows, 4 A100s: factor 1 restarts 6,508 processes in the hour and earns
// 1,651 accuracy-weighted req/s, 3 restarts 4,865 and earns 1,718, 6 restarts 3,667 and earns
// 1,491; docs/evaluation.md).
inline constexpr double kRestartCaution = 3;
// A request served late (from the backlog) is worth this much; it earns no accuracy-weighted
// goodput, so this only makes spare capacity drain queues rather than idle.
inline constexpr double kLateWeight = 1e-3;
// Every new process costs this much: of equally good decisions, the one that restarts least wins.
inline constexpr double kNewProcessWeight = 1e-4;

inline constexpr int kRoles = 2;  // 0: inference, 1: retraining

// One GPU's decision.
struct GpuDecision {
  int candidate = 0;  // index into WindowProgram::candidates(g)
  // Instances of space profile k serving (tenant t, role r), at AssignedIndex(k, t, r).
  std::vector<int> assigned;
  bool operator==(const GpuDecision&) const = default;
};

// Caches the destroy + create seconds between two multisets (hw::PlanTransitionToMultiset from a
// placement of the first); kept by the policy across windows.
using TransitionSeconds = std::map<std::pair<hw::Multiset, hw::Multiset>, double>;

struct SolveStats {
  bool found = false;
  bool optimal = false;
  double objective = 0;
  int columns = 0;
  int rows = 0;
};

class WindowProgram {
 public:
  // REQUIRES: context's pointers set, obs.tenants sized like the book's tenants.
  static WindowProgram Build(const PolicyContext& context, const Observation& obs,
                             TransitionSeconds& transitions);

  int gpus() const { return static_cast<int>(gpus_.size()); }
  int profiles() const { return static_cast<int>(profile_index_.size()); }
  int tenants() const { return static_cast<int>(tenants_.size()); }
  int AssignedIndex(int k, int t, int r) const { return (k * tenants() + t) * kRoles + r; }
  // The GPU profile index of space profile k.
  int ProfileIndex(int k) const { return profile_index_[k]; }
  const std::vector<hw::Multiset>& candidates(int g) const { return gpus_[g].candidates; }
  // Whether (t, r) may hold instances of profile k at all (a zero rate or value never does).
  bool Useful(int k, int t, int r) const;
  // The value of retraining one sample of tenant t now (accuracy-weighted requests).
  double SampleValue(int t) const { return tenants_[t].sample_value; }

  // The decision that runs now (GPUs without a current layout: candidate 0, all idle), or nullopt
  // when a current GPU's layout is not a candidate.
  std::optional<std::vector<GpuDecision>> Current() const;
  // The decision for `allocation`, or nullopt when a GPU's layout is not a candidate or a slot is
  // not a MIG instance of the space.
  std::optional<std::vector<GpuDecision>> DecisionOf(const Allocation& allocation) const;
  // The program's objective for `decisions` (one per GPU; REQUIRES: assignments within layouts).
  double Objective(const std::vector<GpuDecision>& decisions) const;
  // The best decision CBC finds within `time_limit_s` (its incumbent when stopped), or nullopt.
  std::optional<std::vector<GpuDecision>> Solve(double time_limit_s, SolveStats* stats) const;

 private:
  struct TenantData {
    double accuracy = 0;
    double demand = 0;  // forecast arrivals over the horizon
    double burst = 0;   // arrivals above the forecast worth kBurstWeight each (BurstRps x H)
    double backlog = 0;
    double remaining = 0;
    double sample_value = 0;                      // V_t
    std::vector<double> rps, samples_per_s;       // per space profile
    double inference_s = 0, retrain_s = 0;        // seconds a slot runs over the horizon
    double startup_s = 0, retrain_startup_s = 0;  // seconds a new process loses (capped)
  };
  struct GpuData {
    bool has_current = false;
    int current_candidate = -1;  // the current layout's index in candidates, or -1
    std::vector<int> current;    // [AssignedIndex]
    std::vector<hw::Multiset> candidates;
    std::vector<double> change_cost;  // per candidate
  };

  double CurrentValueRate(int g) const;
  void SetChangeCosts(int g, const hw::Multiset& layout, TransitionSeconds& transitions);
  void DropDominated(int g);
  // Whether new processes on GPU g start unseen under `d` (pre-initialization, layout kept).
  bool StartupHidden(int g, const GpuDecision& d) const;

  // The CBC program (migrator_solve.cc).
  struct Rows;
  struct Columns;
  bool MayHide(int g) const;
  int CurrentCount(int g, int k) const;  // instances of space profile k in g's current layout
  Rows AddRows(planners::internal::Program& p) const;
  Columns AddColumns(planners::internal::Program& p, const Rows& rows) const;
  void AddCellColumns(planners::internal::Program& p, const Rows& rows, int k, int t, int r,
                      int most, Columns& c) const;
  std::vector<double> Start(const planners::internal::Program& p, const Columns& c) const;
  std::vector<GpuDecision> Decode(const std::vector<double>& x, const Columns& c) const;

  const PolicyContext* context_ = nullptr;
  std::vector<int> profile_index_;  // space profile k -> GPU profile index
  std::vector<TenantData> tenants_;
  std::vector<GpuData> gpus_;
};

}  // namespace tessera::adapt::internal

#endif  // TESSERA_SRC_ADAPT_INTERNAL_MIGRATOR_PROGRAM_H_
