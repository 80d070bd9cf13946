#include "tessera/planners/bucketing.h"

#include <algorithm>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::planners {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = workload::InputDistribution::Kind;

absl::StatusOr<double> Linear(int size) { return static_cast<double>(size); }

workload::InputDistribution Empirical(std::vector<int> sizes, std::vector<double> weights) {
  workload::InputDistribution d;
  d.kind = Kind::kEmpirical;
  d.sizes = std::move(sizes);
  d.weights = std::move(weights);
  return d;
}

workload::InputDistribution Uniform(int min, int max) {
  workload::InputDistribution d;
  d.kind = Kind::kUniform;
  d.min = min;
  d.max = max;
  return d;
}

// Every bucketing of `sizes` into contiguous runs with at most k buckets, by brute force: the least
// expected padded cost.
double BruteForce(const std::vector<WeightedSize>& sizes, const std::vector<double>& cost, int k) {
  const size_t n = sizes.size();
  double best = 1e300;
  for (unsigned mask = 0; mask < (1u << (n - 1)); ++mask) {  // bit i: a bound after size i
    if (__builtin_popcount(mask) + 1 > k) continue;
    double total = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i + 1 == n || (mask >> i) & 1u) {
        for (size_t j = start; j <= i; ++j) total += sizes[j].weight * cost[i];
        start = i + 1;
      }
    }
    best = std::min(best, total);
  }
  return best;
}

TEST(BucketingTest, DistinctSizesOfEachKind) {
  workload::InputDistribution fixed;
  fixed.kind = Kind::kFixed;
  fixed.fixed = 224;
  EXPECT_THAT(DistinctSizes(fixed),
              ::tessera::testing::IsOkAndHolds(ElementsAre(WeightedSize{224, 1.0})));
  ASSERT_OK_AND_ASSIGN(std::vector<WeightedSize> u, DistinctSizes(Uniform(3, 6)));
  EXPECT_THAT(u, ElementsAre(WeightedSize{3, 0.25}, WeightedSize{4, 0.25}, WeightedSize{5, 0.25},
                             WeightedSize{6, 0.25}));
  ASSERT_OK_AND_ASSIGN(std::vector<WeightedSize> e, DistinctSizes(Empirical({8, 16}, {1, 3})));
  EXPECT_THAT(e, ElementsAre(WeightedSize{8, 0.25}, WeightedSize{16, 0.75}));
}

// Two sizes, one bucket: everything is padded to the larger size.
TEST(BucketingTest, TwoSizesOneBucketPadsToTheLargest) {
  ASSERT_OK_AND_ASSIGN(Bucketing b, BucketInputs(Empirical({100, 200}, {0.6, 0.4}), Linear, 1));
  EXPECT_THAT(b.buckets, ElementsAre(InputBucket{100, 200, 1.0}));
  EXPECT_DOUBLE_EQ(b.expected_cost, 200);
  EXPECT_DOUBLE_EQ(b.one_bucket_cost, 200);
  EXPECT_DOUBLE_EQ(b.unpadded_cost, 0.6 * 100 + 0.4 * 200);
}

// Two sizes, two buckets: no padding, each bucket holding its size's mass.
TEST(BucketingTest, TwoSizesTwoBucketsNoPadding) {
  ASSERT_OK_AND_ASSIGN(Bucketing b, BucketInputs(Empirical({100, 200}, {0.6, 0.4}), Linear, 2));
  ASSERT_EQ(b.buckets.size(), 2u);
  EXPECT_EQ(b.buckets[0].input_max, 100);
  EXPECT_EQ(b.buckets[1].input_min, 200);
  EXPECT_EQ(b.buckets[1].input_max, 200);
  EXPECT_DOUBLE_EQ(b.buckets[0].mass, 0.6);
  EXPECT_DOUBLE_EQ(b.buckets[1].mass, 0.4);
  EXPECT_DOUBLE_EQ(b.expected_cost, 140);
}

// Three sizes 10, 20, 30 with costs equal to the size, two buckets. The bound 30 is forced; the
// other bound at 10 costs 0.5*10 + 0.5*30 = 20 with weights (0.5, 0.1, 0.4); at 20 it costs
// 0.6*20 + 0.4*30 = 24: 10 wins. With weights (0.1, 0.5, 0.4) the bound at 20 wins (24 vs 28).
TEST(BucketingTest, ThreeSizesKnownOptimum) {
  ASSERT_OK_AND_ASSIGN(Bucketing a,
                       BucketInputs(Empirical({10, 20, 30}, {0.5, 0.1, 0.4}), Linear, 2));
  EXPECT_THAT(a.buckets, ElementsAre(InputBucket{10, 10, 0.5}, InputBucket{20, 30, 0.5}));
  EXPECT_DOUBLE_EQ(a.expected_cost, 20);
  ASSERT_OK_AND_ASSIGN(Bucketing b,
                       BucketInputs(Empirical({10, 20, 30}, {0.1, 0.5, 0.4}), Linear, 2));
  ASSERT_EQ(b.buckets.size(), 2u);
  EXPECT_EQ(b.buckets[0].input_max, 20);
  EXPECT_NEAR(b.buckets[0].mass, 0.6, 1e-12);
  EXPECT_NEAR(b.expected_cost, 24, 1e-12);
}

