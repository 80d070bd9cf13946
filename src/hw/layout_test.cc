#include "tessera/hw/layout.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::hw {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

MigProfile Profile(std::string name, int g, int size, int max, std::vector<int> starts) {
  MigProfile p;
  p.name = std::move(name);
  p.compute_slices = g;
  p.memory_slices = size;
  p.max_count = max;
  p.starts = std::move(starts);
  return p;
}

// The H100 SXM5 geometry of mig-facts.md, built in code so these tests pin the algorithm; the
// bundled catalog files are checked against the same counts in BundledCatalogTest below.
GpuModel H100() {
  GpuModel gpu;
  gpu.name = "H100-SXM5-80GB";
  gpu.compute_slices = 7;
  gpu.memory_slices = 8;
  gpu.profiles = {Profile("1g.10gb", 1, 1, 7, {0, 1, 2, 3, 4, 5, 6}),
                  Profile("1g.10gb+me", 1, 1, 1, {0, 1, 2, 3, 4, 5, 6}),
                  Profile("1g.20gb", 1, 2, 4, {0, 2, 4, 6}),
                  Profile("2g.20gb", 2, 2, 3, {0, 2, 4}),
                  Profile("3g.40gb", 3, 4, 2, {0, 4}),
                  Profile("4g.40gb", 4, 4, 1, {0}),
                  Profile("7g.80gb", 7, 8, 1, {0})};
  return gpu;
}

GpuModel A30() {
  GpuModel gpu;
  gpu.name = "A30-24GB";
  gpu.compute_slices = 4;
  gpu.memory_slices = 4;
  gpu.profiles = {Profile("1g.6gb", 1, 1, 4, {0, 1, 2, 3}),
                  Profile("1g.6gb+me", 1, 1, 1, {0, 1, 2, 3}), Profile("2g.12gb", 2, 2, 2, {0, 2}),
                  Profile("2g.12gb+me", 2, 2, 1, {0, 2}), Profile("4g.24gb", 4, 4, 1, {0})};
  return gpu;
}

struct Counts {
  size_t multisets, maximal, layouts, stuck;
  bool operator==(const Counts&) const = default;
};

Counts CountsOf(const LayoutSpace& space) {
  Counts c{space.Multisets().size(), 0, space.PlacedLayouts().size(), 0};
  for (const Multiset& m : space.Multisets()) c.maximal += space.IsMaximal(m);
  for (const PlacedLayout& l : space.PlacedLayouts()) c.stuck += space.IsStuck(l);
  return c;
}

void PrintTo(const Counts& c, std::ostream* os) {
  *os << c.multisets << " multisets, " << c.maximal << " maximal, " << c.layouts << " layouts, "
      << c.stuck << " stuck";
}

TEST(LayoutSpaceTest, BaseProfilesMatchPublishedCounts) {
  GpuModel gpu = H100();
  ASSERT_OK_AND_ASSIGN(LayoutSpace space, LayoutSpace::Create(gpu, {"1g.10gb", "2g.20gb", "3g.40gb",
                                                                    "4g.40gb", "7g.80gb"}));
  EXPECT_EQ(CountsOf(space), (Counts{37, 12, 297, 19}));
}

TEST(LayoutSpaceTest, DoubleMemoryProfileMatchesPublishedCounts) {
  GpuModel gpu = H100();
  LayoutSpace space = LayoutSpace::WithoutMediaExtensions(gpu);
  EXPECT_EQ(space.profiles().size(), 6u);
  EXPECT_EQ(CountsOf(space), (Counts{77, 28, 722, 78}));
}

TEST(LayoutSpaceTest, A30MatchesPublishedCounts) {
  GpuModel gpu = A30();
  ASSERT_OK_AND_ASSIGN(LayoutSpace space,
                       LayoutSpace::Create(gpu, {"1g.6gb", "2g.12gb", "4g.24gb"}));
  EXPECT_EQ(CountsOf(space), (Counts{9, 4, 25, 5}));
}

