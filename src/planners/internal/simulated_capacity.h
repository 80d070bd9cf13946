// Simulated capacity of MIG configurations, for the elasticbatch planner (internal).
//
// A configuration's capacity is the largest Poisson rate one instance serves with at least
// kTargetAttainment of requests within the model's SLO, found by bisection with short deterministic
// simulations of a one-instance plan; CapacityCache keeps them for one planning run.
#ifndef TESSERA_SRC_PLANNERS_INTERNAL_SIMULATED_CAPACITY_H_
#define TESSERA_SRC_PLANNERS_INTERNAL_SIMULATED_CAPACITY_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::planners::internal {

inline constexpr double kTargetAttainment = 0.995;  // of requests within SLO, per simulated group

// Whether instances `cs` together (the simulator's router splitting the load) serve `m` at a
// Poisson `rate_rps` with >= kTargetAttainment of requests within m.slo_ms.
absl::StatusOr<bool> GroupMeets(const PlanningInputs& in, const std::string& gpu,
                                const workload::WorkloadModel& m,
                                const std::vector<Configuration>& cs, double rate_rps);

// The same for one instance of `c` (on `gpu`, the catalog name); and the largest such rate, by
// bisection below c.capacity_rps.
absl::StatusOr<bool> ElasticBatchMeets(const PlanningInputs& in, const std::string& gpu,
                                       const workload::WorkloadModel& m, const Configuration& c,
                                       double rate_rps);
absl::StatusOr<double> ElasticBatchCapacity(const PlanningInputs& in, const std::string& gpu,
                                            const workload::WorkloadModel& m,
                                            const Configuration& c);

// The simulated capacities of one model's configurations, computed on demand and cached.
class CapacityCache {
 public:
  CapacityCache(const PlanningInputs& in, const hw::GpuModel& gpu, const workload::WorkloadModel& m)
      : in_(in), gpu_(gpu), m_(m) {}

  absl::StatusOr<double> Capacity(const Configuration& c) {
    auto key = std::make_tuple(c.partition.mig_profile, c.batch, c.procs);
    auto it = capacity_.find(key);
    if (it != capacity_.end()) return it->second;
    ASSIGN_OR_RETURN(double capacity, ElasticBatchCapacity(in_, gpu_.name, m_, c));
    ++simulated_;
    return capacity_[key] = capacity;
  }
  // Whether one instance meets `rate_rps`: from the cached capacity when known, else one probe.
  absl::StatusOr<bool> Meets(const Configuration& c, double rate_rps) {
    if (Known(c, -1) >= rate_rps) return true;
    return ElasticBatchMeets(in_, gpu_.name, m_, c, rate_rps);
  }
  // The simulated capacity when known, else `fallback`.
  double Known(const Configuration& c, double fallback) const {
    auto it = capacity_.find(std::make_tuple(c.partition.mig_profile, c.batch, c.procs));
    return it != capacity_.end() ? it->second : fallback;
  }
  int simulated() const { return simulated_; }

 private:
  const PlanningInputs& in_;
  const hw::GpuModel& gpu_;
  const workload::WorkloadModel& m_;
  std::map<std::tuple<std::string, int, int>, double> capacity_;
  int simulated_ = 0;
};

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_SIMULATED_CAPACITY_H_
