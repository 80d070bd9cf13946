#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "internal/migrator_program.h"
#include "tessera/adapt/policy.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"
#include "tessera/base/status_matchers.h"
#include "testing/a100_test_base.h"

namespace tessera::adapt {
namespace {

using internal::GpuDecision;
using internal::kRoles;
using internal::WindowProgram;

const char* const kModels[] = {"resnet50",     "densenet121", "mobilenet_v2",
                               "inception_v3", "vgg16",       "resnet101"};

class MigratorTest : public testing::A100TestBase {
 protected:
  void SetUp() override {
    testing::A100TestBase::SetUp();
    if (HasFatalFailure()) return;
  }

  // `tenants` tenants serving kModels in order. With `retraining` empty, pure serving; otherwise
  // every tenant retrains every 120 s, and RandomObservation gives work left only to those listed.
  void Setup(int tenants, const std::vector<int>& retraining, int gpus,
             const std::vector<std::string>& profile_names = {}) {
    workload_ = {};
    retraining_ = retraining;
    for (int t = 0; t < tenants; ++t) {
      workload_.models.push_back({kModels[t], 100, {.fixed = 224}, {.rate_rps = 100}});
      if (retraining.empty()) continue;
      workload_.tenants.push_back({.name = fmt::format("t{}", t),
                                   .model = kModels[t],
                                   .retraining_window_s = 120,
                                   .retraining_samples = 20000,
                                   .initial_accuracy = 0.8,
                                   .drift_per_window = 0.05,
                                   .accuracy_after_retraining = 0.9});
    }
    if (profile_names.empty()) {
      space_ = std::make_unique<hw::LayoutSpace>(hw::LayoutSpace::WithoutMediaExtensions(*gpu_));
    } else {
      ASSERT_OK_AND_ASSIGN(hw::LayoutSpace space, hw::LayoutSpace::Create(*gpu_, profile_names));
      space_ = std::make_unique<hw::LayoutSpace>(std::move(space));
    }
    ASSERT_OK_AND_ASSIGN(PerfBook book,
                         PerfBook::Build(*gpu_, *space_, profiles_, workload_, startup_));
    book_ = std::make_unique<PerfBook>(std::move(book));
    ASSERT_EQ(book_->tenant_count(), tenants);
    context_ = PolicyContext();
    context_.catalog = &catalog_;
    context_.gpu = gpu_;
    context_.space = space_.get();
    context_.profiles = &profiles_;
    context_.workload = &workload_;
    context_.registry = &registry_;
    context_.book = book_.get();
    context_.gpus = gpus;
  }

  // Random tenant views (at most ~1.5x what one GPU serves) and, with `with_current`, a random
  // current allocation of placeable (not always maximal) layouts and random slot owners.
  Observation RandomObservation(std::mt19937_64& rng, bool with_current) {
    std::uniform_real_distribution<double> u(0, 1);
    Observation obs;
    obs.window_s = 1;
    for (int t = 0; t < book_->tenant_count(); ++t) {
      const TenantInfo& info = book_->tenants()[t];
      TenantView v;
      v.forecast_rps = u(rng) < 0.15 ? 0 : 1500 * u(rng);
      v.observed_rps = v.ewma_rps = v.forecast_rps;
      v.deviation_rps = u(rng) < 0.5 ? 0 : 300 * u(rng);
      v.backlog = u(rng) < 0.5 ? 0 : 300 * u(rng);
      v.accuracy = 0.6 + 0.3 * u(rng);
      v.retrains = info.retrains;
      bool listed = std::find(retraining_.begin(), retraining_.end(), t) != retraining_.end();
      if (info.retrains) {
        v.retrain_remaining = !listed || u(rng) < 0.2 ? 0 : info.spec.retraining_samples * u(rng);
        v.retrain_window_left_s = 120 * u(rng);
      }
      obs.tenants.push_back(v);
    }
    if (with_current) {
      current_ = RandomAllocation(rng);
      obs.current = &current_;
    }
    return obs;
  }

