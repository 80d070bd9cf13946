#include "tessera/sim/metrics.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/rng.h"

namespace tessera::sim {
namespace {

TEST(LatencyHistogramTest, QuantilesWithinOnePercent) {
  LatencyHistogram h;
  RngStream rng(3, 0);
  std::vector<int64_t> values;
  for (int i = 0; i < 100000; ++i) {
    int64_t v = static_cast<int64_t>(std::exp(10 + 5 * rng.Uniform()));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact =
        static_cast<double>(values[static_cast<size_t>(std::ceil(q * values.size())) - 1]);
    EXPECT_NEAR(h.Quantile(q), exact, 0.01 * exact) << q;
  }
  EXPECT_EQ(h.count(), 100000);
}

TEST(LatencyHistogramTest, BucketsAreContiguousAndSmallValuesExact) {
  for (int64_t v = 0; v < 128; ++v) EXPECT_EQ(LatencyHistogram::BucketOf(v), v);
  for (int b = 128; b + 1 < LatencyHistogram::kBuckets; ++b) {
    EXPECT_DOUBLE_EQ(LatencyHistogram::BucketLow(b) + LatencyHistogram::BucketWidth(b),
                     LatencyHistogram::BucketLow(b + 1));
    EXPECT_EQ(LatencyHistogram::BucketOf(static_cast<int64_t>(LatencyHistogram::BucketLow(b))), b);
  }
  // Values past the last bucket are clamped, not lost.
  LatencyHistogram h;
  h.Record(int64_t{1} << 50);
  EXPECT_EQ(h.count(), 1);
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.Record(1000);
  b.Record(3000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 2);
  EXPECT_DOUBLE_EQ(a.Mean(), 2000);
}

}  // namespace
}  // namespace tessera::sim
