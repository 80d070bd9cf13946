// The "static-mig" planner: every GPU cut the same way.
//
// Each maximal multiset of the GPU's MIG profiles (placeable, and no profile can be added) is tried
// as the uniform cut. For a cut, GPUs are added one at a time and each of their instances goes to
// the model that still needs the most instances of that kind (uncovered demand / the instance's
// capacity for the model, with the model's best configuration on that profile: the most throughput
// among profiled batches and procs <= 3 with 2 x latency(b) <= SLO), until every model's
// provisioned rate is covered. The cut with the fewest GPUs wins (ties: fewer idle instances).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "fmt/core.h"
#include "internal/makers.h"
#include "tessera/base/status.h"
#include "tessera/hw/layout.h"
#include "tessera/planners/common.h"

namespace tessera::planners::internal {
namespace {

constexpr double kContextMib = 550;  // plan::ValidationContext's CUDA context per process
constexpr int kMaxProcs = 3;
constexpr double kCovered = 1e-9;  // rps left uncovered that counts as covered

// A model's best configuration on one MIG profile.
struct Option {
  int batch = 0;
  int procs = 0;
  double latency_ms = 0;
  double capacity_rps = 0;
};

// options[m][profile index]: model m's best configuration there, if any.
using OptionTable = std::vector<std::vector<std::optional<Option>>>;

bool MemoryFits(const perf::ProfileRow& row, const hw::MigProfile& profile, int procs) {
  if (!row.memory_mib || !profile.memory_mib) return true;
  return procs * (*row.memory_mib + kContextMib) <= static_cast<double>(*profile.memory_mib);
}

std::optional<Option> BestOption(const perf::ProfileTable& profiles, const std::string& gpu,
                                 const hw::MigProfile& profile, const workload::WorkloadModel& m) {
  hw::Partition partition = hw::Partition::Mig(profile.name);
  std::set<std::pair<int, int>> candidates;  // (procs, batch)
  for (const perf::ProfileRow* row : profiles.RowsFor(gpu, m.model)) {
    if (row->key.partition == partition && row->key.procs <= kMaxProcs)
      candidates.insert({row->key.procs, row->key.batch});
  }
  std::optional<Option> best;
  for (auto [procs, batch] : candidates) {
    absl::StatusOr<perf::ProfileRow> row =
        profiles.Lookup({gpu, partition, m.model, m.input.MaxSize(), batch, procs});
    if (!row.ok() || 2 * row->latency_ms > m.slo_ms || !MemoryFits(*row, profile, procs)) continue;
    double capacity = procs * batch * 1000.0 / row->latency_ms;
    if (!best || capacity > best->capacity_rps)
      best = Option{batch, procs, row->latency_ms, capacity};
  }
  return best;
}

OptionTable BuildOptions(const PlanningInputs& in, const hw::LayoutSpace& space) {
  const hw::GpuModel& gpu = space.gpu();
  OptionTable table(in.workload->models.size(),
                    std::vector<std::optional<Option>>(gpu.profiles.size()));
  for (size_t m = 0; m < table.size(); ++m) {
    for (int p : space.profiles()) {
      table[m][p] = BestOption(*in.profiles, gpu.name, gpu.profiles[p], in.workload->models[m]);
    }
  }
  return table;
}

// One uniform cut and what each GPU's instances serve (model index, or -1 for idle).
struct CutPlan {
  hw::Multiset cut;
  hw::PlacedLayout layout;
  std::vector<std::vector<int>> owners;  // per GPU, per instance of `layout`
  int unused = 0;
  int gpus() const { return static_cast<int>(owners.size()); }
};

// The model that needs the most instances of `profile` to cover what is left, or -1.
int PickModel(const OptionTable& options, const std::vector<double>& uncovered, int profile) {
  int best = -1;
  double best_need = 0;
  for (size_t m = 0; m < options.size(); ++m) {
    const std::optional<Option>& o = options[m][profile];
    if (!o || uncovered[m] <= kCovered) continue;
    double need = uncovered[m] / o->capacity_rps;
    if (best < 0 || need > best_need) best = static_cast<int>(m), best_need = need;
  }
  return best;
}

// Fills GPUs cut as `cut` until `provisioned` is covered; nullopt when some model cannot run on the
// cut or more than `max_gpus` GPUs would be needed.
std::optional<CutPlan> TryCut(const hw::GpuModel& gpu, const hw::Multiset& cut,
                              const OptionTable& options, const std::vector<double>& provisioned,
                              int max_gpus) {
  std::optional<hw::PlacedLayout> layout = hw::PlaceMultiset(gpu, cut);
  if (!layout) return std::nullopt;
  for (const auto& per_profile : options) {
    bool any = false;
    for (size_t p = 0; p < cut.size(); ++p) any = any || (cut[p] > 0 && per_profile[p]);
    if (!any) return std::nullopt;
  }
  std::vector<int> order(layout->instances.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return gpu.profiles[layout->instances[a].profile].compute_slices >
           gpu.profiles[layout->instances[b].profile].compute_slices;
  });
  CutPlan plan{cut, *layout, {}, 0};
  std::vector<double> uncovered = provisioned;
  auto done = [&] {
    return std::all_of(uncovered.begin(), uncovered.end(), [](double u) { return u <= kCovered; });
  };
  while (!done()) {
    if (plan.gpus() >= max_gpus) return std::nullopt;
    std::vector<int>& owners = plan.owners.emplace_back(order.size(), -1);
    for (int i : order) {
      int profile = layout->instances[i].profile;
      int m = PickModel(options, uncovered, profile);
      if (m < 0) continue;
      owners[i] = m;
      uncovered[m] -= options[m][profile]->capacity_rps;
    }
  }
  for (const auto& owners : plan.owners)
    plan.unused += std::count(owners.begin(), owners.end(), -1);
  return plan;
}

bool Better(const CutPlan& a, const std::optional<CutPlan>& b) {
  return !b || std::pair(a.gpus(), a.unused) < std::pair(b->gpus(), b->unused);
}

bool HasMigRows(const perf::ProfileTable& profiles, const std::string& gpu) {
  for (const auto& [key, row] : profiles.rows()) {
    if (key.gpu == gpu && key.partition.kind == hw::PartitionKind::kMig) return true;
  }
  return false;
}

// Why some model cannot run on any considered profile, or "".
std::string UnservableModel(const PlanningInputs& in, const hw::LayoutSpace& space,
                            const OptionTable& options) {
  for (size_t m = 0; m < options.size(); ++m) {
    bool any = std::any_of(space.profiles().begin(), space.profiles().end(),
                           [&](int p) { return options[m][p].has_value(); });
    const workload::WorkloadModel& w = in.workload->models[m];
    if (!any) {
      return fmt::format(
          "{}: no profiled configuration on {}'s MIG profiles meets 2 x latency <= "
          "SLO {:g} ms",
          w.model, space.gpu().name, w.slo_ms);
    }
  }
  return "";
}

void BuildPlan(const PlanningInputs& in, const hw::GpuModel& gpu, const OptionTable& options,
               const std::vector<double>& provisioned, const CutPlan& cut, PlanResult& result) {
  const auto& models = in.workload->models;
  std::vector<std::map<std::string, int>> configs(models.size());
  for (size_t m = 0; m < models.size(); ++m) {
    result.summary.models.push_back(
        {models[m].model, models[m].demand.rate_rps, provisioned[m], 0, {}});
  }
  for (int g = 0; g < cut.gpus(); ++g) {
    plan::PlanGpu plan_gpu{g, "", gpu.name, {}};
    for (size_t i = 0; i < cut.layout.instances.size(); ++i) {
      const hw::Placement& placement = cut.layout.instances[i];
      const std::string& profile = gpu.profiles[placement.profile].name;
      plan::PlanPartition& part = plan_gpu.partitions.emplace_back(
          plan::PlanPartition{hw::Partition::Mig(profile), placement.start, {}});
      int m = cut.owners[g][i];
      if (m < 0) continue;
      const Option& o = *options[m][placement.profile];
      part.assignments.push_back(
          {models[m].model, 0, models[m].input.MaxSize(), o.batch, o.procs, 1.0});
      result.summary.models[m].capacity_rps += o.capacity_rps;
      ++configs[m][fmt::format("{} batch {} procs {}", profile, o.batch, o.procs)];
    }
    result.plan.gpus.push_back(std::move(plan_gpu));
  }
  for (size_t m = 0; m < models.size(); ++m) {
    for (const auto& [config, count] : configs[m])
      result.summary.models[m].configurations.push_back(fmt::format("{} x{}", config, count));
  }
  result.summary.gpus = cut.gpus();
}

class StaticMigPlanner : public Planner {
 public:
  std::string name() const override { return "static-mig"; }
  std::string description() const override {
    return "every GPU cut the same way: each maximal multiset of MIG profiles tried as the uniform "
           "cut, instances given greedily to the model needing the most of them (best batch and "
           "procs <= 3 per profile with 2 x latency <= SLO) until provisioned rates are covered; "
           "the cut with the fewest GPUs (then fewest idle instances) wins";
  }

