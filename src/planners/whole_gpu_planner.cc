// The "whole-gpu" planner: MIG disabled, Nexus-style squishy bin packing on whole GPUs.
//
// Per model: the batch is the largest profiled batch b (procs 1) with 2 x latency(b) <= SLO on the
// whole-GPU stand-in; ⌊provisioned / capacity⌋ GPUs run it alone (saturated) and the remainder (the
// residual) is merged with other models' residuals onto shared GPUs by occupancy (residual /
// capacity), first-fit decreasing, while the summed occupancy stays <= 1 and every co-located model
// still meets SLO >= 2 x its latency + the other models' batch latencies (a round of the others
// runs between two of its batches). A shared GPU is one partition whose assignments take turns with
// share = occupancy / summed occupancy.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "fmt/core.h"
#include "internal/makers.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"

namespace tessera::planners::internal {
namespace {

constexpr double kContextMib = 550;  // plan::ValidationContext's CUDA context per process
constexpr double kEps = 1e-9;

// The partition that stands in for the whole GPU, and why.
struct StandIn {
  hw::Partition partition;
  std::optional<int> start;  // MIG only
  std::optional<double> memory_mib;
  std::string note;
};

bool Profiled(const perf::ProfileTable& profiles, const std::string& gpu,
              const hw::Partition& partition) {
  for (const auto& [key, row] : profiles.rows()) {
    if (key.gpu == gpu && key.partition == partition) return true;
  }
  return false;
}

// `sm:<all SMs>` when profiled, else the largest profiled MIG profile (by compute, then memory).
std::optional<StandIn> FindStandIn(const hw::GpuModel& gpu, const perf::ProfileTable& profiles) {
  std::optional<double> gpu_mib;
  if (gpu.memory_mib) gpu_mib = static_cast<double>(*gpu.memory_mib);
  if (gpu.sms && Profiled(profiles, gpu.name, hw::Partition::Sm(*gpu.sms))) {
    return StandIn{hw::Partition::Sm(*gpu.sms), std::nullopt, gpu_mib,
                   fmt::format("sm:{} (all SMs) stands in for the whole {}", *gpu.sms, gpu.name)};
  }
  const hw::MigProfile* best = nullptr;
  for (const hw::MigProfile& p : gpu.profiles) {
    if (p.is_media_extension() || p.starts.empty()) continue;
    if (!Profiled(profiles, gpu.name, hw::Partition::Mig(p.name))) continue;
    if (!best || std::pair(p.compute_slices, p.memory_slices) >
                     std::pair(best->compute_slices, best->memory_slices)) {
      best = &p;
    }
  }
  if (!best) return std::nullopt;
  std::optional<double> mib;
  if (best->memory_mib) mib = static_cast<double>(*best->memory_mib);
  std::string sms = best->sms ? fmt::format(" ({} SMs)", *best->sms) : "";
  std::string all = gpu.sms ? fmt::format(" ({} SMs)", *gpu.sms) : "";
  std::string note =
      fmt::format("{}{} stands in for the whole {}{}", best->name, sms, gpu.name, all);
  if (best->sms && gpu.sms && *gpu.sms > *best->sms) {
    double pct = 100.0 * (*gpu.sms - *best->sms) / *best->sms;  // the missing SMs' share
    note += fmt::format(": optimistic for MIG-disabled serving by nothing, pessimistic by ~{:.0f}%",
                        pct);
  }
  return StandIn{hw::Partition::Mig(best->name), best->starts.front(), mib, note};
}

// What one model gets: its batch on the stand-in and how its load splits.
struct ModelChoice {
  const workload::WorkloadModel* model = nullptr;
  int input = 0;
  int batch = 0;
  double latency_ms = 0;
  double capacity_rps = 0;
  double provisioned_rps = 0;
  int saturated = 0;
  double residual_rps = 0;
  double occupancy() const { return residual_rps / capacity_rps; }
};

// The largest profiled batch (procs 1) with 2 x latency <= SLO whose memory fits, or a reason.
std::optional<ModelChoice> ChooseBatch(const PlanningInputs& in, const std::string& gpu,
                                       const StandIn& s, const workload::WorkloadModel& m,
                                       std::string* reason) {
  ModelChoice c{&m, m.input.MaxSize()};
  std::set<int> batches;
  for (const perf::ProfileRow* row : in.profiles->RowsFor(gpu, m.model)) {
    if (row->key.partition == s.partition && row->key.procs == 1) batches.insert(row->key.batch);
  }
  std::optional<double> fastest;
  for (int b : batches) {
    absl::StatusOr<perf::ProfileRow> row =
        in.profiles->Lookup({gpu, s.partition, m.model, c.input, b, 1});
    if (!row.ok()) continue;
    if (!fastest || row->latency_ms < *fastest) fastest = row->latency_ms;
    bool fits =
        !row->memory_mib || !s.memory_mib || *row->memory_mib + kContextMib <= *s.memory_mib;
    if (2 * row->latency_ms > m.slo_ms || !fits || b < c.batch) continue;
    c.batch = b;
    c.latency_ms = row->latency_ms;
  }
  if (c.batch == 0) {
    *reason = fastest ? fmt::format(
                            "{}: no batch on {} meets 2 x latency <= SLO {:g} ms (fastest "
                            "batch takes {:g} ms)",
                            m.model, s.partition.ToString(), m.slo_ms, *fastest)
                      : fmt::format("{}: not profiled on {} at input {}", m.model,
                                    s.partition.ToString(), c.input);
    return std::nullopt;
  }
  c.capacity_rps = c.batch * 1000.0 / c.latency_ms;
  return c;
}

void SplitLoad(ModelChoice& c, const PlannerOptions& options) {
  c.provisioned_rps = InflatedRate(c.model->demand.rate_rps, options);
  c.saturated = static_cast<int>(std::floor(c.provisioned_rps / c.capacity_rps + kEps));
  c.residual_rps = std::max(0.0, c.provisioned_rps - c.saturated * c.capacity_rps);
  if (c.residual_rps / c.capacity_rps < kEps) c.residual_rps = 0;
  // A model with no demand still shares a GPU (every workload model must be served).
  if (c.saturated == 0 && c.residual_rps == 0) c.residual_rps = kEps * c.capacity_rps;
}

// True when every model of `members` meets SLO >= 2 x latency + the others' batch latencies, and
// their occupancies sum to <= 1.
bool SharedGpuHolds(const std::vector<const ModelChoice*>& members) {
  double occupancy = 0, round_ms = 0;
  for (const ModelChoice* c : members) {
    occupancy += c->occupancy();
    round_ms += c->latency_ms;
  }
  if (occupancy > 1 + kEps) return false;
  return std::all_of(members.begin(), members.end(), [&](const ModelChoice* c) {
    return c->model->slo_ms >= c->latency_ms + round_ms - kEps;
  });
}

// First-fit decreasing by occupancy of the residuals onto shared GPUs.
std::vector<std::vector<const ModelChoice*>> MergeResiduals(const std::vector<ModelChoice>& all) {
  std::vector<const ModelChoice*> residuals;
  for (const ModelChoice& c : all) {
    if (c.residual_rps > 0) residuals.push_back(&c);
  }
  std::stable_sort(residuals.begin(), residuals.end(),
                   [](auto* a, auto* b) { return a->occupancy() > b->occupancy(); });
  std::vector<std::vector<const ModelChoice*>> shared;
  for (const ModelChoice* c : residuals) {
    bool placed = false;
    for (auto& gpu : shared) {
      gpu.push_back(c);
      if (SharedGpuHolds(gpu)) {
        placed = true;
        break;
      }
      gpu.pop_back();
    }
    if (!placed) shared.push_back({c});
  }
  return shared;
}

plan::Assignment AssignmentOf(const ModelChoice& c, double share) {
  return {c.model->model, 0, c.input, c.batch, 1, share};
}

plan::PlanGpu NewGpu(int index, const std::string& gpu, const StandIn& s) {
  return {index, "", gpu, {{s.partition, s.start, {}}}};
}

std::string Config(const StandIn& s, const ModelChoice& c) {
  return fmt::format("{} batch {} procs 1", s.partition.ToString(), c.batch);
}

// Adds the saturated and shared GPUs to `result` and fills the per-model summaries.
void BuildPlan(const std::string& gpu, const StandIn& s, const std::vector<ModelChoice>& choices,
               PlanResult& result) {
  std::map<const ModelChoice*, ModelPlanSummary> summaries;
  for (const ModelChoice& c : choices) {
    ModelPlanSummary& m = summaries[&c];
    m = {c.model->model,
         c.model->demand.rate_rps,
         c.provisioned_rps,
         c.saturated * c.capacity_rps,
         {}};
    for (int i = 0; i < c.saturated; ++i) {
      result.plan.gpus.push_back(NewGpu(result.plan.gpus.size(), gpu, s));
      result.plan.gpus.back().partitions[0].assignments.push_back(AssignmentOf(c, 1.0));
    }
    if (c.saturated > 0)
      m.configurations.push_back(fmt::format("{} x{}", Config(s, c), c.saturated));
  }
  for (const auto& members : MergeResiduals(choices)) {
    double occupancy = 0;
    for (const ModelChoice* c : members) occupancy += c->occupancy();
    plan::PlanGpu g = NewGpu(result.plan.gpus.size(), gpu, s);
    for (const ModelChoice* c : members) {
      double share = members.size() == 1 ? 1.0 : c->occupancy() / occupancy;
      g.partitions[0].assignments.push_back(AssignmentOf(*c, share));
      summaries[c].capacity_rps += share * c->capacity_rps;
      summaries[c].configurations.push_back(
          members.size() == 1 ? fmt::format("{} x1 (residual)", Config(s, *c))
                              : fmt::format("{} share {:.3f} of GPU {} with {} models",
                                            Config(s, *c), share, g.index, members.size()));
    }
    result.plan.gpus.push_back(std::move(g));
  }
  for (const ModelChoice& c : choices) result.summary.models.push_back(summaries[&c]);
  result.summary.gpus = static_cast<int>(result.plan.gpus.size());
}

class WholeGpuPlanner : public Planner {
 public:
  std::string name() const override { return "whole-gpu"; }
  std::string description() const override {
    return "MIG disabled, Nexus-style squishy bin packing on whole GPUs: per model the largest "
           "batch with 2 x latency <= SLO, saturated GPUs alone, residuals merged first-fit "
           "decreasing by occupancy while it sums to <= 1 and each SLO >= 2 x its latency + the "
           "others' batch latencies (Nexus, SOSP'19; gpulet's rule)";
  }

