// `tessera generate planning-case`: write a large, seeded planning case (workload + profiles).
#include <algorithm>
#include <memory>
#include <string>

#include "cli.h"
#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/planners/planning_case.h"

namespace tessera::cli {
namespace {

struct PlanningCaseCommandOptions {
  planners::PlanningCaseOptions generator;
  std::string output_dir;
};

// Whether `profiles` has rows on SM partitions (a case for the gpulet planner).
bool SmPartitioned(const perf::ProfileTable& profiles) {
  return std::any_of(profiles.rows().begin(), profiles.rows().end(), [](const auto& entry) {
    return entry.first.partition.kind == hw::PartitionKind::kSm;
  });
}

absl::Status RunPlanningCase(const PlanningCaseCommandOptions& o, std::ostream& out) {
  RETURN_IF_ERROR(o.generator.Validate());
  ASSIGN_OR_RETURN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(planners::PlanningCaseBase base,
                   planners::LoadBundledPlanningCaseBase(catalog, registry, o.generator.gpu));
  ASSIGN_OR_RETURN(planners::PlanningCase c, planners::GeneratePlanningCase(base, o.generator));
  RETURN_IF_ERROR(planners::WritePlanningCase(c, o.output_dir));
  const std::string& dir = o.output_dir;
  out << fmt::format(
      "wrote {}/workload.yaml ({} models, {:.0f} requests/s in all) and {}/profiles.csv ({} "
      "rows)\n",
      dir, c.workload.models.size(), c.total_rate_rps, dir, c.profiles.size());
  out << fmt::format(
      "the case needs about {:.0f} GPUs (sum of each model's rate over its best throughput per "
      "GPU within half its SLO)\n",
      c.estimated_gpus);
  out << fmt::format(
      "plan it: tessera plan --workload {}/workload.yaml --profiles {}/profiles.csv --gpu {} "
      "--planner {}\n",
      dir, dir, o.generator.gpu, SmPartitioned(c.profiles) ? "gpulet" : "parva");
  return absl::OkStatus();
}

}  // namespace

void AddGenerateCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  CLI::App* generate =
      app.add_subcommand("generate", "Write synthetic inputs for planners and benchmarks");
  generate->require_subcommand(1);

  auto o = std::make_shared<PlanningCaseCommandOptions>();
  CLI::App* cmd = generate->add_subcommand(
      "planning-case",
      "A seeded planning case: models cloned (\"m~k\") from ParvaGPU's A100-80GB scenarios, with "
      "rates for about --gpus GPUs; writes DIR/workload.yaml and DIR/profiles.csv");
  cmd->add_option("--models", o->generator.models, "Models (clones) in the case")
      ->capture_default_str();
  cmd->add_option("--gpus", o->generator.gpus, "GPUs the case should need (estimated)")
      ->capture_default_str();
  cmd->add_option("--seed", o->generator.seed, "Seed: the same flags and seed give the same files")
      ->capture_default_str();
  cmd->add_option("--gpu", o->generator.gpu,
                  "GPU model (name or alias): the bundled bases are ParvaGPU's A100-80GB "
                  "scenarios and, for the H100 (SM partitions), the H100 mix")
      ->capture_default_str();
  cmd->add_option(
         "--jitter", o->generator.jitter,
         "Each clone's latencies are the base's times a factor in [1 - jitter, 1 + jitter]")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output_dir, "Folder to write (created if missing)")->required();
  cmd->callback([o, &out, &err, &exit_code] {
    absl::Status status = RunPlanningCase(*o, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });
}

}  // namespace tessera::cli