// As many buckets as distinct sizes (or more): nothing is padded.
TEST(BucketingTest, EnoughBucketsMeansNoPadding) {
  workload::InputDistribution d = Empirical({32, 64, 128, 256}, {0.1, 0.2, 0.3, 0.4});
  for (int k : {4, 5, 100}) {
    ASSERT_OK_AND_ASSIGN(Bucketing b, BucketInputs(d, Linear, k));
    EXPECT_EQ(b.buckets.size(), 4u) << k;
    EXPECT_DOUBLE_EQ(b.expected_cost, b.unpadded_cost) << k;
    for (const InputBucket& x : b.buckets) {
      EXPECT_EQ(x.input_min, x.input_max);
    }
  }
}

// The expected cost never rises with K, matches brute force over every bucketing, and the masses
// sum to 1 with contiguous, ascending buckets.
TEST(BucketingTest, MonotoneInKAndOptimal) {
  workload::InputDistribution d =
      Empirical({3, 5, 8, 9, 13, 21, 30, 34, 55}, {4, 1, 3, 1, 5, 9, 2, 6, 5});
  auto cost = [](int s) -> absl::StatusOr<double> { return 1 + 0.3 * s + 0.01 * s * s; };
  ASSERT_OK_AND_ASSIGN(std::vector<WeightedSize> sizes, DistinctSizes(d));
  std::vector<double> costs;
  for (const WeightedSize& s : sizes) costs.push_back(*cost(s.size));
  double previous = 1e300;
  for (int k = 1; k <= 9; ++k) {
    ASSERT_OK_AND_ASSIGN(Bucketing b, BucketInputs(d, cost, k));
    EXPECT_LE(b.expected_cost, previous + 1e-12) << k;
    EXPECT_NEAR(b.expected_cost, BruteForce(sizes, costs, k), 1e-9) << k;
    EXPECT_LE(static_cast<int>(b.buckets.size()), k);
    double mass = 0;
    for (size_t i = 0; i < b.buckets.size(); ++i) {
      mass += b.buckets[i].mass;
      if (i > 0) {
        EXPECT_GT(b.buckets[i].input_min, b.buckets[i - 1].input_max);
      }
    }
    EXPECT_NEAR(mass, 1, 1e-12);
    EXPECT_EQ(b.buckets.back().input_max, 55);
    previous = b.expected_cost;
  }
}

// A cost that falls with the size: padding up is free gain, so one bucket is optimal at any K.
TEST(BucketingTest, FallingCostKeepsOneBucket) {
  auto cost = [](int s) -> absl::StatusOr<double> { return 100.0 / s; };
  ASSERT_OK_AND_ASSIGN(Bucketing b, BucketInputs(Uniform(1, 20), cost, 5));
  EXPECT_THAT(b.buckets, ElementsAre(InputBucket{1, 20, 1.0}));
}

// Linear cost on uniform sizes 1..512: the optimum with k buckets costs about (1 + 1/k)/2 of the
// largest, so the gains are 25%, 8.3%, 4.2%, ... of the one-bucket cost: with a 5% threshold the
// automatic rule stops at three buckets, near 171, 342, 512.
TEST(BucketingTest, AutomaticRuleStopsWhereTheGainFallsOff) {
  ASSERT_OK_AND_ASSIGN(Bucketing b, AutoBucketInputs(Uniform(1, 512), Linear));
  ASSERT_EQ(b.buckets.size(), 3u) << b.DebugString();
  EXPECT_NEAR(b.buckets[0].input_max, 171, 2);
  EXPECT_NEAR(b.buckets[1].input_max, 342, 2);
  EXPECT_EQ(b.buckets[2].input_max, 512);
  ASSERT_OK_AND_ASSIGN(Bucketing three, BucketInputs(Uniform(1, 512), Linear, 3));
  EXPECT_EQ(b.buckets, three.buckets);
  ASSERT_OK_AND_ASSIGN(Bucketing four, BucketInputs(Uniform(1, 512), Linear, 4));
  EXPECT_LT(three.expected_cost - four.expected_cost, kAutoBucketMinGain * b.one_bucket_cost);
  // The cap holds, and a flat cost needs one bucket.
  ASSERT_OK_AND_ASSIGN(Bucketing capped, AutoBucketInputs(Uniform(1, 512), Linear, 2));
  EXPECT_EQ(capped.buckets.size(), 2u);
  auto flat = [](int) -> absl::StatusOr<double> { return 1.0; };
  ASSERT_OK_AND_ASSIGN(Bucketing one, AutoBucketInputs(Uniform(1, 512), flat));
  EXPECT_EQ(one.buckets.size(), 1u);
}

TEST(BucketingTest, BadInputIsInvalidArgument) {
  workload::InputDistribution d = Empirical({1, 2}, {0.5, 0.5});
  EXPECT_THAT(BucketInputs(d, Linear, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BucketInputs(d, Linear, -3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AutoBucketInputs(d, Linear, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BucketInputs(Empirical({}, {}), Linear, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no sizes")));
  EXPECT_THAT(BucketSizes({}, Linear, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BucketInputs(Uniform(5, 4), Linear, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BucketInputs(Empirical({2, 1}, {0.5, 0.5}), Linear, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto negative = [](int) -> absl::StatusOr<double> { return -1.0; };
  EXPECT_THAT(BucketInputs(d, negative, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  auto failing = [](int) -> absl::StatusOr<double> { return absl::OutOfRangeError("no row"); };
  EXPECT_THAT(BucketInputs(d, failing, 2), StatusIs(absl::StatusCode::kOutOfRange));
}

}  // namespace
}  // namespace tessera::planners
