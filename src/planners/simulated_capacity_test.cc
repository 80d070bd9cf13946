#include "internal/simulated_capacity.h"

#include <cmath>

#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::planners::internal {
namespace {

constexpr char kGpu[] = "A100-SXM4-80GB";

// One configuration: batch 8 of 10 ms on 2 procs, 1,600 requests/s at most.
Configuration TwoProcs() {
  Configuration c;
  c.partition = hw::Partition::Mig("1g.10gb");
  c.input = 224;
  c.batch = 8;
  c.procs = 2;
  c.latency_ms = 10;
  c.capacity_rps = 1600;
  return c;
}

// The estimate by hand: slack = SLO - 10 - 10 / 4 ms; rho / (1 - rho) = 2 x 1.6 x slack / ln 200.
TEST(EstimatedCapacityTest, MatchesTheFormula) {
  Configuration c = TwoProcs();
  double a = 2 * 1.6 * (20 - 12.5) / std::log(200.0);
  EXPECT_NEAR(EstimatedCapacity(c, 20, 1.0), 1600 * a / (1 + a), 1e-9);
}

TEST(EstimatedCapacityTest, ZeroWhenTheBatchDoesNotFitAndCappedByUtilization) {
  Configuration c = TwoProcs();
  EXPECT_EQ(EstimatedCapacity(c, 12, 0.97), 0);  // 10 ms + 2.5 ms > 12 ms
  EXPECT_DOUBLE_EQ(EstimatedCapacity(c, 10000, 0.97), 0.97 * 1600);
  // Monotone in the SLO.
  double previous = 0;
  for (double slo : {13.0, 15.0, 20.0, 40.0, 80.0}) {
    double e = EstimatedCapacity(c, slo, 0.97);
    EXPECT_GT(e, previous) << slo;
    previous = e;
  }
}

// Confirmed capacities never exceed the estimate, which is their upper bound; bisected ones never
// exceed procs x batch / latency.
TEST(CapacityCacheTest, UpperBoundsHold) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  perf::ProfileTable profiles;
  for (int b : {1, 2, 4, 8}) {
    perf::ProfileRow row;
    row.key = {kGpu, hw::Partition::Mig("1g.10gb"), "resnet50", 224, b, 2};
    row.latency_ms = 2 + b;
    ASSERT_OK(profiles.Add(row));
  }
  workload::Workload w;
  workload::WorkloadModel m;
  m.model = "resnet50";
  m.slo_ms = 40;
  m.input.fixed = 224;
  m.demand.rate_rps = 100;
  w.models.push_back(m);
  PlanningInputs in{&catalog, &profiles, &w, &registry};
  const hw::GpuModel& gpu = **catalog.Find(kGpu);
  Configuration c = TwoProcs();
  c.latency_ms = 10;
  c.capacity_rps = 2 * 8 * 1000 / c.latency_ms;
  for (CapacityMode mode : {CapacityMode::kBisect, CapacityMode::kConfirmEstimate}) {
    CapacityCache cache(in, gpu, w.models[0], mode);
    ASSERT_OK_AND_ASSIGN(double capacity, cache.Capacity(c));
    EXPECT_GT(capacity, 0);
    EXPECT_LE(capacity, cache.UpperBound(c));
    EXPECT_EQ(cache.simulated(), 1);
    ASSERT_OK_AND_ASSIGN(double again, cache.Capacity(c));  // cached: no new simulation
    EXPECT_EQ(again, capacity);
    EXPECT_EQ(cache.simulated(), 1);
    EXPECT_THAT(cache.Meets(c, capacity), ::tessera::testing::IsOkAndHolds(true));
  }
}

}  // namespace
}  // namespace tessera::planners::internal
