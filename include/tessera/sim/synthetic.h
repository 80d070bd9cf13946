// tessera/sim/synthetic.h — seeded generator of large synthetic cases for benchmarks and planners.
//
// Models are cloned from a base profile table (e.g. the bundled H100 SM-partition profiles): clone
// k of model m is named "m~k" and its latencies are the original's times a factor drawn from [1 -
// jitter, 1 + jitter], fixed per clone. A plan of any size is made by giving every GPU the same SM
// split and assigning partitions to clones round-robin, each at a batch size whose full-batch
// latency fits half the clone's SLO; each clone's Poisson rate is `load` times the capacity the
// plan gives it. The same options and seed give the same case.
//
// Example:
//   SyntheticOptions o;  o.models = 20;  o.gpus = 100;  o.seed = 1;
//   ASSIGN_OR_RETURN(SyntheticCase c, GenerateSyntheticCase(base_profiles, o));
//   // c.plan, c.workload, c.profiles are ready for Simulate (and later for planners)
#ifndef TESSERA_SIM_SYNTHETIC_H_
#define TESSERA_SIM_SYNTHETIC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/workload/workload.h"

namespace tessera::sim {

struct SyntheticOptions {
  int models = 20;
  int gpus = 100;
  uint64_t seed = 1;
  double jitter = 0.2;  // clone latency factor in [1 - jitter, 1 + jitter]
  double load = 0.7;    // offered load as a fraction of planned capacity
  std::string gpu = "H100-SXM5-80GB";
  std::vector<int> split_sms = {64, 64};  // SM partitions of every GPU
  double slo_factor = 4;  // a clone's SLO is this times its batch-1 latency on the smallest split
};

struct SyntheticCase {
  perf::ProfileTable profiles;  // the clones' rows
  workload::Workload workload;  // Poisson demand per clone, fixed input at the profiled size
  plan::Plan plan;
  double total_rate_rps = 0;
};

// InvalidArgument when the base table has no model profiled on every split size of `gpu`.
absl::StatusOr<SyntheticCase> GenerateSyntheticCase(const perf::ProfileTable& base,
                                                    const SyntheticOptions& options);

}  // namespace tessera::sim

#endif  // TESSERA_SIM_SYNTHETIC_H_
