#include "tessera/sim/synthetic.h"

#include <algorithm>
#include <map>

#include "fmt/core.h"
#include "tessera/base/rng.h"
#include "tessera/base/status.h"

namespace tessera::sim {
namespace {

struct BaseModel {
  std::string name;
  int input = 0;
  // latency per (sms, batch) at procs 1 and `input`
  std::map<int, std::map<int, double>> latency_ms;
};

// Models (at their smallest profiled input) that have procs-1 rows on every split size.
std::vector<BaseModel> UsableModels(const perf::ProfileTable& base, const SyntheticOptions& o) {
  std::map<std::string, BaseModel> models;
  for (const auto& [key, row] : base.rows()) {
    if (key.gpu != o.gpu || key.procs != 1 || key.partition.kind != hw::PartitionKind::kSm)
      continue;
    BaseModel& m = models[key.model];
    if (m.name.empty() || key.input < m.input) {
      m = BaseModel{key.model, key.input, {}};
    }
    if (key.input == m.input) m.latency_ms[key.partition.sms][key.batch] = row.latency_ms;
  }
  std::vector<BaseModel> usable;
  for (auto& [name, m] : models) {
    bool all = std::all_of(o.split_sms.begin(), o.split_sms.end(),
                           [&](int sms) { return m.latency_ms.count(sms) > 0; });
    if (all) usable.push_back(std::move(m));
  }
  return usable;
}

// The largest profiled batch whose latency fits `budget_ms` (at least the smallest batch).
int BatchWithin(const std::map<int, double>& by_batch, double budget_ms) {
  int best = by_batch.begin()->first;
  for (const auto& [batch, ms] : by_batch) {
    if (ms <= budget_ms) best = batch;
  }
  return best;
}

}  // namespace

absl::StatusOr<SyntheticCase> GenerateSyntheticCase(const perf::ProfileTable& base,
                                                    const SyntheticOptions& o) {
  if (o.models <= 0 || o.gpus <= 0 || o.split_sms.empty() || o.load <= 0 || o.jitter < 0 ||
      o.jitter >= 1) {
    return absl::InvalidArgumentError(
        "synthetic case: models, gpus, split and load must be positive and jitter in [0, 1)");
  }
  std::vector<BaseModel> usable = UsableModels(base, o);
  if (usable.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "synthetic case: no model of {} is profiled (procs 1) on every split size", o.gpu));
  }
  SyntheticCase c;
  c.workload.name = fmt::format("synthetic-{}models-{}gpus-seed{}", o.models, o.gpus, o.seed);
  c.plan.name = c.workload.name;
  c.plan.planner = "synthetic";
  RngStream rng(o.seed, 0);
  int smallest = *std::min_element(o.split_sms.begin(), o.split_sms.end());
  std::vector<double> factors, slo_ms;
  for (int k = 0; k < o.models; ++k) {
    const BaseModel& m = usable[k % usable.size()];
    double factor = 1 - o.jitter + 2 * o.jitter * rng.Uniform();
    factors.push_back(factor);
    std::string name = fmt::format("{}~{}", m.name, k);
    for (const auto& [sms, by_batch] : m.latency_ms) {
      for (const auto& [batch, ms] : by_batch) {
        perf::ProfileRow row;
        row.key = {o.gpu, hw::Partition::Sm(sms), name, m.input, batch, 1};
        row.latency_ms = ms * factor;
        row.source = perf::ProfileSource::kPredicted;
        RETURN_IF_ERROR(c.profiles.Add(row));
      }
    }
    slo_ms.push_back(o.slo_factor * m.latency_ms.at(smallest).begin()->second * factor);
    workload::WorkloadModel wm;
    wm.model = name;
    wm.slo_ms = slo_ms.back();
    wm.input.fixed = m.input;
    c.workload.models.push_back(wm);
  }
  std::vector<double> capacity(o.models, 0);
  int next = 0;
  for (int g = 0; g < o.gpus; ++g) {
    plan::PlanGpu gpu{g, "", o.gpu, {}};
    for (int sms : o.split_sms) {
      int k = next++ % o.models;
      const BaseModel& m = usable[k % usable.size()];
      const std::map<int, double>& by_batch = m.latency_ms.at(sms);
      int batch = BatchWithin(by_batch, slo_ms[k] / 2 / factors[k]);
      plan::Assignment a;
      a.model = c.workload.models[k].model;
      a.input_max = m.input;
      a.batch = batch;
      gpu.partitions.push_back({hw::Partition::Sm(sms), std::nullopt, {a}});
      capacity[k] += batch * 1000.0 / (by_batch.at(batch) * factors[k]);
    }
    c.plan.gpus.push_back(std::move(gpu));
  }
  for (int k = 0; k < o.models; ++k) {
    workload::WorkloadModel& wm = c.workload.models[k];
    wm.demand.kind = workload::Demand::Kind::kPoisson;
    wm.demand.rate_rps = std::max(o.load * capacity[k], 1e-3);
    c.total_rate_rps += wm.demand.rate_rps;
  }
  return c;
}

}  // namespace tessera::sim
