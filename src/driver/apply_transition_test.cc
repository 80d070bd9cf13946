#include "tessera/driver/apply_transition.h"

#include <map>
#include <random>
#include <set>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/driver/fake_driver.h"
#include "tessera/driver/fault_injecting_driver.h"

namespace tessera::driver {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using Kind = hw::TransitionStep::Kind;

FakeDriver::GpuOptions MigOn() {
  FakeDriver::GpuOptions options;
  options.mig_enabled = true;
  return options;
}

const hw::GpuModel& Model(std::string_view name) {
  static const hw::Catalog* catalog = new hw::Catalog(hw::LoadDefaultCatalog().value());
  return *catalog->Find(name).value();
}

hw::Placement At(const hw::GpuModel& gpu, std::string_view profile, int start) {
  return {gpu.ProfileIndex(profile), start};
}

// Creates `layout` on a new MIG-enabled fake GPU; returns the instance ids by placement.
std::map<hw::Placement, int> Populate(FakeDriver& fake, const hw::GpuModel& model,
                                      const hw::PlacedLayout& layout) {
  int gpu = fake.AddGpu(model, MigOn());
  std::map<hw::Placement, int> ids;
  for (const hw::Placement& p : layout.instances) {
    ids[p] = fake.CreateGpuInstance(gpu, model.profiles[p.profile].name, p.start).value();
  }
  return ids;
}

// The placements of the fake's busy instances.
std::vector<hw::Placement> BusyOf(FakeDriver& fake, const hw::GpuModel& model) {
  std::vector<hw::Placement> busy;
  std::vector<GpuInstanceInfo> instances = fake.GetGpuInstances(0).value();
  for (const GpuInstanceInfo& i : instances) {
    if (fake.IsBusy(0, i.id).value()) busy.push_back(At(model, i.profile_name, i.placement.start));
  }
  return busy;
}

TEST(ApplyTransitionTest, DrainsReroutesAndReachesTheTarget) {
  const hw::GpuModel& model = Model("h100");
  hw::PlacedLayout current;
  current.Add(At(model, "3g.40gb", 0));
  current.Add(At(model, "3g.40gb", 4));
  FakeDriver fake;
  std::map<hw::Placement, int> ids = Populate(fake, model, current);
  for (const auto& [p, id] : ids) ASSERT_OK(fake.SetBusy(0, id, true));
  hw::Multiset want(model.profiles.size(), 0);
  want[model.ProfileIndex("3g.40gb")] = 1;
  want[model.ProfileIndex("2g.20gb")] = 1;
  want[model.ProfileIndex("1g.10gb")] = 1;
  ASSERT_OK_AND_ASSIGN(hw::TransitionPlan plan,
                       hw::PlanTransitionToMultiset(model, current, want, BusyOf(fake, model)));
  std::vector<int> rerouted;
  RerouteFn reroute = [&](int gpu, const GpuInstanceInfo& instance) {
    rerouted.push_back(instance.id);
    return fake.SetBusy(gpu, instance.id, false);
  };
  ApplyResult result = ApplyTransition(fake, 0, model, plan, reroute);
  ASSERT_OK(result.status);
  EXPECT_EQ(result.steps_done, static_cast<int>(plan.steps.size()));
  EXPECT_EQ(result.state, plan.target);
  // Both instances are busy and either could stay: one is drained and destroyed, the other stays
  // untouched (same id, still serving).
  EXPECT_EQ(plan.operations(), 3);
  ASSERT_EQ(rerouted.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> real, fake.GetGpuInstances(0));
  auto survivor = std::find_if(real.begin(), real.end(), [](const GpuInstanceInfo& i) {
    return i.profile_name == "3g.40gb";
  });
  ASSERT_NE(survivor, real.end());
  EXPECT_NE(survivor->id, rerouted[0]);
  EXPECT_TRUE(survivor->id == ids.begin()->second || survivor->id == ids.rbegin()->second);
  EXPECT_THAT(fake.IsBusy(0, survivor->id), ::tessera::testing::IsOkAndHolds(true));
}

TEST(ApplyTransitionTest, StopsWhenABusyInstanceWasNotDrained) {
  const hw::GpuModel& model = Model("h100");
  hw::PlacedLayout current;
  current.Add(At(model, "7g.80gb", 0));
  FakeDriver fake;
  std::map<hw::Placement, int> ids = Populate(fake, model, current);
  ASSERT_OK(fake.SetBusy(0, ids.begin()->second, true));
  hw::PlacedLayout target;
  target.Add(At(model, "4g.40gb", 0));
  // The planner is told nothing is busy, so it plans no drain; the driver refuses the destroy.
  ASSERT_OK_AND_ASSIGN(hw::TransitionPlan plan, hw::PlanTransition(model, current, target, {}));
  ApplyResult result = ApplyTransition(fake, 0, model, plan, nullptr);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("step 1 (destroy 7g.80gb@0)")));
  EXPECT_EQ(result.steps_done, 0);
  EXPECT_EQ(result.state, current);
}