  absl::StatusOr<PlanResult> Run(const PlanningInputs& in,
                                 const PlannerOptions& options) const override {
    TESSERA_CHECK(in.catalog && in.profiles && in.workload && in.registry);
    RETURN_IF_ERROR(options.Validate());
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
    PlanResult result;
    result.plan = {in.workload->name + "-whole-gpu", name(), {}};
    result.summary.planner = name();
    std::optional<StandIn> s = FindStandIn(*gpu, *in.profiles);
    if (!s)
      return MarkInfeasible(std::move(result),
                            fmt::format("no whole-GPU partition profiled for {}", gpu->name));
    result.summary.notes.push_back(description());
    result.summary.notes.push_back(s->note);
    std::vector<ModelChoice> choices;
    for (const workload::WorkloadModel& m : in.workload->models) {
      std::string reason;
      std::optional<ModelChoice> c = ChooseBatch(in, gpu->name, *s, m, &reason);
      if (!c) return MarkInfeasible(std::move(result), reason);
      SplitLoad(*c, options);
      choices.push_back(*c);
    }
    BuildPlan(gpu->name, *s, choices, result);
    if (result.summary.gpus > options.max_gpus) {
      return MarkInfeasible(std::move(result), fmt::format("needs {} GPUs, more than max_gpus {}",
                                                           result.summary.gpus, options.max_gpus));
    }
    result.summary.feasible = true;
    result.summary.termination = Termination::kHeuristic;
    result.summary.reason = "heuristic: squishy bin packing finished";
    return result;
  }
};

}  // namespace

std::unique_ptr<Planner> MakeWholeGpuPlanner() { return std::make_unique<WholeGpuPlanner>(); }

}  // namespace tessera::planners::internal
