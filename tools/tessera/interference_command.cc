// `tessera interference fit`: fit gpulet's linear interference model on measured pairs and report
// its cross-validated error against gpulet's constant 1.1; and the --interference specs.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/ranges.h"
#include "interference_flags.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"
#include "tessera/base/table.h"

namespace tessera::cli {

absl::StatusOr<std::shared_ptr<const perf::InterferenceModel>> MakeInterferenceModel(
    std::string_view spec, std::string_view flag, bool allow_none, const hw::GpuModel& gpu,
    const hw::Catalog& catalog, const models::ModelRegistry& registry,
    const perf::ProfileTable* profiles) {
  std::string_view kind = spec.substr(0, spec.find(':'));
  std::optional<std::string_view> arg;
  if (spec.find(':') != std::string_view::npos) arg = spec.substr(spec.find(':') + 1);
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(
        fmt::format("{} '{}': {}; use {}constant, constant:F (F >= 1), fitted or fitted:PATH", flag,
                    spec, what, allow_none ? "none, " : ""));
  };
  if (kind == "none" && !arg) {
    if (!allow_none) return bad("this flag needs a model");
    return std::shared_ptr<const perf::InterferenceModel>();
  }
  if (kind == "constant") {
    double factor = 1.1;
    if (arg) {
      std::string text(*arg);
      char* end = nullptr;
      factor = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(factor)) {
        return bad("the factor is not a number");
      }
    }
    if (!(factor >= 1)) return bad("the factor must be at least 1 (below 1 is a speed-up)");
    return std::shared_ptr<const perf::InterferenceModel>(
        std::make_shared<perf::ConstantInterference>(factor));
  }
  if (kind == "fitted") {
    std::string path;
    if (arg && !arg->empty()) {
      path = std::string(*arg);
    } else {
      ASSIGN_OR_RETURN(path, perf::DefaultInterferenceCsv());
    }
    ASSIGN_OR_RETURN(std::unique_ptr<perf::LinearInterference> model,
                     perf::FitInterferenceModel(path, gpu, catalog, registry, profiles));
    return std::shared_ptr<const perf::InterferenceModel>(std::move(model));
  }
  return bad("unknown model");
}

