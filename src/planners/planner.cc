#include "tessera/planners/planner.h"

#include <functional>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/makers.h"

namespace tessera::planners {
namespace {

struct Entry {
  const char* name;
  std::function<std::unique_ptr<Planner>()> make;
};

const std::vector<Entry>& Entries() {
  static const std::vector<Entry> entries = {
      {"elasticbatch", internal::MakeElasticBatchPlanner},
      {"ilp", internal::MakeIlpPlanner},
      {"gpulet", internal::MakeGpuletPlanner},
      {"parva", internal::MakeParvaPlanner},
      {"static-mig", internal::MakeStaticMigPlanner},
      {"whole-gpu", internal::MakeWholeGpuPlanner},
  };
  return entries;
}

}  // namespace

absl::Status PlannerOptions::Validate() const {
  auto bad = [](std::string_view field, std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("planner option {}: {}", field, what));
  };
  if (gpu.empty()) return bad("gpu", "name the GPU model to plan for (e.g. --gpu h100)");
  if (!(rate_quantile >= 0 && rate_quantile < 1)) return bad("rate_quantile", "must be in [0, 1)");
  if (!(window_s > 0)) return bad("window_s", "must be positive");
  if (max_gpus <= 0) return bad("max_gpus", "must be positive");
  if (!(time_limit_s > 0)) return bad("time_limit_s", "must be positive (seconds)");
  if (input_buckets < 0) return bad("input_buckets", "must be >= 0 (0: automatic, 1: none)");
  return absl::OkStatus();
}

const char* TerminationName(Termination termination) {
  switch (termination) {
    case Termination::kHeuristic:
      return "heuristic";
    case Termination::kOptimal:
      return "optimal";
    case Termination::kFeasible:
      return "feasible";
    case Termination::kInfeasible:
      return "infeasible";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<Planner>> Planner::Create(std::string_view name) {
  for (const Entry& entry : Entries()) {
    if (name == entry.name) return entry.make();
  }
  return absl::InvalidArgumentError(
      fmt::format("unknown planner '{}'; known planners: {}", name, fmt::join(Names(), ", ")));
}

std::vector<std::string> Planner::Names() {
  std::vector<std::string> names;
  for (const Entry& entry : Entries()) names.push_back(entry.name);
  return names;
}

}  // namespace tessera::planners
