#include "tessera/adapt/perf_book.h"

#include <algorithm>
#include <numeric>

#include "fmt/format.h"
#include "tessera/base/csv.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"
#include "tessera/planners/common.h"

namespace tessera::adapt {

absl::StatusOr<StartupCosts> StartupCosts::Load(const std::string& path) {
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.RequireColumns(
      {"model", "batch", "cuda_context_s", "weights_upload_s", "first_inference_s"}));
  StartupCosts costs;
  CsvRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(row));
    if (!more) break;
    ASSIGN_OR_RETURN(int64_t batch, row.Int("batch"));
    if (batch != 32) continue;
    ASSIGN_OR_RETURN(std::string_view model, row.Text("model"));
    if (reader.ColumnIndex("gpu")) {
      ASSIGN_OR_RETURN(std::string_view gpu, row.Text("gpu"));
      if (!costs.gpu.empty() && costs.gpu != gpu) {
        return row.Error("gpu", fmt::format("is {}, but the file's first row is for {}; keep one "
                                            "GPU per startup-costs file",
                                            gpu, costs.gpu));
      }
      costs.gpu = std::string(gpu);
    }
    double total = 0;
    for (const char* column : {"cuda_context_s", "weights_upload_s", "first_inference_s"}) {
      ASSIGN_OR_RETURN(double seconds, row.Double(column));
      if (!(seconds >= 0)) return row.Error(column, "must be a non-negative number of seconds");
      total += seconds;
    }
    costs.seconds[std::string(model)] = total;
  }
  if (costs.seconds.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: no row at batch 32; startup costs are read from the batch-32 rows", path));
  }
  return costs;
}

absl::StatusOr<StartupCosts> StartupCosts::LoadDefault() {
  ASSIGN_OR_RETURN(std::string dir, DataDir());
  return Load(dir + "/datasets/h100-sm-partitions/startup_costs.csv");
}

namespace {

std::vector<TenantInfo> TenantsOf(const workload::Workload& workload) {
  std::vector<TenantInfo> tenants;
  if (workload.tenants.empty()) {
    for (size_t m = 0; m < workload.models.size(); ++m) {
      tenants.push_back({.name = workload.models[m].model,
                         .model = static_cast<int>(m),
                         .slo_ms = workload.models[m].slo_ms,
                         .retrains = false,
                         .spec = {}});
    }
    return tenants;
  }
  for (const workload::Tenant& tenant : workload.tenants) {
    const int m = workload.ModelIndex(tenant.model);
    tenants.push_back({.name = tenant.name,
                       .model = m,
                       .slo_ms = m >= 0 ? workload.models[m].slo_ms : 0,
                       .retrains = true,
                       .spec = tenant});
  }
  return tenants;
}

}  // namespace

