// The "gpulet" planner: SM partitions ("gpulets") time-shared by up to 3 models, after Choi et al.,
// "Serving Heterogeneous ML Models on Multi-GPU Servers with Spatio-Temporal Sharing", USENIX
// ATC'22.
//
// 1. Sizes: the `sm:N` partitions profiled for the GPU (legal under hw::CheckPartition).
// 2. Per model and size, the batch is the largest profiled b (procs 1, the model's largest input)
//    with 2 x f x latency(b) <= SLO, f the interference model's worst-case slowdown (gpulet: 1.1);
//    its capacity is b / (f x latency(b)), the throughput of batches slowed by f (a gpulet next to
//    busy neighbours serves no faster than that); the model's best size is the one with the most
//    throughput per SM (ties: fewer SMs).
// 3. Demand is provisioned at options.rate_quantile (InflatedRate); floor(provisioned / capacity)
//    saturated gpulets of the best size serve the model alone, and the rest (the residual) goes to
//    the smallest size whose capacity covers it.
// 4. Residuals, largest SM demand first, are merged best-fit into shared gpulets: a residual joins
//    the gpulet (of < 3 models) it fills the most, when on that gpulet's size the duty cycles
//    (residual / capacity) sum to <= 1 and every member i still meets
//    f x (2 latency_i + the other members' batch latencies) <= SLO_i (a round of the others runs
//    between two of its batches); else it opens a gpulet of its own size. Members take turns with
//    share = duty cycle / the gpulet's summed duty cycle.
// 5. Gpulets are packed onto GPUs best-fit decreasing by SMs: a GPU takes a gpulet when the SMs
//    sum to <= the GPU's, memory fits (profiled memory + a CUDA context per assignment) and, with
//    the interference model's slowdown for the actual neighbours, every member still meets its
//    rule.
// Differences from the paper: gpulet's sizes are MPS percentages (20..100%) and its scheduler
// re-partitions periodically; here sizes are the profiled SM counts and the plan is static.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/makers.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"
#include "tessera/planners/interference.h"

namespace tessera::planners {
namespace {

constexpr double kContextMib = 550;  // plan::ValidationContext's CUDA context per process
constexpr double kEps = 1e-9;
constexpr int kMaxModelsPerGpulet = 3;

// One model's best batch on one gpulet size.
struct SizeOption {
  int sms = 0;
  int batch = 0;
  double latency_ms = 0;
  double capacity_rps = 0;  // batch / (budgeted slowdown x latency)
  std::optional<double> memory_mib;
};

// What is decided for one model.
struct ModelChoice {
  const workload::WorkloadModel* model = nullptr;
  int input = 0;
  std::map<int, SizeOption> options;  // by SMs
  int best_sms = 0;
  double provisioned_rps = 0;
  int saturated = 0;
  double residual_rps = 0;
  const SizeOption& best() const { return options.at(best_sms); }
};

// A model's share of one gpulet.
struct Member {
  const ModelChoice* choice = nullptr;
  SizeOption option;
  double rate_rps = 0;
  double duty() const { return rate_rps / option.capacity_rps; }
};

struct Gpulet {
  int sms = 0;
  std::vector<Member> members;
  bool saturated = false;
  double Duty() const {
    double d = 0;
    for (const Member& m : members) d += m.duty();
    return d;
  }
};

std::vector<int> GpuletSizes(const hw::GpuModel& gpu, const perf::ProfileTable& profiles) {
  std::set<int> sizes;
  for (const auto& [key, row] : profiles.rows()) {
    if (key.gpu != gpu.name || key.partition.kind != hw::PartitionKind::kSm) continue;
    if (hw::CheckPartition(gpu, key.partition).ok()) sizes.insert(key.partition.sms);
  }
  return {sizes.begin(), sizes.end()};
}

class GpuletPlanner : public Planner {
 public:
  explicit GpuletPlanner(std::shared_ptr<const InterferenceModel> interference)
      : interference_(std::move(interference)) {
    TESSERA_CHECK(interference_ != nullptr);
  }
  std::string name() const override { return "gpulet"; }
  std::string description() const override {
    return "gpulet (ATC'22): SM partitions time-shared by up to 3 models; per model the partition "
           "with the most throughput per SM at the largest batch with 2 x interference x "
           "latency <= SLO, saturated partitions plus a right-sized residual, residuals merged "
           "best-fit while duty cycles sum to <= 1 and each SLO >= interference x (2 x its "
           "latency + the others' batch latencies), partitions packed best-fit onto GPUs";
  }
  absl::StatusOr<PlanResult> Run(const PlanningInputs& in,
                                 const PlannerOptions& options) const override;

