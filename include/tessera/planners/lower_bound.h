// tessera/planners/lower_bound.h — the fewest GPUs any planner could use on the same inputs.
//
// For MIG GPUs: the LP relaxation of the packing problem, solved with COIN-OR Clp. Columns are the
// GPU cuts (y_L >= 0 GPUs cut as maximal multiset L of the MIG profiles under consideration) and
// the instances (x_{m,p} >= 0 instances of profile p serving model m); rows: every model's demand
// is covered, sum_p cap_{m,p} x_{m,p} >= demand_m, and no profile is used more than the cuts
// provide, sum_m x_{m,p} <= sum_L a_{L,p} y_L. Minimize sum_L y_L. cap_{m,p} is the most permissive
// capacity: the highest procs x batch / latency among profiled configurations whose batch latency
// is within the SLO (a batch cannot take longer than the SLO), and demand is the mean rate, so no
// plan that serves the mean demand within SLO can use fewer GPUs than ceil(bound). For SM-partition
// profiles (`sm:N`): demand over the best capacity per SM, in GPUs of the GPU's SMs.
// A model whose input sizes vary enters as one demand row per group of sizes, each taken at the
// largest profiled input at or below the size (or the smallest profiled input, below it): a plan
// serves a request at its own size or padded above it, never cheaper, so bucketing or not, no plan
// beats the bound (elasticbatch's buckets included).
//
// Example:
//   ASSIGN_OR_RETURN(LowerBound b, ComputeLowerBound(inputs, options));
//   fmt::print("at least {} GPUs (LP {:.2f})\n", b.gpus, b.lp_gpus);
#ifndef TESSERA_PLANNERS_LOWER_BOUND_H_
#define TESSERA_PLANNERS_LOWER_BOUND_H_

#include <string>

#include "absl/status/statusor.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {

struct LowerBound {
  double lp_gpus = 0;  // the relaxation's optimum (fractional GPUs)
  int gpus = 0;        // ceil(lp_gpus - 1e-6): no plan can use fewer
  std::string method;  // how it was computed, one line
};

// FailedPrecondition when some model has no profiled configuration within its SLO (then no plan
// exists and no bound is meaningful); InvalidArgument for bad options.
absl::StatusOr<LowerBound> ComputeLowerBound(const PlanningInputs& inputs,
                                             const PlannerOptions& options);

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_LOWER_BOUND_H_
