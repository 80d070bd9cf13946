#include "tessera/planners/lower_bound.h"

#include <cmath>
#include <map>
#include <memory>
#include <vector>

#include "coin/Clp_C_Interface.h"
#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/hw/layout.h"
#include "tessera/planners/common.h"

namespace tessera::planners {
namespace {

// Per model: the best capacity (requests/s) of each partition among configurations within the SLO.
using Capacities = std::vector<std::map<hw::Partition, double>>;

absl::StatusOr<Capacities> BestCapacities(const PlanningInputs& in, const std::string& gpu) {
  Capacities caps;
  for (const workload::WorkloadModel& m : in.workload->models) {
    std::map<hw::Partition, double> best;
    SloRule within_slo = [&](double latency_ms, int) { return latency_ms <= m.slo_ms; };
    for (const Configuration& c :
         Configurations(*in.profiles, gpu, m.model, m.input.MaxSize(), within_slo)) {
      best[c.partition] = std::max(best[c.partition], c.capacity_rps);
    }
    if (best.empty()) {
      return absl::FailedPreconditionError(fmt::format(
          "{}: no profiled configuration on {} at input {} fits its {} ms SLO; no plan exists",
          m.model, gpu, m.input.MaxSize(), m.slo_ms));
    }
    caps.push_back(std::move(best));
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
  int models = static_cast<int>(caps.size());
  Lp lp;
  // Rows 0..models-1: demand (>= demand); rows models..: profile supply (<= 0).
  for (const workload::WorkloadModel& m : in.workload->models) {
    lp.row_lower.push_back(m.demand.rate_rps);
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
      auto it = caps[m].find(hw::Partition::Mig(gpu.profiles[profiles[k]].name));
      if (it == caps[m].end()) continue;
      lp.AddColumn(0.0, {{m, it->second}, {models + static_cast<int>(k), 1.0}});
    }
  }
  ASSIGN_OR_RETURN(double gpus, SolveLp(lp));
  return LowerBound{gpus, static_cast<int>(std::ceil(gpus - 1e-6)),
                    "LP relaxation over maximal MIG cuts (Clp), best capacity within SLO, mean "
                    "demand"};
}

absl::StatusOr<LowerBound> SmBound(const PlanningInputs& in, const hw::GpuModel& gpu,
                                   const Capacities& caps) {
  if (!gpu.sms) {
    return absl::FailedPreconditionError(
        fmt::format("the catalog does not know the SMs of {}", gpu.name));
  }
  double gpus = 0;
  for (size_t m = 0; m < caps.size(); ++m) {
    double best_per_sm = 0;
    for (const auto& [partition, cap] : caps[m]) {
      ASSIGN_OR_RETURN(int sms, hw::PartitionSms(gpu, partition));
      best_per_sm = std::max(best_per_sm, cap / sms);
    }
    gpus += in.workload->models[m].demand.rate_rps / best_per_sm / *gpu.sms;
  }
  return LowerBound{gpus, static_cast<int>(std::ceil(gpus - 1e-6)),
                    "mean demand over the best capacity per SM within SLO, in whole GPUs' SMs"};
}

}  // namespace

absl::StatusOr<LowerBound> ComputeLowerBound(const PlanningInputs& in,
                                             const PlannerOptions& options) {
  TESSERA_CHECK(in.catalog && in.profiles && in.workload);
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, in.catalog->Find(options.gpu));
  ASSIGN_OR_RETURN(Capacities caps, BestCapacities(in, gpu->name));
  bool any_mig = false;
  for (const auto& per_model : caps) {
    for (const auto& [partition, cap] : per_model) {
      any_mig |= partition.kind == hw::PartitionKind::kMig;
    }
  }
  if (any_mig && gpu->compute_slices > 0) return MigBound(in, options, *gpu, caps);
  return SmBound(in, *gpu, caps);
}

}  // namespace tessera::planners
