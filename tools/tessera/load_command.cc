// `tessera load`: replay a workload's arrivals (or a trace) against a running `tessera serve`, open
// loop, and report the simulator's metrics from the real responses.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "planning_flags.h"
#include "tessera/base/status.h"
#include "tessera/models/registry.h"
#include "tessera/serving/load_generator.h"
#include "tessera/workload/scale.h"
#include "tessera/workload/workload.h"

namespace tessera::cli {
namespace {

struct LoadCommandOptions {
  std::string workload, trace, output;
  double rate_scale = 1.0;
  bool json = false;
  serving::LoadOptions load;
  std::vector<std::string> command_line;
};

std::vector<std::string> EffectiveCommandLine(const LoadCommandOptions& o) {
  std::vector<std::string> line = {"tessera", "load", "--workload", o.workload};
  if (!o.trace.empty()) line.insert(line.end(), {"--trace", o.trace});
  line.insert(
      line.end(),
      {"--rate-scale", fmt::format("{}", o.rate_scale), "--duration",
       fmt::format("{}", o.load.duration_s), "--seed", std::to_string(o.load.seed), "--warmup",
       fmt::format("{}", o.load.warmup_s), "--connections", std::to_string(o.load.connections),
       "--timeout", fmt::format("{}", o.load.timeout_s), "--target", o.load.target});
  return line;
}

absl::Status RunLoadCommand(LoadCommandOptions& o, std::ostream& out, std::ostream& err) {
  ASSIGN_OR_RETURN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(workload::Workload workload,
                   ScaledWorkload(o.workload, o.rate_scale, registry, o.trace));
  ASSIGN_OR_RETURN(serving::LoadResult result, serving::RunLoad(workload, registry, o.load, &err));
  std::string json = serving::LoadResultToJson(result, o.command_line).dump(2) + "\n";
  if (!o.output.empty()) {
    std::ofstream file(o.output);
    file << json;
    if (!file) return absl::InvalidArgumentError(fmt::format("cannot write {}", o.output));
  }
  out << (o.json ? json : serving::FormatLoadSummary(result));
  return absl::OkStatus();
}

}  // namespace

void AddLoadCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto o = std::make_shared<LoadCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "load",
      "Replay a workload's arrivals against a running `tessera serve` (open loop) and "
      "report SLO attainment, goodput and latency from the real responses");
  cmd->add_option("--workload", o->workload, "Workload file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--target", o->load.target, "The server, http://host:port")->required();
  cmd->add_option("--trace", o->trace,
                  "CSV trace timestamp_s,model[,input_size] that replaces every model's demand")
      ->check(CLI::ExistingFile);
  cmd->add_option("--rate-scale", o->rate_scale, "Multiply every model's request rate by this")
      ->capture_default_str();
  cmd->add_option("--duration", o->load.duration_s, "Seconds of arrivals to send")
      ->capture_default_str();
  cmd->add_option("--seed", o->load.seed, "Seed of the arrivals (as simulate's)")
      ->capture_default_str();
  cmd->add_option("--warmup", o->load.warmup_s, "Seconds at the start left out of the metrics")
      ->capture_default_str();
  cmd->add_option("--connections", o->load.connections, "Requests in flight at once")
      ->capture_default_str();
  cmd->add_option("--timeout", o->load.timeout_s, "Seconds to wait for one answer")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "Also write the JSON metrics to this file");
  cmd->add_flag("--json", o->json, "Print the JSON metrics instead of the summary");
  cmd->callback([o, &out, &err, &exit_code] {
    o->command_line = EffectiveCommandLine(*o);
    absl::Status status = RunLoadCommand(*o, out, err);
    if (!status.ok()) exit_code = ReportError(status, err);
  });
}

}  // namespace tessera::cli
