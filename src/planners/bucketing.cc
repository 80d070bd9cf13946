// Input bucketing by exact dynamic programming over the distinct sizes (see bucketing.h).
#include "tessera/planners/bucketing.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"

namespace tessera::planners {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// O(K n^2): beyond this many distinct sizes a bucketing would take seconds.
constexpr size_t kMaxDistinctSizes = 4096;

// Whether `a` is below `b` by more than rounding.
bool Below(double a, double b) { return b == kInf ? a < kInf : a < b - 1e-12 * (1 + std::fabs(b)); }

// E[k][j]: the least expected cost of covering the first j sizes with at most k buckets (the last
// bound being size j); from[k][j]: where the last bucket starts (sizes from[k][j]..j-1, 0-based),
// or -1 where k - 1 buckets do as well.
struct Table {
  std::vector<std::vector<double>> e;
  std::vector<std::vector<int>> from;
};

Table Solve(const std::vector<double>& prefix, const std::vector<double>& costs, int max_k) {
  const size_t n = costs.size();
  Table t;
  t.e.assign(static_cast<size_t>(max_k) + 1, std::vector<double>(n + 1, kInf));
  t.from.assign(static_cast<size_t>(max_k) + 1, std::vector<int>(n + 1, -1));
  t.e[0][0] = 0;
  for (size_t k = 1; k <= static_cast<size_t>(max_k); ++k) {
    t.e[k][0] = 0;
    for (size_t j = 1; j <= n; ++j) {
      double best = t.e[k - 1][j];
      int from = -1;
      for (size_t i = 0; i < j; ++i) {
        if (t.e[k - 1][i] == kInf) continue;
        double v = t.e[k - 1][i] + costs[j - 1] * (prefix[j] - prefix[i]);
        if (Below(v, best)) {
          best = v;
          from = static_cast<int>(i);
        }
      }
      t.e[k][j] = best;
      t.from[k][j] = from;
    }
  }
  return t;
}

// The buckets of the optimum with at most k buckets.
Bucketing Extract(const Table& t, const std::vector<WeightedSize>& sizes,
                  const std::vector<double>& prefix, int k) {
  Bucketing b;
  size_t j = sizes.size();
  while (j > 0) {
    TESSERA_CHECK(k > 0);
    int from = t.from[static_cast<size_t>(k)][j];
    if (from < 0) {
      --k;
      continue;
    }
    size_t i = static_cast<size_t>(from);
    b.buckets.push_back({sizes[i].size, sizes[j - 1].size, prefix[j] - prefix[i]});
    j = i;
    --k;
  }
  std::reverse(b.buckets.begin(), b.buckets.end());
  return b;
}

absl::Status CheckBuckets(int max_buckets) {
  if (max_buckets < 1) {
    return absl::InvalidArgumentError(
        fmt::format("bucketing: the number of buckets must be at least 1, found {}", max_buckets));
  }
  return absl::OkStatus();
}

// The costs at every size, checked.
absl::StatusOr<std::vector<double>> Costs(const std::vector<WeightedSize>& sizes,
                                          const InputCostFn& cost) {
  std::vector<double> costs;
  costs.reserve(sizes.size());
  for (const WeightedSize& s : sizes) {
    ASSIGN_OR_RETURN(double c, cost(s.size));
    if (!(c >= 0) || !std::isfinite(c)) {
      return absl::InvalidArgumentError(fmt::format(
          "bucketing: the cost at size {} is {}; costs must be finite and >= 0", s.size, c));
    }
    costs.push_back(c);
  }
  return costs;
}

absl::Status CheckSizes(const std::vector<WeightedSize>& sizes) {
  if (sizes.empty()) {
    return absl::InvalidArgumentError("bucketing: the input distribution has no sizes");
  }
  if (sizes.size() > kMaxDistinctSizes) {
    return absl::InvalidArgumentError(fmt::format(
        "bucketing: {} distinct sizes, more than the {} the exact dynamic program takes",
        sizes.size(), kMaxDistinctSizes));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i].size < 1 || !(sizes[i].weight > 0) ||
        (i > 0 && sizes[i].size <= sizes[i - 1].size)) {
      return absl::InvalidArgumentError(
          "bucketing: sizes must be >= 1, strictly ascending, with positive weights");
    }
  }
  return absl::OkStatus();
}

