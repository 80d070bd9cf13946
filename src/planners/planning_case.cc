#include "tessera/planners/planning_case.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "fmt/core.h"
#include "tessera/base/paths.h"
#include "tessera/base/rng.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"

namespace tessera::planners {
namespace {

// Base models in name order, each with the scenario entries (SLO, input, relative rate) a clone of
// it may copy.
using Choices = std::map<std::string, std::vector<const workload::WorkloadModel*>>;

// The share of `gpu` that `partition` takes, or nullopt when the catalog cannot say.
std::optional<double> GpuShare(const hw::GpuModel& gpu, const hw::Partition& partition) {
  switch (partition.kind) {
    case hw::PartitionKind::kMig: {
      const hw::MigProfile* profile = gpu.FindProfile(partition.mig_profile);
      if (profile == nullptr || gpu.compute_slices <= 0) return std::nullopt;
      return static_cast<double>(profile->compute_slices) / gpu.compute_slices;
    }
    case hw::PartitionKind::kSm:
      if (!gpu.sms || *gpu.sms <= 0) return std::nullopt;
      return static_cast<double>(partition.sms) / *gpu.sms;
    case hw::PartitionKind::kMps:
      return partition.mps_percent / 100.0;
  }
  return std::nullopt;
}

// The most requests per second a whole GPU's worth of `model`'s configurations serves with every
// latency times `factor` and within half the SLO; 0 when none qualifies.
double BestThroughputPerGpu(const perf::ProfileTable& profiles, const hw::GpuModel& gpu,
                            const std::string& model, const workload::WorkloadModel& wm,
                            double factor) {
  auto rule = [&](double latency_ms, int) { return 2 * latency_ms * factor <= wm.slo_ms; };
  double best = 0;
  for (const Configuration& c : Configurations(profiles, gpu.name, model, wm.input.fixed, rule)) {
    std::optional<double> share = GpuShare(gpu, c.partition);
    if (share && *share > 0) best = std::max(best, c.capacity_rps / factor / *share);
  }
  return best;
}

// Scenario models that can be cloned: fixed input, Poisson demand at a positive rate, and a
// configuration within half the SLO even at the slowest jitter factor.
Choices CloneableChoices(const PlanningCaseBase& base, const hw::GpuModel& gpu, double jitter) {
  Choices choices;
  for (const workload::Workload& scenario : base.scenarios) {
    for (const workload::WorkloadModel& wm : scenario.models) {
      if (wm.input.kind != workload::InputDistribution::Kind::kFixed ||
          wm.demand.kind != workload::Demand::Kind::kPoisson || wm.demand.rate_rps <= 0) {
        continue;
      }
      if (BestThroughputPerGpu(base.profiles, gpu, wm.model, wm, 1 + jitter) <= 0) continue;
      choices[wm.model].push_back(&wm);
    }
  }
  return choices;
}

// `value` rounded to `digits` decimals; the nearest double, so it prints as that decimal.
double RoundDecimals(double value, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

// `base`'s rows of `model` on `gpu`, renamed to `clone`, latencies times `factor`.
absl::Status AddCloneRows(const perf::ProfileTable& base, const std::string& gpu,
                          const std::string& model, const std::string& clone, double factor,
                          perf::ProfileTable& out) {
  auto scale = [&](std::optional<double> ms) -> std::optional<double> {
    if (!ms) return std::nullopt;
    return std::max(RoundDecimals(*ms * factor, 4), 1e-4);
  };
  for (const auto& [key, row] : base.rows()) {
    if (key.gpu != gpu || key.model != model) continue;
    perf::ProfileRow copy = row;
    copy.key.model = clone;
    copy.latency_ms = *scale(row.latency_ms);
    copy.latency_ms_p90 = scale(row.latency_ms_p90);
    copy.latency_ms_p99 = scale(row.latency_ms_p99);
    if (factor != 1) copy.source = perf::ProfileSource::kPredicted;
    RETURN_IF_ERROR(out.Add(std::move(copy)));
  }
  return absl::OkStatus();
}

// Multiplies every rate by one factor so that the sum of rate / per_gpu is `gpus`, rounding rates
// to 0.01 requests/s; fills the case's estimate and total rate.
void ScaleRates(const std::vector<double>& per_gpu, int gpus, PlanningCase& c) {
  double weighted = 0;
  for (size_t k = 0; k < per_gpu.size(); ++k) {
    weighted += c.workload.models[k].demand.rate_rps / per_gpu[k];
  }
  double scale = gpus / weighted;
  for (size_t k = 0; k < per_gpu.size(); ++k) {
    double& rate = c.workload.models[k].demand.rate_rps;
    rate = std::max(RoundDecimals(rate * scale, 2), 0.01);
    c.estimated_gpus += rate / per_gpu[k];
    c.total_rate_rps += rate;
  }
}

std::string CommandLine(const PlanningCaseOptions& o) {
  return fmt::format(
      "tessera generate planning-case --models {} --gpus {} --seed {} --gpu {} --jitter {}",
      o.models, o.gpus, o.seed, o.gpu, o.jitter);
}

}  // namespace

absl::Status PlanningCaseOptions::Validate() const {
  auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError("planning case: " + what);
  };
  if (models <= 0 || models > 100000) {
    return bad(fmt::format("models must be in [1, 100000], found {}", models));
  }
  if (gpus <= 0 || gpus > 100000) {
    return bad(fmt::format("gpus must be in [1, 100000], found {}", gpus));
  }
  if (!(jitter >= 0 && jitter <= 0.5)) {
    return bad(fmt::format("jitter must be in [0, 0.5], found {}", jitter));
  }
  if (gpu.empty()) return bad("gpu is required (a catalog GPU model, e.g. a100-80gb)");
  return absl::OkStatus();
}

absl::StatusOr<PlanningCaseBase> LoadBundledPlanningCaseBase(const hw::Catalog& catalog,
                                                             const models::ModelRegistry& registry,
                                                             std::string_view gpu) {
  ASSIGN_OR_RETURN(const hw::GpuModel* model, catalog.Find(gpu));
  ASSIGN_OR_RETURN(std::string data, DataDir());
  PlanningCaseBase base;
  base.catalog = &catalog;
  std::vector<std::string> workloads;
  std::string profiles;
  if (model->name == "H100-SXM5-80GB") {
    profiles = "profiles/h100-sm-partitions.csv";
    workloads = {"examples/h100-mix.workload.yaml"};
    base.description =
        "the H100 SM-partition profiles (data/profiles/h100-sm-partitions.csv) and the H100 mix "
        "(data/examples/h100-mix.workload.yaml)";
  } else {
    profiles = "profiles/a100-parvagpu.csv";
    for (int n = 1; n <= 6; ++n) {
      workloads.push_back(fmt::format("examples/parvagpu/slo{}.workload.yaml", n));
    }
    base.description =
        "ParvaGPU's A100-80GB profiles (data/profiles/a100-parvagpu.csv) and SLO scenarios 1-6 "
        "(data/examples/parvagpu/slo*.workload.yaml)";
  }
  ASSIGN_OR_RETURN(base.profiles,
                   perf::LoadProfileCsv(fmt::format("{}/{}", data, profiles), catalog, registry));
  for (const std::string& file : workloads) {
    ASSIGN_OR_RETURN(workload::Workload scenario,
                     workload::LoadWorkloadFile(fmt::format("{}/{}", data, file), registry));
    base.scenarios.push_back(std::move(scenario));
  }
  return base;
}

absl::StatusOr<PlanningCase> GeneratePlanningCase(const PlanningCaseBase& base,
                                                  const PlanningCaseOptions& o) {
  RETURN_IF_ERROR(o.Validate());
  if (base.catalog == nullptr) return absl::InvalidArgumentError("planning case: no catalog");
  ASSIGN_OR_RETURN(const hw::GpuModel* gpu, base.catalog->Find(o.gpu));
  Choices choices = CloneableChoices(base, *gpu, o.jitter);
  if (choices.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "planning case: no model of the base ({}) has Poisson demand, a fixed input and a "
        "profiled configuration on {} within half its SLO; profile that GPU or choose another",
        base.description.empty() ? "given" : base.description, gpu->name));
  }
  std::vector<std::string> names;
  for (const auto& [name, list] : choices) names.push_back(name);
  PlanningCase c;
  PlanningCaseOptions canonical = o;
  canonical.gpu = gpu->name;
  c.command = CommandLine(canonical);
  c.workload.name = fmt::format("planning-case-{}models-{}gpus-seed{}", o.models, o.gpus, o.seed);
  RngStream rng(o.seed, 0);
  std::vector<double> per_gpu;  // each clone's best throughput per GPU
  for (int k = 0; k < o.models; ++k) {
    size_t m = static_cast<size_t>(k) % names.size();
    const std::vector<const workload::WorkloadModel*>& list = choices.at(names[m]);
    const workload::WorkloadModel& from =
        *list[std::min(list.size() - 1, static_cast<size_t>(rng.Uniform() * list.size()))];
    double factor = RoundDecimals(1 - o.jitter + 2 * o.jitter * rng.Uniform(), 6);
    std::string clone = models::CloneName(names[m], k);
    RETURN_IF_ERROR(AddCloneRows(base.profiles, gpu->name, names[m], clone, factor, c.profiles));
    per_gpu.push_back(BestThroughputPerGpu(base.profiles, *gpu, names[m], from, factor));
    workload::WorkloadModel wm = from;
    wm.model = clone;
    c.workload.models.push_back(std::move(wm));
  }
  ScaleRates(per_gpu, o.gpus, c);
  return c;
}

