// ValidatePlan: every cross-check of a plan against the catalog, registry, profiles and workload,
// collecting all problems (each with its field path) instead of stopping at the first.
#include <algorithm>
#include <tuple>
#include <utility>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"
#include "tessera/hw/layout.h"
#include "tessera/plan/plan.h"

namespace tessera::plan {
namespace {

using Range = std::pair<int, int>;  // [first, last], inclusive

constexpr double kShareSlack = 1e-9;
constexpr size_t kMaxRangesShown = 8;

std::string GpuPath(size_t g) { return fmt::format("gpus[{}]", g); }
std::string PartitionPath(size_t g, size_t p) {
  return fmt::format("gpus[{}].partitions[{}]", g, p);
}
std::string AssignmentPath(size_t g, size_t p, size_t a) {
  return fmt::format("{}.assignments[{}]", PartitionPath(g, p), a);
}

std::string Label(const PlanPartition& p) {
  std::string label = p.partition.ToString();
  if (p.start) label += fmt::format("@{}", *p.start);
  return label;
}

bool IsMig(const PlanPartition& p) { return p.partition.kind == hw::PartitionKind::kMig; }

// A layout of `instances` in PlacedLayout's order, legal or not (CheckLayout says which).
hw::PlacedLayout LayoutOf(std::vector<hw::Placement> instances) {
  std::sort(instances.begin(), instances.end(), [](const hw::Placement& x, const hw::Placement& y) {
    return std::tie(x.start, x.profile) < std::tie(y.start, y.profile);
  });
  return hw::PlacedLayout{std::move(instances)};
}

// Disjoint, sorted ranges covering the same integers as `ranges`.
std::vector<Range> Merge(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<Range> merged;
  for (const Range& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

// The parts of `wanted` that `covered` (merged) misses.
std::vector<Range> Uncovered(const Range& wanted, const std::vector<Range>& covered) {
  std::vector<Range> missing;
  int cursor = wanted.first;
  for (const Range& c : covered) {
    if (cursor > wanted.second) break;
    if (c.second < cursor) continue;
    if (c.first > wanted.second) break;
    if (c.first > cursor) missing.push_back({cursor, c.first - 1});
    cursor = std::max(cursor, c.second + 1);
  }
  if (cursor <= wanted.second) missing.push_back({cursor, wanted.second});
  return missing;
}

std::vector<Range> WantedSizes(const workload::InputDistribution& input) {
  using Kind = workload::InputDistribution::Kind;
  switch (input.kind) {
    case Kind::kFixed:
      return {{input.fixed, input.fixed}};
    case Kind::kUniform:
      return {{input.min, input.max}};
    case Kind::kEmpirical: {
      std::vector<Range> sizes;
      for (int s : input.sizes) sizes.push_back({s, s});
      return sizes;
    }
  }
  return {};
}

std::string DescribeRanges(const std::vector<Range>& ranges) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < ranges.size() && i < kMaxRangesShown; ++i) {
    const Range& r = ranges[i];
    parts.push_back(r.first == r.second ? std::to_string(r.first)
                                        : fmt::format("{}..{}", r.first, r.second));
  }
  if (ranges.size() > kMaxRangesShown) {
    parts.push_back(fmt::format("and {} more ranges", ranges.size() - kMaxRangesShown));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

class Validator {
 public:
  Validator(const Plan& plan, const ValidationContext& context) : plan_(plan), context_(context) {}

  absl::Status Run() {
    for (size_t g = 0; g < plan_.gpus.size(); ++g) CheckGpu(g);
    if (context_.workload != nullptr) CheckWorkload();
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(fmt::format("{}", fmt::join(problems_, "\n")));
  }

 private:
  void Problem(const std::string& where, const std::string& what) {
    problems_.push_back(fmt::format("{}: {}", where, what));
  }

  // An index used by an earlier GPU of the plan.
  void CheckIndex(size_t g) {
    for (size_t earlier = 0; earlier < g; ++earlier) {
      if (plan_.gpus[earlier].index != plan_.gpus[g].index) continue;
      Problem(GpuPath(g), fmt::format("index {} is also used by {}; give each GPU its own index",
                                      plan_.gpus[g].index, GpuPath(earlier)));
      return;
    }
  }

  const hw::GpuModel* FindGpu(size_t g) {
    const std::string& name = plan_.gpus[g].gpu;
    absl::StatusOr<const hw::GpuModel*> gpu = context_.catalog->Find(name);
    if (!gpu.ok()) {
      Problem(GpuPath(g) + ".gpu", std::string(gpu.status().message()));
      return nullptr;
    }
    if ((*gpu)->name != name) {
      Problem(GpuPath(g) + ".gpu",
              fmt::format("'{}' is an alias; write the canonical name '{}'", name, (*gpu)->name));
    }
    return *gpu;
  }

  void CheckGpu(size_t g) {
    CheckIndex(g);
    const hw::GpuModel* gpu = FindGpu(g);
    CheckMixing(g);
    if (gpu != nullptr) {
      CheckMigLayout(g, *gpu);
      CheckSmPartitions(g, *gpu);
    }
    CheckShares(g);
    CheckAssignments(g, gpu);
  }

  void CheckMixing(size_t g) {
    const std::vector<PlanPartition>& parts = plan_.gpus[g].partitions;
    auto mig = std::find_if(parts.begin(), parts.end(), IsMig);
    auto other = std::find_if_not(parts.begin(), parts.end(), IsMig);
    if (mig == parts.end() || other == parts.end()) return;
    Problem(GpuPath(g),
            fmt::format("mixes MIG instances ({}) with SM/MPS partitions ({}); a GPU in MIG mode "
                        "runs only MIG instances (run MPS inside an instance with procs)",
                        Label(*mig), Label(*other)));
  }

  // Adds the MIG instances one by one, reporting each that cannot join the ones before it.
  void CheckMigLayout(size_t g, const hw::GpuModel& gpu) {
    const std::vector<PlanPartition>& parts = plan_.gpus[g].partitions;
    std::vector<std::pair<size_t, hw::Placement>> accepted;
    for (size_t p = 0; p < parts.size(); ++p) {
      if (!IsMig(parts[p])) continue;
      absl::Status exists = hw::CheckPartition(gpu, parts[p].partition);
      if (!exists.ok()) {
        Problem(PartitionPath(g, p), std::string(exists.message()));
        continue;
      }
      hw::Placement placement{gpu.ProfileIndex(parts[p].partition.mig_profile), *parts[p].start};
      if (Joins(g, p, gpu, accepted, placement)) accepted.push_back({p, placement});
    }
  }

  bool Joins(size_t g, size_t p, const hw::GpuModel& gpu,
             const std::vector<std::pair<size_t, hw::Placement>>& accepted,
             const hw::Placement& placement) {
    absl::Status alone = hw::CheckLayout(gpu, LayoutOf({placement}));
    if (!alone.ok()) {
      Problem(PartitionPath(g, p), std::string(alone.message()));
      return false;
    }
    for (const auto& [other, other_placement] : accepted) {
      absl::Status both = hw::CheckLayout(gpu, LayoutOf({other_placement, placement}));
      if (both.ok()) continue;
      Problem(PartitionPath(g, p),
              fmt::format("{} conflicts with {} ({}): {}", Label(plan_.gpus[g].partitions[p]),
                          PartitionPath(g, other), Label(plan_.gpus[g].partitions[other]),
                          std::string(both.message())));
      return false;
    }
    std::vector<hw::Placement> all = {placement};
    for (const auto& entry : accepted) all.push_back(entry.second);
    absl::Status together = hw::CheckLayout(gpu, LayoutOf(std::move(all)));
    if (!together.ok()) Problem(PartitionPath(g, p), std::string(together.message()));
    return together.ok();
  }

  void CheckSmPartitions(size_t g, const hw::GpuModel& gpu) {
    const std::vector<PlanPartition>& parts = plan_.gpus[g].partitions;
    int sms = 0, mps_percent = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      const hw::Partition& partition = parts[p].partition;
      if (partition.kind == hw::PartitionKind::kMig) continue;
      absl::Status legal = hw::CheckPartition(gpu, partition);
      if (!legal.ok()) Problem(PartitionPath(g, p), std::string(legal.message()));
      sms += partition.kind == hw::PartitionKind::kSm ? partition.sms : 0;
      mps_percent += partition.kind == hw::PartitionKind::kMps ? partition.mps_percent : 0;
    }
    if (gpu.sms && sms > *gpu.sms) {
      Problem(GpuPath(g), fmt::format("SM partitions take {} SMs, more than the {} of a {}", sms,
                                      *gpu.sms, gpu.name));
    }
    if (mps_percent > 100) {
      Problem(GpuPath(g), fmt::format("MPS shares add up to {}%, more than 100%", mps_percent));
    }
  }

  void CheckShares(size_t g) {
    const std::vector<PlanPartition>& parts = plan_.gpus[g].partitions;
    for (size_t p = 0; p < parts.size(); ++p) {
      double total = 0;
      for (const Assignment& a : parts[p].assignments) total += a.share;
      if (total <= 1 + kShareSlack) continue;
      Problem(PartitionPath(g, p),
              fmt::format("the assignments' shares add up to {:g}, more than 1 (the whole "
                          "partition's time)",
                          total));
    }
  }

  // The registry's canonical name for the assignment's model, or "" when it is unknown.
  std::string ResolveModel(const std::string& where, const Assignment& a) {
    if (context_.registry == nullptr) return a.model;
    absl::StatusOr<const models::ModelInfo*> info = context_.registry->Find(a.model);
    if (!info.ok()) {
      Problem(where, std::string(info.status().message()));
      return "";
    }
    if ((*info)->name != a.model) {
      Problem(where, fmt::format("model '{}' is an alias; write the canonical name '{}'", a.model,
                                 (*info)->name));
    }
    if (a.input_max > (*info)->max_input) {
      Problem(where, fmt::format("input_max {} is above {}'s largest input {} ({})", a.input_max,
                                 (*info)->name, (*info)->max_input,
                                 models::InputUnitName((*info)->input_unit)));
    }
    return (*info)->name;
  }

  // The profiled memory of the assignment with one CUDA context per process; 0 when unknown.
  double AssignmentMemoryMib(const std::string& where, const hw::GpuModel& gpu,
                             const PlanPartition& part, const std::string& model,
                             const Assignment& a) {
    if (context_.profiles == nullptr) return 0;
    perf::ProfileKey key{gpu.name, part.partition, model, a.input_max, a.batch, a.procs};
    absl::StatusOr<perf::ProfileRow> row = context_.profiles->Lookup(key);
    if (!row.ok()) {
      Problem(where, fmt::format("the profiles have no {}: {}", key.ToString(),
                                 std::string(row.status().message())));
      return 0;
    }
    if (!row->memory_mib) return 0;
    return (*row->memory_mib + context_.context_mib_per_proc) * a.procs;
  }

  void CheckAssignments(size_t g, const hw::GpuModel* gpu) {
    const std::vector<PlanPartition>& parts = plan_.gpus[g].partitions;
    double gpu_mib = 0;  // SM and MPS partitions share the GPU's memory
    for (size_t p = 0; p < parts.size(); ++p) {
      const bool profiled = gpu != nullptr && hw::CheckPartition(*gpu, parts[p].partition).ok();
      double partition_mib = 0;
      for (size_t a = 0; a < parts[p].assignments.size(); ++a) {
        const std::string where = AssignmentPath(g, p, a);
        const Assignment& assignment = parts[p].assignments[a];
        std::string model = ResolveModel(where, assignment);
        if (!model.empty()) CheckInWorkload(where, model);
        if (model.empty() || !profiled) continue;
        partition_mib += AssignmentMemoryMib(where, *gpu, parts[p], model, assignment);
      }
      if (!profiled) continue;
      if (IsMig(parts[p])) {
        CheckMigMemory(g, p, *gpu, partition_mib);
      } else {
        gpu_mib += partition_mib;
      }
    }
    if (gpu != nullptr && gpu->memory_mib && gpu_mib > *gpu->memory_mib) {
      Problem(GpuPath(g),
              fmt::format("models need {:.0f} MiB (profiled memory plus {:g} MiB of "
                          "CUDA context per process), more than the {} MiB of a {}",
                          gpu_mib, context_.context_mib_per_proc, *gpu->memory_mib, gpu->name));
    }
  }

  void CheckMigMemory(size_t g, size_t p, const hw::GpuModel& gpu, double mib) {
    const hw::MigProfile* profile =
        gpu.FindProfile(plan_.gpus[g].partitions[p].partition.mig_profile);
    if (profile == nullptr || !profile->memory_mib || mib <= *profile->memory_mib) return;
    Problem(PartitionPath(g, p),
            fmt::format("models need {:.0f} MiB (profiled memory plus {:g} MiB of CUDA context per "
                        "process), more than the {} MiB of {}",
                        mib, context_.context_mib_per_proc, *profile->memory_mib, profile->name));
  }

  void CheckInWorkload(const std::string& where, const std::string& model) {
    if (context_.workload == nullptr || context_.workload->ModelIndex(model) >= 0) return;
    Problem(where, fmt::format("model {} is not in the workload; remove the assignment or add the "
                               "model to the workload",
                               model));
  }

  // Every bucket [input_min, input_max] serving `model`, in the plan's own names.
  std::vector<Range> Buckets(const std::string& model) const {
    std::vector<Range> buckets;
    for (const PlanGpu& gpu : plan_.gpus) {
      for (const PlanPartition& part : gpu.partitions) {
        for (const Assignment& a : part.assignments) {
          if (Canonical(a.model) == model) buckets.push_back({a.input_min, a.input_max});
        }
      }
    }
    return buckets;
  }

  std::string Canonical(const std::string& model) const {
    if (context_.registry == nullptr) return model;
    absl::StatusOr<const models::ModelInfo*> info = context_.registry->Find(model);
    return info.ok() ? (*info)->name : model;
  }

  void CheckWorkload() {
    const std::vector<workload::WorkloadModel>& wanted = context_.workload->models;
    for (size_t m = 0; m < wanted.size(); ++m) {
      const std::string where = fmt::format("workload.models[{}] ({})", m, wanted[m].model);
      std::vector<Range> buckets = Buckets(wanted[m].model);
      if (buckets.empty()) {
        Problem(where, "not served: no assignment in the plan runs this model");
        continue;
      }
      std::vector<Range> covered = Merge(std::move(buckets));
      std::vector<Range> missing;
      for (const Range& sizes : WantedSizes(wanted[m].input)) {
        for (const Range& r : Uncovered(sizes, covered)) missing.push_back(r);
      }
      if (missing.empty()) continue;
      Problem(where, fmt::format("input sizes {} fall in no assignment's [input_min, input_max]; "
                                 "add or widen a bucket",
                                 DescribeRanges(Merge(std::move(missing)))));
    }
  }

  const Plan& plan_;
  const ValidationContext& context_;
  std::vector<std::string> problems_;
};

}  // namespace

absl::Status ValidatePlan(const Plan& plan, const ValidationContext& context) {
  TESSERA_CHECK(context.catalog != nullptr);
  return Validator(plan, context).Run();
}

}  // namespace tessera::plan
