// The "elasticbatch" planner: MIG configurations chosen by a queueing-aware capacity rule and
// confirmed by simulation (after Qi et al., IEEE TPDS 35(10), 2024, whose bucketing rule and
// predictor are not public: this is our design).
//
// A model whose inputs vary is split into input buckets (internal/input_buckets.h: exact dynamic
// programming over the sizes, minimizing the expected GPU time of padded requests); each (model,
// bucket) is planned as a model of its own at the bucket's bound, with the bucket's share of the
// rate, and its instances serve [input_min, input_max]. Per (model, bucket) every profiled MIG
// configuration (partition, batch, MPS procs <= 3) with batch latency <= SLO is a candidate, with
// the capacity EstimatedCapacity gives it (batch latency, the wait for the next of the procs'
// batch starts and the heavy-traffic queueing tail within the SLO; internal/simulated_capacity.h).
// Search, on those estimates alone: (1) for three costs (compute slices, GPU share = max(compute,
// memory) share in slices, memory slices) each model gets floor(provisioned / capacity) instances
// of its best configuration per unit plus one right-sized instance; the packing (MigPacker)
// with the fewest GPUs wins; (2) local search: a model moves to the best configuration of one MIG
// profile when that packs onto fewer GPUs, or as many with less GPU share. Confirmation, by
// simulation: (3) each model's instances, simulated together behind the router at its provisioned
// rate, must keep >= 99.5% within SLO, else it is provisioned again for 10% more (repeatedly);
// (4) pooling: its last instance is dropped or shrunk while the group still passes two probes at 5%
// above the rate. Then the instances are packed again. Simulated groups absorb Poisson burstiness,
// so the intended rate quantile is 0 (the mean rate).
#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/input_buckets.h"
#include "internal/makers.h"
#include "internal/mig_candidates.h"
#include "internal/simulated_capacity.h"
#include "tessera/base/status.h"
#include "tessera/perf/profiles.h"
#include "tessera/planners/common.h"
#include "tessera/sim/simulator.h"
#include "tessera/workload/arrivals.h"

namespace tessera::planners::internal {
namespace {

constexpr char kName[] = "elasticbatch";
constexpr int kImprovementPasses = 3;
// Confirming a model's group: when its simulated group misses the rate, it is provisioned again
// for kRepairGrowth times more, at most kRepairRounds times; pooling tries at most
// kDownsizeProbes smaller last instances.
constexpr int kRepairRounds = 6;
constexpr double kRepairGrowth = 1.1;
constexpr int kDownsizeProbes = 2;

// floor(provisioned / capacity) instances of the best configuration plus one right-sized instance
// for the rest (one right-sized instance when the demand is 0, so that every model is served).
absl::StatusOr<std::vector<Configuration>> Provision(const CostFn& cost, const Configuration& best,
                                                     const std::vector<Configuration>& cs,
                                                     double provisioned, CapacityCache& cache) {
  int64_t full = static_cast<int64_t>(std::floor(provisioned / best.capacity_rps));
  std::vector<Configuration> out(static_cast<size_t>(full), best);
  double rest = provisioned - static_cast<double>(full) * best.capacity_rps;
  if (rest > 1e-9 || out.empty()) {
    ASSIGN_OR_RETURN(Configuration last, RightSized(cost, cs, std::max(rest, 0.0), cache));
    out.push_back(std::move(last));
  }
  return out;
}

// One (model, input bucket)'s candidates and the cache of their simulated capacities, shared by
// the variants. `model` is the bucket as a model of its own: the workload model with its input
// fixed at the bucket's bound and the bucket's share of the rate.
struct ModelState {
  const workload::WorkloadModel* model = nullptr;
  std::vector<Configuration> configs;
  std::unique_ptr<CapacityCache> cache;
  int trimmed = 0;   // instances dropped or shrunk by pooling
  int repaired = 0;  // provisioning rounds added because the simulated group missed the rate
  int probes = 0;    // group simulations
  std::unique_ptr<workload::WorkloadModel> bucket_model;  // what `model` points to
  InputBucket bucket;                                     // the inputs it serves
  int buckets = 1;                                        // of its workload model
};

// What the plan gives workload model `m` over the instances `choice[i]` of its buckets' states.
ModelPlanSummary Summarize(const workload::WorkloadModel& m, const std::vector<ModelState>& states,
                           const std::vector<std::vector<Configuration>>& choice,
                           const PlannerOptions& options) {
  ModelPlanSummary s{m.model, m.demand.rate_rps, 0, 0, {}};
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i].model->model != m.model) continue;
    s.provisioned_rps += InflatedRate(states[i].model->demand.rate_rps, options);
    std::string prefix =
        states[i].buckets == 1
            ? ""
            : fmt::format("inputs {}..{}: ", std::max(states[i].bucket.input_min, 1),
                          states[i].bucket.input_max);
    for (const Configuration& c : choice[i]) {
      s.capacity_rps += c.capacity_rps;
      std::string text = prefix + ConfigText(c);
      if (counts[text]++ == 0) order.push_back(text);
    }
  }
  for (const std::string& text : order) {
    s.configurations.push_back(fmt::format("{} x{}", text, counts[text]));
  }
  return s;
}

