// `tessera adapt`: run adaptation policies over a workload's traces, window by window, and report
// accuracy-weighted goodput, SLO attainment, GPU-hours, reconfigurations and downtime.
#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "cli.h"
#include "fmt/format.h"
#include "tessera/adapt/engine.h"
#include "tessera/base/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"
#include "tessera/workload/workload.h"

namespace tessera::cli {
namespace {

struct AdaptFlags {
  std::string workload;
  std::string profiles;
  std::string gpu;
  std::string policies = "migrator";
  std::string trace;
  std::string startup_costs;  // empty: the bundled measurements
  std::vector<std::string> mig_profiles;
  int gpus = 0;
  adapt::AdaptOptions options;
  adapt::TransitionCosts costs;
  double ilp_time_limit_s = 1.0;
  double headroom = 1.0;          // gpulet-autoscale: rates planned for are multiplied by this
  double drift_scale = 1.0;       // every tenant's drift per window is multiplied by this
  double retraining_scale = 1.0;  // every tenant's retraining samples are multiplied by this
  bool json = false;
  bool record_windows = false;
};

absl::Status CheckFlags(const AdaptFlags& f) {
  if (f.gpus < 1 || f.gpus > 4096) {
    return absl::InvalidArgumentError(
        fmt::format("--gpus {}: give the number of GPUs, 1 to 4096", f.gpus));
  }
  for (auto [flag, value] : {std::pair<const char*, double>{"--mig-create-s", f.costs.mig_create_s},
                             {"--mig-destroy-s", f.costs.mig_destroy_s}}) {
    if (!(value >= 0 && value < 3600)) {
      return absl::InvalidArgumentError(
          fmt::format("{} {}: give seconds, at least 0 and below 3600", flag, value));
    }
  }
  if (!(f.headroom >= 0.1 && f.headroom <= 100)) {
    return absl::InvalidArgumentError(
        fmt::format("--headroom {}: give a factor in [0.1, 100]", f.headroom));
  }
  if (!(f.drift_scale >= 0 && f.drift_scale <= 1000)) {
    return absl::InvalidArgumentError(
        fmt::format("--drift-scale {}: give a factor in [0, 1000]", f.drift_scale));
  }
  if (!(f.retraining_scale > 0 && f.retraining_scale <= 1000)) {
    return absl::InvalidArgumentError(
        fmt::format("--retraining-scale {}: give a factor in (0, 1000]", f.retraining_scale));
  }
  if (!(f.ilp_time_limit_s > 0 && f.ilp_time_limit_s <= 600)) {
    return absl::InvalidArgumentError(
        fmt::format("--ilp-time-limit {}: give seconds in (0, 600]", f.ilp_time_limit_s));
  }
  return f.options.Validate();
}

struct Inputs {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  workload::Workload workload;
  perf::ProfileTable profiles;
  const hw::GpuModel* gpu = nullptr;
  std::optional<hw::LayoutSpace> space;
  adapt::StartupCosts startup;
  adapt::PerfBook book;
};

absl::StatusOr<std::unique_ptr<Inputs>> Load(const AdaptFlags& f) {
  auto in = std::make_unique<Inputs>();
  ASSIGN_OR_RETURN(in->catalog, hw::LoadDefaultCatalog());
  ASSIGN_OR_RETURN(in->registry, models::LoadDefaultModelRegistry());
  ASSIGN_OR_RETURN(in->workload, workload::LoadWorkloadFile(f.workload, in->registry));
  if (!f.trace.empty()) {
    ASSIGN_OR_RETURN(in->workload, workload::WithCsvTrace(in->workload, f.trace, in->registry));
  }
  for (workload::Tenant& tenant : in->workload.tenants) {
    tenant.drift_per_window = std::min(1.0, tenant.drift_per_window * f.drift_scale);
    tenant.retraining_samples *= f.retraining_scale;
  }
  ASSIGN_OR_RETURN(perf::ProfileTable measured,
                   perf::LoadProfileCsv(f.profiles, in->catalog, in->registry));
  ASSIGN_OR_RETURN(in->profiles, perf::WithMigStandIns(std::move(measured), in->catalog));
  absl::StatusOr<const hw::GpuModel*> gpu = in->catalog.Find(f.gpu);
  if (!gpu.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("--gpu {}: {}", f.gpu, std::string(gpu.status().message())));
  }
  in->gpu = *gpu;
  if (in->gpu->compute_slices == 0) {
    return absl::InvalidArgumentError(
        fmt::format("--gpu {}: {} has no MIG; adaptation needs a MIG GPU", f.gpu, in->gpu->name));
  }
  if (f.mig_profiles.empty()) {
    in->space.emplace(hw::LayoutSpace::WithoutMediaExtensions(*in->gpu));
  } else {
    absl::StatusOr<hw::LayoutSpace> space = hw::LayoutSpace::Create(*in->gpu, f.mig_profiles);
    if (!space.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("--mig-profiles: {}", std::string(space.status().message())));
    }
    in->space.emplace(*std::move(space));
  }
  if (f.startup_costs.empty()) {
    ASSIGN_OR_RETURN(in->startup, adapt::StartupCosts::LoadDefault());
  } else {
    ASSIGN_OR_RETURN(in->startup, adapt::StartupCosts::Load(f.startup_costs));
  }
  ASSIGN_OR_RETURN(in->book, adapt::PerfBook::Build(*in->gpu, *in->space, in->profiles,
                                                    in->workload, in->startup));
  return in;
}

