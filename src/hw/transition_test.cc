#include "tessera/hw/transition.h"

#include <deque>
#include <map>
#include <random>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::hw {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using Kind = TransitionStep::Kind;

const GpuModel& Model(std::string_view name) {
  static const Catalog* catalog = new Catalog(LoadDefaultCatalog().value());
  return *catalog->Find(name).value();
}

Placement At(const GpuModel& gpu, std::string_view profile, int start) {
  int index = gpu.ProfileIndex(profile);
  EXPECT_GE(index, 0) << profile;
  return {index, start};
}

PlacedLayout Layout(std::vector<Placement> instances) {
  PlacedLayout layout;
  for (const Placement& p : instances) layout.Add(p);
  return layout;
}

// Replays `plan` and checks every guarantee of the header except minimality.
void ExpectValid(const GpuModel& gpu, const TransitionPlan& plan,
                 const std::vector<Placement>& busy) {
  PlacedLayout layout = plan.current;
  std::vector<Placement> drained;
  int ops = 0;
  for (const TransitionStep& step : plan.steps) {
    const Placement& p = step.instance;
    bool survivor = std::count(plan.current.instances.begin(), plan.current.instances.end(), p) &&
                    std::count(plan.target.instances.begin(), plan.target.instances.end(), p);
    ASSERT_FALSE(survivor) << "a surviving instance was touched";
    bool present = std::count(layout.instances.begin(), layout.instances.end(), p) > 0;
    switch (step.kind) {
      case Kind::kDrain:
        ASSERT_TRUE(present);
        ASSERT_TRUE(std::count(busy.begin(), busy.end(), p)) << "drained an idle instance";
        drained.push_back(p);
        break;
      case Kind::kDestroy:
        ASSERT_TRUE(present);
        ASSERT_TRUE(!std::count(busy.begin(), busy.end(), p) ||
                    std::count(drained.begin(), drained.end(), p))
            << "destroyed a busy instance before draining it";
        layout.instances.erase(std::find(layout.instances.begin(), layout.instances.end(), p));
        ++ops;
        break;
      case Kind::kCreate:
        ASSERT_TRUE(CanPlace(gpu, layout, p.profile, p.start));
        layout.Add(p);
        ++ops;
        break;
    }
    ASSERT_OK(CheckLayout(gpu, layout));
  }
  EXPECT_EQ(layout, plan.target);
  EXPECT_EQ(ops, plan.operations());
}

// An independent brute force: every placed layout reachable from the empty one by creates, with
// edges "destroy one instance" and "create one instance at a legal start".
class BruteForce {
 public:
  explicit BruteForce(const GpuModel& gpu) : gpu_(gpu) {
    Index(PlacedLayout());
    for (size_t i = 0; i < nodes_.size(); ++i) {
      PlacedLayout layout = nodes_[i];
      for (size_t k = 0; k < layout.instances.size(); ++k) {
        PlacedLayout smaller = layout;
        smaller.instances.erase(smaller.instances.begin() + k);
        int next = Index(smaller);
        edges_[i].push_back(next);
      }
      for (int profile = 0; profile < static_cast<int>(gpu.profiles.size()); ++profile) {
        for (int start = 0; start < gpu.memory_slices; ++start) {
          if (!CanPlace(gpu, layout, profile, start)) continue;
          PlacedLayout larger = layout;
          larger.Add({profile, start});
          int next = Index(larger);
          edges_[i].push_back(next);
        }
      }
    }
  }
  const std::vector<PlacedLayout>& nodes() const { return nodes_; }

  // Fewest destroy + create operations from `from` to a layout accepted by `goal`.
  template <typename Goal>
  int Distance(const PlacedLayout& from, Goal goal) const {
    std::vector<int> dist(nodes_.size(), -1);
    std::deque<int> queue{ids_.at(from)};
    dist[queue.front()] = 0;
    while (!queue.empty()) {
      int at = queue.front();
      queue.pop_front();
      if (goal(nodes_[at])) return dist[at];
      for (int next : edges_[at]) {
        if (dist[next] < 0) dist[next] = dist[at] + 1, queue.push_back(next);
      }
    }
    return -1;
  }

