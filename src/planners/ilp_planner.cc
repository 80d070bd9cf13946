// The "ilp" planner: the fewest GPUs for the simulated capacities, by an integer program solved
// with COIN-OR CBC.
//
// Per model, every MIG profile offers its best configuration (the most simulated capacity: the
// Poisson rate one instance serves with >= 99.5% of requests within the SLO, as elasticbatch
// measures it). The program (a cutting-stock model over GPU cuts):
//   y_L  >= 0 integer  GPUs cut as the maximal placeable multiset L of the MIG profiles,
//   x_mp >= 0 integer  instances of profile p serving model m (its best configuration on p),
//   min  sum_L y_L + eps * sum_mp share_p x_mp           (eps: fewer compute slices break ties)
//   s.t. sum_p cap_mp x_mp >= provisioned_m               (every model's demand is covered)
//        sum_m x_mp <= sum_L a_Lp y_L                      (no profile is used more than cut)
// Slots a GPU's cut leaves unused are dropped (a sub-multiset of a placeable one is placeable), so
// the optimum is a plan; "optimal" means optimal for these capacities (per-instance, not pooled).
// After the solve, pooling trims each model as elasticbatch does (several instances behind one
// router serve more than the sum of their single-instance capacities) and the trimmed instances are
// packed again exactly (the same program with x fixed); the fewer GPUs win.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/makers.h"
#include "internal/mig_candidates.h"
#include "internal/mip.h"
#include "internal/simulated_capacity.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"

namespace tessera::planners::internal {
namespace {

constexpr char kName[] = "ilp";
// The tie-break (compute slices) weighs at most this much in total against one GPU; so the GPU
// count is proven once the best solution is within kProvingGap of the bound.
constexpr double kTieBreakWeight = 0.45;
constexpr double kProvingGap = 0.5;
// A program whose objective is a whole number of GPUs is solved once within this of its bound.
constexpr double kIntegerGap = 0.999;

// One model's options: its best configuration per MIG profile.
struct ModelOptions {
  const workload::WorkloadModel* model = nullptr;
  double provisioned = 0;
  std::vector<Configuration> per_profile;  // capacity_rps = simulated capacity
  std::unique_ptr<CapacityCache> cache;
  std::vector<Configuration> all;  // every acceptable configuration, for pooled downsizing
};

// The cut columns and profile-supply rows of a program; returns the cut columns' indices. Supply
// row k (for space.profiles()[k]) is `supply_row0 + k`.
std::vector<int> AddCuts(Program& p, const hw::LayoutSpace& space,
                         const std::vector<hw::Multiset>& cuts, int supply_row0) {
  std::vector<int> columns;
  const std::vector<int>& profiles = space.profiles();
  for (const hw::Multiset& cut : cuts) {
    std::vector<std::pair<int, double>> entries;
    for (size_t k = 0; k < profiles.size(); ++k) {
      if (cut[profiles[k]] > 0)
        entries.push_back({supply_row0 + static_cast<int>(k), -cut[profiles[k]]});
    }
    columns.push_back(p.AddColumn(1.0, 1e30, entries));
  }
  return columns;
}

// GPUs cut as `counts[i]` x cuts[i], holding exactly `instances` (each placement takes the next
// instance of its profile; placements left over are dropped, GPUs left empty too).
std::vector<hw::PlacedLayout> LayoutsFor(const hw::GpuModel& gpu,
                                         const std::vector<hw::Multiset>& cuts,
                                         const std::vector<int>& counts,
                                         const std::vector<MigInstance>& instances) {
  std::map<int, int> remaining;  // profile -> instances still to place
  for (const MigInstance& i : instances)
    ++remaining[gpu.ProfileIndex(i.config.partition.mig_profile)];
  std::vector<hw::PlacedLayout> out;
  for (size_t c = 0; c < cuts.size(); ++c) {
    if (counts[c] == 0) continue;
    std::optional<hw::PlacedLayout> placed = hw::PlaceMultiset(gpu, cuts[c]);
    TESSERA_CHECK(placed.has_value());
    for (int n = 0; n < counts[c]; ++n) {
      hw::PlacedLayout used;
      for (const hw::Placement& p : placed->instances) {
        if (remaining[p.profile] > 0) {
          --remaining[p.profile];
          used.instances.push_back(p);
        }
      }
      if (!used.instances.empty()) out.push_back(std::move(used));
    }
  }
  for (const auto& [profile, left] : remaining) TESSERA_CHECK(left == 0);
  return out;
}

// The exact packing of fixed instances: min sum_L y_L with supply >= the instances per profile.
absl::StatusOr<std::vector<hw::PlacedLayout>> PackExactly(const hw::LayoutSpace& space,
                                                          const std::vector<hw::Multiset>& cuts,
                                                          const std::vector<MigInstance>& instances,
                                                          double time_limit_s) {
  const hw::GpuModel& gpu = space.gpu();
  const std::vector<int>& profiles = space.profiles();
  std::map<int, int> need;
  for (const MigInstance& i : instances) ++need[gpu.ProfileIndex(i.config.partition.mig_profile)];
  Program p;
  for (int profile : profiles) p.AddRow(need[profile], 1e30);
  // Supply rows hold "sum_L a_Lp y_L >= need_p": the cut columns enter with +a.
  std::vector<int> columns;
  for (const hw::Multiset& cut : cuts) {
    std::vector<std::pair<int, double>> entries;
    for (size_t k = 0; k < profiles.size(); ++k) {
      if (cut[profiles[k]] > 0) entries.push_back({static_cast<int>(k), cut[profiles[k]]});
    }
    columns.push_back(p.AddColumn(1.0, 1e30, entries));
  }
  Solution s = Solve(p, {.time_limit_s = time_limit_s, .gap = kIntegerGap});
  if (!s.found)
    return absl::InternalError("the exact packing of fixed instances found no solution");
  std::vector<int> counts;
  for (int c : columns) counts.push_back(static_cast<int>(s.x[c]));
  return LayoutsFor(gpu, cuts, counts, instances);
}

class IlpPlanner : public Planner {
 public:
  std::string name() const override { return kName; }
  double intended_rate_quantile() const override { return 0; }
  std::string description() const override {
    return "integer program (COIN-OR CBC): GPU cuts and per-model instance counts per MIG profile "
           "minimizing GPUs for simulated capacities (as elasticbatch measures them), then pooled "
           "trimming and exact re-packing; provisions the mean rate (use rate quantile 0)";
  }

