// `tessera simulate`: replay a workload (or a trace) against a plan in the discrete-event
// simulator.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "interference_flags.h"
#include "planning_flags.h"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/sim/simulator.h"
#include "tessera/workload/arrivals.h"
#include "tessera/workload/scale.h"
#include "tessera/workload/workload.h"

namespace tessera::cli {
namespace {

struct SimulateOptions {
  std::string plan;
  std::string workload;
  std::string profiles;
  std::string trace;  // a plain `timestamp_s,model[,input_size]` CSV replacing every model's demand
  std::string router = "shortest-expected-completion";
  std::string output;       // also write the JSON metrics here
  double rate_scale = 1.0;  // every model's rate is multiplied by this (workload::ScaleRates)
  sim::SimOptions sim;
  bool no_drain = false;
  bool json = false;
  std::string interference = "none";  // interference_flags.h spec
  std::vector<std::string> command_line;
};

// The command with every effective setting, defaults included, so a metrics file says exactly how
// to reproduce it.
std::vector<std::string> EffectiveCommandLine(const SimulateOptions& o) {
  std::vector<std::string> line = {"tessera",    "simulate", "--plan",     o.plan,
                                   "--workload", o.workload, "--profiles", o.profiles};
  if (!o.trace.empty()) line.insert(line.end(), {"--trace", o.trace});
  line.insert(line.end(), {"--rate-scale", fmt::format("{}", o.rate_scale)});
  line.insert(line.end(),
              {"--duration", fmt::format("{}", o.sim.duration_s), "--seed",
               std::to_string(o.sim.seed), "--router", o.router, "--batch-timeout-ms",
               fmt::format("{}", o.sim.batch_timeout_ms), "--noise-cv",
               fmt::format("{}", o.sim.noise_cv), "--warmup", fmt::format("{}", o.sim.warmup_s)});
  if (o.no_drain) line.push_back("--no-drain");
  if (o.sim.drop_expired) line.push_back("--drop-expired");
  if (o.interference != "none") line.insert(line.end(), {"--interference", o.interference});
  return line;
}

absl::Status RunSimulate(SimulateOptions& o, std::ostream& out) {
  ASSIGN_OR_RETURN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(workload::Workload workload,
                   ScaledWorkload(o.workload, o.rate_scale, registry, o.trace));
  ASSIGN_OR_RETURN(perf::ProfileTable measured,
                   perf::LoadProfileCsv(o.profiles, catalog, registry));
  ASSIGN_OR_RETURN(perf::ProfileTable profiles,
                   perf::WithMigStandIns(std::move(measured), catalog));
  ASSIGN_OR_RETURN(plan::Plan plan, plan::LoadPlanFile(o.plan));
  absl::Status valid = plan::ValidatePlan(plan, {&catalog, &profiles, &workload, &registry});
  if (!valid.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "{}: the plan is not valid; fix it first (tessera validate shows the same):\n{}", o.plan,
        std::string(valid.message())));
  }
  ASSIGN_OR_RETURN(o.sim.router, sim::ParseRouter(o.router));
  if (o.interference != "none") {
    // The plan's first GPU model (gpulet plans use one): pressures are derived for it.
    if (plan.gpus.empty()) return absl::InvalidArgumentError(fmt::format("{}: no GPUs", o.plan));
    ASSIGN_OR_RETURN(const hw::GpuModel* gpu, catalog.Find(plan.gpus[0].gpu));
    ASSIGN_OR_RETURN(o.sim.interference,
                     MakeInterferenceModel(o.interference, "--interference", /*allow_none=*/true,
                                           *gpu, catalog, registry, &profiles));
  }
  o.sim.drain = !o.no_drain;
  RETURN_IF_ERROR(o.sim.Validate());
  ASSIGN_OR_RETURN(auto sources, workload::MakeArrivalSources(workload, registry,
                                                              {o.sim.duration_s, o.sim.seed}));
  ASSIGN_OR_RETURN(sim::SimResult result, sim::Simulate({&plan, &workload, &profiles, &catalog},
                                                        std::move(sources), o.sim));
  std::string json = sim::ResultToJson(result, o.command_line).dump(2) + "\n";
  if (!o.output.empty()) {
    std::ofstream file(o.output);
    file << json;
    if (!file) return absl::InvalidArgumentError(fmt::format("cannot write {}", o.output));
  }
  out << (o.json ? json : sim::FormatSummary(result));
  return absl::OkStatus();
}

}  // namespace

void AddSimulateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd =
      app.add_subcommand("simulate",
                         "Replay a workload's arrivals (or a trace) against a plan and report SLO "
                         "attainment, goodput, latency and utilization");
  cmd->add_option("--plan", o->plan, "Plan file (YAML or JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--workload", o->workload, "Workload file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--profiles", o->profiles, "Profile table (canonical CSV)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--trace", o->trace,
                  "CSV trace timestamp_s,model[,input_size] that replaces every model's demand")
      ->check(CLI::ExistingFile);
  cmd->add_option("--rate-scale", o->rate_scale,
                  "Multiply every model's request rate by this factor (> 0; a trace replays "
                  "scale times faster or denser)")
      ->capture_default_str();
  cmd->add_option("--duration", o->sim.duration_s, "Seconds of arrivals to simulate")
      ->capture_default_str();
  cmd->add_option("--seed", o->sim.seed, "Seed of every random stream")->capture_default_str();
  cmd->add_option("--router", o->router,
                  "round-robin, least-outstanding or shortest-expected-completion")
      ->capture_default_str();
  cmd->add_option("--batch-timeout-ms", o->sim.batch_timeout_ms,
                  "Longest wait for a batch to fill (default: one full-batch time; 0: none)");
  cmd->add_option("--noise-cv", o->sim.noise_cv, "Execution-time noise (coefficient of variation)")
      ->capture_default_str();
  cmd->add_option("--warmup", o->sim.warmup_s, "Seconds at the start left out of the metrics")
      ->capture_default_str();
  cmd->add_flag("--no-drain", o->no_drain,
                "Stop the clock at the duration and report unfinished requests");
  cmd->add_flag("--drop-expired", o->sim.drop_expired,
                "Drop requests that can no longer meet their SLO instead of serving them late");
  cmd->add_option("-o,--output", o->output, "Also write the JSON metrics to this file");
  cmd->add_flag("--json", o->json, "Print the JSON metrics instead of the summary");
  cmd->add_option("--interference", o->interference,
                  "Interference between SM partitions of a GPU (sm:, mps:; MIG never): none, "
                  "constant:F, fitted (on the bundled H100 pairs) or fitted:PATH")
      ->capture_default_str();
  cmd->callback([o, &out, &err, &exit_code] {
    o->command_line = EffectiveCommandLine(*o);
    absl::Status status = RunSimulate(*o, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });
}

}  // namespace tessera::cli
