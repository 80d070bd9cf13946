#include "tessera/planners/common.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::planners {
namespace {

TEST(PoissonQuantileTest, MatchesKnownValues) {
  EXPECT_EQ(PoissonQuantile(0, 0.99), 0);
  EXPECT_EQ(PoissonQuantile(1, 0.5), 1);
  EXPECT_EQ(PoissonQuantile(10, 0.99), 18);    // P(X <= 17) = 0.9857, P(X <= 18) = 0.9928
  EXPECT_EQ(PoissonQuantile(100, 0.99), 124);  // P(X <= 123) = 0.9893, P(X <= 124) = 0.9923
  // Large means use the normal approximation: within one count of mean + 2.326 sqrt(mean).
  EXPECT_NEAR(PoissonQuantile(10000, 0.99), 10000 + 2.3263 * 100, 1.5);
}

TEST(InflatedRateTest, ProvisionsAtTheQuantileOfTheWindow) {
  PlannerOptions o;
  o.gpu = "h100";
  EXPECT_DOUBLE_EQ(InflatedRate(100, o), 124);
  o.window_s = 0.1;                             // a shorter window: relatively burstier
  EXPECT_DOUBLE_EQ(InflatedRate(100, o), 180);  // Poisson(10) p99 = 18 per 0.1 s
  o.rate_quantile = 0;
  EXPECT_DOUBLE_EQ(InflatedRate(100, o), 100);
}

TEST(PlannerOptionsTest, ValidateNamesTheField) {
  PlannerOptions o;
  EXPECT_THAT(o.Validate(), ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                         ::testing::HasSubstr("gpu")));
  o.gpu = "h100";
  EXPECT_OK(o.Validate());
  o.rate_quantile = 1;
  EXPECT_THAT(o.Validate(), ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                                         ::testing::HasSubstr("rate_quantile")));
}

TEST(PackMigInstancesTest, PacksTheFragmentationExampleOnOneGpu) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog.Find("h100"));
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*h100);
  int g1 = h100->ProfileIndex("1g.10gb"), g2 = h100->ProfileIndex("2g.20gb"),
      g3 = h100->ProfileIndex("3g.40gb"), g7 = h100->ProfileIndex("7g.80gb");
  ASSERT_OK_AND_ASSIGN(std::vector<hw::PlacedLayout> gpus,
                       PackMigInstances(space, {g1, g3, g1, g2}));
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_OK(hw::CheckLayout(*h100, gpus[0]));
  ASSERT_OK_AND_ASSIGN(gpus, PackMigInstances(space, {g7, g1, g1, g3, g3, g2, g2, g2}));
  // 21 compute slices need at least 3 GPUs: 7g | 3g+2g+2g | 3g+2g+1g+1g. First-fit decreasing alone
  // pairs the two 3g (6 of 7 compute slices) and needs 4.
  EXPECT_EQ(gpus.size(), 3u);
  for (const hw::PlacedLayout& l : gpus) EXPECT_OK(hw::CheckLayout(*h100, l));
}

}  // namespace
}  // namespace tessera::planners