// Everything one table answers: the optimum for every k up to max_k, in order.
absl::StatusOr<std::vector<Bucketing>> AllOptima(const std::vector<WeightedSize>& sizes,
                                                 const InputCostFn& cost, int max_k) {
  RETURN_IF_ERROR(CheckBuckets(max_k));
  RETURN_IF_ERROR(CheckSizes(sizes));
  ASSIGN_OR_RETURN(std::vector<double> costs, Costs(sizes, cost));
  std::vector<double> prefix(sizes.size() + 1, 0);
  for (size_t i = 0; i < sizes.size(); ++i) prefix[i + 1] = prefix[i] + sizes[i].weight;
  for (double& p : prefix) p /= prefix.back();  // probabilities
  int k_limit = std::min<int>(max_k, static_cast<int>(sizes.size()));
  Table t = Solve(prefix, costs, k_limit);
  double unpadded = 0;
  for (size_t i = 0; i < sizes.size(); ++i) unpadded += costs[i] * (prefix[i + 1] - prefix[i]);
  std::vector<Bucketing> out;
  for (int k = 1; k <= k_limit; ++k) {
    Bucketing b = Extract(t, sizes, prefix, k);
    b.expected_cost = t.e[static_cast<size_t>(k)][sizes.size()];
    b.one_bucket_cost = costs.back();
    b.unpadded_cost = unpadded;
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<WeightedSize>> DistinctSizes(const workload::InputDistribution& input) {
  using Kind = workload::InputDistribution::Kind;
  std::vector<WeightedSize> out;
  switch (input.kind) {
    case Kind::kFixed:
      out.push_back({input.fixed, 1.0});
      break;
    case Kind::kUniform:
      if (input.max >= input.min &&
          static_cast<size_t>(input.max - input.min) < kMaxDistinctSizes) {
        for (int s = input.min; s <= input.max; ++s) out.push_back({s, 1.0});
      } else if (input.max >= input.min) {
        return absl::InvalidArgumentError(
            fmt::format("bucketing: uniform [{}, {}] has more than {} sizes", input.min, input.max,
                        kMaxDistinctSizes));
      }
      break;
    case Kind::kEmpirical:
      if (input.sizes.size() != input.weights.size()) {
        return absl::InvalidArgumentError(
            "bucketing: empirical sizes and weights differ in length");
      }
      for (size_t i = 0; i < input.sizes.size(); ++i) {
        out.push_back({input.sizes[i], input.weights[i]});
      }
      break;
  }
  RETURN_IF_ERROR(CheckSizes(out));
  double total = 0;
  for (const WeightedSize& s : out) total += s.weight;
  for (WeightedSize& s : out) s.weight /= total;
  return out;
}

std::string Bucketing::DebugString() const {
  std::vector<std::string> parts;
  for (const InputBucket& b : buckets) {
    parts.push_back(fmt::format("[{}..{}] {:.1f}%", b.input_min, b.input_max, 100 * b.mass));
  }
  return fmt::format("{}; expected cost {:.4g} (one bucket {:.4g}, no padding {:.4g})",
                     fmt::join(parts, ", "), expected_cost, one_bucket_cost, unpadded_cost);
}

absl::StatusOr<Bucketing> BucketSizes(const std::vector<WeightedSize>& sizes,
                                      const InputCostFn& cost, int max_buckets) {
  ASSIGN_OR_RETURN(std::vector<Bucketing> all, AllOptima(sizes, cost, max_buckets));
  return std::move(all.back());
}

absl::StatusOr<Bucketing> BucketInputs(const workload::InputDistribution& input,
                                       const InputCostFn& cost, int max_buckets) {
  RETURN_IF_ERROR(CheckBuckets(max_buckets));
  ASSIGN_OR_RETURN(std::vector<WeightedSize> sizes, DistinctSizes(input));
  return BucketSizes(sizes, cost, max_buckets);
}

absl::StatusOr<Bucketing> AutoBucketSizes(const std::vector<WeightedSize>& sizes,
                                          const InputCostFn& cost, int max_buckets) {
  ASSIGN_OR_RETURN(std::vector<Bucketing> all, AllOptima(sizes, cost, max_buckets));
  size_t k = 0;  // index of the chosen optimum (k + 1 buckets at most)
  auto gain = [&](size_t i) { return all[i].expected_cost - all[i + 1].expected_cost; };
  while (k + 1 < all.size() && gain(k) > 0 &&
         gain(k) >= kAutoBucketMinGain * all[0].expected_cost) {
    ++k;
  }
  return std::move(all[k]);
}

absl::StatusOr<Bucketing> AutoBucketInputs(const workload::InputDistribution& input,
                                           const InputCostFn& cost, int max_buckets) {
  RETURN_IF_ERROR(CheckBuckets(max_buckets));
  ASSIGN_OR_RETURN(std::vector<WeightedSize> sizes, DistinctSizes(input));
  return AutoBucketSizes(sizes, cost, max_buckets);
}

}  // namespace tessera::planners