// What one (model, bucket)'s instances take: instances per MIG profile and their GPU share.
struct Use {
  hw::Multiset counts;
  double share = 0;
};

Use UseOf(const hw::GpuModel& gpu, const std::vector<Configuration>& chosen) {
  const CostFn share = CostVariants(gpu)[1].second;
  Use u{hw::Multiset(gpu.profiles.size(), 0), 0};
  for (const Configuration& c : chosen) {
    ++u.counts[static_cast<size_t>(gpu.ProfileIndex(c.partition.mig_profile))];
    u.share += share(c);
  }
  return u;
}

// The instances of a plan per (model, bucket) state, what each state takes, their packing and
// total GPU share. Kept up to date by Replace, so that a local-search move costs one state's
// instances and one packing of the totals.
struct Scored {
  std::vector<std::vector<Configuration>> choice;
  std::vector<Use> uses;  // per state
  hw::Multiset total;     // instances per profile, over every state
  double share = 0;
  MigPacking packing;

  // Whether (gpus, share) ranks before this plan's: fewer GPUs, or as many with less GPU share.
  bool Beaten(int64_t gpus, double other_share) const {
    if (gpus != packing.gpus) return gpus < packing.gpus;
    return other_share < share - 1e-9;
  }
  bool BetterThan(const Scored& o) const { return o.Beaten(packing.gpus, share); }
};

absl::StatusOr<Scored> Score(MigPacker& packer, std::vector<std::vector<Configuration>> choice) {
  const hw::GpuModel& gpu = packer.space().gpu();
  Scored s{std::move(choice), {}, hw::Multiset(gpu.profiles.size(), 0), 0, {}};
  for (const std::vector<Configuration>& chosen : s.choice) {
    Use u = UseOf(gpu, chosen);
    for (size_t p = 0; p < u.counts.size(); ++p) s.total[p] += u.counts[p];
    s.share += u.share;
    s.uses.push_back(std::move(u));
  }
  ASSIGN_OR_RETURN(s.packing, packer.Pack(s.total));
  return s;
}

// Replaces state i's instances of `current` by `chosen` when that scores better (fewer GPUs, or as
// many with less GPU share); whether it did.
absl::StatusOr<bool> ReplaceIfBetter(MigPacker& packer, Scored& current, size_t i,
                                     std::vector<Configuration> chosen) {
  Use u = UseOf(packer.space().gpu(), chosen);
  hw::Multiset total = current.total;
  for (size_t p = 0; p < total.size(); ++p) total[p] += u.counts[p] - current.uses[i].counts[p];
  double share = current.share - current.uses[i].share + u.share;
  ASSIGN_OR_RETURN(MigPacking packing, packer.Pack(total));
  if (!current.Beaten(packing.gpus, share)) return false;
  current.choice[i] = std::move(chosen);
  current.uses[i] = std::move(u);
  current.total = std::move(total);
  current.share = share;
  current.packing = std::move(packing);
  return true;
}