 private:
  int Index(const PlacedLayout& layout) {
    auto [it, added] = ids_.emplace(layout, static_cast<int>(nodes_.size()));
    if (added) nodes_.push_back(layout), edges_.emplace_back();
    return it->second;
  }
  const GpuModel& gpu_;
  std::map<PlacedLayout, int> ids_;
  std::vector<PlacedLayout> nodes_;
  std::vector<std::vector<int>> edges_;
};

std::vector<Placement> RandomBusy(const PlacedLayout& layout, std::mt19937& rng) {
  std::vector<Placement> busy;
  for (const Placement& p : layout.instances) {
    if (rng() % 2) busy.push_back(p);
  }
  return busy;
}

class TransitionGateTest : public ::testing::TestWithParam<std::string> {};

// Gate: the planner's operation count equals the brute-force BFS on hundreds of seeded cases, for
// placed targets and multiset targets, and every plan is valid.
TEST_P(TransitionGateTest, OperationCountEqualsExhaustiveSearch) {
  const GpuModel& gpu = Model(GetParam());
  BruteForce brute(gpu);
  const std::vector<PlacedLayout>& all = brute.nodes();
  ASSERT_GT(all.size(), 700u);
  std::mt19937 rng(20261122);
  int cases = 0;
  for (int i = 0; i < 1000; ++i) {
    const PlacedLayout& current = all[rng() % all.size()];
    const PlacedLayout& target = all[rng() % all.size()];
    std::vector<Placement> busy = RandomBusy(current, rng);
    SCOPED_TRACE(
        fmt::format("case {}: {} -> {}", i, DrawLayout(gpu, current), DrawLayout(gpu, target)));
    ASSERT_OK_AND_ASSIGN(TransitionPlan placed, PlanTransition(gpu, current, target, busy));
    ExpectValid(gpu, placed, busy);
    EXPECT_EQ(placed.target, target);
    EXPECT_EQ(placed.operations(),
              brute.Distance(current, [&](const PlacedLayout& l) { return l == target; }));
    Multiset multiset = MultisetOf(gpu, target);
    ASSERT_OK_AND_ASSIGN(TransitionPlan any,
                         PlanTransitionToMultiset(gpu, current, multiset, busy));
    ExpectValid(gpu, any, busy);
    EXPECT_EQ(MultisetOf(gpu, any.target), multiset);
    EXPECT_EQ(any.operations(), brute.Distance(current, [&](const PlacedLayout& l) {
      return MultisetOf(gpu, l) == multiset;
    }));
    cases += 2;
  }
  EXPECT_EQ(cases, 2000);
  RecordProperty("layouts", static_cast<int>(all.size()));
}

INSTANTIATE_TEST_SUITE_P(Gpus, TransitionGateTest,
                         ::testing::Values("A100-SXM4-80GB", "H100-SXM5-80GB"));

TEST(TransitionTest, KeepsSurvivorsAndDrainsBusyBeforeDestroy) {
  const GpuModel& gpu = Model("h100");
  PlacedLayout current = Layout({At(gpu, "3g.40gb", 0), At(gpu, "3g.40gb", 4)});
  PlacedLayout target =
      Layout({At(gpu, "3g.40gb", 0), At(gpu, "2g.20gb", 4), At(gpu, "1g.10gb", 6)});
  ASSERT_OK_AND_ASSIGN(TransitionPlan plan,
                       PlanTransition(gpu, current, target, {At(gpu, "3g.40gb", 4)}));
  EXPECT_EQ(plan.steps, (std::vector<TransitionStep>{{Kind::kDrain, At(gpu, "3g.40gb", 4)},
                                                     {Kind::kDestroy, At(gpu, "3g.40gb", 4)},
                                                     {Kind::kCreate, At(gpu, "2g.20gb", 4)},
                                                     {Kind::kCreate, At(gpu, "1g.10gb", 6)}}));
  EXPECT_EQ(plan.DebugString(gpu),
            "drain 3g.40gb@4\ndestroy 3g.40gb@4\ncreate 2g.20gb@4\ncreate 1g.10gb@6\n");
}