namespace {

struct FitOptions {
  std::string data;
  std::string profiles;
  int folds = 5;
};

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

absl::Status RunFit(const FitOptions& o, std::ostream& out) {
  ASSIGN_OR_RETURN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  std::string data = o.data;
  if (data.empty()) {
    ASSIGN_OR_RETURN(data, perf::DefaultInterferenceCsv());
  }
  std::string profiles_path = o.profiles;
  if (profiles_path.empty()) {
    ASSIGN_OR_RETURN(std::string dir, DataDir());
    profiles_path = dir + "/profiles/h100-sm-partitions.csv";
  }
  ASSIGN_OR_RETURN(perf::ProfileTable profiles,
                   perf::LoadProfileCsv(profiles_path, catalog, registry));
  if (o.folds < 0) {
    return absl::InvalidArgumentError(
        fmt::format("--folds {}: must be 0 (leave one pair out) or at least 2", o.folds));
  }
  ASSIGN_OR_RETURN(std::vector<perf::InterferenceSample> samples,
                   perf::ReadInterferenceCsv(data, catalog, registry, &profiles));
  ASSIGN_OR_RETURN(perf::LinearFit fit, perf::FitLinearInterference(samples));
  ASSIGN_OR_RETURN(perf::CrossValidation cv,
                   perf::CrossValidateLinearInterference(samples, o.folds, 1.1));
  out << fmt::format("interference data: {} ({} pairs, {} samples: both directions of each pair)\n",
                     data, samples.size() / 2, samples.size());
  out << fmt::format(
      "model: slowdown(a | b) = 1 + c0 + c1 u_a + c2 u_b + c3 u_a u_b, u = 1 - compute "
      "utilization (solo latency, FLOPs descriptor, peak fp16 of the partition's SMs)\n");
  out << fmt::format("fitted on all samples: c0 {:.4f}  c1 {:.4f}  c2 {:.4f}  c3 {:.4f}\n",
                     fit.c[0], fit.c[1], fit.c[2], fit.c[3]);
  out << fmt::format(
      "pressure: mean {:.3f} (used for jobs it cannot be derived for), budget neighbour (p90) "
      "{:.3f}\n\n",
      fit.mean_pressure, fit.budget_neighbour_pressure);
  out << fmt::format("cross-validation: {} folds by pair ({}), {} held-out predictions\n", cv.folds,
                     cv.folds == static_cast<int>(samples.size() / 2) ? "leave one pair out"
                                                                      : "pair i in fold i mod K",
                     cv.samples);
  TextTable table({"model", "MAPE", "mean abs error", "max abs error"});
  for (size_t c : {1, 2, 3}) table.SetRightAligned(c);
  std::vector<double> fitted_abs, constant_abs, mean_abs;
  for (size_t i = 0; i < samples.size(); ++i) {
    fitted_abs.push_back(std::abs(cv.predicted[i] - samples[i].slowdown));
    constant_abs.push_back(std::abs(1.1 - samples[i].slowdown));
  }
  table.AddRow({"fitted linear (gpulet's form)", fmt::format("{:.2f}%", 100 * cv.fitted_mape),
                fmt::format("{:.4f}", cv.fitted_mae),
                fmt::format("{:.4f}", *std::max_element(fitted_abs.begin(), fitted_abs.end()))});
  table.AddRow(
      {"constant 1.1 (gpulet's margin)", fmt::format("{:.2f}%", 100 * cv.constant_mape),
       fmt::format("{:.4f}", cv.constant_mae),
       fmt::format("{:.4f}", *std::max_element(constant_abs.begin(), constant_abs.end()))});
  table.AddRow({"constant = training mean", fmt::format("{:.2f}%", 100 * cv.mean_mape),
                fmt::format("{:.4f}", cv.mean_mae), "-"});
  out << table.Render();
  out << fmt::format("fitted held-out abs error: p50 {:.4f}, p90 {:.4f}\n",
                     Quantile(fitted_abs, 0.5), Quantile(fitted_abs, 0.9));
  // Per victim job: where the fitted model errs.
  std::map<std::string, std::vector<double>> by_victim;
  std::map<std::string, bool> profiled;
  for (size_t i = 0; i < samples.size(); ++i) {
    by_victim[samples[i].victim].push_back(cv.predicted[i] - samples[i].slowdown);
    profiled[samples[i].victim] = samples[i].victim_profiled;
  }
  TextTable jobs({"victim job", "profiled", "samples", "mean error", "mean abs error"});
  for (size_t c : {2, 3, 4}) jobs.SetRightAligned(c);
  for (const auto& [job, errors] : by_victim) {
    double sum = 0, abs_sum = 0;
    for (double e : errors) {
      sum += e;
      abs_sum += std::abs(e);
    }
    double n = static_cast<double>(errors.size());
    jobs.AddRow({job, profiled[job] ? "yes" : "no", std::to_string(errors.size()),
                 fmt::format("{:+.4f}", sum / n), fmt::format("{:.4f}", abs_sum / n)});
  }
  out << "\n" << jobs.Render();
  std::vector<std::string> unprofiled;
  for (const auto& [job, p] : profiled) {
    if (!p) unprofiled.push_back(job);
  }
  if (!unprofiled.empty()) {
    out << fmt::format(
        "\njobs without profile rows ({}): their pressure comes from the solo latency in the "
        "interference CSV itself and the registry's FLOPs, so they are fitted and validated like "
        "the others; a planner or simulation that meets a job it cannot derive a pressure for uses "
        "the mean pressure {:.3f}\n",
        fmt::format("{}", fmt::join(unprofiled, ", ")), fit.mean_pressure);
  }
  return absl::OkStatus();
}

}  // namespace

void AddInterferenceCommands(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  CLI::App* group =
      app.add_subcommand("interference", "Interference between SM partitions of one GPU");
  group->require_subcommand(1);
  auto o = std::make_shared<FitOptions>();
  CLI::App* fit = group->add_subcommand(
      "fit",
      "Fit gpulet's linear interference model on measured pairs; print its coefficients and "
      "cross-validated error against gpulet's constant 1.1");
  fit->add_option("--data", o->data,
                  "Interference CSV (default: the bundled "
                  "datasets/h100-sm-partitions/interference_64_68.csv)");
  fit->add_option("--profiles", o->profiles,
                  "Profile table marking which jobs are profiled (default: the bundled "
                  "profiles/h100-sm-partitions.csv)");
  fit->add_option("--folds", o->folds, "Cross-validation folds by pair (0: leave one pair out)")
      ->capture_default_str();
  fit->callback([o, &out, &err, &exit_code] {
    absl::Status status = RunFit(*o, out);
    if (!status.ok()) exit_code = ReportError(status, err);
  });
}

}  // namespace tessera::cli
