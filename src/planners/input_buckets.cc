// Input buckets for the elasticbatch planner: the cost per padded request and the bucket choice.
#include "internal/input_buckets.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/mig_candidates.h"
#include "tessera/base/status.h"

namespace tessera::planners::internal {
namespace {

// The inputs `model` was profiled at on the MIG profiles of `space`, ascending.
std::vector<int> ProfiledInputs(const PlanningInputs& in, const hw::LayoutSpace& space,
                                const std::string& model) {
  const hw::GpuModel& gpu = space.gpu();
  const std::vector<int>& allowed = space.profiles();
  std::set<int> inputs;
  for (const hw::Partition& p : in.profiles->Partitions(gpu.name, model)) {
    if (p.kind != hw::PartitionKind::kMig) continue;
    if (std::find(allowed.begin(), allowed.end(), gpu.ProfileIndex(p.mig_profile)) == allowed.end())
      continue;
    for (int input : in.profiles->Inputs(gpu.name, p, model)) inputs.insert(input);
  }
  return {inputs.begin(), inputs.end()};
}

// The costs per padded request, with the configurations acceptable at each profiled input kept
// (each size between two profiled inputs starts from those of the input below).
class PaddedCost {
 public:
  PaddedCost(const PlanningInputs& in, const hw::LayoutSpace& space,
             const workload::WorkloadModel& m)
      : in_(in), space_(space), m_(m), slices_(CostVariants(space.gpu())[0].second) {}

  // Compute-slice milliseconds per request padded to `size` (see input_buckets.h).
  absl::StatusOr<double> operator()(int size) {
    std::vector<Configuration> cs = At(size);
    double best = std::numeric_limits<double>::infinity(), best_any = best;
    for (const Configuration& c : cs) {
      double ms = slices_(c) * c.latency_ms / (c.batch * c.procs);
      best_any = std::min(best_any, ms);
      if (2 * c.latency_ms <= m_.slo_ms) best = std::min(best, ms);
    }
    if (cs.empty()) {
      return absl::FailedPreconditionError(fmt::format(
          "no profiled MIG configuration serves input {} within {:.4g} ms", size, m_.slo_ms));
    }
    return std::isfinite(best) ? best : best_any;
  }

  // AcceptableAtInput.
  std::vector<Configuration> At(int input) {
    const std::vector<int>& inputs = profiled();
    auto above = std::lower_bound(inputs.begin(), inputs.end(), input);
    if (above == inputs.end()) return {};
    if (*above == input) return Acceptable(in_, space_, m_, input);
    if (above == inputs.begin()) return {};
    int below = *std::prev(above);
    auto it = below_.find(below);
    if (it == below_.end()) it = below_.emplace(below, Acceptable(in_, space_, m_, below)).first;
    std::vector<Configuration> out;
    for (Configuration c : it->second) {
      absl::StatusOr<perf::ProfileRow> row =
          in_.profiles->Lookup({space_.gpu().name, c.partition, m_.model, input, c.batch, c.procs});
      if (!row.ok() || row->latency_ms > m_.slo_ms) continue;
      c.input = input;
      c.latency_ms = row->latency_ms;
      c.capacity_rps = c.procs * c.batch * 1000.0 / c.latency_ms;
      out.push_back(std::move(c));
    }
    return out;
  }

  // The profiled inputs (ProfiledInputs), computed once.
  const std::vector<int>& profiled() {
    if (!profiled_) profiled_ = ProfiledInputs(in_, space_, m_.model);
    return *profiled_;
  }

 private:
  const PlanningInputs& in_;
  const hw::LayoutSpace& space_;
  const workload::WorkloadModel& m_;
  CostFn slices_;
  std::optional<std::vector<int>> profiled_;
  std::map<int, std::vector<Configuration>> below_;  // Acceptable() at a profiled input
};

// `sizes` with every size below `smallest` merged into it (they are padded to it anyway).
std::vector<WeightedSize> PaddedUpTo(const std::vector<WeightedSize>& sizes, int smallest) {
  std::vector<WeightedSize> out;
  for (const WeightedSize& s : sizes) {
    WeightedSize padded{std::max(s.size, smallest), s.weight};
    if (!out.empty() && out.back().size == padded.size) {
      out.back().weight += padded.weight;
    } else {
      out.push_back(padded);
    }
  }
  return out;
}

std::string BucketsText(const std::vector<InputBucket>& buckets) {
  std::vector<std::string> parts;
  for (const InputBucket& b : buckets) {
    parts.push_back(
        fmt::format("{}..{} {:.1f}%", std::max(b.input_min, 1), b.input_max, 100 * b.mass));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::vector<Configuration> AcceptableAtInput(const PlanningInputs& in, const hw::LayoutSpace& space,
                                             const workload::WorkloadModel& m, int input) {
  return PaddedCost(in, space, m).At(input);
}

absl::StatusOr<ModelBuckets> ChooseInputBuckets(const PlanningInputs& in,
                                                const hw::LayoutSpace& space,
                                                const workload::WorkloadModel& m,
                                                const PlannerOptions& options) {
  const int largest = m.input.MaxSize();
  ModelBuckets one{{{0, largest, 1.0}}, ""};
  if (m.input.kind == workload::InputDistribution::Kind::kFixed) return one;
  if (options.input_buckets == 1) {
    one.note = fmt::format("{}: inputs vary; one bucket at the largest size {} (buckets: 1)",
                           m.model, largest);
    return one;
  }
  PaddedCost cost(in, space, m);
  ASSIGN_OR_RETURN(std::vector<WeightedSize> sizes, DistinctSizes(m.input));
  if (!cost.profiled().empty()) sizes = PaddedUpTo(sizes, cost.profiled().front());
  InputCostFn fn = [&cost](int size) { return cost(size); };
  absl::StatusOr<Bucketing> b = options.input_buckets == 0
                                    ? AutoBucketSizes(sizes, fn)
                                    : BucketSizes(sizes, fn, options.input_buckets);
  if (!b.ok()) {
    one.note = fmt::format("{}: inputs vary; one bucket at the largest size {} (no bucketing: {})",
                           m.model, largest, std::string(b.status().message()));
    return one;
  }
  ModelBuckets out;
  for (const InputBucket& x : b->buckets) {
    int from = out.buckets.empty() ? 0 : out.buckets.back().input_max + 1;
    out.buckets.push_back({from, x.input_max, x.mass});
  }
  std::string rule = options.input_buckets == 0
                         ? fmt::format("automatic: stop when a bucket gains < {}% of one bucket",
                                       100 * kAutoBucketMinGain)
                         : fmt::format("at most {}", options.input_buckets);
  out.note = fmt::format(
      "{}: {} input bucket(s) ({}): {}; padded cost {:.4g} slice-ms per request (one bucket "
      "{:.4g}, "
      "no padding {:.4g})",
      m.model, out.buckets.size(), rule, BucketsText(out.buckets), b->expected_cost,
      b->one_bucket_cost, b->unpadded_cost);
  return out;
}

}  // namespace tessera::planners::internal
