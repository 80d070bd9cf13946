// InputSampler: fixed, uniform and empirical (alias method) frequencies.
#include <cmath>
#include <cstdio>
#include <map>

#include "gtest/gtest.h"
#include "tessera/workload/arrivals.h"

namespace tessera::workload {
namespace {

constexpr int kDraws = 200'000;

std::map<int, int> Frequencies(const InputDistribution& distribution) {
  InputSampler sampler(distribution);
  RngStream rng(5, 0);
  std::map<int, int> counts;
  for (int i = 0; i < kDraws; ++i) ++counts[sampler.Sample(rng)];
  return counts;
}

TEST(InputSamplerTest, FixedAlwaysGivesTheSize) {
  EXPECT_EQ(Frequencies({.fixed = 128}), (std::map<int, int>{{128, kDraws}}));
}

TEST(InputSamplerTest, UniformCoversTheRangeEvenly) {
  std::map<int, int> counts =
      Frequencies({.kind = InputDistribution::Kind::kUniform, .min = 10, .max = 19});
  ASSERT_EQ(counts.size(), 10u);
  EXPECT_EQ(counts.begin()->first, 10);
  EXPECT_EQ(counts.rbegin()->first, 19);
  const double expected = kDraws / 10.0, sigma = std::sqrt(expected * 0.9);
  for (const auto& [size, count] : counts) EXPECT_NEAR(count, expected, 4 * sigma) << size;
}

TEST(InputSamplerTest, EmpiricalFrequenciesMatchTheWeights) {
  InputDistribution d{.kind = InputDistribution::Kind::kEmpirical,
                      .sizes = {32, 64, 128, 256, 512},
                      .weights = {0.5, 0.05, 0.25, 0.15, 0.05}};
  std::map<int, int> counts = Frequencies(d);
  double worst = 0;
  for (size_t i = 0; i < d.sizes.size(); ++i) {
    const double p = d.weights[i], expected = kDraws * p;
    const double sigma = std::sqrt(kDraws * p * (1 - p));
    EXPECT_NEAR(counts[d.sizes[i]], expected, 4 * sigma) << d.sizes[i];
    worst = std::max(worst, std::abs(counts[d.sizes[i]] - expected) / sigma);
  }
  std::printf("[stats] alias sampler, 5 sizes x %d draws: worst deviation %.2f sigma\n", kDraws,
              worst);
  EXPECT_EQ(counts.size(), d.sizes.size());
}

TEST(InputSamplerTest, EmpiricalWithOneSizeAndUnnormalizedWeights) {
  EXPECT_EQ(
      Frequencies({.kind = InputDistribution::Kind::kEmpirical, .sizes = {77}, .weights = {3.0}}),
      (std::map<int, int>{{77, kDraws}}));
  std::map<int, int> counts = Frequencies(
      {.kind = InputDistribution::Kind::kEmpirical, .sizes = {1, 2}, .weights = {1.0, 3.0}});
  EXPECT_NEAR(counts[2] / static_cast<double>(kDraws), 0.75, 0.01);
}

}  // namespace
}  // namespace tessera::workload
