// tessera/planners/bucketing.h — input bucketing: split a model's input sizes into K buckets, each
// request padded up to its bucket's bound, choosing the bounds that minimize the expected padded
// cost exactly.
//
// Given the distinct sizes s_1 < ... < s_n of an input distribution, their probabilities w_i and a
// cost per request c(s) (e.g. GPU time per request at size s on a reference configuration), a
// bucketing is a set of bounds b_1 < ... < b_K = s_n taken among the sizes; a request of size s is
// served padded to the smallest bound >= s, so the expected cost is sum_i w_i c(bound(s_i)).
// Buckets are contiguous runs of sizes, so dynamic programming over (buckets used, last size
// covered) finds the optimum in O(K n^2) time and O(K n) memory: E_k(j) = min(E_{k-1}(j), min_{i<j}
// E_{k-1}(i) + c(s_j) (W_j - W_i)), W the prefix sums of the weights. "At most K": a bucket is
// added only where it lowers the cost (with a cost that falls with the size, a split can hurt).
//
// The automatic rule (AutoBucketInputs) computes the optimum for K = 1, 2, ... and stops at the
// first K where one more bucket improves the expected cost by less than kAutoBucketMinGain of the
// one-bucket cost (or at kAutoBucketMaxBuckets): every bucket costs the planner at least one
// partly used instance, so small gains are not worth a bucket.
//
// Example:
//   ASSIGN_OR_RETURN(Bucketing b, BucketInputs(m.input, [&](int s) { return 1.0 * s; }, 3));
//   for (const InputBucket& x : b.buckets)
//     fmt::print("[{}, {}] {:.0f}%\n", x.input_min, x.input_max, 100 * x.mass);
//
// Pure functions; thread-safe as far as `cost` is.
#ifndef TESSERA_PLANNERS_BUCKETING_H_
#define TESSERA_PLANNERS_BUCKETING_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/workload/workload.h"

namespace tessera::planners {

// The automatic rule: stop adding buckets once one more improves the expected cost by less than
// this fraction of the one-bucket cost...
inline constexpr double kAutoBucketMinGain = 0.05;
// ...and never use more than this many.
inline constexpr int kAutoBucketMaxBuckets = 8;

// One distinct input size and its probability.
struct WeightedSize {
  int size = 0;
  double weight = 0;
  bool operator==(const WeightedSize&) const = default;
};

// The distinct sizes of `input`, ascending, with probabilities summing to 1 (a fixed size: one of
// weight 1; uniform [min, max]: every integer, equally likely; empirical: as given, renormalized).
// InvalidArgument for an empty distribution (no sizes, a uniform range with max < min, sizes < 1,
// weights that are not positive or mismatched).
absl::StatusOr<std::vector<WeightedSize>> DistinctSizes(const workload::InputDistribution& input);

// One bucket: requests with input_min <= size <= input_max, padded to input_max. input_min is the
// smallest size of the distribution in the bucket; `mass` the probability of landing in it.
struct InputBucket {
  int input_min = 0;
  int input_max = 0;
  double mass = 0;
  bool operator==(const InputBucket&) const = default;
};

struct Bucketing {
  std::vector<InputBucket> buckets;  // ascending; the last bound is the largest size
  double expected_cost = 0;          // sum_s w_s c(bound(s)) for these buckets
  double one_bucket_cost = 0;        // c(largest size): everything padded to the largest size
  double unpadded_cost = 0;          // sum_s w_s c(s): no padding at all (the limit as K grows)
  // "[1..128] 62%, [129..512] 38%; expected cost 0.41 (one bucket 0.62, no padding 0.33)".
  std::string DebugString() const;
};

// The cost per request of a request padded to `size`; must be finite and >= 0.
using InputCostFn = std::function<absl::StatusOr<double>(int size)>;

// The optimal bucketing of `sizes` (as DistinctSizes returns them) into at most `max_buckets`
// buckets; `cost` is called once per distinct size. Ties prefer fewer buckets.
// InvalidArgument for max_buckets < 1, empty sizes, or a cost that is negative or not finite;
// errors of `cost` are returned as they are.
absl::StatusOr<Bucketing> BucketSizes(const std::vector<WeightedSize>& sizes,
                                      const InputCostFn& cost, int max_buckets);
// The same from a distribution.
absl::StatusOr<Bucketing> BucketInputs(const workload::InputDistribution& input,
                                       const InputCostFn& cost, int max_buckets);
// The bucketing the automatic rule above chooses (at most `max_buckets`).
absl::StatusOr<Bucketing> AutoBucketSizes(const std::vector<WeightedSize>& sizes,
                                          const InputCostFn& cost,
                                          int max_buckets = kAutoBucketMaxBuckets);
absl::StatusOr<Bucketing> AutoBucketInputs(const workload::InputDistribution& input,
                                           const InputCostFn& cost,
                                           int max_buckets = kAutoBucketMaxBuckets);

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_BUCKETING_H_
