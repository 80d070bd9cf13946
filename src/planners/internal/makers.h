// The planners the factory knows; each is defined in its own file.
#ifndef TESSERA_SRC_PLANNERS_INTERNAL_MAKERS_H_
#define TESSERA_SRC_PLANNERS_INTERNAL_MAKERS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tessera/planners/common.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::planners::internal {

std::unique_ptr<Planner> MakeParvaPlanner();         // parva_planner.cc
std::unique_ptr<Planner> MakeWholeGpuPlanner();      // whole_gpu_planner.cc
std::unique_ptr<Planner> MakeStaticMigPlanner();     // static_mig_planner.cc
std::unique_ptr<Planner> MakeElasticBatchPlanner();  // elasticbatch_planner.cc

// elasticbatch_planner.cc, exposed for its tests. Whether one instance of `c` (on `gpu`, the
// catalog name) serves `m` at a Poisson `rate_rps` with >= 99.5% of requests within m.slo_ms in a
// short deterministic simulation; and the largest such rate, by bisection below c.capacity_rps.
absl::StatusOr<bool> ElasticBatchMeets(const PlanningInputs& in, const std::string& gpu,
                                       const workload::WorkloadModel& m, const Configuration& c,
                                       double rate_rps);
absl::StatusOr<double> ElasticBatchCapacity(const PlanningInputs& in, const std::string& gpu,
                                            const workload::WorkloadModel& m,
                                            const Configuration& c);

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_MAKERS_H_
