// tessera/planners/planner.h — planners: pure functions from (catalog, profiles, workload, options)
// to a Plan and a summary of how it was made.
//
// Every planner is chosen by name through one factory, so the CLI, configs and tests share one
// vocabulary. A planner does no I/O and keeps no state between calls. "No feasible plan" (a model
// whose SLO no profiled configuration meets, a GPU budget too small) is a PlanResult with
// `feasible = false` and a reason, not an error; a Status error means malformed input or a bug.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Planner> planner, Planner::Create("parva"));
//   PlannerOptions options;  options.gpu = "A100-SXM4-80GB";
//   ASSIGN_OR_RETURN(PlanResult result, planner->Run({&catalog, &profiles, &workload, &registry},
//   options)); if (!result.summary.feasible) std::cerr << result.summary.reason; std::cout <<
//   PlanToYaml(result.plan);
//
// Planners are immutable after creation and may be called from several threads at once.
#ifndef TESSERA_PLANNERS_PLANNER_H_
#define TESSERA_PLANNERS_PLANNER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/workload/workload.h"

namespace tessera::planners {

// What every planner reads. All pointers must outlive the call; none may be null.
struct PlanningInputs {
  const hw::Catalog* catalog = nullptr;
  const perf::ProfileTable* profiles = nullptr;
  const workload::Workload* workload = nullptr;
  const models::ModelRegistry* registry = nullptr;
};

struct PlannerOptions {
  std::string gpu;  // the catalog GPU model to plan for (name or alias); required
  // Demand is provisioned at this quantile of the Poisson count of requests in a window of
  // `window_s` seconds (gpulet: the 99th percentile), divided by the window. 0 = the mean rate.
  double rate_quantile = 0.99;
  double window_s = 1.0;
  // Restrict MIG planners to these profiles (empty: every profile of the GPU without `+me`).
  std::vector<std::string> mig_profiles;
  int max_gpus = 100000;  // give up (infeasible) beyond this many GPUs
  // Exact planners (ilp): stop the solver after this many seconds with the best plan found so far.
  double time_limit_s = 10;
  // Input buckets per model whose input sizes vary (elasticbatch): 0 = chosen automatically where
  // one more bucket stops paying (planners/bucketing.h), 1 = one bucket at the largest size, K = at
  // most K buckets.
  int input_buckets = 0;
  // InvalidArgument naming the field (empty gpu, quantile outside [0, 1), window <= 0, ...).
  absl::Status Validate() const;
};

// Why the planner stopped.
enum class Termination {
  kHeuristic,   // a heuristic finished (no optimality claim)
  kOptimal,     // an exact method proved the plan optimal
  kFeasible,    // an exact method stopped at its limit with a feasible plan (see gap)
  kInfeasible,  // no plan meets the demand (see reason)
};
const char* TerminationName(Termination termination);

// Per model: what the plan provides against what was asked.
struct ModelPlanSummary {
  std::string model;
  double demand_rps = 0;       // the workload's mean rate
  double provisioned_rps = 0;  // the inflated rate the planner had to cover
  double capacity_rps = 0;     // what the plan's assignments sustain under the planner's SLO rule
  std::vector<std::string> configurations;  // e.g. "3g.40gb batch 16 procs 2 x3"
};

struct PlanSummary {
  std::string planner;
  bool feasible = false;
  Termination termination = Termination::kHeuristic;
  std::string reason;  // why infeasible, or how it stopped
  int gpus = 0;
  double gap = 0;  // exact methods: relative gap to the best bound when stopped early
  std::vector<ModelPlanSummary> models;
  std::vector<std::string> notes;  // rules applied, rows used as stand-ins, ...
};

struct PlanResult {
  plan::Plan plan;
  PlanSummary summary;
};

class Planner {
 public:
  virtual ~Planner() = default;
  virtual std::string name() const = 0;
  // One line: the rule and where it comes from.
  virtual std::string description() const = 0;
  // The rate quantile the planner's rule is meant for, used when the user gives none: rules that
  // size by latency alone provision gpulet's Poisson p99 (0.99); planners whose capacities are
  // simulated (they absorb Poisson bursts already) and ParvaGPU's rule (which provisions the mean)
  // take the mean rate (0).
  virtual double intended_rate_quantile() const { return 0.99; }
  // Makes a plan. The plan passes plan::ValidatePlan against the same inputs whenever
  // summary.feasible is true.
  virtual absl::StatusOr<PlanResult> Run(const PlanningInputs& inputs,
                                         const PlannerOptions& options) const = 0;

  // By name; InvalidArgument lists the known names.
  static absl::StatusOr<std::unique_ptr<Planner>> Create(std::string_view name);
  static std::vector<std::string> Names();
};

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_PLANNER_H_
