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
};

// Registers --workload, --profiles, --gpu, --rate-quantile, --window and --mig-profiles.
void AddPlanningFlags(CLI::App* cmd, PlanningFlags& flags);

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

// Validates the planner options, loads the catalog, registry, workload and profiles, and sets
// flags.planning.gpu to the catalog's canonical name.
absl::StatusOr<std::unique_ptr<LoadedInputs>> LoadPlanningInputs(PlanningFlags& flags);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_PLANNING_FLAGS_H_
