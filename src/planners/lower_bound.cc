#include "tessera/planners/lower_bound.h"

#include <cmath>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "coin/Clp_C_Interface.h"
#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/hw/layout.h"
#include "tessera/planners/common.h"

namespace tessera::planners {
namespace {

// The requests of one model that share an optimistic input: a profiled input and their mean rate.
struct DemandClass {
  const workload::WorkloadModel* model = nullptr;
  int input = 0;
  double rate_rps = 0;
};

// A request of size s is served at some input >= s that is at least the smallest profiled input
// (plans pad requests up, and nothing below the smallest profiled input can be timed), and a
// configuration serves no more at a larger input; so the capacity at the largest profiled input <=
// max(s, smallest profiled) is at least what the request can get. A model's sizes are grouped by
// that profiled input, each group with its share of the rate. A model without profiled rows on the
// GPU keeps one group at its largest size (and then has no configuration: no plan exists).
std::vector<DemandClass> Classes(const PlanningInputs& in, const std::string& gpu,
                                 const workload::WorkloadModel& m) {
  std::set<int> profiled;
  for (const perf::ProfileRow* row : in.profiles->RowsFor(gpu, m.model)) {
    profiled.insert(row->key.input);
  }
  if (profiled.empty()) return {{&m, m.input.MaxSize(), m.demand.rate_rps}};
  auto optimistic = [&](int size) {
    auto it = profiled.upper_bound(std::max(size, *profiled.begin()));
    return *std::prev(it);
  };
  std::map<int, double> mass;  // by optimistic input
  const workload::InputDistribution& d = m.input;
  switch (d.kind) {
    case workload::InputDistribution::Kind::kFixed:
      mass[optimistic(d.fixed)] = 1;
      break;
    case workload::InputDistribution::Kind::kEmpirical:
      for (size_t i = 0; i < d.sizes.size(); ++i) mass[optimistic(d.sizes[i])] += d.weights[i];
      break;
    case workload::InputDistribution::Kind::kUniform:
      for (int size = d.min; size <= d.max; ++size) {
        mass[optimistic(size)] += 1.0 / (d.max - d.min + 1);
      }
      break;
  }
  std::vector<DemandClass> out;
  for (const auto& [input, share] : mass) out.push_back({&m, input, share * m.demand.rate_rps});
  return out;
}

// Per demand class: the best capacity (requests/s) of each partition among configurations within
// the SLO at the class's input.
struct Capacities {
  std::vector<DemandClass> classes;
  std::vector<std::map<hw::Partition, double>> best;
};

absl::StatusOr<Capacities> BestCapacities(const PlanningInputs& in, const std::string& gpu) {
  Capacities caps;
  for (const workload::WorkloadModel& m : in.workload->models) {
    SloRule within_slo = [&](double latency_ms, int) { return latency_ms <= m.slo_ms; };
    for (const DemandClass& c : Classes(in, gpu, m)) {
      std::map<hw::Partition, double> best;
      for (const Configuration& config :
           Configurations(*in.profiles, gpu, m.model, c.input, within_slo)) {
        best[config.partition] = std::max(best[config.partition], config.capacity_rps);
      }
      if (best.empty()) {
        return absl::FailedPreconditionError(fmt::format(
            "{}: no profiled configuration on {} at input {} fits its {} ms SLO; no plan exists",
            m.model, gpu, c.input, m.slo_ms));
      }
      caps.classes.push_back(c);
      caps.best.push_back(std::move(best));
    }
  }
  return caps;
}

// A sparse column-major LP: min c'x, rows with bounds, x >= 0.
struct Lp {
  std::vector<int> start = {0};
  std::vector<int> index;
  std::vector<double> value, cost, row_lower, row_upper;
  void AddColumn(double c, const std::vector<std::pair<int, double>>& entries) {
    for (const auto& [row, v] : entries) {
      index.push_back(row);
      value.push_back(v);
    }
    start.push_back(static_cast<int>(index.size()));
    cost.push_back(c);
  }
};

absl::StatusOr<double> SolveLp(Lp& lp) {
  int columns = static_cast<int>(lp.cost.size());
  int rows = static_cast<int>(lp.row_lower.size());
  std::vector<double> lower(columns, 0.0), upper(columns, 1e30);
  std::unique_ptr<Clp_Simplex, void (*)(Clp_Simplex*)> model(Clp_newModel(), Clp_deleteModel);
  Clp_setLogLevel(model.get(), 0);
  Clp_loadProblem(model.get(), columns, rows, lp.start.data(), lp.index.data(), lp.value.data(),
                  lower.data(), upper.data(), lp.cost.data(), lp.row_lower.data(),
                  lp.row_upper.data());
  Clp_initialSolve(model.get());
  if (Clp_status(model.get()) != 0) {
    return absl::InternalError(
        fmt::format("the lower-bound LP did not solve (Clp status {})", Clp_status(model.get())));
  }
  return Clp_objectiveValue(model.get());
}

absl::StatusOr<LowerBound> MigBound(const PlanningInputs& in, const PlannerOptions& options,
                                    const hw::GpuModel& gpu, const Capacities& caps) {
  ASSIGN_OR_RETURN(hw::LayoutSpace space, MigSpace(gpu, options));
  const std::vector<int>& profiles = space.profiles();
  int models = static_cast<int>(caps.classes.size());  // demand classes
  Lp lp;
  // Rows 0..models-1: demand (>= demand); rows models..: profile supply (<= 0).
  for (const DemandClass& c : caps.classes) {
    lp.row_lower.push_back(c.rate_rps);
    lp.row_upper.push_back(1e30);
  }
  for (size_t k = 0; k < profiles.size(); ++k) {
    lp.row_lower.push_back(-1e30);
    lp.row_upper.push_back(0);
  }
  for (const hw::Multiset& cut : space.Multisets()) {
    if (!space.IsMaximal(cut)) continue;
    std::vector<std::pair<int, double>> entries;
    for (size_t k = 0; k < profiles.size(); ++k) {
      if (cut[profiles[k]] > 0)
        entries.push_back({models + static_cast<int>(k), -cut[profiles[k]]});
    }
    lp.AddColumn(1.0, entries);
  }
  for (int m = 0; m < models; ++m) {
    for (size_t k = 0; k < profiles.size(); ++k) {
      auto it = caps.best[m].find(hw::Partition::Mig(gpu.profiles[profiles[k]].name));
      if (it == caps.best[m].end()) continue;
      lp.AddColumn(0.0, {{m, it->second}, {models + static_cast<int>(k), 1.0}});
    }
  }
  ASSIGN_OR_RETURN(double gpus, SolveLp(lp));
  return LowerBound{gpus, static_cast<int>(std::ceil(gpus - 1e-6)),
                    "LP relaxation over maximal MIG cuts (Clp), best capacity within SLO, mean "
                    "demand, each request at its own size"};
}

absl::StatusOr<LowerBound> SmBound(const PlanningInputs& in, const hw::GpuModel& gpu,
                                   const Capacities& caps) {
  if (!gpu.sms) {
    return absl::FailedPreconditionError(
        fmt::format("the catalog does not know the SMs of {}", gpu.name));
  }
  double gpus = 0;
  for (size_t m = 0; m < caps.classes.size(); ++m) {
    double best_per_sm = 0;
    for (const auto& [partition, cap] : caps.best[m]) {
      ASSIGN_OR_RETURN(int sms, hw::PartitionSms(gpu, partition));
      best_per_sm = std::max(best_per_sm, cap / sms);
    }
    gpus += caps.classes[m].rate_rps / best_per_sm / *gpu.sms;
  }
  return LowerBound{gpus, static_cast<int>(std::ceil(gpus - 1e-6)),
                    "mean demand over the best capacity per SM within SLO, in whole GPUs' SMs, "
                    "each request at its own size"};
}

}  // namespace

absl::StatusOr<LowerBound> ComputeLowerBound(const PlanningInputs& in,
                                             const PlannerOptions& options) {
  TESSERA_CHECK(in.catalog && in.profiles && in.workload);
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
  ASSIGN_OR_RETURN(Capacities caps, BestCapacities(in, gpu->name));
  bool any_mig = false;
  for (const auto& per_model : caps.best) {
    for (const auto& [partition, cap] : per_model) {
      any_mig |= partition.kind == hw::PartitionKind::kMig;
    }
  }
  if (any_mig && gpu->compute_slices > 0) return MigBound(in, options, *gpu, caps);
  return SmBound(in, *gpu, caps);
}

}  // namespace tessera::planners