  Allocation RandomAllocation(std::mt19937_64& rng) {
    const std::vector<hw::Multiset>& all = space_->Multisets();
    Allocation a;
    int gpus = std::uniform_int_distribution<int>(0, context_.gpus)(rng);
    for (int g = 0; g < gpus; ++g) {
      const hw::Multiset& m = all[std::uniform_int_distribution<size_t>(0, all.size() - 1)(rng)];
      GpuAllocation ga;
      for (size_t p = 0; p < m.size(); ++p) {
        for (int n = 0; n < m[p]; ++n) {
          Slot s;
          s.profile = static_cast<int>(p);
          int who = std::uniform_int_distribution<int>(-1, 2 * book_->tenant_count() - 1)(rng);
          if (who >= 0 && (who % 2 == 0 || book_->tenants()[who / 2].retrains)) {
            s.tenant = who / 2;
            s.role = who % 2 == 0 ? Role::kInference : Role::kRetraining;
          }
          ga.slots.push_back(s);
        }
      }
      a.gpus.push_back(ga);
    }
    return a;
  }

  absl::StatusOr<Allocation> Decide(const Observation& obs) {
    ASSIGN_OR_RETURN(std::unique_ptr<Policy> policy, MakeMigratorPolicy(context_));
    return policy->Decide(obs);
  }

