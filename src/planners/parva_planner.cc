// The "parva" planner: ParvaGPU's configurator and allocator (Lee et al., "ParvaGPU: Efficient
// Spatial GPU Sharing for Large-Scale DNN Inference in Cloud Environments", SC'24; artifact
// MunQ-Lee/ParvaGPU_SC24, data in data/datasets/parvagpu-a100-mig-mps).
//
// Per model, among the profiled MIG configurations (partition, batch, MPS procs) whose batch
// latency is below 0.9 x SLO / 2 with at most 3 processes (ParvaGPU's MAX_NUM_PROC), the one with
// the most throughput per GPC serves floor(demand / capacity) instances; the rest of the demand
// goes to one right-sized instance (the fewest GPCs whose capacity covers it). All instances are
// then packed onto as few GPUs as possible with legal MIG placements (PackMigInstances: the better
// of first-fit decreasing and filling each GPU with the fullest placeable multiset left).
// ParvaGPU's own allocator gets there differently (one 3g per GPU, then splitting lightly used
// GPUs' segments into 2g/1g ones), and reads latency from its rounded whole-ms column; on its six
// scenarios both give the same GPU counts (2, 3, 5, 7, 13, 17 at rate quantile 0).
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/makers.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"

namespace tessera::planners::internal {
namespace {

constexpr int kMaxProcs = 3;              // ParvaGPU's MAX_NUM_PROC
constexpr double kSloBudgetShare = 0.45;  // latency < 0.9 x SLO / 2

// One MIG instance to create: which model and configuration it runs.
using Instance = MigInstance;

// The acceptable configurations of one model and what was decided for it.
struct ModelChoice {
  std::vector<Configuration> configs;  // acceptable, restricted to the space's profiles
  std::vector<Configuration> chosen;   // one entry per instance
};

int Slices(const hw::GpuModel& gpu, const Configuration& c) {
  return gpu.profiles[gpu.ProfileIndex(c.partition.mig_profile)].compute_slices;
}

std::string ConfigText(const Configuration& c) {
  return fmt::format("{} batch {} procs {}", c.partition.ToString(), c.batch, c.procs);
}

// ParvaGPU's rule, restricted to MIG partitions of `space`.
std::vector<Configuration> Acceptable(const PlanningInputs& in, const hw::LayoutSpace& space,
                                      const workload::WorkloadModel& m, int input) {
  const hw::GpuModel& gpu = space.gpu();
  double limit_ms = kSloBudgetShare * m.slo_ms;
  std::vector<Configuration> all = Configurations(*in.profiles, gpu.name, m.model, input,
                                                  [&](double ms, int) { return ms < limit_ms; });
  std::vector<Configuration> out;
  for (Configuration& c : all) {
    if (c.partition.kind != hw::PartitionKind::kMig || c.procs > kMaxProcs) continue;
    int p = gpu.ProfileIndex(c.partition.mig_profile);
    if (p < 0) continue;
    const std::vector<int>& allowed = space.profiles();
    if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) continue;
    out.push_back(std::move(c));
  }
  return out;
}

// The most throughput per GPC; ties: fewer GPCs, then fewer procs, then smaller batch.
const Configuration& MostPerGpc(const hw::GpuModel& gpu, const std::vector<Configuration>& cs) {
  auto key = [&](const Configuration& c) {
    return std::make_tuple(-c.capacity_rps / Slices(gpu, c), Slices(gpu, c), c.procs, c.batch);
  };
  return *std::min_element(cs.begin(), cs.end(),
                           [&](const auto& a, const auto& b) { return key(a) < key(b); });
}

// The fewest GPCs covering `rate_rps`; ties: the least capacity that covers, then fewer procs.
// REQUIRES: some configuration covers it.
const Configuration& RightSized(const hw::GpuModel& gpu, const std::vector<Configuration>& cs,
                                double rate_rps) {
  const Configuration* best = nullptr;
  auto key = [&](const Configuration& c) {
    return std::make_tuple(Slices(gpu, c), c.capacity_rps, c.procs, c.batch);
  };
  for (const Configuration& c : cs) {
    if (c.capacity_rps < rate_rps) continue;
    if (best == nullptr || key(c) < key(*best)) best = &c;
  }
  TESSERA_CHECK(best != nullptr);
  return *best;
}

// ⌊demand / capacity⌋ instances of the best configuration plus one right-sized instance for the
// rest (one right-sized instance when the demand is 0, so that every model is served).
std::vector<Configuration> Provision(const hw::GpuModel& gpu, const std::vector<Configuration>& cs,
                                     double demand_rps) {
  const Configuration& best = MostPerGpc(gpu, cs);
  int64_t full = static_cast<int64_t>(std::floor(demand_rps / best.capacity_rps));
  std::vector<Configuration> out(static_cast<size_t>(full), best);
  double rest = demand_rps - full * best.capacity_rps;
  if (rest > 1e-9 || out.empty()) out.push_back(RightSized(gpu, cs, std::max(rest, 0.0)));
  return out;
}

ModelPlanSummary Summarize(const workload::WorkloadModel& m, double provisioned,
                           const std::vector<Configuration>& chosen) {
  ModelPlanSummary s{m.model, m.demand.rate_rps, provisioned, 0, {}};
  std::map<std::string, int> counts;  // in first-use order below
  std::vector<std::string> order;
  for (const Configuration& c : chosen) {
    s.capacity_rps += c.capacity_rps;
    std::string text = ConfigText(c);
    if (counts[text]++ == 0) order.push_back(text);
  }
  for (const std::string& text : order) {
    s.configurations.push_back(fmt::format("{} x{}", text, counts[text]));
  }
  return s;
}

class ParvaPlanner : public Planner {
 public:
  std::string name() const override { return "parva"; }
  double intended_rate_quantile() const override { return 0; }
  std::string description() const override {
    return "ParvaGPU (SC'24): per model the MIG instance x batch x MPS procs (<= 3) with the most "
           "throughput per GPC among those with profiled latency < 0.9 x SLO / 2, replicated, plus "
           "one right-sized instance for the remainder; instances packed onto GPUs first-fit "
           "decreasing with exact MIG placements";
  }