// Every bundled 7-slice GPU model has the A100/H100 geometry; the A30 has its own.
TEST(BundledCatalogTest, EveryModelHasThePublishedCounts) {
  ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadDefaultCatalog());
  ASSERT_EQ(catalog.gpus().size(), 7u);
  for (const GpuModel& gpu : catalog.gpus()) {
    SCOPED_TRACE(gpu.name);
    LayoutSpace all = LayoutSpace::WithoutMediaExtensions(gpu);
    std::vector<std::string> base;
    for (int p : all.profiles()) {
      // The base profiles: one per compute size, the smallest memory for it.
      const MigProfile& profile = gpu.profiles[p];
      bool smaller_sibling = false;
      for (int q : all.profiles()) {
        smaller_sibling |= gpu.profiles[q].compute_slices == profile.compute_slices &&
                           gpu.profiles[q].memory_slices < profile.memory_slices;
      }
      if (!smaller_sibling) base.push_back(profile.name);
    }
    ASSERT_OK_AND_ASSIGN(LayoutSpace base_space, LayoutSpace::Create(gpu, base));
    if (gpu.compute_slices == 4) {
      EXPECT_EQ(CountsOf(base_space), (Counts{9, 4, 25, 5}));
      continue;
    }
    EXPECT_EQ(CountsOf(base_space), (Counts{37, 12, 297, 19}));
    EXPECT_EQ(CountsOf(all), (Counts{77, 28, 722, 78}));
  }
}