// Whether `group`, simulated together, serves `rate_rps` of s's model (GroupMeets over `seeds`
// probes), counted.
absl::StatusOr<bool> Probe(const PlanningInputs& in, const hw::LayoutSpace& space, ModelState& s,
                           const std::vector<Configuration>& group, double rate_rps,
                           int seeds = 1) {
  s.probes += seeds;
  return GroupMeets(in, space.gpu().name, *s.model, group, rate_rps, seeds);
}

// Replaces the last of `chosen` by one of the kDownsizeProbes cheapest (GPU share) smaller
// profiles' best configurations with which the group still serves `rate_rps`; whether it did.
absl::StatusOr<bool> Downsize(const PlanningInputs& in, const hw::LayoutSpace& space, ModelState& s,
                              double rate_rps, std::vector<Configuration>& chosen) {
  const CostFn share = CostVariants(space.gpu())[1].second;
  std::map<std::string, std::vector<Configuration>> cheaper;  // by profile
  for (const Configuration& c : s.configs) {
    if (share(c) < share(chosen.back()) - 1e-9) cheaper[c.partition.mig_profile].push_back(c);
  }
  std::map<double, Configuration> by_cost;  // per cost, the most simulated capacity
  for (const auto& [profile, cs] : cheaper) {
    ASSIGN_OR_RETURN(Configuration best, MostPerCost(share, cs, *s.cache));
    auto it = by_cost.find(share(best));
    if (best.capacity_rps > 0 &&
        (it == by_cost.end() || best.capacity_rps > it->second.capacity_rps))
      by_cost[share(best)] = best;
  }
  int tries = 0;
  for (const auto& [cost, c] : by_cost) {
    if (tries++ == kDownsizeProbes) break;
    std::vector<Configuration> group = chosen;
    group.back() = c;
    ASSIGN_OR_RETURN(bool ok, Probe(in, space, s, group, kPooledMargin * rate_rps, kPooledSeeds));
    if (!ok) continue;
    chosen = std::move(group);
    return true;
  }
  return false;
}

// Pooling: several instances behind one router serve more than the sum of their single-instance
// capacities, so a model's last instance is dropped (then shrunk) while all of its instances,
// simulated together, still serve its provisioned rate. Returns how many were dropped or shrunk.
absl::StatusOr<int> TrimModel(const PlanningInputs& in, const hw::LayoutSpace& space, ModelState& s,
                              double provisioned, std::vector<Configuration>& chosen) {
  int changed = 0;
  while (chosen.size() > 1) {
    std::vector<Configuration> fewer(chosen.begin(), chosen.end() - 1);
    ASSIGN_OR_RETURN(bool ok,
                     Probe(in, space, s, fewer, kPooledMargin * provisioned, kPooledSeeds));
    if (!ok) break;
    chosen = std::move(fewer);
    ++changed;
  }
  if (chosen.size() > 1) {
    ASSIGN_OR_RETURN(bool smaller, Downsize(in, space, s, provisioned, chosen));
    changed += smaller ? 1 : 0;
  }
  return changed;
}

// One model's instances by estimated capacities: `best` replicated plus a right-sized one by
// `cost`.
absl::StatusOr<std::vector<Configuration>> ProvisionModel(const PlanningInputs&,
                                                          const hw::LayoutSpace&,
                                                          const CostFn& cost,
                                                          const Configuration& best, ModelState& s,
                                                          const PlannerOptions& options) {
  double provisioned = InflatedRate(s.model->demand.rate_rps, options);
  return Provision(cost, best, s.configs, provisioned, *s.cache);
}