  absl::StatusOr<PlanResult> Run(const PlanningInputs& in,
                                 const PlannerOptions& options) const override {
    RETURN_IF_ERROR(options.Validate());
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
    if (gpu->compute_slices == 0) {
      return absl::InvalidArgumentError(
          fmt::format("planner parva: {} has no MIG; ParvaGPU plans MIG instances", gpu->name));
    }
    ASSIGN_OR_RETURN(hw::LayoutSpace space, MigSpace(*gpu, options));
    PlanSummary summary;
    summary.planner = name();
    summary.notes.push_back(fmt::format(
        "rule: profiled latency < 0.9 x SLO / 2, at most {} MPS procs; demand provisioned at "
        "quantile {} of Poisson counts over {} s (ParvaGPU's published counts: quantile 0)",
        kMaxProcs, options.rate_quantile, options.window_s));
    std::vector<Instance> instances;
    std::vector<std::string> problems;
    for (const workload::WorkloadModel& m : in.workload->models) {
      int input = m.input.MaxSize();
      std::vector<Configuration> configs = Acceptable(in, space, m, input);
      if (configs.empty()) {
        problems.push_back(fmt::format(
            "{}: no profiled MIG configuration on {} (input {}, <= {} procs) has latency below "
            "0.9 x SLO / 2 = {:.4g} ms",
            m.model, gpu->name, input, kMaxProcs, kSloBudgetShare * m.slo_ms));
        continue;
      }
      double provisioned = InflatedRate(m.demand.rate_rps, options);
      std::vector<Configuration> chosen = Provision(*gpu, configs, provisioned);
      summary.models.push_back(Summarize(m, provisioned, chosen));
      for (Configuration& c : chosen) instances.push_back({m.model, std::move(c)});
    }
    if (!problems.empty())
      return MarkInfeasible(PlanResult{plan::Plan{}, std::move(summary)},
                            fmt::format("{}", fmt::join(problems, "; ")));
    std::vector<int> profiles;
    for (const Instance& i : instances) {
      profiles.push_back(gpu->ProfileIndex(i.config.partition.mig_profile));
    }
    ASSIGN_OR_RETURN(std::vector<hw::PlacedLayout> layouts, PackMigInstances(space, profiles));
    summary.gpus = static_cast<int>(layouts.size());
    if (summary.gpus > options.max_gpus) {
      return MarkInfeasible(
          PlanResult{plan::Plan{}, std::move(summary)},
          fmt::format("needs {} GPUs, more than max_gpus = {}", summary.gpus, options.max_gpus));
    }
    summary.feasible = true;
    summary.reason =
        fmt::format("{} MIG instances packed onto {} GPUs", instances.size(), summary.gpus);
    std::string plan_name = in.workload->name.empty() ? "parva" : in.workload->name + "-parva";
    return PlanResult{PlanFromLayouts(*gpu, layouts, instances, plan_name, "parva"),
                      std::move(summary)};
  }
};

}  // namespace

std::unique_ptr<Planner> MakeParvaPlanner() { return std::make_unique<ParvaPlanner>(); }

}  // namespace tessera::planners::internal
