#include "tessera/planners/common.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <tuple>

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

std::vector<hw::PlacedLayout> MigPacking::Expand() const {
  std::vector<hw::PlacedLayout> out;
  out.reserve(static_cast<size_t>(gpus));
  for (const LayoutRun& run : runs)
    out.insert(out.end(), static_cast<size_t>(run.gpus), run.layout);
  return out;
}

MigPacker::MigPacker(const hw::LayoutSpace& space) : space_(&space) {
  layouts_.push_back(hw::PlacedLayout());
  for (const hw::PlacedLayout& l : space.PlacedLayouts()) layouts_.push_back(l);
  for (size_t id = 0; id < layouts_.size(); ++id) ids_[layouts_[id]] = static_cast<int>(id);
  added_.assign(layouts_.size() * space.gpu().profiles.size(), kUnknown);
}

int MigPacker::IdOf(const hw::PlacedLayout& layout) const {
  auto it = ids_.find(layout);
  TESSERA_CHECK(it != ids_.end());  // every legal layout over the space's profiles is enumerated
  return it->second;
}

int MigPacker::Add(int id, int profile) {
  const hw::GpuModel& gpu = space_->gpu();
  int& memo = added_[static_cast<size_t>(id) * gpu.profiles.size() + static_cast<size_t>(profile)];
  if (memo != kUnknown) return memo;
  const hw::PlacedLayout& layout = layouts_[static_cast<size_t>(id)];
  if (std::optional<int> start = hw::ChooseStart(*space_, layout, profile)) {
    hw::PlacedLayout next = layout;
    next.Add({profile, *start});
    memo = IdOf(next);
  } else {
    hw::Multiset m = hw::MultisetOf(gpu, layout);
    ++m[static_cast<size_t>(profile)];
    std::optional<hw::PlacedLayout> replaced = hw::PlaceMultiset(gpu, m);
    memo = replaced ? IdOf(*replaced) : kNone;
  }
  return memo;
}

// First-fit decreasing on runs: the instances of one profile go, in GPU order, to the first GPUs
// that take them. Every GPU of a run takes the same number t of them (the chain of Add from its
// layout), so a run of m GPUs absorbs min(m, n / t) full GPUs' worth at once and splits where
// the instances run out; new GPUs are opened as a run of identical ones. This is exactly the
// per-instance first-fit: a GPU that cannot take a profile never can again (it only fills).
MigPacking MigPacker::FirstFitDecreasing(const hw::Multiset& counts) {
  const hw::GpuModel& gpu = space_->gpu();
  std::vector<int> order = space_->profiles();
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const hw::MigProfile &pa = gpu.profiles[a], &pb = gpu.profiles[b];
    return std::tie(pb.memory_slices, pb.compute_slices, a) <
           std::tie(pa.memory_slices, pa.compute_slices, b);
  });
  struct IdRun {
    int id;
    int64_t gpus;
  };
  std::vector<IdRun> runs;
  for (int p : order) {
    int64_t n = counts[static_cast<size_t>(p)];
    for (size_t r = 0; n > 0; ++r) {
      bool fresh = r == runs.size();
      if (fresh) runs.push_back({0, std::numeric_limits<int64_t>::max()});
      std::vector<int> chain = {runs[r].id};  // chain[k]: the layout after taking k instances
      while (static_cast<int64_t>(chain.size()) - 1 < n) {
        int next = Add(chain.back(), p);
        if (next == kNone) break;
        chain.push_back(next);
      }
      int64_t t = static_cast<int64_t>(chain.size()) - 1;
      if (t == 0) continue;  // this run takes none
      int64_t full = std::min(runs[r].gpus, n / t);
      int64_t rest = full < runs[r].gpus ? n - full * t : 0;  // < t, onto the next GPU of the run
      int64_t untouched = runs[r].gpus - full - (rest > 0 ? 1 : 0);
      std::vector<IdRun> split;
      if (full > 0) split.push_back({chain[static_cast<size_t>(t)], full});
      if (rest > 0) split.push_back({chain[static_cast<size_t>(rest)], 1});
      if (untouched > 0 && !fresh) split.push_back({runs[r].id, untouched});
      n -= full * t + rest;
      runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(r));
      runs.insert(runs.begin() + static_cast<std::ptrdiff_t>(r), split.begin(), split.end());
      r += split.size() - 1;
    }
  }
  MigPacking out;
  for (const IdRun& run : runs) {
    if (!out.runs.empty() && out.runs.back().layout == layouts_[static_cast<size_t>(run.id)]) {
      out.runs.back().gpus += run.gpus;
    } else {
      out.runs.push_back({layouts_[static_cast<size_t>(run.id)], run.gpus});
    }
    out.gpus += run.gpus;
  }
  return out;
}