 private:
  // The largest batch meeting the rule on `sms` SMs, or nullopt; `fastest_ms` keeps the fastest
  // batch-1-or-larger latency seen (for the infeasible reason).
  std::optional<SizeOption> BestBatch(const PlanningInputs& in, const hw::GpuModel& gpu, int sms,
                                      const workload::WorkloadModel& m, int input,
                                      double* fastest_ms) const;
  // The model's best batch per size and its most cost-effective size; NotFound carrying the
  // infeasible reason when no size meets the rule.
  absl::StatusOr<ModelChoice> Choose(const PlanningInputs& in, const hw::GpuModel& gpu,
                                     const std::vector<int>& sizes,
                                     const workload::WorkloadModel& m) const;
  // Whether the duty cycles sum to <= 1 and every member meets its rule with the slowdown for
  // `neighbours` on the other partitions of its GPU (none: the budgeted slowdown, as when merging
  // residuals before anything is placed).
  bool Holds(const Gpulet& g, const std::vector<InterferenceJob>& neighbours) const;
  bool HoldsBudgeted(const Gpulet& g) const;
  std::vector<Gpulet> MergeResiduals(const std::vector<ModelChoice>& choices) const;
  // Gpulet indices per GPU.
  std::vector<std::vector<int>> Pack(const hw::GpuModel& gpu, const std::vector<Gpulet>& gs) const;
  bool GpuTakes(const hw::GpuModel& gpu, const std::vector<Gpulet>& gs, std::vector<int> on_gpu,
                int candidate) const;