TEST(LayoutSpaceTest, UnknownProfileIsAnError) {
  GpuModel gpu = H100();
  EXPECT_THAT(LayoutSpace::Create(gpu, {"5g.50gb"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("H100-SXM5-80GB has no MIG profile '5g.50gb'")));
}

PlacedLayout Layout(const GpuModel& gpu, std::vector<std::pair<std::string, int>> instances) {
  PlacedLayout layout;
  for (const auto& [name, start] : instances) layout.Add({gpu.ProfileIndex(name), start});
  return layout;
}

TEST(LayoutTest, FragmentationExampleIsStuckButFitsAfterReplacing) {
  GpuModel gpu = H100();
  ASSERT_OK_AND_ASSIGN(LayoutSpace space, LayoutSpace::Create(gpu, {"1g.10gb", "2g.20gb", "3g.40gb",
                                                                    "4g.40gb", "7g.80gb"}));
  PlacedLayout layout = Layout(gpu, {{"3g.40gb", 0}, {"2g.20gb", 4}, {"1g.10gb", 6}});
  EXPECT_OK(CheckLayout(gpu, layout));
  EXPECT_TRUE(space.IsStuck(layout));
  int one_g = gpu.ProfileIndex("1g.10gb");
  EXPECT_FALSE(FitsNow(gpu, layout, one_g));
  EXPECT_TRUE(FitsAfterReplacing(gpu, layout, one_g));
  EXPECT_EQ(DrawLayout(gpu, layout), "[3g.40gb....][2g.20gb..][1g.10gb.][ ]");
  Multiset m = MultisetOf(gpu, layout);
  ++m[one_g];
  EXPECT_EQ(DescribeMultiset(gpu, m), "3g.40gb + 2g.20gb + 2x1g.10gb");
  std::optional<PlacedLayout> placed = PlaceMultiset(gpu, m);
  ASSERT_TRUE(placed.has_value());
  EXPECT_OK(CheckLayout(gpu, *placed));
  EXPECT_EQ(MultisetOf(gpu, *placed), m);
}

TEST(LayoutTest, CheckLayoutExplainsEachViolation) {
  GpuModel gpu = H100();
  EXPECT_THAT(CheckLayout(gpu, Layout(gpu, {{"4g.40gb", 4}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("4g.40gb at start 4: start not allowed; 4g.40gb may start at 0")));
  EXPECT_THAT(CheckLayout(gpu, Layout(gpu, {{"3g.40gb", 0}, {"2g.20gb", 2}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps")));
  EXPECT_THAT(CheckLayout(gpu, Layout(gpu, {{"1g.10gb+me", 0}, {"1g.10gb+me", 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 1 instances")));
  EXPECT_THAT(CheckLayout(gpu, Layout(gpu, {{"4g.40gb", 0}, {"3g.40gb", 4}, {"1g.10gb", 6}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AnyOf(HasSubstr("overlaps"), HasSubstr("compute"))));
  EXPECT_OK(CheckLayout(gpu, PlacedLayout()));
}

TEST(LayoutTest, ComputeSlicesLimitIsEnforced) {
  GpuModel gpu = H100();
  // Seven 1g plus a 1g.20gb would need 8 compute slices; memory alone would not stop it.
  gpu.profiles[0].starts = {0, 1, 2, 3, 4, 5, 6, 7};
  PlacedLayout layout;
  for (int s = 0; s < 7; ++s) layout.Add({0, s});
  EXPECT_OK(CheckLayout(gpu, layout));
  EXPECT_FALSE(CanPlace(gpu, layout, 0, 7));
}

TEST(LayoutTest, FreeStartsListsWhereAProfileFitsNow) {
  GpuModel gpu = H100();
  PlacedLayout layout = Layout(gpu, {{"1g.10gb", 6}});
  EXPECT_THAT(FreeStarts(gpu, layout, gpu.ProfileIndex("2g.20gb")), ElementsAre(0, 2, 4));
  EXPECT_THAT(FreeStarts(gpu, layout, gpu.ProfileIndex("3g.40gb")), ElementsAre(0));
  EXPECT_THAT(FreeStarts(gpu, layout, gpu.ProfileIndex("7g.80gb")), ElementsAre());
}

TEST(ChooseStartTest, KeepsRoomForLargeProfiles) {
  GpuModel gpu = H100();
  LayoutSpace space = LayoutSpace::WithoutMediaExtensions(gpu);
  int one_g = gpu.ProfileIndex("1g.10gb");
  int three_g = gpu.ProfileIndex("3g.40gb");
  // A 3g goes to the upper half so that a 4g (start 0 only) still fits beside it.
  EXPECT_EQ(ChooseStart(space, PlacedLayout(), three_g), 4);
  // The fragmentation example of mig-facts.md: placing 3g, 2g, 1g, 1g one at a time in that order
  // never gets stuck (3g@0 + 2g@4 + 1g@6 would).
  PlacedLayout layout;
  for (const char* name : {"3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"}) {
    int p = gpu.ProfileIndex(name);
    std::optional<int> start = ChooseStart(space, layout, p);
    ASSERT_TRUE(start.has_value()) << name << " after " << DrawLayout(gpu, layout);
    layout.Add({p, *start});
  }
  EXPECT_THAT(DrawLayout(gpu, layout), ::testing::EndsWith("[3g.40gb....]"));
  EXPECT_OK(CheckLayout(gpu, layout));
  // A lone 1g never lands on the lower half, which the large profiles need.
  std::optional<int> lone = ChooseStart(space, PlacedLayout(), one_g);
  ASSERT_TRUE(lone.has_value());
  EXPECT_GE(*lone, 4);
  // Nothing fits into a full GPU.
  EXPECT_EQ(ChooseStart(space, Layout(gpu, {{"7g.80gb", 0}}), one_g), std::nullopt);
}

TEST(ChooseStartTest, GreedyPlacementNeverGetsStuckEarlyOnMaximalMultisets) {
  // Placing the instances of every maximal multiset one by one (largest first) with ChooseStart
  // always succeeds: the fragmentation-aware choice never paints itself into a corner.
  GpuModel gpu = H100();
  LayoutSpace space = LayoutSpace::WithoutMediaExtensions(gpu);
  for (const Multiset& m : space.Multisets()) {
    if (!space.IsMaximal(m)) continue;
    std::vector<int> pending;
    for (int p : space.profiles()) pending.insert(pending.end(), m[p], p);
    std::stable_sort(pending.begin(), pending.end(), [&](int a, int b) {
      return gpu.profiles[a].memory_slices > gpu.profiles[b].memory_slices;
    });
    PlacedLayout layout;
    for (int p : pending) {
      std::optional<int> start = ChooseStart(space, layout, p);
      ASSERT_TRUE(start.has_value())
          << DescribeMultiset(gpu, m) << " stuck at " << DrawLayout(gpu, layout);
      layout.Add({p, *start});
    }
    EXPECT_OK(CheckLayout(gpu, layout));
  }
}

}  // namespace
}  // namespace tessera::hw