std::string PlanningCaseWorkloadYaml(const PlanningCase& c) {
  std::string out = fmt::format(
      "# A generated planning case: {} models cloned from base models (\"m~k\" is clone k of m),\n"
      "# rates scaled so that it needs about {:.0f} GPUs (docs/formats.md, \"Planning cases\").\n"
      "# GENERATED by: {}\n",
      c.workload.models.size(), c.estimated_gpus, c.command);
  out += fmt::format("name: {}\nmodels:\n", c.workload.name);
  for (const workload::WorkloadModel& m : c.workload.models) {
    out += fmt::format(
        "  - model: {}\n    slo_ms: {}\n    input: {{fixed: {}}}\n"
        "    demand: {{poisson: {{rate_rps: {}}}}}\n",
        m.model, m.slo_ms, m.input.fixed, m.demand.rate_rps);
  }
  return out;
}

absl::Status WritePlanningCase(const PlanningCase& c, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        fmt::format("cannot create folder {}: {}", dir, error.message()));
  }
  std::ofstream workload(dir + "/workload.yaml");
  workload << PlanningCaseWorkloadYaml(c);
  std::ofstream profiles(dir + "/profiles.csv");
  perf::WriteProfileCsv(c.profiles, profiles);
  workload.close();
  profiles.close();
  if (!workload || !profiles) {
    return absl::InvalidArgumentError(
        fmt::format("cannot write {}/workload.yaml and {}/profiles.csv", dir, dir));
  }
  return absl::OkStatus();
}

}  // namespace tessera::planners
