// tessera/adapt/policy.h — adaptation policies: every decision window a policy sees what happened
// (per-tenant arrival rates, smoothed and forecast, queues, accuracy, retraining progress) and the
// GPUs' current allocation, and returns the allocation it wants next. The engine (engine.h) works
// out the transition (MIG drain / destroy / create, process restarts), charges its cost and runs
// the window.
//
// An allocation is a list of GPUs; each GPU is either in MIG mode, holding one slot per MIG
// instance (profile, and which tenant's inference or retraining runs on it, or nobody), or not in
// MIG mode, holding time-sliced slots on the whole GPU (label "whole"; shares summing to at most 1
// per label) — Ekya's and Astraea's way — or SM partitions taken from a planner's plan (gpulet). A
// slot states its own throughput (requests/s within SLO for inference, samples/s for retraining),
// read from the PerfBook or from the plan, so the engine values every policy's slots the same way
// it was told.
//
// Policies by name (MakePolicy):
//   migrator          per window, an integer program (CBC) choosing per GPU a legal MIG layout and
//                     which tenant's inference or retraining holds each instance, maximizing
//                     accuracy-weighted goodput minus reconfiguration cost (docs/design.md);
//   ekya              Ekya's thief scheduler: whole GPUs time-sliced between every tenant's
//                     inference and retraining, re-split each window by stealing share quanta;
//   fair              Astraea-like: every tenant gets an equal share of GPU time, its inference
//                     takes what its forecast needs and retraining the rest;
//   paris             a static heterogeneous MIG partition sized once from the profiles (PARIS)
//                     with ELSA-style pooled routing; leftover instances retrain;
//   gpulet-autoscale  re-plans with the gpulet planner from EWMA rates every window; adds a GPU
//                     when the plan needs more, removes one when it needs fewer;
//   static-peak       one gpulet plan for the peak rates of the whole run, never changed.
//
// Policies are deterministic: the same observations give the same targets.
#ifndef TESSERA_ADAPT_POLICY_H_
#define TESSERA_ADAPT_POLICY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/adapt/perf_book.h"
#include "tessera/hw/layout.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/workload/workload.h"

namespace tessera::hw {
class Catalog;
}

namespace tessera::adapt {

enum class Role { kIdle, kInference, kRetraining };
const char* RoleName(Role role);

// One unit of a GPU's capacity given to one tenant's inference or retraining.
struct Slot {
  // MIG GPUs: the instance's profile index (the engine places it). Other GPUs: -1.
  int profile = -1;
  // Other GPUs: a label identifying the partition ("whole", "sm:48#0"); a slot that keeps its
  // label, tenant and role across windows keeps its process (no restart).
  std::string label;
  double share = 1.0;  // time share of the partition, (0, 1]
  int tenant = -1;     // -1 with kIdle
  Role role = Role::kIdle;
  double rps = 0;            // kInference: requests per second within the SLO
  double samples_per_s = 0;  // kRetraining
  bool operator==(const Slot&) const = default;
};

struct GpuAllocation {
  bool mig = true;
  std::vector<Slot> slots;  // MIG: one per instance; their profiles must form a legal layout
  bool operator==(const GpuAllocation&) const = default;
};

struct Allocation {
  std::vector<GpuAllocation> gpus;  // the GPUs in use; the run's GPU count is the most it may use
  bool operator==(const Allocation&) const = default;
  // One line per GPU: "gpu0 mig: 3g.40gb t0/inf, 3g.40gb t2/ret, 1g.10gb idle".
  std::string DebugString(const hw::GpuModel& gpu, const PerfBook& book) const;
};

// What a policy sees of one tenant at a decision.
struct TenantView {
  double observed_rps = 0;  // arrivals per second in the window just ended
  double ewma_rps = 0;      // exponentially weighted mean of observed rates
  double forecast_rps = 0;  // forecast for the coming window (EWMA plus trend; never negative)
  // Exponentially weighted standard deviation of observed rates around the EWMA (same weight):
  // how far a window's arrivals scatter around the forecast.
  double deviation_rps = 0;
  double peak_rps = 0;  // the run's peak window rate (known in advance; static-peak uses it)
  double mean_rps = 0;  // the workload's mean rate over the run (known in advance)
  double backlog = 0;   // requests queued and not yet served
  double accuracy = 0;  // of the model being served now
  bool retrains = false;
  double retrain_remaining = 0;      // samples left in the current retraining job (0: done)
  double retrain_window_left_s = 0;  // until the current retraining window ends
};

struct Observation {
  double time_s = 0;    // start of the coming window
  double window_s = 0;  // its length
  int window_index = 0;
  std::vector<TenantView> tenants;
  const Allocation* current = nullptr;  // what runs now (empty before the first window)
  int max_gpus = 0;
};

// The engine's cost figures, which a policy may weigh (migrator prices reconfiguration with them).
struct TransitionCosts {
  double mig_create_s = 0.4;       // one GPU-instance + compute-instance create (assumed; swept)
  double mig_destroy_s = 0.2;      // one destroy (assumed; swept)
  double sm_resize_s = 0.001;      // resizing an SM partition (green context)
  double mig_mode_change_s = 1.0;  // enabling or disabling MIG on an idle GPU (assumed)
  // Pre-initialization (MIGRator): a process for a slot on an instance that already exists, or on
  // one created before any destroy, is started and warmed while the old one still serves, so its
  // startup is hidden; an instance that can only be created after a destroy still pays it.
  bool pre_initialize = false;
};

struct PolicyContext {
  const hw::Catalog* catalog = nullptr;
  const hw::GpuModel* gpu = nullptr;
  const hw::LayoutSpace* space = nullptr;  // MIG profiles a policy may use
  const perf::ProfileTable* profiles = nullptr;
  const workload::Workload* workload = nullptr;
  const models::ModelRegistry* registry = nullptr;
  const PerfBook* book = nullptr;
  TransitionCosts costs;
  int gpus = 1;  // the most GPUs the policy may use
  // migrator: the CBC time limit per window (best solution found is used when it stops).
  double ilp_time_limit_s = 1.0;
  // gpulet-autoscale: plans for its rates times this (> 0; above 1 buys SLO attainment with GPUs).
  double autoscale_headroom = 1.0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // The allocation for the coming window. A policy that wants no change returns *obs.current.
  // Errors are bugs or infeasible inputs, with a message.
  virtual absl::StatusOr<Allocation> Decide(const Observation& obs) = 0;
};

// By name (see the banner); InvalidArgument lists the names. The context's pointers must outlive
// the policy.
absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(std::string_view name,
                                                   const PolicyContext& context);
std::vector<std::string> PolicyNames();

// migrator's policy (src/adapt/migrator.cc), exposed for its tests.
absl::StatusOr<std::unique_ptr<Policy>> MakeMigratorPolicy(const PolicyContext& context);

}  // namespace tessera::adapt

#endif  // TESSERA_ADAPT_POLICY_H_