// Packs GPU by GPU: each takes the placeable multiset (of the space) within what is left that uses
// the most compute slices, ties going to the one with more of the larger profiles. Where
// first-fit decreasing pairs 3g.40gb + 3g.40gb (6 of 7 GPCs, all 8 memory slices) and leaves the
// small instances for GPUs of their own, this fills 3g + 2g + 1g + 1g first. A multiset chosen
// stays the best while it fits in what is left, so it is taken as many times as it fits at once.
MigPacking MigPacker::FullestFirst(const hw::Multiset& counts) {
  const hw::GpuModel& gpu = space_->gpu();
  hw::Multiset left = counts;
  std::vector<int> by_size = space_->profiles();  // larger profiles first
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
  MigPacking out;
  for (int64_t n = std::accumulate(left.begin(), left.end(), int64_t{0}); n > 0;) {
    const hw::Multiset* best = nullptr;
    std::vector<int> best_key;
    for (const hw::Multiset& m : space_->Multisets()) {
      bool within = true;
      for (size_t p = 0; p < m.size(); ++p) within = within && m[p] <= left[p];
      if (!within) continue;
      std::vector<int> k = key(m);
      if (best == nullptr || k > best_key) {
        best = &m;
        best_key = std::move(k);
      }
    }
    TESSERA_CHECK(best != nullptr);  // a single instance is always placeable
    int64_t copies = std::numeric_limits<int64_t>::max();
    for (size_t p = 0; p < best->size(); ++p) {
      if ((*best)[p] > 0) copies = std::min<int64_t>(copies, left[p] / (*best)[p]);
    }
    for (size_t p = 0; p < best->size(); ++p) {
      left[p] -= static_cast<int>(copies * (*best)[p]);
      n -= copies * (*best)[p];
    }
    out.runs.push_back({*hw::PlaceMultiset(gpu, *best), copies});
    out.gpus += copies;
  }
  return out;
}

absl::StatusOr<MigPacking> MigPacker::Pack(const hw::Multiset& counts) {
  const hw::GpuModel& gpu = space_->gpu();
  if (counts.size() != gpu.profiles.size()) {
    return absl::InvalidArgumentError(fmt::format("{} instance counts for the {} profiles of {}",
                                                  counts.size(), gpu.profiles.size(), gpu.name));
  }
  for (size_t p = 0; p < counts.size(); ++p) {
    bool considered = std::find(space_->profiles().begin(), space_->profiles().end(),
                                static_cast<int>(p)) != space_->profiles().end();
    if (counts[p] < 0 || (counts[p] > 0 && !considered)) {
      return absl::InvalidArgumentError(
          fmt::format("{} instances of {}: {}", counts[p], gpu.profiles[p].name,
                      counts[p] < 0 ? "a count cannot be negative"
                                    : "the profile is not among those being packed"));
    }
  }
  MigPacking fullest = FullestFirst(counts);
  MigPacking first_fit = FirstFitDecreasing(counts);
  return fullest.gpus < first_fit.gpus ? fullest : first_fit;
}

absl::StatusOr<std::vector<hw::PlacedLayout>> PackMigInstances(const hw::LayoutSpace& space,
                                                               std::vector<int> instances) {
  const hw::GpuModel& gpu = space.gpu();
  hw::Multiset counts(gpu.profiles.size(), 0);
  for (int p : instances) {
    if (std::find(space.profiles().begin(), space.profiles().end(), p) == space.profiles().end()) {
      return absl::InvalidArgumentError(fmt::format(
          "profile index {} is not among the profiles being packed on {}", p, gpu.name));
    }
    ++counts[static_cast<size_t>(p)];
  }
  MigPacker packer(space);
  ASSIGN_OR_RETURN(MigPacking packing, packer.Pack(counts));
  return packing.Expand();
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
