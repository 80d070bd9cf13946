#include "tessera/planners/common.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::planners {

int64_t PoissonQuantile(double mean, double q) {
  if (mean <= 0) return 0;
  if (mean > 500) {
    // exp(-mean) underflows a forward sum; the normal approximation (with the continuity
    // correction) is within a count of the exact quantile at these means.
    double lo = -10, hi = 10;  // find z with Phi(z) = q by bisection
    for (int i = 0; i < 100; ++i) {
      double mid = (lo + hi) / 2;
      (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? lo : hi) = mid;
    }
    return static_cast<int64_t>(std::ceil(mean + hi * std::sqrt(mean) - 0.5));
  }
  double log_p = -mean;  // log P(X = 0), summed forward: exact for moderate means
  double cdf = std::exp(log_p);
  int64_t k = 0;
  while (cdf < q && k < 100'000'000) {
    ++k;
    log_p += std::log(mean) - std::log(static_cast<double>(k));
    cdf += std::exp(log_p);
  }
  return k;
}

double InflatedRate(double rate_rps, const PlannerOptions& options) {
  if (options.rate_quantile <= 0 || rate_rps <= 0) return rate_rps;
  double mean = rate_rps * options.window_s;
  return static_cast<double>(PoissonQuantile(mean, options.rate_quantile)) / options.window_s;
}

std::vector<Configuration> Configurations(const perf::ProfileTable& profiles,
                                          const std::string& gpu, const std::string& model,
                                          int input, const SloRule& rule) {
  std::vector<Configuration> out;
  for (const perf::ProfileRow* row : profiles.RowsFor(gpu, model)) {
    const perf::ProfileKey& key = row->key;
    if (key.input != input) continue;
    if (!rule(row->latency_ms, key.batch)) continue;
    out.push_back({key.partition, key.input, key.batch, key.procs, row->latency_ms,
                   key.procs * key.batch * 1000.0 / row->latency_ms});
  }
  return out;  // the table's key order within (gpu, model): partition, then batch, then procs
}

namespace {

// First-fit decreasing: each instance onto the first GPU where it fits now (fragmentation-aware
// start) or after re-placing that GPU's instances.
std::vector<hw::PlacedLayout> PackFirstFitDecreasing(const hw::LayoutSpace& space,
                                                     std::vector<int> instances) {
  const hw::GpuModel& gpu = space.gpu();
  std::stable_sort(instances.begin(), instances.end(), [&](int a, int b) {
    return gpu.profiles[a].memory_slices > gpu.profiles[b].memory_slices;
  });
  std::vector<hw::PlacedLayout> gpus;
  for (int p : instances) {
    bool placed = false;
    for (hw::PlacedLayout& layout : gpus) {
      if (std::optional<int> start = hw::ChooseStart(space, layout, p)) {
        layout.Add({p, *start});
        placed = true;
        break;
      }
      if (hw::FitsAfterReplacing(gpu, layout, p)) {
        hw::Multiset m = hw::MultisetOf(gpu, layout);
        ++m[p];
        layout = *hw::PlaceMultiset(gpu, m);
        placed = true;
        break;
      }
    }
    if (!placed) {
      hw::PlacedLayout fresh;
      std::optional<int> start = hw::ChooseStart(space, fresh, p);
      TESSERA_CHECK(start.has_value());  // every profile fits an empty GPU
      fresh.Add({p, *start});
      gpus.push_back(std::move(fresh));
    }
  }
  return gpus;
}

// Packs GPU by GPU: each takes the placeable multiset (of the space) within what is left that uses
// the most compute slices, ties going to the one with more of the larger profiles. Where
// first-fit decreasing pairs 3g.40gb + 3g.40gb (6 of 7 GPCs, all 8 memory slices) and leaves the
// small instances for GPUs of their own, this fills 3g + 2g + 1g + 1g first.
std::vector<hw::PlacedLayout> PackByFullestMultiset(const hw::LayoutSpace& space,
                                                    const std::vector<int>& instances) {
  const hw::GpuModel& gpu = space.gpu();
  hw::Multiset left(gpu.profiles.size(), 0);
  for (int p : instances) ++left[p];
  std::vector<int> by_size = space.profiles();  // larger profiles first
  std::stable_sort(by_size.begin(), by_size.end(), [&](int a, int b) {
    return gpu.profiles[a].compute_slices > gpu.profiles[b].compute_slices;
  });
  auto key = [&](const hw::Multiset& m) {
    std::vector<int> k = {0};
    for (int p : by_size) {
      k[0] += m[p] * gpu.profiles[p].compute_slices;
      k.push_back(m[p]);
    }
    return k;
  };
  std::vector<hw::PlacedLayout> gpus;
  for (size_t n = instances.size(); n > 0;) {
    const hw::Multiset* best = nullptr;
    for (const hw::Multiset& m : space.Multisets()) {
      bool within = true;
      for (size_t p = 0; p < m.size(); ++p) within = within && m[p] <= left[p];
      if (within && (best == nullptr || key(m) > key(*best))) best = &m;
    }
    TESSERA_CHECK(best != nullptr);  // a single instance is always placeable
    for (size_t p = 0; p < best->size(); ++p) {
      left[p] -= (*best)[p];
      n -= (*best)[p];
    }
    gpus.push_back(*hw::PlaceMultiset(gpu, *best));
  }
  return gpus;
}

}  // namespace