TEST(TransitionTest, CreatesBeforeDestroyingWhenThereIsRoom) {
  const GpuModel& gpu = Model("h100");
  PlacedLayout current = Layout({At(gpu, "1g.10gb", 0)});
  PlacedLayout target = Layout({At(gpu, "3g.40gb", 4)});
  ASSERT_OK_AND_ASSIGN(TransitionPlan plan, PlanTransition(gpu, current, target, {}));
  EXPECT_EQ(plan.steps, (std::vector<TransitionStep>{{Kind::kCreate, At(gpu, "3g.40gb", 4)},
                                                     {Kind::kDestroy, At(gpu, "1g.10gb", 0)}}));
}

TEST(TransitionTest, MultisetTargetKeepsTheInstancesThatAlreadyFit) {
  const GpuModel& gpu = Model("h100");
  PlacedLayout current = Layout({At(gpu, "1g.10gb", 3), At(gpu, "3g.40gb", 4)});
  Multiset target(gpu.profiles.size(), 0);
  target[gpu.ProfileIndex("3g.40gb")] = 1;
  target[gpu.ProfileIndex("1g.10gb")] = 2;
  ASSERT_OK_AND_ASSIGN(TransitionPlan plan, PlanTransitionToMultiset(gpu, current, target, {}));
  EXPECT_EQ(plan.operations(), 1);
  EXPECT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].kind, Kind::kCreate);
}

TEST(TransitionTest, NoChangeIsEmpty) {
  const GpuModel& gpu = Model("h100");
  PlacedLayout current = Layout({At(gpu, "7g.80gb", 0)});
  ASSERT_OK_AND_ASSIGN(TransitionPlan plan,
                       PlanTransition(gpu, current, current, {At(gpu, "7g.80gb", 0)}));
  EXPECT_TRUE(plan.steps.empty());
  EXPECT_EQ(plan.DebugString(gpu), "no change\n");
}

TEST(TransitionTest, RejectsIllegalInput) {
  const GpuModel& gpu = Model("h100");
  PlacedLayout overlapping = Layout({At(gpu, "4g.40gb", 0), At(gpu, "3g.40gb", 0)});
  PlacedLayout empty;
  EXPECT_THAT(PlanTransition(gpu, overlapping, empty, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("current layout")));
  EXPECT_THAT(PlanTransition(gpu, empty, overlapping, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target layout")));
  EXPECT_THAT(PlanTransition(gpu, empty, empty, {At(gpu, "1g.10gb", 0)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("busy instance 1g.10gb@0")));
  Multiset too_many(gpu.profiles.size(), 0);
  too_many[gpu.ProfileIndex("4g.40gb")] = 2;
  EXPECT_THAT(PlanTransitionToMultiset(gpu, empty, too_many, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no legal placement")));
  EXPECT_THAT(PlanTransitionToMultiset(gpu, empty, Multiset{1}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one count per profile")));
}

TEST(TransitionTest, AllPlacementsOfEnumeratesEachLayoutOnce) {
  const GpuModel& gpu = Model("h100");
  Multiset two(gpu.profiles.size(), 0);
  two[gpu.ProfileIndex("1g.10gb")] = 2;
  // Two 1g.10gb instances at two of the seven starts: C(7, 2) = 21.
  EXPECT_EQ(AllPlacementsOf(gpu, two).size(), 21u);
}

}  // namespace
}  // namespace tessera::hw
