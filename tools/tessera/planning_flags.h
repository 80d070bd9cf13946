// The inputs and flags that `tessera plan` and `tessera compare` share.
#ifndef TESSERA_TOOLS_PLANNING_FLAGS_H_
#define TESSERA_TOOLS_PLANNING_FLAGS_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::cli {

struct PlanningFlags {
  std::string workload;
  std::string profiles;
  planners::PlannerOptions planning;
  double rate_scale = 1.0;  // every model's rate is multiplied by this (workload::ScaleRates)
  CLI::Option* rate_quantile_flag = nullptr;  // set by AddPlanningFlags
  // gpulet's interference model (interference_flags.h spec); empty: the planner's default
  // (constant 1.1). Registered by the commands (plan: --interference, compare:
  // --gpulet-interference).
  std::string gpulet_interference;

  // The options for `planner`: `planning`, with the planner's intended rate quantile unless
  // --rate-quantile was given.
  planners::PlannerOptions For(const planners::Planner& planner) const;
};

// Registers --workload, --profiles, --gpu, --rate-scale, --rate-quantile, --window,
// --mig-profiles, --time-limit and --buckets.
void AddPlanningFlags(CLI::App* cmd, PlanningFlags& flags);

// OK, or InvalidArgument naming --rate-scale unless `rate_scale` is a finite positive number.
absl::Status CheckRateScale(double rate_scale);

// The workload at `path`, its demand replaced by the CSV trace `trace` when not empty
// (workload::WithCsvTrace), with its rates multiplied by `rate_scale` (workload::ScaleRates), after
// CheckRateScale.
absl::StatusOr<workload::Workload> ScaledWorkload(const std::string& path, double rate_scale,
                                                  const models::ModelRegistry& registry,
                                                  const std::string& trace = "");

// Everything a planner reads, loaded from the flags; `planning()` points into it, so it lives in
// one place (the unique_ptr) for as long as it is used.
struct LoadedInputs {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  workload::Workload workload;
  perf::ProfileTable profiles;
  const hw::GpuModel* gpu = nullptr;  // the flags' --gpu in the catalog
  planners::PlanningInputs planning() const { return {&catalog, &profiles, &workload, &registry}; }
};

// Validates the planner options, loads the catalog, registry, workload (its rates multiplied by
// --rate-scale) and profiles (with perf::WithMigStandIns), and sets flags.planning.gpu to the
// catalog's canonical name.
// InvalidArgument naming --rate-scale unless it is a positive number.
absl::StatusOr<std::unique_ptr<LoadedInputs>> LoadPlanningInputs(PlanningFlags& flags);

// The planner `name` (planners::Planner::Create), with flags.gpulet_interference for gpulet.
// InvalidArgument naming `interference_flag` when that spec is given for another planner or is bad.
absl::StatusOr<std::unique_ptr<planners::Planner>> CreatePlanner(
    const std::string& name, const PlanningFlags& flags, const LoadedInputs& in,
    std::string_view interference_flag);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_PLANNING_FLAGS_H_
