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

// procs x batch / latency: what no instance of `c` can exceed, whatever capacity_rps now holds
// (planners overwrite it with the capacity they found).
inline double RawThroughput(const Configuration& c) {
  return c.procs * c.batch * 1000.0 / c.latency_ms;
}

// Whether instances `cs` together (the simulator's router splitting the load) serve `m` at a
// Poisson `rate_rps` with >= kTargetAttainment of requests within m.slo_ms, in each of `seeds`
// probe simulations with independent arrivals. Pooling trims a group to the edge of what it
// serves, where one lucky draw can pass a group that a longer or another run does not (tight
// SLOs make a loaded batching queue metastable: a burst that makes the batching deadline shrink
// batches can tip it into a backlog it never leaves): a trimmed group must pass kPooledSeeds probes
// at kPooledMargin times the rate it is to serve.
inline constexpr int kPooledSeeds = 2;
inline constexpr double kPooledMargin = 1.05;
absl::StatusOr<bool> GroupMeets(const PlanningInputs& in, const std::string& gpu,
                                const workload::WorkloadModel& m,
                                const std::vector<Configuration>& cs, double rate_rps,
                                int seeds = 1);

// The same for one instance of `c` (on `gpu`, the catalog name); and the largest such rate, by
// bisection below RawThroughput(c).
absl::StatusOr<bool> ElasticBatchMeets(const PlanningInputs& in, const std::string& gpu,
                                       const workload::WorkloadModel& m, const Configuration& c,
                                       double rate_rps);
absl::StatusOr<double> ElasticBatchCapacity(const PlanningInputs& in, const std::string& gpu,
                                            const workload::WorkloadModel& m,
                                            const Configuration& c);

// The queueing-aware estimate of the Poisson rate one instance of `c` serves within `slo_ms` (no
// simulation): the largest utilization rho <= `max_utilization` of procs x batch / latency with
//   latency(batch) + latency(batch) / (2 procs) + ln(1 / (1 - kTargetAttainment)) x W(rho) <= SLO,
// where W(rho) = rho / (2 mu (1 - rho)) is the heavy-traffic mean queueing delay at service rate
// mu = procs x batch / latency (its tail is about exponential, hence the logarithm) and
// latency / (2 procs) the mean wait for the next of the procs' batch starts. The wait to fill a
// batch does not enter: at the planned rate the queue fills it, and below it the batching deadline
// dispatches early. 0 when the batch alone does not fit the SLO.
double EstimatedCapacity(const Configuration& c, double slo_ms, double max_utilization);

// How a CapacityCache finds a capacity.
enum class CapacityMode {
  // Bisection below procs x batch / latency, 10 simulations per configuration: the most accurate.
  kBisect,
  // EstimatedCapacity (utilization <= 0.97) confirmed by one simulation at that rate; only if the
  // probe fails, a short bisection below it. About one simulation per configuration, and the
  // capacity never exceeds the estimate, so the estimate bounds it for pruning.
  kConfirmEstimate,
  // EstimatedCapacity (utilization <= 0.97) alone, no simulation: for a fast search whose result is
  // then checked by simulating each model's group of instances (GroupMeets).
  kEstimate,
};

// The simulated capacities of one model's configurations, computed on demand and cached.
class CapacityCache {
 public:
  CapacityCache(const PlanningInputs& in, const hw::GpuModel& gpu, const workload::WorkloadModel& m,
                CapacityMode mode = CapacityMode::kBisect)
      : in_(in), gpu_(gpu), m_(m), mode_(mode) {}

  absl::StatusOr<double> Capacity(const Configuration& c);
  // An upper bound of Capacity(c) without simulating: procs x batch / latency (kBisect) or the
  // estimate (kConfirmEstimate).
  double UpperBound(const Configuration& c) const;
  // Whether one instance meets `rate_rps`: from the cached capacity when known, else one probe.
  absl::StatusOr<bool> Meets(const Configuration& c, double rate_rps);
  // The simulated capacity when known, else `fallback`.
  double Known(const Configuration& c, double fallback) const {
    auto it = capacity_.find(Key(c));
    return it != capacity_.end() ? it->second : fallback;
  }
  int simulated() const { return simulated_; }

 private:
  static std::tuple<std::string, int, int> Key(const Configuration& c) {
    return std::make_tuple(c.partition.mig_profile, c.batch, c.procs);
  }
  const PlanningInputs& in_;
  const hw::GpuModel& gpu_;
  const workload::WorkloadModel& m_;
  CapacityMode mode_;
  std::map<std::tuple<std::string, int, int>, double> capacity_;
  int simulated_ = 0;
};

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_SIMULATED_CAPACITY_H_