TEST(ApplyTransitionTest, RefusesAPlanForAnotherLayout) {
  const hw::GpuModel& model = Model("h100");
  FakeDriver fake;
  Populate(fake, model, {});
  hw::PlacedLayout other;
  other.Add(At(model, "7g.80gb", 0));
  ASSERT_OK_AND_ASSIGN(hw::TransitionPlan plan, hw::PlanTransition(model, other, {}, {}));
  ApplyResult result = ApplyTransition(fake, 0, model, plan, nullptr);
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("re-plan")));
  EXPECT_EQ(result.steps_done, 0);
}

TEST(ApplyTransitionTest, ToPlacedLayoutNamesAnUnknownProfile) {
  const hw::GpuModel& model = Model("h100");
  GpuInstanceInfo stranger;
  stranger.id = 3;
  stranger.profile_id = 999;
  stranger.placement = {0, 8};
  EXPECT_THAT(ToPlacedLayout(model, {stranger}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GPU instance 3")));
}

struct FaultStats {
  int transitions = 0, attempts = 0, injected = 0, performed = 0, reroute_failures = 0;
  int unknown_states = 0;
};

// One random transition under injected faults, retried until it reaches its target. Checks after
// every attempt that the reported state is the fake's real state, that no instance kept by the
// target was ever destroyed (its id is unchanged) and that nothing outside current ∪ target exists;
// and that every destroyed busy instance was rerouted first.
void RunFaultCase(const hw::LayoutSpace& space, uint64_t seed, FaultStats& stats) {
  const hw::GpuModel& model = space.gpu();
  std::mt19937_64 rng(seed);
  const std::vector<hw::PlacedLayout>& layouts = space.PlacedLayouts();
  hw::PlacedLayout current = rng() % 8 ? layouts[rng() % layouts.size()] : hw::PlacedLayout();
  hw::Multiset want = rng() % 8 ? space.Multisets()[rng() % space.Multisets().size()]
                                : hw::Multiset(model.profiles.size(), 0);
  FakeDriver fake;
  std::map<hw::Placement, int> ids = Populate(fake, model, current);
  std::set<int> busy_ids;
  for (const auto& [p, id] : ids) {
    if (rng() % 2 == 0) continue;
    ASSERT_OK(fake.SetBusy(0, id, true));
    busy_ids.insert(id);
  }
  FaultInjectingDriver::Options options;
  options.seed = seed;
  options.read_failure_probability = 0.15;
  options.write_failure_probability = 0.25;
  options.perform_then_fail_probability = 0.5;
  FaultInjectingDriver faulty(&fake, options);
  std::set<int> rerouted;
  RerouteFn reroute = [&](int gpu, const GpuInstanceInfo& instance) -> absl::Status {
    if (rng() % 10 == 0) {
      ++stats.reroute_failures;
      return absl::UnavailableError("reroute failed");
    }
    rerouted.insert(instance.id);
    return fake.SetBusy(gpu, instance.id, false);
  };
  ASSERT_OK_AND_ASSIGN(hw::TransitionPlan first,
                       hw::PlanTransitionToMultiset(model, current, want, BusyOf(fake, model)));
  const hw::PlacedLayout target = first.target;
  std::optional<hw::PlacedLayout> state = current;
  ++stats.transitions;
  for (int attempt = 0;; ++attempt) {
    ASSERT_LT(attempt, 200) << "no progress";
    if (!state) {  // the last re-read failed: read again, as a controller would
      absl::StatusOr<hw::PlacedLayout> read = ReadPlacedLayout(faulty, 0, model);
      if (read.ok()) state = *read;
      continue;
    }
    ASSERT_OK_AND_ASSIGN(hw::TransitionPlan plan,
                         hw::PlanTransition(model, *state, target, BusyOf(fake, model)));
    ++stats.attempts;
    ApplyResult result = ApplyTransition(faulty, 0, model, plan, reroute);
    ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> real, fake.GetGpuInstances(0));
    ASSERT_OK_AND_ASSIGN(hw::PlacedLayout real_layout, ToPlacedLayout(model, real));
    if (result.state) {
      ASSERT_EQ(*result.state, real_layout) << "reported state differs from the GPU's";
      ASSERT_EQ(*result.instances, real);
    } else {
      ++stats.unknown_states;
    }
    for (const GpuInstanceInfo& i : real) {
      hw::Placement p = At(model, i.profile_name, i.placement.start);
      bool original = ids.contains(p) && ids.at(p) == i.id;
      bool wanted = std::count(target.instances.begin(), target.instances.end(), p) > 0;
      ASSERT_TRUE(original || wanted) << "leaked instance " << i.id;
    }
    for (const hw::Placement& p : target.instances) {
      if (!ids.contains(p)) continue;
      bool kept = std::any_of(real.begin(), real.end(),
                              [&](const GpuInstanceInfo& i) { return i.id == ids.at(p); });
      ASSERT_TRUE(kept) << "lost surviving instance " << ids.at(p);
    }
    for (int id : busy_ids) {
      bool exists = std::any_of(real.begin(), real.end(),
                                [&](const GpuInstanceInfo& i) { return i.id == id; });
      ASSERT_TRUE(exists || rerouted.contains(id)) << "busy instance destroyed without reroute";
    }
    state = result.state;
    if (result.status.ok()) {
      ASSERT_EQ(real_layout, target);
      break;
    }
  }
  stats.injected += faulty.injected_failures();
  stats.performed += faulty.performed_failures();
}

// Gate: thousands of random transitions with random driver failures, on the A100 80GB and H100.
TEST(ApplyTransitionFaultTest, NoInstanceLostOrLeakedAndStateAlwaysTrue) {
  FaultStats stats;
  for (std::string_view name : {"A100-SXM4-80GB", "H100-SXM5-80GB"}) {
    const hw::GpuModel& model = Model(name);
    std::vector<std::string> profiles;
    for (const hw::MigProfile& p : model.profiles) profiles.push_back(p.name);
    ASSERT_OK_AND_ASSIGN(hw::LayoutSpace space, hw::LayoutSpace::Create(model, profiles));
    for (uint64_t seed = 1; seed <= 1500; ++seed) {
      SCOPED_TRACE(fmt::format("{} seed {}", name, seed));
      RunFaultCase(space, seed, stats);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  fmt::print(
      "{} transitions, {} apply attempts, {} injected driver failures ({} performed then "
      "reported failed), {} reroute failures, {} unknown states after a failed re-read\n",
      stats.transitions, stats.attempts, stats.injected, stats.performed, stats.reroute_failures,
      stats.unknown_states);
  EXPECT_EQ(stats.transitions, 3000);
  EXPECT_GT(stats.injected, 3000);
}

}  // namespace
}  // namespace tessera::driver
