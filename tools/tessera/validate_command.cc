// `tessera validate`: check a plan against the GPU catalog, the model registry and, when given, the
// profiles and the workload; print the plan and every problem.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "nlohmann/json.hpp"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/plan/plan.h"
#include "tessera/workload/workload.h"

namespace tessera::cli {
namespace {

using json = nlohmann::ordered_json;

struct ValidateOptions {
  std::string plan;
  std::string workload;  // empty: no workload checks
  std::string profiles;  // empty: no profile or memory checks
  bool json = false;
};

// Everything the plan is checked against, owned here; the context points into it.
struct Inputs {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  std::optional<perf::ProfileTable> profiles;
  std::optional<workload::Workload> workload;

  plan::ValidationContext Context() const {
    return {&catalog, profiles ? &*profiles : nullptr, workload ? &*workload : nullptr, &registry};
  }
};

absl::StatusOr<std::unique_ptr<Inputs>> LoadInputs(const ValidateOptions& options) {
  auto inputs = std::make_unique<Inputs>();
  ASSIGN_OR_RETURN(inputs->catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(inputs->registry, models::LoadDefaultModelRegistry());
  if (!options.profiles.empty()) {
    ASSIGN_OR_RETURN(perf::ProfileTable measured,
                     perf::LoadProfileCsv(options.profiles, inputs->catalog, inputs->registry));
    // The same stand-in MIG rows that `plan` and `simulate` read (perf::WithMigStandIns).
    ASSIGN_OR_RETURN(inputs->profiles, perf::WithMigStandIns(std::move(measured), inputs->catalog));
  }
  if (!options.workload.empty()) {
    ASSIGN_OR_RETURN(inputs->workload,
                     workload::LoadWorkloadFile(options.workload, inputs->registry));
  }
  return inputs;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

// MIG GPUs drawn with the catalog: one cell per memory slice (only for legal layouts).
std::string MigPictures(const plan::Plan& plan, const hw::Catalog& catalog) {
  std::string out;
  for (const plan::PlanGpu& gpu : plan.gpus) {
    absl::StatusOr<const hw::GpuModel*> model = catalog.Find(gpu.gpu);
    if (!model.ok() || gpu.partitions.empty()) continue;
    hw::PlacedLayout layout;
    bool drawable = true;
    for (const plan::PlanPartition& p : gpu.partitions) {
      int profile = (*model)->ProfileIndex(p.partition.mig_profile);
      drawable = drawable && p.partition.kind == hw::PartitionKind::kMig && profile >= 0 &&
                 p.start && hw::CanPlace(**model, layout, profile, *p.start);
      if (drawable) layout.Add({profile, *p.start});
    }
    if (drawable) {
      out += fmt::format("gpu {} memory slices: {}\n", gpu.index, hw::DrawLayout(**model, layout));
    }
  }
  return out;
}

std::string SkippedChecks(const ValidateOptions& options) {
  std::string out;
  if (options.profiles.empty()) {
    out += "(no --profiles: profiled configurations and memory were not checked)\n";
  }
  if (options.workload.empty()) {
    out += "(no --workload: demand coverage and input buckets were not checked)\n";
  }
  return out;
}

void PrintText(const ValidateOptions& options, const plan::Plan& plan, const Inputs& inputs,
               const absl::Status& verdict, std::ostream& out) {
  out << plan.DebugString() << MigPictures(plan, inputs.catalog) << SkippedChecks(options);
  if (verdict.ok()) {
    out << "plan is valid\n";
    return;
  }
  std::vector<std::string> problems = SplitLines(std::string(verdict.message()));
  out << fmt::format("plan is invalid: {} problem(s)\n", problems.size());
  for (const std::string& problem : problems) out << "  " << problem << "\n";
}

void PrintJson(const plan::Plan& plan, const absl::Status& verdict, std::ostream& out) {
  json problems = json::array();
  if (!verdict.ok()) {
    for (const std::string& problem : SplitLines(std::string(verdict.message())))
      problems.push_back(problem);
  }
  json report = {{"valid", verdict.ok()}, {"problems", problems}, {"plan", plan::PlanToJson(plan)}};
  out << report.dump(2) << "\n";
}

// 0 valid, 1 invalid; a Status for inputs that cannot be read.
absl::StatusOr<int> RunValidate(const ValidateOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(plan::Plan plan, plan::LoadPlanFile(options.plan));
  ASSIGN_OR_RETURN(std::unique_ptr<Inputs> inputs, LoadInputs(options));
  absl::Status verdict = plan::ValidatePlan(plan, inputs->Context());
  if (!verdict.ok() && verdict.code() != absl::StatusCode::kInvalidArgument) return verdict;
  if (options.json) {
    PrintJson(plan, verdict, out);
  } else {
    PrintText(options, plan, *inputs, verdict, out);
  }
  return verdict.ok() ? 0 : 1;
}

}  // namespace

void AddValidateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* validate = app.add_subcommand(
      "validate",
      "Check a plan (YAML or JSON) against the GPU catalog and model registry, and against "
      "profiles and a workload when given; print the plan and every problem (exit 1 if any).");
  validate->add_option("--plan", options->plan, "the plan file (YAML or JSON)")->required();
  validate->add_option("--workload", options->workload,
                       "a workload file: every model served, every input size in a bucket");
  validate->add_option("--profiles", options->profiles,
                       "a profile CSV: every configuration profiled, memory fits");
  validate->add_flag("--json", options->json, "print a JSON report instead of text");
  validate->callback([options, &out, &err, &exit_code] {
    absl::StatusOr<int> code = RunValidate(*options, out);
    exit_code = code.ok() ? *code : ReportError(code.status(), err);
  });
}

}  // namespace tessera::cli