// Confirms one model's instances by simulation: while the group, simulated together behind the
// router, misses the provisioned rate, it is provisioned again (GPU share cost) for kRepairGrowth
// times more; then pooling drops or shrinks its last instance while the group still meets the
// rate. FailedPrecondition when kRepairRounds do not suffice.
absl::Status ConfirmModel(const PlanningInputs& in, const hw::LayoutSpace& space, ModelState& s,
                          const PlannerOptions& options, std::vector<Configuration>& chosen) {
  const CostFn share = CostVariants(space.gpu())[1].second;
  double provisioned = InflatedRate(s.model->demand.rate_rps, options);
  double target = provisioned;
  for (int round = 0;; ++round) {
    ASSIGN_OR_RETURN(bool ok, Probe(in, space, s, chosen, provisioned));
    if (ok) break;
    if (round == kRepairRounds) {
      return absl::FailedPreconditionError(fmt::format(
          "{} (input <= {}): {} instances provisioned for {:.4g} rps still miss {:.4g} rps in "
          "simulation",
          s.model->model, s.bucket.input_max, chosen.size(), target, provisioned));
    }
    target *= kRepairGrowth;
    ++s.repaired;
    ASSIGN_OR_RETURN(Configuration best, MostPerCost(share, s.configs, *s.cache));
    ASSIGN_OR_RETURN(chosen, Provision(share, best, s.configs, target, *s.cache));
  }
  ASSIGN_OR_RETURN(int trimmed, TrimModel(in, space, s, provisioned, chosen));
  s.trimmed += trimmed;
  return absl::OkStatus();
}

// Every model with the best configuration per unit of `cost`, packed.
absl::StatusOr<Scored> Provisioned(const PlanningInputs& in, MigPacker& packer, const CostFn& cost,
                                   std::vector<ModelState>& states, const PlannerOptions& options) {
  std::vector<std::vector<Configuration>> choice;
  for (ModelState& s : states) {
    ASSIGN_OR_RETURN(Configuration best, MostPerCost(cost, s.configs, *s.cache));
    ASSIGN_OR_RETURN(std::vector<Configuration> chosen,
                     ProvisionModel(in, packer.space(), cost, best, s, options));
    choice.push_back(std::move(chosen));
  }
  return Score(packer, std::move(choice));
}

// Local search: one model at a time moves to the best configuration of one MIG profile (replicated,
// plus a right-sized rest) when that packs onto fewer GPUs, or as many with less GPU share.
absl::StatusOr<Scored> Improve(const PlanningInputs& in, MigPacker& packer,
                               std::vector<ModelState>& states, const PlannerOptions& options,
                               Scored current) {
  const hw::LayoutSpace& space = packer.space();
  const CostFn share = CostVariants(space.gpu())[1].second;
  // A move does not depend on the plan it is tried on: each is provisioned once.
  std::vector<std::vector<std::vector<Configuration>>> moves(states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    for (int p : space.profiles()) {
      std::vector<Configuration> only;
      for (const Configuration& c : states[i].configs) {
        if (space.gpu().ProfileIndex(c.partition.mig_profile) == p) only.push_back(c);
      }
      if (only.empty()) continue;
      ASSIGN_OR_RETURN(Configuration best, MostPerCost(share, only, *states[i].cache));
      if (best.capacity_rps <= 0) continue;
      ASSIGN_OR_RETURN(std::vector<Configuration> chosen,
                       ProvisionModel(in, space, share, best, states[i], options));
      moves[i].push_back(std::move(chosen));
    }
  }
  for (int pass = 0; pass < kImprovementPasses; ++pass) {
    bool changed = false;
    for (size_t i = 0; i < states.size(); ++i) {
      for (const std::vector<Configuration>& move : moves[i]) {
        ASSIGN_OR_RETURN(bool better, ReplaceIfBetter(packer, current, i, move));
        changed = changed || better;
      }
    }
    if (!changed) break;
  }
  return current;
}

