// Poisson and Gamma-renewal generators: rates, gap statistics, determinism, options.
#include <cmath>
#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/workload/arrivals.h"
#include "workload_test_util.h"

namespace tessera::workload {
namespace {

using ::tessera::testing::StatusIs;
using testing::Drain;
using ::testing::HasSubstr;
using testing::TestRegistry;

Demand Poisson(double rate) {
  Demand d;
  d.kind = Demand::Kind::kPoisson;
  d.rate_rps = rate;
  return d;
}

Demand Gamma(double rate, double cv) {
  Demand d;
  d.kind = Demand::Kind::kGamma;
  d.rate_rps = rate;
  d.cv = cv;
  return d;
}

WorkloadModel Model(std::string name, Demand demand) {
  WorkloadModel m;
  m.model = std::move(name);
  m.slo_ms = 10;
  m.input.fixed = 224;
  m.demand = demand;
  return m;
}

std::vector<Arrival> Generate(const Workload& w, double duration_s, uint64_t seed,
                              size_t source = 0) {
  models::ModelRegistry registry = TestRegistry();
  auto sources = MakeArrivalSources(w, registry, {.duration_s = duration_s, .seed = seed});
  EXPECT_TRUE(sources.ok()) << sources.status();
  if (!sources.ok()) return {};
  return Drain(*(*sources)[source]);
}

struct GapStats {
  double mean_s = 0, cv = 0;
};

GapStats Gaps(const std::vector<Arrival>& arrivals) {
  double sum = 0, sum_sq = 0, previous = 0;
  for (const Arrival& a : arrivals) {
    const double gap = (static_cast<double>(a.time_ns) - previous) / 1e9;
    previous = static_cast<double>(a.time_ns);
    sum += gap;
    sum_sq += gap * gap;
  }
  const double n = static_cast<double>(arrivals.size());
  const double mean = sum / n;
  return {mean, std::sqrt(sum_sq / n - mean * mean) / mean};
}

TEST(PoissonSourceTest, CountOver100SecondsAt1000RpsIsWithinThreeSigma) {
  Workload w{.name = "p", .models = {Model("resnet50", Poisson(1000))}};
  std::vector<Arrival> arrivals = Generate(w, 100, 7);
  const double expected = 1000 * 100, sigma = std::sqrt(expected);
  std::printf("[stats] poisson 1000 rps x 100 s: %zu arrivals (expected %.0f, sigma %.0f)\n",
              arrivals.size(), expected, sigma);
  EXPECT_NEAR(static_cast<double>(arrivals.size()), expected, 3 * sigma);
  GapStats gaps = Gaps(arrivals);
  EXPECT_NEAR(gaps.mean_s, 1e-3, 0.02e-3);
  EXPECT_NEAR(gaps.cv, 1.0, 0.02);
}

TEST(PoissonSourceTest, ArrivalsAreOrderedInsideTheDurationWithTheModelsInput) {
  Workload w{.name = "p", .models = {Model("resnet50", Poisson(500))}};
  std::vector<Arrival> arrivals = Generate(w, 2, 1);
  ASSERT_FALSE(arrivals.empty());
  for (size_t i = 0; i < arrivals.size(); ++i) {
    EXPECT_GE(arrivals[i].time_ns, i == 0 ? 0 : arrivals[i - 1].time_ns);
    EXPECT_LT(arrivals[i].time_ns, 2'000'000'000);
    EXPECT_EQ(arrivals[i].model, 0);
    EXPECT_EQ(arrivals[i].input, 224);
  }
}

TEST(GammaSourceTest, GapMeanAndCvMatchTheDemand) {
  for (double cv : {0.5, 2.0}) {
    Workload w{.name = "g", .models = {Model("resnet50", Gamma(1000, cv))}};
    std::vector<Arrival> arrivals = Generate(w, 200, 3);
    GapStats gaps = Gaps(arrivals);
    std::printf("[stats] gamma 1000 rps cv %.1f x 200 s: %zu gaps, mean %.4f ms, cv %.4f\n", cv,
                arrivals.size(), gaps.mean_s * 1e3, gaps.cv);
    EXPECT_NEAR(gaps.mean_s, 1e-3, 0.03e-3) << "cv " << cv;
    EXPECT_NEAR(gaps.cv, cv, 0.03 * cv) << "cv " << cv;
  }
}

TEST(GeneratorTest, SameSeedGivesTheSameArrivals) {
  Workload w{.name = "d", .models = {Model("resnet50", Gamma(300, 1.5))}};
  EXPECT_EQ(Generate(w, 5, 11), Generate(w, 5, 11));
  EXPECT_NE(Generate(w, 5, 11), Generate(w, 5, 12));
}

TEST(GeneratorTest, ModelsDrawFromDifferentStreams) {
  Workload w{.name = "d",
             .models = {Model("resnet50", Poisson(100)), Model("bert_base", Poisson(100))}};
  std::vector<Arrival> first = Generate(w, 5, 1, 0), second = Generate(w, 5, 1, 1);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first.front().time_ns, second.front().time_ns);
  EXPECT_EQ(second.front().model, 1);
}

TEST(GeneratorTest, InputDistributionDoesNotMoveArrivalTimes) {
  Workload fixed{.name = "d", .models = {Model("resnet50", Poisson(100))}};
  Workload uniform = fixed;
  uniform.models[0].input = {.kind = InputDistribution::Kind::kUniform, .min = 32, .max = 512};
  std::vector<Arrival> a = Generate(fixed, 5, 1), b = Generate(uniform, 5, 1);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].time_ns, b[i].time_ns);
}

TEST(GeneratorTest, MemoryDoesNotDependOnTheDuration) {
  // A year at 1000 rps: making the source and pulling a few arrivals is instant.
  Workload w{.name = "long", .models = {Model("resnet50", Poisson(1000))}};
  models::ModelRegistry registry = TestRegistry();
  auto sources = MakeArrivalSources(w, registry, {.duration_s = 3.2e7, .seed = 1});
  ASSERT_OK(sources.status());
  Arrival a;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE((*sources)[0]->Next(a));
}

TEST(ArrivalOptionsTest, RejectsANonPositiveDuration) {
  EXPECT_THAT(ArrivalOptions{.duration_s = 0}.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duration_s")));
  Workload w{.name = "p", .models = {Model("resnet50", Poisson(1))}};
  models::ModelRegistry registry = TestRegistry();
  EXPECT_THAT(MakeArrivalSources(w, registry, {.duration_s = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ArrivalOptionsTest, RejectsAHandBuiltDemandThatNeverEnds) {
  models::ModelRegistry registry = TestRegistry();
  Workload zero_cv{.name = "g", .models = {Model("resnet50", Gamma(10, 0))}};
  EXPECT_THAT(MakeArrivalSources(zero_cv, registry, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be positive")));
  Workload no_trace{.name = "t", .models = {Model("resnet50", Poisson(1))}};
  no_trace.models[0].demand = {.kind = Demand::Kind::kTrace, .trace = "x"};
  EXPECT_THAT(MakeArrivalSources(no_trace, registry, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not define")));
}

}  // namespace
}  // namespace tessera::workload
