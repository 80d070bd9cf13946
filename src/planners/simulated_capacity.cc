// Simulated capacity of MIG configurations for the elasticbatch planner: short deterministic
// simulations of one instance (or a model's group of instances) at a Poisson rate.
#include "internal/simulated_capacity.h"

#include <algorithm>
#include <cmath>

#include "tessera/base/status.h"
#include "tessera/sim/simulator.h"
#include "tessera/workload/arrivals.h"

namespace tessera::planners::internal {
namespace {

constexpr int kBisectionSteps = 10;
// Never load instances beyond this fraction of procs x batch / latency.
constexpr double kMaxUtilization = 0.99;
// Near saturation a queue takes long to show that it does not drain: its excursions relax in about
// rate / (bound - rate)^2 seconds (the heavy-traffic time scale of a queue with Poisson arrivals at
// `rate` and a service rate `bound`), so a probe lasts at least this many of those.
constexpr double kProbeRelaxationMultiple = 20;
constexpr double kProbeRequests = 20000;  // requests per probe simulation (at least)
constexpr double kProbeSloMultiple = 10;  // and at least this many SLOs long
constexpr uint64_t kProbeSeed = 20240;
// kConfirmEstimate: the estimate's utilization limit (probes near 0.99 must run long), and the
// bisection below a failed estimate: this many steps over [kFallbackLow x estimate, estimate].
constexpr double kEstimateMaxUtilization = 0.97;
constexpr int kFallbackSteps = 4;
constexpr double kFallbackLow = 0.6;

}  // namespace

absl::StatusOr<bool> GroupMeets(const PlanningInputs& in, const std::string& gpu,
                                const workload::WorkloadModel& m,
                                const std::vector<Configuration>& cs, double rate_rps, int seeds) {
  if (rate_rps <= 0) return true;
  double bound = 0;  // procs x batch / latency, summed
  for (const Configuration& c : cs) bound += RawThroughput(c);
  if (rate_rps > kMaxUtilization * bound) return false;
  plan::Plan plan;
  plan.name = "elasticbatch-probe";
  plan.planner = "elasticbatch";
  for (const Configuration& c : cs) {
    plan::Assignment a{m.model, 0, c.input, c.batch, c.procs, 1.0};
    plan.gpus.push_back({static_cast<int>(plan.gpus.size()), "", gpu, {{c.partition, 0, {a}}}});
  }
  workload::Workload w;
  w.name = "probe";
  workload::WorkloadModel probe = m;
  probe.input = {.kind = workload::InputDistribution::Kind::kFixed, .fixed = cs.front().input};
  probe.demand = {.kind = workload::Demand::Kind::kPoisson, .rate_rps = rate_rps};
  w.models.push_back(std::move(probe));
  double relaxation_s = rate_rps / ((bound - rate_rps) * (bound - rate_rps));
  double duration_s = std::max({kProbeRequests / rate_rps, kProbeSloMultiple * m.slo_ms / 1000,
                                kProbeRelaxationMultiple * relaxation_s});
  for (int k = 0; k < seeds; ++k) {
    uint64_t seed = kProbeSeed + static_cast<uint64_t>(k);
    ASSIGN_OR_RETURN(auto sources,
                     workload::MakeArrivalSources(w, *in.registry, {duration_s, seed}));
    sim::SimOptions options;
    options.duration_s = duration_s;
    options.seed = seed;
    ASSIGN_OR_RETURN(sim::SimResult r, sim::Simulate({&plan, &w, in.profiles, in.catalog},
                                                     std::move(sources), options));
    if (r.models[0].SloAttainment() < kTargetAttainment) return false;
  }
  return true;
}

absl::StatusOr<bool> ElasticBatchMeets(const PlanningInputs& in, const std::string& gpu,
                                       const workload::WorkloadModel& m, const Configuration& c,
                                       double rate_rps) {
  return GroupMeets(in, gpu, m, {c}, rate_rps);
}

absl::StatusOr<double> ElasticBatchCapacity(const PlanningInputs& in, const std::string& gpu,
                                            const workload::WorkloadModel& m,
                                            const Configuration& c) {
  double lo = 0, hi = RawThroughput(c);  // no instance does better
  for (int step = 0; step < kBisectionSteps; ++step) {
    double mid = (lo + hi) / 2;
    ASSIGN_OR_RETURN(bool ok, ElasticBatchMeets(in, gpu, m, c, mid));
    (ok ? lo : hi) = mid;
  }
  return lo;
}

double EstimatedCapacity(const Configuration& c, double slo_ms, double max_utilization) {
  double mu = RawThroughput(c) / 1000;  // requests per ms
  double slack = slo_ms - c.latency_ms - c.latency_ms / (2.0 * c.procs);
  if (slack <= 0 || mu <= 0) return 0;
  // rho / (1 - rho) <= 2 mu slack / ln(1 / (1 - target)).
  double a = 2 * mu * slack / std::log(1 / (1 - kTargetAttainment));
  return std::min(a / (1 + a), max_utilization) * RawThroughput(c);
}

double CapacityCache::UpperBound(const Configuration& c) const {
  if (mode_ == CapacityMode::kBisect) return RawThroughput(c);
  return EstimatedCapacity(c, m_.slo_ms, kEstimateMaxUtilization);
}

absl::StatusOr<double> CapacityCache::Capacity(const Configuration& c) {
  auto it = capacity_.find(Key(c));
  if (it != capacity_.end()) return it->second;
  if (mode_ == CapacityMode::kEstimate) return capacity_[Key(c)] = UpperBound(c);
  double capacity = 0;
  if (mode_ == CapacityMode::kBisect) {
    ASSIGN_OR_RETURN(capacity, ElasticBatchCapacity(in_, gpu_.name, m_, c));
  } else {
    double estimate = UpperBound(c);
    ASSIGN_OR_RETURN(bool ok, ElasticBatchMeets(in_, gpu_.name, m_, c, estimate));
    if (ok) {
      capacity = estimate;
    } else {
      double lo = kFallbackLow * estimate, hi = estimate;
      ASSIGN_OR_RETURN(bool low_ok, ElasticBatchMeets(in_, gpu_.name, m_, c, lo));
      if (!low_ok) hi = lo, lo = 0;
      for (int step = 0; step < kFallbackSteps; ++step) {
        double mid = (lo + hi) / 2;
        ASSIGN_OR_RETURN(bool mid_ok, ElasticBatchMeets(in_, gpu_.name, m_, c, mid));
        (mid_ok ? lo : hi) = mid;
      }
      capacity = lo;
    }
  }
  ++simulated_;
  return capacity_[Key(c)] = capacity;
}

absl::StatusOr<bool> CapacityCache::Meets(const Configuration& c, double rate_rps) {
  if (Known(c, -1) >= rate_rps) return true;
  if (mode_ != CapacityMode::kBisect && rate_rps > UpperBound(c)) return false;
  if (mode_ == CapacityMode::kEstimate) return true;
  return ElasticBatchMeets(in_, gpu_.name, m_, c, rate_rps);
}

}  // namespace tessera::planners::internal