absl::StatusOr<std::vector<hw::PlacedLayout>> PackMigInstances(const hw::LayoutSpace& space,
                                                               std::vector<int> instances) {
  const hw::GpuModel& gpu = space.gpu();
  for (int p : instances) {
    if (std::find(space.profiles().begin(), space.profiles().end(), p) == space.profiles().end()) {
      return absl::InvalidArgumentError(fmt::format(
          "profile index {} is not among the profiles being packed on {}", p, gpu.name));
    }
  }
  std::vector<hw::PlacedLayout> fullest = PackByFullestMultiset(space, instances);
  std::vector<hw::PlacedLayout> first_fit = PackFirstFitDecreasing(space, std::move(instances));
  return fullest.size() < first_fit.size() ? fullest : first_fit;
}

plan::Plan PlanFromLayouts(const hw::GpuModel& gpu, const std::vector<hw::PlacedLayout>& layouts,
                           const std::vector<MigInstance>& instances, const std::string& name,
                           const std::string& planner) {
  std::map<int, std::deque<const MigInstance*>> by_profile;
  for (const MigInstance& i : instances) {
    by_profile[gpu.ProfileIndex(i.config.partition.mig_profile)].push_back(&i);
  }
  plan::Plan plan{name, planner, {}};
  for (size_t g = 0; g < layouts.size(); ++g) {
    plan::PlanGpu pg{static_cast<int>(g), "", gpu.name, {}};
    for (const hw::Placement& p : layouts[g].instances) {
      std::deque<const MigInstance*>& queue = by_profile[p.profile];
      TESSERA_CHECK(!queue.empty());
      const MigInstance& i = *queue.front();
      queue.pop_front();
      plan::Assignment a{i.model, 0, i.config.input, i.config.batch, i.config.procs, 1.0};
      pg.partitions.push_back({i.config.partition, p.start, {a}});
    }
    plan.gpus.push_back(std::move(pg));
  }
  return plan;
}

absl::StatusOr<hw::LayoutSpace> MigSpace(const hw::GpuModel& gpu, const PlannerOptions& options) {
  if (options.mig_profiles.empty()) return hw::LayoutSpace::WithoutMediaExtensions(gpu);
  return hw::LayoutSpace::Create(gpu, options.mig_profiles);
}

PlanResult MarkInfeasible(PlanResult result, std::string reason) {
  result.summary.feasible = false;
  result.summary.termination = Termination::kInfeasible;
  result.summary.reason = std::move(reason);
  result.plan.gpus.clear();
  return result;
}

}  // namespace tessera::planners