  absl::StatusOr<PlanResult> Run(const PlanningInputs& in,
                                 const PlannerOptions& options) const override {
    TESSERA_CHECK(in.catalog && in.profiles && in.workload && in.registry);
    RETURN_IF_ERROR(options.Validate());
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
    PlanResult result;
    result.plan = {in.workload->name + "-static-mig", name(), {}};
    result.summary.planner = name();
    if (gpu->compute_slices == 0 || !HasMigRows(*in.profiles, gpu->name)) {
      return MarkInfeasible(std::move(result),
                            fmt::format("no MIG profiles profiled for {}", gpu->name));
    }
    ASSIGN_OR_RETURN(hw::LayoutSpace space, MigSpace(*gpu, options));
    OptionTable table = BuildOptions(in, space);
    if (std::string why = UnservableModel(in, space, table); !why.empty())
      return MarkInfeasible(std::move(result), why);
    std::vector<double> provisioned;
    for (const workload::WorkloadModel& m : in.workload->models) {
      // A model with no demand still gets an instance (every workload model must be served).
      provisioned.push_back(std::max(InflatedRate(m.demand.rate_rps, options), 1e-6));
    }
    std::optional<CutPlan> best;
    int tried = 0;
    for (const hw::Multiset& cut : space.Multisets()) {
      if (!space.IsMaximal(cut)) continue;
      ++tried;
      std::optional<CutPlan> plan = TryCut(*gpu, cut, table, provisioned, options.max_gpus);
      if (plan && Better(*plan, best)) best = std::move(plan);
    }
    if (!best) {
      return MarkInfeasible(std::move(result),
                            fmt::format("no uniform cut of {} covers the demand within max_gpus {} "
                                        "({} maximal cuts tried)",
                                        gpu->name, options.max_gpus, tried));
    }
    BuildPlan(in, *gpu, table, provisioned, *best, result);
    result.summary.feasible = true;
    result.summary.termination = Termination::kHeuristic;
    result.summary.reason = "heuristic: best uniform cut found";
    result.summary.notes.push_back(description());
    result.summary.notes.push_back(
        fmt::format("uniform cut {} {} on every GPU, best of {} maximal cuts; {} instances idle",
                    hw::DescribeMultiset(*gpu, best->cut), hw::DrawLayout(*gpu, best->layout),
                    tried, best->unused));
    return result;
  }
};

}  // namespace

std::unique_ptr<Planner> MakeStaticMigPlanner() { return std::make_unique<StaticMigPlanner>(); }

}  // namespace tessera::planners::internal