// The state of one bucket of `m`: a model of its own at the bucket's bound and share of the rate.
ModelState BucketState(const PlanningInputs& in, const hw::LayoutSpace& space,
                       const workload::WorkloadModel& m, const InputBucket& bucket, int buckets) {
  ModelState s;
  s.bucket_model = std::make_unique<workload::WorkloadModel>(m);
  s.bucket_model->input = {.kind = workload::InputDistribution::Kind::kFixed,
                           .fixed = bucket.input_max};
  s.bucket_model->demand.rate_rps = m.demand.rate_rps * bucket.mass;
  s.model = s.bucket_model.get();
  s.configs = AcceptableAtInput(in, space, *s.model, bucket.input_max);
  s.cache = std::make_unique<CapacityCache>(in, space.gpu(), *s.model, CapacityMode::kEstimate);
  s.bucket = bucket;
  s.buckets = buckets;
  return s;
}

// Every (model, bucket)'s candidates; a problem per bucket that cannot be served at all.
absl::StatusOr<std::vector<ModelState>> Candidates(const PlanningInputs& in,
                                                   const hw::LayoutSpace& space,
                                                   const PlannerOptions& options,
                                                   PlanSummary& summary,
                                                   std::vector<std::string>& problems) {
  std::vector<ModelState> states;
  for (const workload::WorkloadModel& m : in.workload->models) {
    ASSIGN_OR_RETURN(ModelBuckets buckets, ChooseInputBuckets(in, space, m, options));
    if (!buckets.note.empty()) summary.notes.push_back(buckets.note);
    for (const InputBucket& bucket : buckets.buckets) {
      int count = static_cast<int>(buckets.buckets.size());
      ModelState s = BucketState(in, space, m, bucket, count);
      Configuration best;
      if (!s.configs.empty()) {
        ASSIGN_OR_RETURN(best,
                         MostPerCost(CostVariants(space.gpu())[0].second, s.configs, *s.cache));
      }
      if (s.configs.empty() || best.capacity_rps <= 0) {
        problems.push_back(
            fmt::format("{}: no profiled MIG configuration (input {}, <= {} procs) "
                        "serves any load within SLO {:.4g} ms",
                        m.model, bucket.input_max, kMaxProcs, m.slo_ms));
        continue;
      }
      states.push_back(std::move(s));
    }
  }
  return states;
}

// The plan of the chosen configurations, packed as `best.packing`; each assignment serves its
// bucket's inputs (a model's buckets have distinct bounds, which identify them).
plan::Plan BuildPlan(const hw::GpuModel& gpu, const Scored& best,
                     const std::vector<ModelState>& states, const workload::Workload& w) {
  std::vector<MigInstance> instances;
  std::map<std::pair<std::string, int>, int> input_min;  // by (model, bound)
  for (size_t i = 0; i < states.size(); ++i) {
    const std::string& model = states[i].model->model;
    input_min[{model, states[i].bucket.input_max}] = states[i].bucket.input_min;
    for (const Configuration& c : best.choice[i]) instances.push_back({model, c});
  }
  std::string name = w.name.empty() ? kName : fmt::format("{}-{}", w.name, kName);
  plan::Plan plan = PlanFromLayouts(gpu, best.packing.Expand(), instances, name, kName);
  for (plan::PlanGpu& g : plan.gpus) {
    for (plan::PlanPartition& p : g.partitions) {
      for (plan::Assignment& a : p.assignments) a.input_min = input_min.at({a.model, a.input_max});
    }
  }
  return plan;
}