  std::shared_ptr<const InterferenceModel> interference_;
};

std::optional<SizeOption> GpuletPlanner::BestBatch(const PlanningInputs& in,
                                                   const hw::GpuModel& gpu, int sms,
                                                   const workload::WorkloadModel& m, int input,
                                                   double* fastest_ms) const {
  hw::Partition partition = hw::Partition::Sm(sms);
  std::set<int> batches;
  for (const perf::ProfileRow* row : in.profiles->RowsFor(gpu.name, m.model)) {
    if (row->key.partition == partition && row->key.procs == 1) batches.insert(row->key.batch);
  }
  std::optional<SizeOption> best;
  for (int b : batches) {
    absl::StatusOr<perf::ProfileRow> row =
        in.profiles->Lookup({gpu.name, partition, m.model, input, b, 1});
    if (!row.ok()) continue;
    *fastest_ms = std::min(*fastest_ms, row->latency_ms);
    double f = interference_->BudgetSlowdown({m.model, sms, b, input});
    if (2 * f * row->latency_ms > m.slo_ms + kEps) continue;
    if (!best || b > best->batch)
      best =
          SizeOption{sms, b, row->latency_ms, b * 1000.0 / (f * row->latency_ms), row->memory_mib};
  }
  return best;
}

absl::StatusOr<ModelChoice> GpuletPlanner::Choose(const PlanningInputs& in, const hw::GpuModel& gpu,
                                                  const std::vector<int>& sizes,
                                                  const workload::WorkloadModel& m) const {
  ModelChoice c{&m, m.input.MaxSize(), {}};
  double fastest_ms = INFINITY;
  for (int sms : sizes) {
    std::optional<SizeOption> o = BestBatch(in, gpu, sms, m, c.input, &fastest_ms);
    if (!o) continue;
    c.options[sms] = *o;
    double per_sm = o->capacity_rps / sms;
    if (c.best_sms == 0 || per_sm > c.best().capacity_rps / c.best_sms + kEps) c.best_sms = sms;
  }
  if (c.options.empty()) {
    double f = interference_->BudgetSlowdown({m.model, gpu.sms.value_or(0), 1, c.input});
    return absl::NotFoundError(
        std::isinf(fastest_ms)
            ? fmt::format("{}: not profiled on any SM partition of {} at input {}", m.model,
                          gpu.name, c.input)
            : fmt::format("{}: no batch on any SM partition (sm:{}) meets 2 x {:g} x latency <= "
                          "SLO {:g} ms (the fastest takes {:g} ms)",
                          m.model, fmt::join(sizes, ", sm:"), f, m.slo_ms, fastest_ms));
  }
  return c;
}

void SplitLoad(ModelChoice& c, const PlannerOptions& options) {
  double capacity = c.best().capacity_rps;
  c.provisioned_rps = InflatedRate(c.model->demand.rate_rps, options);
  c.saturated = static_cast<int>(std::floor(c.provisioned_rps / capacity + kEps));
  c.residual_rps = std::max(0.0, c.provisioned_rps - c.saturated * capacity);
  if (c.residual_rps / capacity < kEps) c.residual_rps = 0;
  // A model with no demand still gets a gpulet (every workload model must be served).
  if (c.saturated == 0 && c.residual_rps == 0) c.residual_rps = kEps * capacity;
}

// The residual alone on the smallest size whose capacity covers it.
Gpulet RightSized(const ModelChoice& c) {
  for (const auto& [sms, option] : c.options) {
    if (option.capacity_rps + kEps >= c.residual_rps) return {sms, {{&c, option, c.residual_rps}}};
  }
  TESSERA_CHECK(false);  // the best size's capacity exceeds the residual
  return {};
}

InterferenceJob JobOf(const Member& m) {
  return {m.choice->model->model, m.option.sms, m.option.batch, m.choice->input};
}

bool GpuletPlanner::Holds(const Gpulet& g, const std::vector<InterferenceJob>& neighbours) const {
  if (g.Duty() > 1 + kEps) return false;
  double round_ms = 0;
  for (const Member& m : g.members) round_ms += m.option.latency_ms;
  return std::all_of(g.members.begin(), g.members.end(), [&](const Member& m) {
    double f = neighbours.empty() ? interference_->BudgetSlowdown(JobOf(m))
                                  : interference_->Slowdown(JobOf(m), neighbours);
    return f * (m.option.latency_ms + round_ms) <= m.choice->model->slo_ms + kEps;
  });
}

bool GpuletPlanner::HoldsBudgeted(const Gpulet& g) const { return Holds(g, {}); }

std::vector<Gpulet> GpuletPlanner::MergeResiduals(const std::vector<ModelChoice>& choices) const {
  std::vector<Gpulet> own;
  for (const ModelChoice& c : choices) {
    if (c.residual_rps > 0) own.push_back(RightSized(c));
  }
  std::stable_sort(own.begin(), own.end(), [](const Gpulet& a, const Gpulet& b) {
    return a.sms * a.Duty() > b.sms * b.Duty();
  });
  std::vector<Gpulet> shared;
  for (const Gpulet& g : own) {
    const ModelChoice& c = *g.members[0].choice;
    int best = -1;
    double best_duty = 0;
    for (size_t i = 0; i < shared.size(); ++i) {
      Gpulet merged = shared[i];
      auto option = c.options.find(merged.sms);
      if (merged.members.size() >= kMaxModelsPerGpulet || option == c.options.end()) continue;
      merged.members.push_back({&c, option->second, c.residual_rps});
      if (HoldsBudgeted(merged) && merged.Duty() > best_duty) {
        best = static_cast<int>(i);
        best_duty = merged.Duty();
      }
    }
    if (best < 0) {
      shared.push_back(g);
    } else {
      shared[best].members.push_back({&c, c.options.at(shared[best].sms), c.residual_rps});
    }
  }
  return shared;
}

double MemoryMib(const Gpulet& g) {
  double mib = 0;
  for (const Member& m : g.members) mib += m.option.memory_mib.value_or(0) + kContextMib;
  return mib;
}

bool GpuletPlanner::GpuTakes(const hw::GpuModel& gpu, const std::vector<Gpulet>& gs,
                             std::vector<int> on_gpu, int candidate) const {
  on_gpu.push_back(candidate);
  int sms = 0;
  double mib = 0;
  for (int i : on_gpu) {
    sms += gs[i].sms;
    mib += MemoryMib(gs[i]);
  }
  if (sms > *gpu.sms) return false;
  if (gpu.memory_mib && mib > static_cast<double>(*gpu.memory_mib)) return false;
  for (int i : on_gpu) {
    std::vector<InterferenceJob> neighbours;
    for (int j : on_gpu) {
      if (j == i) continue;
      for (const Member& m : gs[j].members) neighbours.push_back(JobOf(m));
    }
    if (!neighbours.empty() && !Holds(gs[i], neighbours)) return false;
  }
  return true;
}

std::vector<std::vector<int>> GpuletPlanner::Pack(const hw::GpuModel& gpu,
                                                  const std::vector<Gpulet>& gs) const {
  std::vector<int> order(gs.size());
  for (size_t i = 0; i < gs.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return gs[a].sms > gs[b].sms; });
  std::vector<std::vector<int>> gpus;
  std::vector<int> free_sms;
  for (int g : order) {
    int best = -1;
    for (size_t i = 0; i < gpus.size(); ++i) {
      if (free_sms[i] < gs[g].sms || (best >= 0 && free_sms[i] >= free_sms[best])) continue;
      if (GpuTakes(gpu, gs, gpus[i], g)) best = static_cast<int>(i);
    }
    if (best < 0) {
      gpus.push_back({});
      free_sms.push_back(*gpu.sms);
      best = static_cast<int>(gpus.size()) - 1;
    }
    gpus[best].push_back(g);
    free_sms[best] -= gs[g].sms;
  }
  return gpus;
}

std::string ConfigText(const Member& m) {
  return fmt::format("sm:{} batch {} procs 1", m.option.sms, m.option.batch);
}

// The plan's GPUs from the packing, and per model its capacity and configurations.
void BuildPlan(const hw::GpuModel& gpu, const std::vector<Gpulet>& gs,
               const std::vector<std::vector<int>>& packing,
               const std::vector<ModelChoice>& choices, PlanResult& result) {
  std::map<const ModelChoice*, ModelPlanSummary> summaries;
  for (const ModelChoice& c : choices) {
    summaries[&c] = {c.model->model, c.model->demand.rate_rps, c.provisioned_rps, 0, {}};
    if (c.saturated > 0) {
      summaries[&c].configurations.push_back(fmt::format("sm:{} batch {} procs 1 x{} (saturated)",
                                                         c.best_sms, c.best().batch, c.saturated));
    }
  }
  for (const std::vector<int>& on_gpu : packing) {
    plan::PlanGpu g{static_cast<int>(result.plan.gpus.size()), "", gpu.name, {}};
    for (int i : on_gpu) {
      plan::PlanPartition p{hw::Partition::Sm(gs[i].sms), std::nullopt, {}};
      double duty = gs[i].Duty();
      for (const Member& m : gs[i].members) {
        double share = gs[i].members.size() == 1 ? 1.0 : m.duty() / duty;
        p.assignments.push_back(
            {m.choice->model->model, 0, m.choice->input, m.option.batch, 1, share});
        ModelPlanSummary& s = summaries[m.choice];
        s.capacity_rps += share * m.option.capacity_rps;
        if (gs[i].saturated) continue;
        s.configurations.push_back(
            gs[i].members.size() == 1
                ? fmt::format("{} x1 (residual)", ConfigText(m))
                : fmt::format("{} share {:.3f} of a gpulet with {} models on GPU {}", ConfigText(m),
                              share, gs[i].members.size(), g.index));
      }
      g.partitions.push_back(std::move(p));
    }
    result.plan.gpus.push_back(std::move(g));
  }
  for (const ModelChoice& c : choices) result.summary.models.push_back(summaries[&c]);
  result.summary.gpus = static_cast<int>(result.plan.gpus.size());
}

std::string CountsNote(const std::vector<Gpulet>& gs) {
  int saturated = 0, alone = 0, shared = 0;
  for (const Gpulet& g : gs) {
    if (g.saturated) {
      ++saturated;
    } else if (g.members.size() == 1) {
      ++alone;
    } else {
      ++shared;
    }
  }
  return fmt::format("{} gpulets: {} saturated, {} residual alone, {} shared by 2-{} models",
                     gs.size(), saturated, alone, shared, kMaxModelsPerGpulet);
}

absl::StatusOr<PlanResult> GpuletPlanner::Run(const PlanningInputs& in,
                                              const PlannerOptions& options) const {
  TESSERA_CHECK(in.catalog && in.profiles && in.workload && in.registry);
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
  if (!gpu->sms) {
    return absl::InvalidArgumentError(fmt::format(
        "planner gpulet: the catalog does not know {}'s SM count; gpulet plans SM partitions",
        gpu->name));
  }
  PlanResult result;
  result.plan = {in.workload->name + "-gpulet", name(), {}};
  result.summary.planner = name();
  std::vector<int> sizes = GpuletSizes(*gpu, *in.profiles);
  if (sizes.empty()) {
    return MarkInfeasible(std::move(result),
                          fmt::format("no SM partition (sm:N) profiled for {}", gpu->name));
  }
  result.summary.notes = {
      description(), interference_->Describe(),
      fmt::format("gpulet sizes: sm:{} (the profiled SM partitions of {}, {} SMs)",
                  fmt::join(sizes, ", sm:"), gpu->name, *gpu->sms),
      fmt::format("demand provisioned at quantile {} of Poisson counts over {} s",
                  options.rate_quantile, options.window_s)};
  std::vector<ModelChoice> choices;
  for (const workload::WorkloadModel& m : in.workload->models) {
    absl::StatusOr<ModelChoice> c = Choose(in, *gpu, sizes, m);
    if (!c.ok()) return MarkInfeasible(std::move(result), std::string(c.status().message()));
    SplitLoad(*c, options);
    choices.push_back(*std::move(c));
  }
  std::vector<Gpulet> gpulets;
  for (const ModelChoice& c : choices) {
    for (int i = 0; i < c.saturated; ++i) {
      gpulets.push_back({c.best_sms, {{&c, c.best(), c.best().capacity_rps}}, true});
    }
  }
  for (Gpulet& g : MergeResiduals(choices)) gpulets.push_back(std::move(g));
  result.summary.notes.push_back(CountsNote(gpulets));
  BuildPlan(*gpu, gpulets, Pack(*gpu, gpulets), choices, result);
  if (result.summary.gpus > options.max_gpus) {
    return MarkInfeasible(std::move(result), fmt::format("needs {} GPUs, more than max_gpus {}",
                                                         result.summary.gpus, options.max_gpus));
  }
  result.summary.feasible = true;
  result.summary.termination = Termination::kHeuristic;
  result.summary.reason =
      fmt::format("heuristic: {} gpulets packed onto {} GPUs", gpulets.size(), result.summary.gpus);
  return result;
}

}  // namespace

std::unique_ptr<Planner> NewGpuletPlanner(std::shared_ptr<const InterferenceModel> interference) {
  return std::make_unique<GpuletPlanner>(std::move(interference));
}

namespace internal {

std::unique_ptr<Planner> MakeGpuletPlanner() {
  return NewGpuletPlanner(std::make_shared<ConstantInterference>(kGpuletInterferenceFactor));
}

}  // namespace internal
}  // namespace tessera::planners