  absl::StatusOr<PlanResult> Run(const PlanningInputs& in,
                                 const PlannerOptions& options) const override {
    ASSIGN_OR_RETURN(MigPlanningSpace start, StartMigPlanning(kName, in, options));
    const hw::GpuModel* gpu = start.gpu;
    const hw::LayoutSpace& space = start.space;
    PlanResult result;
    PlanSummary& summary = result.summary;
    summary.planner = name();
    summary.notes.push_back(fmt::format(
        "per model and MIG profile the configuration with the most simulated capacity (>= {}% "
        "within SLO, <= {} MPS procs); provisioned at quantile {} (quantile 0 is intended)",
        100 * kTargetAttainment, kMaxProcs, options.rate_quantile));

    std::vector<ModelOptions> models;
    std::vector<std::string> problems;
    for (const workload::WorkloadModel& m : in.workload->models) {
      ModelOptions o;
      o.model = &m;
      o.provisioned = InflatedRate(m.demand.rate_rps, options);
      o.cache = std::make_unique<CapacityCache>(in, *gpu, m);
      o.all = Acceptable(in, space, m, m.input.MaxSize());
      if (m.input.kind != workload::InputDistribution::Kind::kFixed) {
        summary.notes.push_back(fmt::format("{}: inputs vary; planned at the largest size {}",
                                            m.model, m.input.MaxSize()));
      }
      ASSIGN_OR_RETURN(o.per_profile, BestPerProfile(o.all, *o.cache));
      if (o.per_profile.empty()) {
        problems.push_back(fmt::format(
            "{}: no profiled MIG configuration (input {}, <= {} procs) serves any load within "
            "SLO {:.4g} ms",
            m.model, m.input.MaxSize(), kMaxProcs, m.slo_ms));
      }
      models.push_back(std::move(o));
    }
    if (!problems.empty()) {
      return MarkInfeasible(std::move(result), fmt::format("{}", fmt::join(problems, "; ")));
    }

    // The program.
    const std::vector<int>& profiles = space.profiles();
    std::vector<hw::Multiset> cuts = MaximalMultisets(space);
    const CostFn share = CostVariants(*gpu)[1].second;
    double total_share_bound = 0;
    Program p;
    for (const ModelOptions& o : models) p.AddRow(o.provisioned, 1e30);
    int supply_row0 = static_cast<int>(models.size());
    for (size_t k = 0; k < profiles.size(); ++k) p.AddRow(-1e30, 0);
    std::vector<int> cut_columns = AddCuts(p, space, cuts, supply_row0);
    struct XColumn {
      int column, model;
      Configuration config;
    };
    std::vector<XColumn> xs;
    for (size_t m = 0; m < models.size(); ++m) {
      for (const Configuration& c : models[m].per_profile) {
        int k = static_cast<int>(std::find(profiles.begin(), profiles.end(),
                                           gpu->ProfileIndex(c.partition.mig_profile)) -
                                 profiles.begin());
        // No model needs more instances of one profile than its demand over their capacity.
        double most = std::ceil(models[m].provisioned / c.capacity_rps) + 1;
        total_share_bound += most * share(c);
        xs.push_back({-1, static_cast<int>(m), c});
        xs.back().column = p.AddColumn(
            share(c), most, {{static_cast<int>(m), c.capacity_rps}, {supply_row0 + k, 1.0}});
      }
    }
    // Scale the slice tie-break so that it never outweighs one GPU.
    double eps = kTieBreakWeight / std::max(total_share_bound, 1.0);
    for (const XColumn& x : xs) p.cost[x.column] *= eps;

    Solution s = Solve(p, {.time_limit_s = options.time_limit_s, .gap = kProvingGap});
    if (!s.found) {
      return MarkInfeasible(
          std::move(result),
          s.infeasible ? "the integer program is infeasible (a model's demand cannot be covered)"
                       : fmt::format("no integer solution found within the time limit of {} s",
                                     options.time_limit_s));
    }
    std::vector<std::vector<Configuration>> chosen(models.size());
    for (const XColumn& x : xs) {
      for (int n = 0; n < static_cast<int>(s.x[x.column]); ++n) chosen[x.model].push_back(x.config);
    }
    std::vector<int> counts;
    int solved_gpus = 0;
    for (int c : cut_columns) {
      counts.push_back(static_cast<int>(s.x[c]));
      solved_gpus += counts.back();
    }
    std::vector<MigInstance> instances = Instances(models, chosen);
    std::vector<hw::PlacedLayout> layouts = LayoutsFor(*gpu, cuts, counts, instances);
    // Any solution's objective is its GPUs plus at most kTieBreakWeight, and at least the bound.
    int fewest = static_cast<int>(std::ceil(s.bound - kTieBreakWeight - 1e-9));
    bool proven = s.optimal || fewest >= solved_gpus;
    summary.termination = proven ? Termination::kOptimal : Termination::kFeasible;
    summary.gap = proven ? 0 : static_cast<double>(solved_gpus - fewest) / solved_gpus;
    summary.notes.push_back(fmt::format(
        "integer program: {} cut columns, {} instance columns; {} GPUs, {}", cut_columns.size(),
        xs.size(), solved_gpus,
        proven ? "proven the fewest for these capacities"
               : fmt::format("stopped at the time limit; no plan for these capacities has fewer "
                             "than {} (solver bound {:.3f})",
                             fewest, s.bound)));

    // Pooling, then the exact packing of what is left.
    int trimmed = 0;
    std::vector<std::vector<Configuration>> pooled = chosen;
    for (size_t m = 0; m < models.size(); ++m) {
      ASSIGN_OR_RETURN(int t, Trim(in, *gpu, share, models[m], pooled[m]));
      trimmed += t;
    }
    if (trimmed > 0) {
      std::vector<MigInstance> fewer = Instances(models, pooled);
      ASSIGN_OR_RETURN(std::vector<hw::PlacedLayout> repacked,
                       PackExactly(space, cuts, fewer, options.time_limit_s));
      summary.notes.push_back(
          fmt::format("pooling dropped or shrank {} instances; packed again exactly: {} GPUs",
                      trimmed, repacked.size()));
      if (repacked.size() < layouts.size()) {
        layouts = std::move(repacked);
        instances = std::move(fewer);
        chosen = std::move(pooled);
        // The solver's optimality was for per-instance capacities; pooling went beyond it.
        summary.termination = Termination::kHeuristic;
      }
    }
    for (size_t m = 0; m < models.size(); ++m) {
      ModelPlanSummary ms{
          models[m].model->model, models[m].model->demand.rate_rps, models[m].provisioned, 0, {}};
      std::map<std::string, int> n;
      for (const Configuration& c : chosen[m]) {
        ms.capacity_rps += c.capacity_rps;
        ++n[ConfigText(c)];
      }
      for (const auto& [text, count] : n)
        ms.configurations.push_back(fmt::format("{} x{}", text, count));
      summary.models.push_back(std::move(ms));
    }
    summary.gpus = static_cast<int>(layouts.size());
    if (summary.gpus > options.max_gpus) {
      return MarkInfeasible(std::move(result), fmt::format("needs {} GPUs, more than max_gpus = {}",
                                                           summary.gpus, options.max_gpus));
    }
    summary.feasible = true;
    summary.reason = fmt::format("{} MIG instances on {} GPUs ({})", instances.size(), summary.gpus,
                                 summary.termination == Termination::kFeasible
                                     ? fmt::format("time limit, gap {:.1f}%", 100 * summary.gap)
                                     : TerminationName(summary.termination));
    std::string plan_name =
        in.workload->name.empty() ? kName : fmt::format("{}-{}", in.workload->name, kName);
    result.plan = PlanFromLayouts(*gpu, layouts, instances, plan_name, kName);
    return result;
  }