absl::StatusOr<PerfBook> PerfBook::Build(const hw::GpuModel& gpu, const hw::LayoutSpace& space,
                                         const perf::ProfileTable& profiles,
                                         const workload::Workload& workload,
                                         const StartupCosts& startup) {
  PerfBook book;
  book.gpu_ = &gpu;
  book.tenants_ = TenantsOf(workload);
  const int profile_count = static_cast<int>(gpu.profiles.size());
  book.whole_profile_ = -1;
  for (int p = 0; p < profile_count; ++p) {
    if (gpu.profiles[p].is_media_extension()) continue;
    if (book.whole_profile_ < 0 ||
        gpu.profiles[p].compute_slices > gpu.profiles[book.whole_profile_].compute_slices) {
      book.whole_profile_ = p;
    }
  }
  if (book.whole_profile_ < 0) {
    return absl::InvalidArgumentError(fmt::format("{} has no MIG profile to plan with", gpu.name));
  }
  if (!startup.gpu.empty() && startup.gpu != gpu.name) {
    book.notes_.push_back(
        fmt::format("process startup times were measured on {} and are used for {} as they are",
                    startup.gpu, gpu.name));
  }
  double startup_sum = 0;
  for (const auto& [model, seconds] : startup.seconds) startup_sum += seconds;
  const double startup_mean = startup.seconds.empty() ? 0 : startup_sum / startup.seconds.size();

  for (const TenantInfo& tenant : book.tenants_) {
    if (tenant.model < 0) {
      return absl::InvalidArgumentError(
          fmt::format("tenant {} serves a model the workload does not list", tenant.name));
    }
    const workload::WorkloadModel& wm = workload.models[tenant.model];
    const int input = wm.input.MaxSize();
    const double slo_ms = wm.slo_ms;
    std::vector<planners::Configuration> all = planners::Configurations(
        profiles, gpu.name, wm.model, input, [](double, int) { return true; });
    if (all.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("tenant {}: the profiles have no row for {} at input {} on {}", tenant.name,
                      wm.model, input, gpu.name));
    }
    std::vector<double> inference(profile_count, 0), retrain(profile_count, 0);
    std::vector<Config> whole;
    const int retrain_batch = tenant.retrains ? tenant.spec.retraining_batch : 32;
    const double cost_factor = tenant.retrains ? tenant.spec.training_cost_factor : 3.0;
    std::vector<int> retrain_batch_used(profile_count, 0);
    std::vector<bool> profiled(profile_count, false);
    for (const planners::Configuration& c : all) {
      if (c.procs != 1 || c.partition.kind != hw::PartitionKind::kMig) continue;
      const int p = gpu.ProfileIndex(c.partition.mig_profile);
      if (p < 0) continue;
      profiled[p] = true;
      if (2 * c.latency_ms <= slo_ms) {
        inference[p] = std::max(inference[p], c.batch * 1000.0 / c.latency_ms);
      }
      if (c.batch <= retrain_batch && c.batch >= retrain_batch_used[p]) {
        retrain_batch_used[p] = c.batch;
        retrain[p] = c.batch * 1000.0 / (cost_factor * c.latency_ms);
      }
      if (p == book.whole_profile_) whole.push_back({c.latency_ms, c.batch});
    }
    for (int p : space.profiles()) {
      if (tenant.retrains && profiled[p] && retrain_batch_used[p] == 0) {
        book.notes_.push_back(
            fmt::format("{}: cannot retrain on {}: no profiled batch at or below {}", tenant.name,
                        gpu.profiles[p].name, retrain_batch));
      }
      if (tenant.retrains && retrain_batch_used[p] > 0 && retrain_batch_used[p] != retrain_batch) {
        book.notes_.push_back(
            fmt::format("{}: retraining on {} timed at batch {} (batch {} not profiled)",
                        tenant.name, gpu.profiles[p].name, retrain_batch_used[p], retrain_batch));
      }
    }
    auto it = startup.seconds.find(wm.model);
    double startup_s = startup_mean;
    if (it != startup.seconds.end()) {
      startup_s = it->second;
    } else {
      book.notes_.push_back(fmt::format(
          "{}: no measured startup for {}; the mean of the measured models ({:.2f} s) stands in",
          tenant.name, wm.model, startup_mean));
    }
    book.inference_rps_.push_back(std::move(inference));
    book.retrain_rps_.push_back(std::move(retrain));
    book.whole_configs_.push_back(std::move(whole));
    book.startup_s_.push_back(startup_s);
  }
  return book;
}

double PerfBook::InferenceRps(int tenant, int profile) const {
  return inference_rps_[tenant][profile];
}

double PerfBook::SharedInferenceRps(int tenant, double share) const {
  if (share <= 0) return 0;
  double best = 0;
  for (const Config& c : whole_configs_[tenant]) {
    const double stretched_ms = c.latency_ms / share;
    if (2 * stretched_ms <= tenants_[tenant].slo_ms) {
      best = std::max(best, c.batch * 1000.0 / stretched_ms);
    }
  }
  return best;
}

double PerfBook::RetrainSamplesPerS(int tenant, int profile) const {
  return retrain_rps_[tenant][profile];
}

double PerfBook::SharedRetrainSamplesPerS(int tenant, double share) const {
  return share * retrain_rps_[tenant][whole_profile_];
}

double PerfBook::StartupS(int tenant) const { return startup_s_[tenant]; }

}  // namespace tessera::adapt
