// `tessera compare`: every planner on the same inputs, every plan simulated on the same seeds.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/ranges.h"
#include "interference_flags.h"
#include "nlohmann/json.hpp"
#include "planning_flags.h"
#include "tessera/base/status.h"
#include "tessera/base/table.h"
#include "tessera/planners/lower_bound.h"
#include "tessera/planners/planner.h"
#include "tessera/sim/simulator.h"
#include "tessera/workload/arrivals.h"

namespace tessera::cli {
namespace {

struct CompareOptions {
  PlanningFlags flags;
  std::vector<std::string> planners;  // empty: every planner
  std::vector<uint64_t> seeds = {1};
  double duration_s = 60;
  bool json = false;
  std::string interference = "none";  // the simulator's (interference_flags.h spec)
  std::shared_ptr<const perf::InterferenceModel> interference_model;
};

// One planner's row: its plan and the plan simulated on every seed.
struct Row {
  std::string planner;
  double rate_quantile = 0;  // what the planner provisioned at
  bool feasible = false;
  std::string reason;
  int gpus = 0;
  double planning_ms = 0;
  double attainment = 1;   // the lowest over seeds, overall
  double worst_model = 1;  // the lowest model attainment over seeds
  double goodput_rps = 0;  // mean over seeds
  double p99_ms = 0;       // the highest overall p99 over seeds
};

absl::Status SimulateRow(const LoadedInputs& in, const plan::Plan& plan, const CompareOptions& o,
                         Row& row) {
  row.attainment = row.worst_model = 1;
  for (uint64_t seed : o.seeds) {
    sim::SimOptions options;
    options.duration_s = o.duration_s;
    options.seed = seed;
    options.interference = o.interference_model;
    ASSIGN_OR_RETURN(auto sources,
                     workload::MakeArrivalSources(in.workload, in.registry, {o.duration_s, seed}));
    ASSIGN_OR_RETURN(sim::SimResult r,
                     sim::Simulate({&plan, &in.workload, &in.profiles, &in.catalog},
                                   std::move(sources), options));
    sim::ModelMetrics all = r.Overall();
    row.attainment = std::min(row.attainment, all.SloAttainment());
    for (const sim::ModelMetrics& m : r.models) {
      row.worst_model = std::min(row.worst_model, m.SloAttainment());
    }
    row.goodput_rps += all.within_slo / r.measured_s / o.seeds.size();
    row.p99_ms = std::max(row.p99_ms, all.latency.Quantile(0.99) / 1e6);
  }
  return absl::OkStatus();
}

absl::StatusOr<Row> RunPlanner(const LoadedInputs& in, const std::string& name,
                               const CompareOptions& o) {
  ASSIGN_OR_RETURN(std::unique_ptr<planners::Planner> planner,
                   CreatePlanner(name, o.flags, in, "--gpulet-interference"));
  planners::PlannerOptions options = o.flags.For(*planner);
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(planners::PlanResult result, planner->Run(in.planning(), options));
  Row row;
  row.planner = name;
  row.rate_quantile = options.rate_quantile;
  row.planning_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  row.feasible = result.summary.feasible;
  row.reason = result.summary.reason;
  row.gpus = result.summary.gpus;
  if (row.feasible) RETURN_IF_ERROR(SimulateRow(in, result.plan, o, row));
  return row;
}

void Print(const std::vector<Row>& rows, const absl::StatusOr<planners::LowerBound>& bound,
           const CompareOptions& o, std::ostream& out) {
  TextTable table({"planner", "quantile", "GPUs", "gap to bound", "SLO met (min)", "worst model",
                   "goodput rps", "p99 ms (max)", "planning ms"});
  for (size_t c = 1; c < 9; ++c) table.SetRightAligned(c);
  for (const Row& r : rows) {
    std::string q = fmt::format("{}", r.rate_quantile);
    if (!r.feasible) {
      table.AddRow(
          {r.planner, q, "-", "-", "infeasible", "", "", "", fmt::format("{:.1f}", r.planning_ms)});
      continue;
    }
    table.AddRow({r.planner, q, std::to_string(r.gpus),
                  bound.ok() ? fmt::format("{:+d}", r.gpus - bound->gpus) : "-",
                  fmt::format("{:.2f}%", 100 * r.attainment),
                  fmt::format("{:.2f}%", 100 * r.worst_model), fmt::format("{:.0f}", r.goodput_rps),
                  fmt::format("{:.2f}", r.p99_ms), fmt::format("{:.1f}", r.planning_ms)});
  }
  out << fmt::format("{} on {}, {} s simulated per seed, seeds {}, rates x{}, {}\n",
                     o.flags.workload, o.flags.planning.gpu, o.duration_s, fmt::join(o.seeds, ","),
                     o.flags.rate_scale,
                     o.flags.rate_quantile_flag->count() > 0
                         ? fmt::format("rate quantile {}", o.flags.planning.rate_quantile)
                         : std::string("each planner at its own rate quantile"));
  if (bound.ok()) {
    out << fmt::format("lower bound: {} GPU(s) (LP {:.2f})\n", bound->gpus, bound->lp_gpus);
  }
  if (o.interference_model) {
    out << "simulated interference: " << o.interference_model->Describe() << "\n";
  }
  out << "\n" << table.Render();
  for (const Row& r : rows) {
    if (!r.feasible) out << r.planner << ": " << r.reason << "\n";
  }
}

nlohmann::ordered_json ToJson(const std::vector<Row>& rows,
                              const absl::StatusOr<planners::LowerBound>& bound) {
  nlohmann::ordered_json planners = nlohmann::ordered_json::array();
  for (const Row& r : rows) {
    planners.push_back({{"planner", r.planner},
                        {"rate_quantile", r.rate_quantile},
                        {"feasible", r.feasible},
                        {"reason", r.reason},
                        {"gpus", r.gpus},
                        {"slo_attainment_min", r.attainment},
                        {"worst_model_attainment", r.worst_model},
                        {"goodput_rps", r.goodput_rps},
                        {"p99_ms_max", r.p99_ms},
                        {"planning_ms", r.planning_ms}});
  }
  return {{"lower_bound_gpus", bound.ok() ? nlohmann::ordered_json(bound->gpus) : nullptr},
          {"planners", planners}};
}

absl::Status RunCompare(CompareOptions& o, std::ostream& out) {
  if (o.seeds.empty() || !(o.duration_s > 0)) {
    return absl::InvalidArgumentError("--seeds needs at least one seed and --duration must be > 0");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<LoadedInputs> loaded, LoadPlanningInputs(o.flags));
  const LoadedInputs& in = *loaded;
  ASSIGN_OR_RETURN(o.interference_model,
                   MakeInterferenceModel(o.interference, "--interference", /*allow_none=*/true,
                                         *in.gpu, in.catalog, in.registry, &in.profiles));
  std::vector<std::string> names = o.planners.empty() ? planners::Planner::Names() : o.planners;
  std::vector<Row> rows;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(Row row, RunPlanner(in, name, o));
    rows.push_back(std::move(row));
  }
  absl::StatusOr<planners::LowerBound> bound =
      planners::ComputeLowerBound(in.planning(), o.flags.planning);
  if (o.json) {
    out << ToJson(rows, bound).dump(2) << "\n";
  } else {
    Print(rows, bound, o, out);
  }
  return absl::OkStatus();
}

}  // namespace

void AddCompareCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Run every planner on the same inputs and simulate every plan on the same seeds");
  AddPlanningFlags(cmd, o->flags);
  cmd->add_option("--planners", o->planners, "Comma-separated planners (default: all)")
      ->delimiter(',');
  cmd->add_option("--seeds", o->seeds, "Comma-separated simulation seeds")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "Seconds simulated per seed")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_option("--interference", o->interference,
                  "Simulated interference between SM partitions of a GPU: none, constant:F, "
                  "fitted (on the bundled H100 pairs) or fitted:PATH")
      ->capture_default_str();
  cmd->add_option("--gpulet-interference", o->flags.gpulet_interference,
                  "gpulet's interference model: constant (1.1, the default), constant:F, fitted or "
                  "fitted:PATH");
  cmd->callback([o, &out, &err, &exit_code] {
    absl::Status status = RunCompare(*o, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });
}

}  // namespace tessera::cli
