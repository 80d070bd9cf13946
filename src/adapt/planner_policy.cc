// gpulet-autoscale and static-peak: serving-only policies that re-use the gpulet planner.
//   gpulet-autoscale: every window, when some tenant's rate (the larger of the forecast and the
//     last window's observed rate, times the context's autoscale_headroom) differs from the rate
//     the running plan was made for by more than 10% of that rate plus 1 req/s, or exceeds what the
//     plan serves, re-plan for those rates; the plan's GPU count is the number in use (a GPU is
//     added when the plan needs more, given back when it needs fewer), at most the run's GPUs.
//   static-peak: one plan, made at the first window, for every tenant's peak window rate.
// Only the tenants' models are planned. A plan the planner cannot make within the GPUs (too much
// demand) is retried at 0.8x the rates, up to ten more times; when even that fails, the running
// plan is kept (an error only at the first window).
#include <algorithm>
#include <cmath>
#include <map>

#include "fmt/format.h"
#include "internal/policies.h"
#include "tessera/base/status.h"
#include "tessera/planners/planner.h"

namespace tessera::adapt::internal {
namespace {

class PlannerPolicy : public Policy {
 public:
  PlannerPolicy(const PolicyContext& context, bool autoscale)
      : context_(context), autoscale_(autoscale) {}
  std::string name() const override { return autoscale_ ? "gpulet-autoscale" : "static-peak"; }

  absl::StatusOr<Allocation> Decide(const Observation& obs) override {
    const int tenants = context_.book->tenant_count();
    std::vector<double> rates(tenants);
    for (int t = 0; t < tenants; ++t) {
      rates[t] = autoscale_ ? context_.autoscale_headroom *
                                  std::max(obs.tenants[t].forecast_rps, obs.tenants[t].observed_rps)
                            : obs.tenants[t].peak_rps;
    }
    if (planned_ && (!autoscale_ || !NeedsReplan(rates))) return *obs.current;
    absl::StatusOr<Allocation> allocation = PlanFor(rates);
    if (!allocation.ok()) {
      if (planned_ && absl::IsResourceExhausted(allocation.status())) return *obs.current;
      return allocation.status();
    }
    planned_rates_ = rates;
    planned_ = true;
    return *std::move(allocation);
  }

 private:
  bool NeedsReplan(const std::vector<double>& rates) const {
    for (size_t t = 0; t < rates.size(); ++t) {
      const double was = planned_rates_[t];
      if (std::abs(rates[t] - was) > 0.1 * was + 1.0) return true;
      if (rates[t] > capacity_[t]) return true;
    }
    return false;
  }

  absl::StatusOr<Allocation> PlanFor(const std::vector<double>& rates) {
    ASSIGN_OR_RETURN(std::unique_ptr<planners::Planner> planner,
                     planners::Planner::Create("gpulet"));
    planners::PlannerOptions options;
    options.gpu = context_.gpu->name;
    options.rate_quantile = planner->intended_rate_quantile();
    options.max_gpus = context_.gpus;
    double factor = 1.0;
    for (int attempt = 0; attempt <= 10; ++attempt, factor *= 0.8) {
      workload::Workload w;
      w.name = context_.workload->name;
      for (int t = 0; t < context_.book->tenant_count(); ++t) {
        workload::WorkloadModel m = context_.workload->models[context_.book->tenants()[t].model];
        m.demand = {.kind = workload::Demand::Kind::kPoisson,
                    .rate_rps = std::max(1e-3, rates[t] * factor)};
        w.models.push_back(std::move(m));
      }
      ASSIGN_OR_RETURN(
          planners::PlanResult result,
          planner->Run({context_.catalog, context_.profiles, &w, context_.registry}, options));
      if (result.summary.feasible) return ToAllocation(result);
    }
    return absl::ResourceExhaustedError(fmt::format(
        "the gpulet planner finds no plan within {} GPUs even at 0.1x the rates", context_.gpus));
  }

  // One slot per assignment; the planner's per-model capacity is spread over the model's
  // assignments in proportion to share x batch x procs / latency.
  Allocation ToAllocation(const planners::PlanResult& result) {
    const PerfBook& book = *context_.book;
    std::map<std::string, int> tenant_of;
    for (int t = 0; t < book.tenant_count(); ++t) {
      tenant_of[context_.workload->models[book.tenants()[t].model].model] = t;
    }
    std::map<std::string, double> capacity_of, weight_of;
    for (const planners::ModelPlanSummary& m : result.summary.models) {
      capacity_of[m.model] = m.capacity_rps;
    }
    auto weight = [&](const plan::PlanGpu& g, const plan::PlanPartition& p,
                      const plan::Assignment& a) {
      absl::StatusOr<perf::ProfileRow> row =
          context_.profiles->Lookup({g.gpu, p.partition, a.model, a.input_max, a.batch, a.procs});
      const double latency = row.ok() ? row->latency_ms : 1.0;
      return a.share * a.batch * a.procs / latency;
    };
    for (const plan::PlanGpu& g : result.plan.gpus) {
      for (const plan::PlanPartition& p : g.partitions) {
        for (const plan::Assignment& a : p.assignments) weight_of[a.model] += weight(g, p, a);
      }
    }
    Allocation allocation;
    capacity_.assign(book.tenant_count(), 0);
    for (const plan::PlanGpu& g : result.plan.gpus) {
      GpuAllocation gpu{.mig = false, .slots = {}};
      std::map<std::string, int> ordinal;
      for (const plan::PlanPartition& p : g.partitions) {
        const std::string where = p.partition.ToString();
        const std::string label = fmt::format("{}#{}", where, ordinal[where]++);
        for (const plan::Assignment& a : p.assignments) {
          auto t = tenant_of.find(a.model);
          if (t == tenant_of.end()) continue;
          const double rps = capacity_of[a.model] * weight(g, p, a) / weight_of[a.model];
          gpu.slots.push_back({.label = label,
                               .share = a.share,
                               .tenant = t->second,
                               .role = Role::kInference,
                               .rps = rps});
          capacity_[t->second] += rps;
        }
      }
      allocation.gpus.push_back(std::move(gpu));
    }
    return allocation;
  }

  PolicyContext context_;
  bool autoscale_;
  bool planned_ = false;
  std::vector<double> planned_rates_;
  std::vector<double> capacity_;
};

}  // namespace

std::unique_ptr<Policy> MakePlannerPolicy(const PolicyContext& context, bool autoscale) {
  return std::make_unique<PlannerPolicy>(context, autoscale);
}

}  // namespace tessera::adapt::internal
