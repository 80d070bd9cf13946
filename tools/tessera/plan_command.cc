// `tessera plan`: make a plan with a named planner and say what it did.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/ranges.h"
#include "planning_flags.h"
#include "tessera/base/status.h"
#include "tessera/base/table.h"
#include "tessera/hw/layout.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/planners/lower_bound.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/workload.h"

namespace tessera::cli {
namespace {

struct PlanCommandOptions {
  PlanningFlags flags;
  std::string planner;
  std::string output;
};

// The GPU's MIG instances as a layout picture, or its partitions listed.
std::string DrawGpu(const hw::GpuModel& model, const plan::PlanGpu& gpu) {
  hw::PlacedLayout layout;
  std::vector<std::string> others;
  for (const plan::PlanPartition& p : gpu.partitions) {
    int index = p.partition.kind == hw::PartitionKind::kMig
                    ? model.ProfileIndex(p.partition.mig_profile)
                    : -1;
    if (index >= 0 && p.start) {
      layout.Add({index, *p.start});
    } else {
      others.push_back(p.partition.ToString());
    }
  }
  if (others.empty()) return hw::DrawLayout(model, layout);
  return fmt::format("{}", fmt::join(others, " + "));
}

std::string Assignments(const plan::PlanGpu& gpu) {
  std::vector<std::string> parts;
  for (const plan::PlanPartition& p : gpu.partitions) {
    for (const plan::Assignment& a : p.assignments) {
      std::string share = a.share < 1 ? fmt::format(" share {:g}", a.share) : "";
      std::string procs = a.procs > 1 ? fmt::format(" x{}", a.procs) : "";
      parts.push_back(
          fmt::format("{}: {} b{}{}{}", p.partition.ToString(), a.model, a.batch, procs, share));
    }
  }
  return parts.empty() ? "idle" : fmt::format("{}", fmt::join(parts, ", "));
}

void PrintSummary(const hw::GpuModel& model, const planners::PlanResult& r, double ms,
                  std::ostream& out) {
  const planners::PlanSummary& s = r.summary;
  out << fmt::format("planner {}: {} ({}), {} GPU(s) of {}, planned in {:.2f} ms\n", s.planner,
                     s.feasible ? "feasible" : "INFEASIBLE",
                     planners::TerminationName(s.termination), s.gpus, model.name, ms);
  if (!s.reason.empty()) out << "  " << s.reason << "\n";
  out << "\n";
  for (const plan::PlanGpu& gpu : r.plan.gpus) {
    out << fmt::format("gpu {:>3}  {}\n         {}\n", gpu.index, DrawGpu(model, gpu),
                       Assignments(gpu));
  }
  TextTable table({"model", "demand rps", "provisioned rps", "capacity rps", "configurations"});
  for (size_t c : {1, 2, 3}) table.SetRightAligned(c);
  for (const planners::ModelPlanSummary& m : s.models) {
    table.AddRow({m.model, fmt::format("{:.0f}", m.demand_rps),
                  fmt::format("{:.0f}", m.provisioned_rps), fmt::format("{:.0f}", m.capacity_rps),
                  fmt::format("{}", fmt::join(m.configurations, "; "))});
  }
  out << "\n" << table.Render();
  for (const std::string& note : s.notes) out << "note: " << note << "\n";
}

absl::Status RunPlan(PlanCommandOptions& o, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<LoadedInputs> in, LoadPlanningInputs(o.flags));
  ASSIGN_OR_RETURN(std::unique_ptr<planners::Planner> planner,
                   CreatePlanner(o.planner, o.flags, *in, "--interference"));
  const planners::PlannerOptions options = o.flags.For(*planner);
  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(planners::PlanResult result, planner->Run(in->planning(), options));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (result.summary.feasible) {
    absl::Status valid = plan::ValidatePlan(
        result.plan, {&in->catalog, &in->profiles, &in->workload, &in->registry});
    if (!valid.ok()) {
      return absl::InternalError(fmt::format("planner {} made an invalid plan: {}", o.planner,
                                             std::string(valid.message())));
    }
  }
  PrintSummary(*in->gpu, result, ms, out);
  absl::StatusOr<planners::LowerBound> bound = planners::ComputeLowerBound(in->planning(), options);
  if (bound.ok()) {
    out << fmt::format("lower bound: {} GPU(s) (LP {:.2f}; {}); this plan is {} above it\n",
                       bound->gpus, bound->lp_gpus, bound->method,
                       result.summary.gpus - bound->gpus);
  } else {
    out << "lower bound: none (" << bound.status().message() << ")\n";
  }
  if (!o.output.empty()) {
    std::ofstream file(o.output);
    file << plan::PlanToYaml(result.plan);
    if (!file) return absl::InvalidArgumentError(fmt::format("cannot write {}", o.output));
    out << "plan written to " << o.output << "\n";
  }
  if (!result.summary.feasible) {
    return absl::FailedPreconditionError(
        fmt::format("no feasible plan: {}", result.summary.reason));
  }
  return absl::OkStatus();
}

}  // namespace

void AddPlanCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto o = std::make_shared<PlanCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Cut GPUs and place the workload's models with a named planner; print the plan");
  AddPlanningFlags(cmd, o->flags);
  cmd->add_option("--planner", o->planner,
                  fmt::format("One of: {}", fmt::join(planners::Planner::Names(), ", ")))
      ->required();
  cmd->add_option("-o,--output", o->output, "Write the plan (YAML) here");
  cmd->add_option("--interference", o->flags.gpulet_interference,
                  "gpulet's interference model: constant (1.1, the default), constant:F, fitted "
                  "(on the bundled H100 pairs) or fitted:PATH");
  cmd->callback([o, &out, &err, &exit_code] {
    absl::Status status = RunPlan(*o, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });
}

}  // namespace tessera::cli