  workload::Workload workload_;
  std::unique_ptr<hw::LayoutSpace> space_;
  std::unique_ptr<PerfBook> book_;
  PolicyContext context_;
  Allocation current_;
  std::vector<int> retraining_;
};

// Calls `visit` with every way of giving `count` instances to `cells` owners or idle.
void Compositions(int count, int cells, std::vector<int>& parts, int from,
                  const std::function<void()>& visit) {
  if (from == cells) {
    visit();
    return;
  }
  for (int n = 0; n <= count; ++n) {
    parts[from] = n;
    Compositions(count - n, cells, parts, from + 1, visit);
  }
  parts[from] = 0;
}

// Every decision of one GPU: each candidate layout, each split of its instances among every
// (tenant, role) and idle.
std::vector<GpuDecision> AllDecisions(const WindowProgram& program, int g) {
  std::vector<GpuDecision> out;
  const int cells = program.tenants() * kRoles;
  for (size_t l = 0; l < program.candidates(g).size(); ++l) {
    std::vector<GpuDecision> partial = {
        {static_cast<int>(l), std::vector<int>(program.profiles() * cells, 0)}};
    for (int k = 0; k < program.profiles(); ++k) {
      int count = program.candidates(g)[l][program.ProfileIndex(k)];
      std::vector<GpuDecision> next;
      std::vector<int> parts(cells, 0);
      for (const GpuDecision& d : partial) {
        Compositions(count, cells, parts, 0, [&] {
          GpuDecision e = d;
          for (int c = 0; c < cells; ++c) e.assigned[k * cells + c] = parts[c];
          next.push_back(std::move(e));
        });
      }
      partial = std::move(next);
    }
    out.insert(out.end(), partial.begin(), partial.end());
  }
  return out;
}

double BruteForce(const WindowProgram& program, int64_t* evaluated) {
  std::vector<std::vector<GpuDecision>> per_gpu;
  for (int g = 0; g < program.gpus(); ++g) per_gpu.push_back(AllDecisions(program, g));
  double best = -1e300;
  std::vector<GpuDecision> decisions(program.gpus());
  std::function<void(int)> walk = [&](int g) {
    if (g == program.gpus()) {
      best = std::max(best, program.Objective(decisions));
      ++*evaluated;
      return;
    }
    for (const GpuDecision& d : per_gpu[g]) {
      decisions[g] = d;
      walk(g + 1);
    }
  };
  walk(0);
  return best;
}

TEST_F(MigratorTest, MatchesBruteForceOnSmallCases) {
  int cases = 0;
  for (int gpus : {1, 2}) {
    Setup(2, {0}, gpus, {"1g.10gb", "3g.40gb", "7g.80gb"});
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      std::mt19937_64 rng(seed * 7919 + gpus);
      context_.costs.pre_initialize = seed % 2 == 0;
      context_.costs.mig_create_s = seed % 3 == 0 ? 5 : 0.4;
      Observation obs = RandomObservation(rng, /*with_current=*/seed != 1);
      internal::TransitionSeconds transitions;
      WindowProgram program = WindowProgram::Build(context_, obs, transitions);
      internal::SolveStats stats;
      std::optional<std::vector<GpuDecision>> solved = program.Solve(10, &stats);
      ASSERT_TRUE(solved.has_value());
      ASSERT_TRUE(stats.optimal);
      ASSERT_OK_AND_ASSIGN(Allocation allocation, Decide(obs));
      std::optional<std::vector<GpuDecision>> returned = program.DecisionOf(allocation);
      ASSERT_TRUE(returned.has_value()) << allocation.DebugString(*gpu_, *book_);
      int64_t evaluated = 0;
      double brute = BruteForce(program, &evaluated);
      EXPECT_GT(evaluated, gpus == 1 ? 100 : 10000);
      double tolerance = 1e-6 * (1 + std::abs(brute));
      EXPECT_NEAR(program.Objective(*returned), brute, tolerance)
          << "gpus " << gpus << " seed " << seed;
      EXPECT_NEAR(stats.objective, brute, tolerance);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 12);
}

TenantView Quiet(double accuracy) {
  TenantView v;
  v.accuracy = accuracy;
  return v;
}

TEST_F(MigratorTest, RetrainsWhenTheGainIsHighAndTimeIsLeft) {
  Setup(2, {0, 1}, 1);
  Observation obs;
  obs.window_s = 1;
  for (int t = 0; t < 2; ++t) {
    TenantView v = Quiet(0.5);
    v.forecast_rps = 100;
    v.retrains = true;
    v.retrain_remaining = 20000;
    v.retrain_window_left_s = 110;
    obs.tenants.push_back(v);
  }
  ASSERT_OK_AND_ASSIGN(Allocation a, Decide(obs));
  ASSERT_EQ(a.gpus.size(), 1u);
  int retraining = 0, inference = 0;
  for (const Slot& s : a.gpus[0].slots) {
    retraining += s.role == Role::kRetraining;
    inference += s.role == Role::kInference;
  }
  EXPECT_GT(retraining, 0) << a.DebugString(*gpu_, *book_);
  EXPECT_GT(inference, 0) << a.DebugString(*gpu_, *book_);
}

TEST_F(MigratorTest, RetrainingIsWorthNothingWhenItCannotFinishInTime) {
  Setup(1, {0}, 1);
  Observation obs;
  obs.window_s = 1;
  TenantView v = Quiet(0.5);
  v.forecast_rps = 100;
  v.retrains = true;
  v.retrain_remaining = 20000;
  v.retrain_window_left_s = 110;
  obs.tenants = {v};
  internal::TransitionSeconds transitions;
  const double value = WindowProgram::Build(context_, obs, transitions).SampleValue(0);
  EXPECT_GT(value, 0);
  EXPECT_LT(value, 0.4 * 100 * 110 / 20000);  // gain x forecast x time left / samples, discounted
  obs.tenants[0].retrain_window_left_s = 1;   // not even 7g.80gb retrains 20000 samples in 1 s
  EXPECT_EQ(WindowProgram::Build(context_, obs, transitions).SampleValue(0), 0);
  obs.tenants[0].retrain_window_left_s = 110;
  obs.tenants[0].accuracy = 0.95;  // above what retraining reaches
  EXPECT_EQ(WindowProgram::Build(context_, obs, transitions).SampleValue(0), 0);
}

TEST_F(MigratorTest, ATenantWithoutDemandGetsNoInference) {
  Setup(3, {}, 2);
  Observation obs;
  obs.window_s = 1;
  obs.tenants = {Quiet(0.8), Quiet(0.8), Quiet(0.8)};
  obs.tenants[0].forecast_rps = 800;
  obs.tenants[2].forecast_rps = 300;
  ASSERT_OK_AND_ASSIGN(Allocation a, Decide(obs));
  bool first = false, last = false;
  for (const GpuAllocation& g : a.gpus) {
    for (const Slot& s : g.slots) {
      EXPECT_FALSE(s.tenant == 1 && s.role != Role::kIdle) << a.DebugString(*gpu_, *book_);
      first |= s.tenant == 0;
      last |= s.tenant == 2;
    }
  }
  EXPECT_TRUE(first && last);
}

TEST_F(MigratorTest, KeepsANearlyOptimalLayoutWhenChangesAreExpensive) {
  Setup(4, {0}, 2);
  std::mt19937_64 rng(11);
  Observation obs = RandomObservation(rng, /*with_current=*/false);
  ASSERT_OK_AND_ASSIGN(Allocation first, Decide(obs));
  // Demand moves a little; each MIG operation would now take a minute.
  for (TenantView& v : obs.tenants) v.forecast_rps *= 1.2;
  obs.current = &first;
  context_.costs.mig_create_s = context_.costs.mig_destroy_s = 60;
  ASSERT_OK_AND_ASSIGN(Allocation second, Decide(obs));
  ASSERT_EQ(second.gpus.size(), first.gpus.size());
  for (size_t g = 0; g < first.gpus.size(); ++g) {
    ASSERT_EQ(second.gpus[g].slots.size(), first.gpus[g].slots.size());
    for (size_t i = 0; i < first.gpus[g].slots.size(); ++i)
      EXPECT_EQ(second.gpus[g].slots[i].profile, first.gpus[g].slots[i].profile);
  }
  // With nothing changed in the observation, nothing changes at all.
  for (TenantView& v : obs.tenants) v.forecast_rps /= 1.2;
  context_.costs = {};
  ASSERT_OK_AND_ASSIGN(Allocation again, Decide(obs));
  EXPECT_EQ(again, first) << first.DebugString(*gpu_, *book_) << again.DebugString(*gpu_, *book_);
}

TEST_F(MigratorTest, ReturnsPlaceableLayoutsOnEveryGpuDeterministically) {
  Setup(6, {0, 2, 4}, 4);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20; ++i) {
    Observation obs = RandomObservation(rng, /*with_current=*/i > 0);
    ASSERT_OK_AND_ASSIGN(Allocation a, Decide(obs));
    ASSERT_OK_AND_ASSIGN(Allocation b, Decide(obs));
    EXPECT_EQ(a, b);
    ASSERT_EQ(static_cast<int>(a.gpus.size()), context_.gpus);
    for (const GpuAllocation& g : a.gpus) {
      EXPECT_TRUE(g.mig);
      hw::Multiset m(gpu_->profiles.size(), 0);
      for (const Slot& s : g.slots) ++m[s.profile];
      EXPECT_TRUE(space_->IsPlaceable(m)) << a.DebugString(*gpu_, *book_);
      for (const Slot& s : g.slots) {
        if (s.role == Role::kInference) {
          EXPECT_EQ(s.rps, book_->InferenceRps(s.tenant, s.profile));
        }
        if (s.role == Role::kRetraining) {
          EXPECT_TRUE(book_->tenants()[s.tenant].retrains);
        }
      }
    }
  }
}

TEST_F(MigratorTest, StopsEarlyWithoutFailing) {
  Setup(6, {0, 1, 2}, 4);
  context_.ilp_time_limit_s = 1e-6;
  std::mt19937_64 rng(17);
  for (int i = 0; i < 5; ++i) {
    Observation obs = RandomObservation(rng, /*with_current=*/i > 0);
    ASSERT_OK_AND_ASSIGN(Allocation a, Decide(obs));
    ASSERT_EQ(static_cast<int>(a.gpus.size()), context_.gpus);
    for (const GpuAllocation& g : a.gpus) {
      hw::Multiset m(gpu_->profiles.size(), 0);
      for (const Slot& s : g.slots) ++m[s.profile];
      EXPECT_TRUE(g.slots.empty() || space_->IsPlaceable(m)) << a.DebugString(*gpu_, *book_);
    }
  }
}

TEST_F(MigratorTest, RejectsABadContext) {
  Setup(1, {}, 1);
  context_.gpus = 0;
  EXPECT_THAT(MakeMigratorPolicy(context_).status(),
              ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("context.gpus")));
}

// Not a timed assertion: prints the mean decision time of a run-like sequence (each window's
// current allocation is the previous decision) on 4 GPUs with 6 tenants and the full A100 space.
TEST_F(MigratorTest, PrintsTheMeanSolveTime) {
  Setup(6, {0, 1, 2, 3, 4, 5}, 4);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Policy> policy, MakeMigratorPolicy(context_));
  std::mt19937_64 rng(3);
  Allocation current;
  double total_s = 0, worst_s = 0;
  constexpr int kWindows = 200;
  for (int w = 0; w < kWindows; ++w) {
    Observation obs = RandomObservation(rng, /*with_current=*/false);
    obs.window_index = w;
    obs.current = &current;
    auto start = std::chrono::steady_clock::now();
    ASSERT_OK_AND_ASSIGN(Allocation next, policy->Decide(obs));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total_s += s;
    worst_s = std::max(worst_s, s);
    current = std::move(next);
  }
  fmt::print(
      "migrator: {} windows, 4 GPUs, 6 tenants, {} profiles: mean {:.2f} ms, max {:.2f} ms "
      "per decision\n",
      kWindows, space_->profiles().size(), 1e3 * total_s / kWindows, 1e3 * worst_s);
}

}  // namespace
}  // namespace tessera::adapt