// The policies' table: one row each, with ratios against the first.
std::string Table(const std::vector<adapt::AdaptResult>& results) {
  std::string out = fmt::format("{:<18} {:>12} {:>8} {:>9} {:>10} {:>9} {:>8} {:>10} {:>7}\n",
                                "policy", "acc-goodput", "vs 1st", "SLO %", "GPU-hours", "reconfig",
                                "MIG ops", "downtime s", "lost");
  for (const adapt::AdaptResult& r : results) {
    const double first = results.front().accuracy_goodput_rps;
    out +=
        fmt::format("{:<18} {:>12.1f} {:>7.3f}x {:>9.2f} {:>10.3f} {:>9} {:>8} {:>10.1f} {:>7}\n",
                    r.policy, r.accuracy_goodput_rps,
                    first > 0 ? r.accuracy_goodput_rps / first : 0.0, 100 * r.slo_attainment,
                    r.gpu_hours, r.reconfigurations, r.mig_operations, r.downtime_s, r.lost);
  }
  return out;
}

absl::Status RunAdapt(const AdaptFlags& f, std::ostream& out, std::ostream& err) {
  RETURN_IF_ERROR(CheckFlags(f));
  std::vector<std::string> names = absl::StrSplit(f.policies, ',', absl::SkipEmpty());
  if (names.empty()) return absl::InvalidArgumentError("--policy: name at least one policy");
  ASSIGN_OR_RETURN(std::unique_ptr<Inputs> in, Load(f));
  adapt::PolicyContext context{.catalog = &in->catalog,
                               .gpu = in->gpu,
                               .space = &*in->space,
                               .profiles = &in->profiles,
                               .workload = &in->workload,
                               .registry = &in->registry,
                               .book = &in->book,
                               .costs = f.costs,
                               .gpus = f.gpus,
                               .ilp_time_limit_s = f.ilp_time_limit_s,
                               .autoscale_headroom = f.headroom};
  // Progress on stderr: a day of arrivals and a day of migrator's programs take minutes.
  err << fmt::format("tessera adapt: counting {:g} s of arrivals...\n", f.options.duration_s)
      << std::flush;
  ASSIGN_OR_RETURN(adapt::ArrivalCounts counts, adapt::CountArrivals(context, f.options));
  std::vector<adapt::AdaptResult> results;
  for (const std::string& name : names) {
    err << fmt::format("tessera adapt: running {} ({} of {})...\n", name, results.size() + 1,
                       names.size())
        << std::flush;
    absl::StatusOr<std::unique_ptr<adapt::Policy>> policy = adapt::MakePolicy(name, context);
    if (!policy.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("--policy: {}", std::string(policy.status().message())));
    }
    ASSIGN_OR_RETURN(adapt::AdaptResult result,
                     adapt::RunAdaptation(context, **policy, f.options, counts, f.record_windows));
    results.push_back(std::move(result));
  }
  if (f.json) {
    nlohmann::ordered_json j;
    j["workload"] = f.workload;
    j["gpu"] = in->gpu->name;
    j["gpus"] = f.gpus;
    j["seed"] = f.options.seed;
    j["pre_initialize"] = f.costs.pre_initialize;
    j["mig_create_s"] = f.costs.mig_create_s;
    j["mig_destroy_s"] = f.costs.mig_destroy_s;
    j["ewma_alpha"] = f.options.ewma_alpha;
    j["ilp_time_limit_s"] = f.ilp_time_limit_s;
    j["headroom"] = f.headroom;
    j["drift_scale"] = f.drift_scale;
    j["retraining_scale"] = f.retraining_scale;
    for (const adapt::AdaptResult& r : results) j["runs"].push_back(adapt::AdaptResultToJson(r));
    out << j.dump(2) << "\n";
    return absl::OkStatus();
  }
  out << fmt::format("{} on {} x {}, {:g} s in {:g} s windows, seed {}{}\n", in->workload.name,
                     f.gpus, in->gpu->name, f.options.duration_s, f.options.window_s,
                     f.options.seed, f.costs.pre_initialize ? ", pre-initialization on" : "");
  for (const adapt::AdaptResult& r : results) out << adapt::AdaptResultToText(r);
  if (results.size() > 1) out << "\n" << Table(results);
  for (const std::string& note : in->book.notes()) out << "note: " << note << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddAdaptCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto f = std::make_shared<AdaptFlags>();
  CLI::App* cmd = app.add_subcommand(
      "adapt",
      "Run adaptation policies (migrator, ekya, fair, paris, gpulet-autoscale, static-peak) over "
      "a workload's traces and report accuracy-weighted goodput, SLO attainment, GPU-hours, "
      "reconfigurations and downtime");
  cmd->add_option("--workload", f->workload, "Workload file (YAML; `tenants:` for retraining)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--profiles", f->profiles, "Profile table (canonical CSV)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--gpu", f->gpu, "GPU model (catalog name or alias); must support MIG")
      ->required();
  cmd->add_option("--gpus", f->gpus, "Number of GPUs (the most a policy may use)")->required();
  cmd->add_option("--policy", f->policies,
                  "Policy, or several separated by commas (a table compares them against the "
                  "first)")
      ->capture_default_str();
  cmd->add_option("--trace", f->trace,
                  "CSV trace timestamp_s,model[,input_size] that replaces every model's demand")
      ->check(CLI::ExistingFile);
  cmd->add_option("--duration", f->options.duration_s, "Seconds to run")->capture_default_str();
  cmd->add_option("--window", f->options.window_s, "Decision window in seconds")
      ->capture_default_str();
  cmd->add_option("--seed", f->options.seed, "Seed of the arrival streams")->capture_default_str();
  cmd->add_option("--ewma-alpha", f->options.ewma_alpha,
                  "Weight of the newest window in the smoothed rates")
      ->capture_default_str();
  cmd->add_option("--mig-profiles", f->mig_profiles,
                  "MIG profiles policies may use (default: all without +me)")
      ->delimiter(',');
  cmd->add_option("--mig-create-s", f->costs.mig_create_s,
                  "Seconds one MIG instance create takes (assumed; no published figure)")
      ->capture_default_str();
  cmd->add_option("--mig-destroy-s", f->costs.mig_destroy_s,
                  "Seconds one MIG instance destroy takes (assumed)")
      ->capture_default_str();
  cmd->add_flag("--pre-initialize", f->costs.pre_initialize,
                "Warm processes for the next allocation while the current one serves (MIGRator)");
  cmd->add_option("--startup-costs", f->startup_costs,
                  "startup_costs.csv with measured process startup (default: the bundled H100 "
                  "measurements)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--headroom", f->headroom,
                  "gpulet-autoscale: plan for the observed rates times this factor")
      ->capture_default_str();
  cmd->add_option("--drift-scale", f->drift_scale,
                  "Multiply every tenant's accuracy drift per retraining window (sensitivity)")
      ->capture_default_str();
  cmd->add_option("--retraining-scale", f->retraining_scale,
                  "Multiply every tenant's retraining samples (sensitivity)")
      ->capture_default_str();
  cmd->add_option("--ilp-time-limit", f->ilp_time_limit_s,
                  "migrator: CBC seconds per window (the best solution found is used)")
      ->capture_default_str();
  cmd->add_flag("--windows", f->record_windows, "With --json: add one record per window");
  cmd->add_flag("--json", f->json, "Print JSON instead of the report");
  cmd->callback(Callback([f, &out, &err] { return RunAdapt(*f, out, err); }, err, exit_code));
}

}  // namespace tessera::cli