class ElasticBatchPlanner : public Planner {
 public:
  std::string name() const override { return kName; }
  double intended_rate_quantile() const override { return 0; }
  std::string description() const override {
    return "ElasticBatch-style (TPDS'24; our design): varying inputs split into buckets by exact "
           "dynamic programming on the expected padded cost; per (model, bucket) the MIG "
           "configuration with the most queueing-aware estimated capacity per unit of cost, "
           "replicated plus a right-sized rest and improved by local search; every model's "
           "instances then confirmed (and repaired or pooled) by simulation at >= 99.5% within "
           "SLO, packed with exact MIG placements; provisions the mean rate";
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
        "rule: latency <= SLO, <= {} MPS procs; capacities estimated by the queueing-aware rule, "
        "then each model's instances simulated together must keep >= {}% within SLO; provisioned "
        "at quantile {} (simulated groups absorb Poisson bursts: quantile 0 is intended)",
        kMaxProcs, 100 * kTargetAttainment, options.rate_quantile));
    std::string stand_ins = perf::MigStandInNote(*in.profiles, *gpu);
    if (!stand_ins.empty()) summary.notes.push_back(std::move(stand_ins));
    MigPacker packer(space);
    std::vector<std::string> problems;
    ASSIGN_OR_RETURN(std::vector<ModelState> states,
                     Candidates(in, space, options, summary, problems));
    if (!problems.empty()) {
      return MarkInfeasible(std::move(result), fmt::format("{}", fmt::join(problems, "; ")));
    }
    std::optional<Scored> best;
    std::string best_name;
    std::vector<std::string> tried;
    for (const auto& [variant_name, cost] : CostVariants(*gpu)) {
      ASSIGN_OR_RETURN(Scored v, Provisioned(in, packer, cost, states, options));
      tried.push_back(fmt::format("{} {}", variant_name, v.packing.gpus));
      if (!best || v.BetterThan(*best)) {
        best = std::move(v);
        best_name = variant_name;
      }
    }
    ASSIGN_OR_RETURN(best, Improve(in, packer, states, options, std::move(*best)));
    int64_t searched = best->packing.gpus;
    std::vector<std::vector<Configuration>> confirmed = best->choice;
    for (size_t i = 0; i < states.size(); ++i) {
      absl::Status ok = ConfirmModel(in, space, states[i], options, confirmed[i]);
      if (absl::IsFailedPrecondition(ok)) {
        return MarkInfeasible(std::move(result), std::string(ok.message()));
      }
      RETURN_IF_ERROR(ok);
    }
    ASSIGN_OR_RETURN(best, Score(packer, std::move(confirmed)));
    int probes = 0, repaired = 0, trimmed = 0;
    for (const ModelState& s : states) {
      probes += s.probes;
      repaired += s.repaired;
      trimmed += s.trimmed;
    }
    summary.notes.push_back(fmt::format(
        "GPUs per cost (estimated capacities): {} (kept: {}); after local search: {}; confirmed "
        "by {} group simulations ({} re-provisioned for a missed rate, {} instances pooled away): "
        "{}",
        fmt::join(tried, ", "), best_name, searched, probes, repaired, trimmed,
        best->packing.gpus));
    size_t instances = 0;
    for (const std::vector<Configuration>& chosen : best->choice) instances += chosen.size();
    for (const workload::WorkloadModel& m : in.workload->models) {
      summary.models.push_back(Summarize(m, states, best->choice, options));
    }
    summary.gpus = static_cast<int>(best->packing.gpus);
    if (summary.gpus > options.max_gpus) {
      return MarkInfeasible(std::move(result), fmt::format("needs {} GPUs, more than max_gpus = {}",
                                                           summary.gpus, options.max_gpus));
    }
    summary.feasible = true;
    summary.reason = fmt::format("{} MIG instances packed onto {} GPUs", instances, summary.gpus);
    result.plan = BuildPlan(*gpu, *best, states, *in.workload);
    return result;
  }
};

}  // namespace

std::unique_ptr<Planner> MakeElasticBatchPlanner() {
  return std::make_unique<ElasticBatchPlanner>();
}

}  // namespace tessera::planners::internal
