#include "tessera/planners/common.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/rng.h"
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

// Per-instance first-fit decreasing, the definition MigPacker's run-based packing must reproduce:
// each instance (largest first: memory, then compute slices, then profile index) onto the first GPU
// where it fits now (at hw::ChooseStart's start) or after re-placing that GPU's instances.
std::vector<hw::PlacedLayout> ReferenceFirstFit(const hw::LayoutSpace& space,
                                                const hw::Multiset& counts) {
  const hw::GpuModel& gpu = space.gpu();
  std::vector<int> order = space.profiles();
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const hw::MigProfile &pa = gpu.profiles[a], &pb = gpu.profiles[b];
    return std::tie(pb.memory_slices, pb.compute_slices, a) <
           std::tie(pa.memory_slices, pa.compute_slices, b);
  });
  std::vector<hw::PlacedLayout> gpus;
  for (int p : order) {
    for (int k = 0; k < counts[p]; ++k) {
      bool placed = false;
      for (hw::PlacedLayout& layout : gpus) {
        if (std::optional<int> start = hw::ChooseStart(space, layout, p)) {
          layout.Add({p, *start});
        } else if (hw::FitsAfterReplacing(gpu, layout, p)) {
          hw::Multiset m = hw::MultisetOf(gpu, layout);
          ++m[p];
          layout = *hw::PlaceMultiset(gpu, m);
        } else {
          continue;
        }
        placed = true;
        break;
      }
      if (!placed) {
        hw::PlacedLayout fresh;
        fresh.Add({p, *hw::ChooseStart(space, fresh, p)});
        gpus.push_back(fresh);
      }
    }
  }
  return gpus;
}

TEST(MigPackerTest, PacksEveryInstanceLegallyAndNoWorseThanPerInstanceFirstFit) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* a100, catalog.Find("a100-80gb"));
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*a100);
  MigPacker packer(space);
  RngStream rng(7, 0);
  for (int trial = 0; trial < 60; ++trial) {
    hw::Multiset counts(a100->profiles.size(), 0);
    for (int p : space.profiles()) counts[p] = static_cast<int>(rng.Below(trial < 30 ? 6 : 40));
    ASSERT_OK_AND_ASSIGN(MigPacking packing, packer.Pack(counts));
    std::vector<hw::PlacedLayout> gpus = packing.Expand();
    ASSERT_EQ(static_cast<int64_t>(gpus.size()), packing.gpus);
    hw::Multiset packed(a100->profiles.size(), 0);
    for (const hw::PlacedLayout& l : gpus) {
      ASSERT_OK(hw::CheckLayout(*a100, l));
      for (const hw::Placement& i : l.instances) ++packed[i.profile];
    }
    EXPECT_EQ(packed, counts) << "trial " << trial;
    // The better of the two heuristics, so never more GPUs than first-fit alone.
    EXPECT_LE(packing.gpus, static_cast<int64_t>(ReferenceFirstFit(space, counts).size()))
        << "trial " << trial;
  }
}

TEST(MigPackerTest, FirstFitOnRunsEqualsPerInstanceFirstFit) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  for (const char* name : {"a100-80gb", "h100"}) {
    ASSERT_OK_AND_ASSIGN(const hw::GpuModel* gpu, catalog.Find(name));
    hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*gpu);
    MigPacker packer(space);
    RngStream rng(11, 0);
    for (int trial = 0; trial < 40; ++trial) {
      hw::Multiset counts(gpu->profiles.size(), 0);
      for (int p : space.profiles()) counts[p] = static_cast<int>(rng.Below(trial < 20 ? 5 : 25));
      EXPECT_EQ(packer.FirstFitDecreasing(counts).Expand(), ReferenceFirstFit(space, counts))
          << name << " trial " << trial;
    }
  }
}

TEST(MigPackerTest, RejectsBadCounts) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* a100, catalog.Find("a100-80gb"));
  ASSERT_OK_AND_ASSIGN(hw::LayoutSpace space, hw::LayoutSpace::Create(*a100, {"1g.10gb"}));
  MigPacker packer(space);
  EXPECT_THAT(packer.Pack({1, 2}).status(),
              ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("instance counts")));
  hw::Multiset counts(a100->profiles.size(), 0);
  counts[a100->ProfileIndex("1g.10gb")] = -1;
  EXPECT_THAT(packer.Pack(counts).status(),
              ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("negative")));
  counts[a100->ProfileIndex("1g.10gb")] = 0;
  counts[a100->ProfileIndex("7g.80gb")] = 1;
  EXPECT_THAT(packer.Pack(counts).status(),
              ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("not among")));
}

}  // namespace
}  // namespace tessera::planners