 private:
  static std::vector<MigInstance> Instances(const std::vector<ModelOptions>& models,
                                            const std::vector<std::vector<Configuration>>& chosen) {
    std::vector<MigInstance> out;
    for (size_t m = 0; m < models.size(); ++m) {
      for (const Configuration& c : chosen[m]) out.push_back({models[m].model->model, c});
    }
    return out;
  }

  // Drops a model's smallest instances while the group, simulated together, still serves its
  // provisioned rate; then shrinks the smallest one to a cheaper profile when the group still does.
  static absl::StatusOr<int> Trim(const PlanningInputs& in, const hw::GpuModel& gpu,
                                  const CostFn& share, ModelOptions& o,
                                  std::vector<Configuration>& group) {
    std::stable_sort(group.begin(), group.end(),
                     [&](const auto& a, const auto& b) { return share(a) > share(b); });
    int changed = 0;
    while (group.size() > 1) {
      std::vector<Configuration> fewer(group.begin(), group.end() - 1);
      ASSIGN_OR_RETURN(bool ok, GroupMeets(in, gpu.name, *o.model, fewer,
                                           kPooledMargin * o.provisioned, kPooledSeeds));
      if (!ok) break;
      group = std::move(fewer);
      ++changed;
    }
    if (group.size() > 1) {
      std::vector<Configuration> cheaper;
      for (const Configuration& c : o.per_profile) {
        if (share(c) < share(group.back()) - 1e-9) cheaper.push_back(c);
      }
      std::stable_sort(cheaper.begin(), cheaper.end(),
                       [&](const auto& a, const auto& b) { return share(a) < share(b); });
      for (const Configuration& c : cheaper) {
        std::vector<Configuration> smaller = group;
        smaller.back() = c;
        ASSIGN_OR_RETURN(bool ok, GroupMeets(in, gpu.name, *o.model, smaller,
                                             kPooledMargin * o.provisioned, kPooledSeeds));
        if (!ok) continue;
        group = std::move(smaller);
        ++changed;
        break;
      }
    }
    return changed;
  }
};

}  // namespace

std::unique_ptr<Planner> MakeIlpPlanner() { return std::make_unique<IlpPlanner>(); }

}  // namespace tessera::planners::internal
