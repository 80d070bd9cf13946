#include "planning_flags.h"

#include "tessera/base/status.h"

namespace tessera::cli {

void AddPlanningFlags(CLI::App* cmd, PlanningFlags& f) {
  cmd->add_option("--workload", f.workload, "Workload file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--profiles", f.profiles, "Profile table (canonical CSV)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", f.planning.gpu, "GPU model to plan for (name or alias)")->required();
  cmd->add_option("--rate-quantile", f.planning.rate_quantile,
                  "Provision each model at this quantile of its Poisson count per window (0: the "
                  "mean rate)")
      ->capture_default_str();
  cmd->add_option("--window", f.planning.window_s, "Window of that count, seconds")
      ->capture_default_str();
  cmd->add_option("--mig-profiles", f.planning.mig_profiles,
                  "Comma-separated MIG profiles the planners may use (default: all but +me)")
      ->delimiter(',');
  cmd->add_option("--time-limit", f.planning.time_limit_s,
                  "Seconds the exact planner (ilp) may search before returning its best plan")
      ->capture_default_str();
}

absl::StatusOr<std::unique_ptr<LoadedInputs>> LoadPlanningInputs(PlanningFlags& f) {
  RETURN_IF_ERROR(f.planning.Validate());
  auto in = std::make_unique<LoadedInputs>();
  ASSIGN_OR_RETURN(in->catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(in->gpu, in->catalog.Find(f.planning.gpu));
  f.planning.gpu = in->gpu->name;
  ASSIGN_OR_RETURN(in->registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(in->workload, workload::LoadWorkloadFile(f.workload, in->registry));
  ASSIGN_OR_RETURN(in->profiles, perf::LoadProfileCsv(f.profiles, in->catalog, in->registry));
  return in;
}

}  // namespace tessera::cli
