// MIG configurations and choosing among them by simulated capacity per unit of cost.
#include "internal/mig_candidates.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::planners::internal {

absl::StatusOr<MigPlanningSpace> StartMigPlanning(const std::string& planner,
                                                  const PlanningInputs& in,
                                                  const PlannerOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
  if (gpu->compute_slices == 0) {
    return absl::InvalidArgumentError(
        fmt::format("planner {}: {} has no MIG; the {} planner plans MIG instances", planner,
                    gpu->name, planner));
  }
  ASSIGN_OR_RETURN(hw::LayoutSpace space, MigSpace(*gpu, options));
  return MigPlanningSpace{gpu, std::move(space)};
}

std::string ConfigText(const Configuration& c) {
  return fmt::format("{} batch {} procs {}", c.partition.ToString(), c.batch, c.procs);
}

// Profiled MIG configurations of `space` with batch latency within the SLO and <= kMaxProcs procs.
std::vector<Configuration> Acceptable(const PlanningInputs& in, const hw::LayoutSpace& space,
                                      const workload::WorkloadModel& m, int input) {
  const hw::GpuModel& gpu = space.gpu();
  std::vector<Configuration> all = Configurations(*in.profiles, gpu.name, m.model, input,
                                                  [&](double ms, int) { return ms <= m.slo_ms; });
  std::vector<Configuration> out;
  const std::vector<int>& allowed = space.profiles();
  for (Configuration& c : all) {
    if (c.partition.kind != hw::PartitionKind::kMig || c.procs > kMaxProcs) continue;
    int p = gpu.ProfileIndex(c.partition.mig_profile);
    if (p < 0 || std::find(allowed.begin(), allowed.end(), p) == allowed.end()) continue;
    out.push_back(std::move(c));
  }
  return out;
}

// What an instance of a configuration costs, in compute-slice units (lower is better).
using CostFn = std::function<double(const Configuration&)>;

// The cost variants tried; the plan with the fewest GPUs wins (ties: the first). Compute slices
// alone undervalue 3g.40gb's half of the memory (two 3g fill an A100 with one slice idle).
std::vector<std::pair<std::string, CostFn>> CostVariants(const hw::GpuModel& gpu) {
  auto profile = [&gpu](const Configuration& c) -> const hw::MigProfile& {
    return gpu.profiles[gpu.ProfileIndex(c.partition.mig_profile)];
  };
  double per_memory = static_cast<double>(gpu.compute_slices) / std::max(gpu.memory_slices, 1);
  return {
      {"compute slices", [=](const Configuration& c) { return profile(c).compute_slices; }},
      {"GPU share",
       [=](const Configuration& c) {
         return std::max<double>(profile(c).compute_slices, per_memory * profile(c).memory_slices);
       }},
      {"memory slices",
       [=](const Configuration& c) { return per_memory * profile(c).memory_slices; }},
  };
}

// The most simulated capacity per unit of `cost` (capacity_rps set to it); candidates whose upper
// bound per unit cannot beat the best found are not simulated. capacity_rps 0: none serves any.
absl::StatusOr<Configuration> MostPerCost(const CostFn& cost, std::vector<Configuration> cs,
                                          CapacityCache& cache) {
  auto bound = [&](const Configuration& c) { return cache.UpperBound(c) / cost(c); };
  std::stable_sort(cs.begin(), cs.end(),
                   [&](const auto& a, const auto& b) { return bound(a) > bound(b); });
  Configuration best = cs.front();
  best.capacity_rps = 0;
  double best_per_cost = 0;
  for (const Configuration& c : cs) {
    if (bound(c) <= best_per_cost) break;
    ASSIGN_OR_RETURN(double capacity, cache.Capacity(c));
    if (capacity / cost(c) > best_per_cost) {
      best_per_cost = capacity / cost(c);
      best = c;
      best.capacity_rps = capacity;
    }
  }
  return best;
}

// The cheapest (by `cost`) configuration whose simulated instance meets `rate_rps`; among equal
// costs the candidates are tried by ascending upper bound (the least capacity that covers).
// capacity_rps: the simulated capacity when known, else `rate_rps` (what was verified).
absl::StatusOr<Configuration> RightSized(const CostFn& cost, std::vector<Configuration> cs,
                                         double rate_rps, CapacityCache& cache) {
  auto key = [&](const Configuration& c) { return std::make_tuple(cost(c), c.capacity_rps); };
  std::stable_sort(cs.begin(), cs.end(),
                   [&](const auto& a, const auto& b) { return key(a) < key(b); });
  for (Configuration& c : cs) {
    if (cache.UpperBound(c) < rate_rps) continue;
    ASSIGN_OR_RETURN(bool ok, cache.Meets(c, rate_rps));
    if (!ok) continue;
    c.capacity_rps = cache.Known(c, rate_rps);
    return c;
  }
  return absl::InternalError(fmt::format("no configuration meets {:.4g} rps", rate_rps));
}

absl::StatusOr<std::vector<Configuration>> BestPerProfile(const std::vector<Configuration>& cs,
                                                          CapacityCache& cache) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<Configuration>> by_profile;
  for (const Configuration& c : cs) {
    auto& list = by_profile[c.partition.mig_profile];
    if (list.empty()) order.push_back(c.partition.mig_profile);
    list.push_back(c);
  }
  std::vector<Configuration> out;
  for (const std::string& profile : order) {
    ASSIGN_OR_RETURN(Configuration best, MostPerCost([](const Configuration&) { return 1.0; },
                                                     by_profile[profile], cache));
    if (best.capacity_rps > 0) out.push_back(std::move(best));
  }
  return out;
}

}  // namespace tessera::planners::internal
