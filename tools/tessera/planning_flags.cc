#include "planning_flags.h"

#include <cmath>

#include "fmt/core.h"
#include "interference_flags.h"
#include "tessera/base/status.h"
#include "tessera/planners/interference.h"
#include "tessera/workload/scale.h"

namespace tessera::cli {

void AddPlanningFlags(CLI::App* cmd, PlanningFlags& f) {
  cmd->add_option("--workload", f.workload, "Workload file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--profiles", f.profiles, "Profile table (canonical CSV)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", f.planning.gpu, "GPU model to plan for (name or alias)")->required();
  cmd->add_option("--rate-scale", f.rate_scale,
                  "Multiply every model's request rate by this factor (> 0)")
      ->capture_default_str();
  f.rate_quantile_flag = cmd->add_option(
      "--rate-quantile", f.planning.rate_quantile,
      "Provision each model at this quantile of its Poisson count per window (0: the mean rate; "
      "default: each planner's own, 0 for parva, elasticbatch and ilp, 0.99 for the others)");
  cmd->add_option("--window", f.planning.window_s, "Window of that count, seconds")
      ->capture_default_str();
  cmd->add_option("--mig-profiles", f.planning.mig_profiles,
                  "Comma-separated MIG profiles the planners may use (default: all but +me)")
      ->delimiter(',');
  cmd->add_option("--time-limit", f.planning.time_limit_s,
                  "Seconds the exact planner (ilp) may search before returning its best plan")
      ->capture_default_str();
  cmd->add_option("--buckets", f.planning.input_buckets,
                  "Input buckets per model with varying inputs (elasticbatch): 0 automatic, 1 none "
                  "(pad to the largest size), K at most K")
      ->capture_default_str();
}

absl::Status CheckRateScale(double rate_scale) {
  if (rate_scale > 0 && std::isfinite(rate_scale)) return absl::OkStatus();
  return absl::InvalidArgumentError(fmt::format(
      "--rate-scale {}: must be a positive number (1 keeps the workload's rates)", rate_scale));
}

absl::StatusOr<workload::Workload> ScaledWorkload(const std::string& path, double rate_scale,
                                                  const models::ModelRegistry& registry,
                                                  const std::string& trace) {
  RETURN_IF_ERROR(CheckRateScale(rate_scale));
  ASSIGN_OR_RETURN(workload::Workload w, workload::LoadWorkloadFile(path, registry));
  if (!trace.empty()) {
    ASSIGN_OR_RETURN(w, workload::WithCsvTrace(w, trace, registry));
  }
  return workload::ScaleRates(w, rate_scale);
}

planners::PlannerOptions PlanningFlags::For(const planners::Planner& planner) const {
  planners::PlannerOptions options = planning;
  if (rate_quantile_flag == nullptr || rate_quantile_flag->count() == 0) {
    options.rate_quantile = planner.intended_rate_quantile();
  }
  return options;
}

absl::StatusOr<std::unique_ptr<LoadedInputs>> LoadPlanningInputs(PlanningFlags& f) {
  RETURN_IF_ERROR(f.planning.Validate());
  auto in = std::make_unique<LoadedInputs>();
  ASSIGN_OR_RETURN(in->catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(in->gpu, in->catalog.Find(f.planning.gpu));
  f.planning.gpu = in->gpu->name;
  ASSIGN_OR_RETURN(in->registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(in->workload, ScaledWorkload(f.workload, f.rate_scale, in->registry));
  ASSIGN_OR_RETURN(perf::ProfileTable profiles,
                   perf::LoadProfileCsv(f.profiles, in->catalog, in->registry));
  ASSIGN_OR_RETURN(in->profiles, perf::WithMigStandIns(std::move(profiles), in->catalog));
  return in;
}

absl::StatusOr<std::unique_ptr<planners::Planner>> CreatePlanner(
    const std::string& name, const PlanningFlags& flags, const LoadedInputs& in,
    std::string_view interference_flag) {
  if (flags.gpulet_interference.empty()) return planners::Planner::Create(name);
  if (name != "gpulet") {
    return absl::InvalidArgumentError(
        fmt::format("{} applies to the gpulet planner only, not {}", interference_flag, name));
  }
  ASSIGN_OR_RETURN(
      std::shared_ptr<const perf::InterferenceModel> model,
      MakeInterferenceModel(flags.gpulet_interference, interference_flag,
                            /*allow_none=*/false, *in.gpu, in.catalog, in.registry, &in.profiles));
  return planners::NewGpuletPlanner(std::move(model));
}

}  // namespace tessera::cli
