#include "tessera/planners/lower_bound.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kA100[] = "A100-SXM4-80GB";

struct World {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  perf::ProfileTable profiles;
  workload::Workload workload;
  World() {
    catalog = *hw::LoadDefaultCatalog();
    registry = *models::LoadDefaultModelRegistry();
  }
  void Add(const char* partition, int batch, double latency_ms, int input = 224) {
    perf::ProfileRow row;
    row.key = {kA100, *hw::ParsePartition(partition), "resnet50", input, batch, 1};
    row.latency_ms = latency_ms;
    TESSERA_CHECK(profiles.Add(row).ok());
  }
  void Demand(double rate, double slo_ms) {
    workload::WorkloadModel m;
    m.model = "resnet50";
    m.slo_ms = slo_ms;
    m.input.fixed = 224;
    m.demand.rate_rps = rate;
    workload.models = {m};
  }
  PlanningInputs Inputs() const { return {&catalog, &profiles, &workload, &registry}; }
};

PlannerOptions A100() {
  PlannerOptions o;
  o.gpu = "a100-80gb";
  return o;
}

TEST(LowerBoundTest, EqualsTheHandComputedOptimum) {
  World w;
  w.Add("7g.80gb", 10, 100);  // 100 rps per 7g instance: 7 GPUs for 700 rps
  w.Demand(700, 1000);
  ASSERT_OK_AND_ASSIGN(LowerBound b, ComputeLowerBound(w.Inputs(), A100()));
  EXPECT_NEAR(b.lp_gpus, 7.0, 1e-6);
  EXPECT_EQ(b.gpus, 7);
  // 1g instances at 20 rps: seven per GPU give 140 rps, so 5 GPUs.
  w.Add("1g.10gb", 2, 100);
  ASSERT_OK_AND_ASSIGN(b, ComputeLowerBound(w.Inputs(), A100()));
  EXPECT_NEAR(b.lp_gpus, 5.0, 1e-6);
  // A configuration slower than the SLO does not count.
  w.Demand(700, 50);
  EXPECT_THAT(ComputeLowerBound(w.Inputs(), A100()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no plan exists")));
}

TEST(LowerBoundTest, TakesEachRequestAtItsOwnSizeNotPaddedToTheLargest) {
  World w;
  w.Add("7g.80gb", 10, 100, 224);  // 100 rps per 7g instance at 224 px
  w.Add("7g.80gb", 10, 50, 112);   // 200 rps at 112 px
  w.Demand(700, 1000);
  // A quarter of the requests at 64 px (below the smallest profile: taken at 112), a quarter at
  // 150 px (taken at 112, the largest profiled size below it), half at 224 px: 350 rps at 200 rps
  // per GPU and 350 rps at 100: 1.75 + 3.5 GPUs, where padding all to 224 would need 7.
  w.workload.models[0].input = {.kind = workload::InputDistribution::Kind::kEmpirical,
                                .sizes = {64, 150, 224},
                                .weights = {0.25, 0.25, 0.5}};
  ASSERT_OK_AND_ASSIGN(LowerBound b, ComputeLowerBound(w.Inputs(), A100()));
  EXPECT_NEAR(b.lp_gpus, 5.25, 1e-6);
  EXPECT_EQ(b.gpus, 6);
  // A fixed input between profiled sizes is taken at the one below it (optimistic, still a bound).
  w.workload.models[0].input = {.fixed = 150};
  ASSERT_OK_AND_ASSIGN(b, ComputeLowerBound(w.Inputs(), A100()));
  EXPECT_NEAR(b.lp_gpus, 3.5, 1e-6);
}

TEST(LowerBoundTest, NeverAboveWhatParvaNeedsOnTheBundledScenarios) {
  World w;
  std::string data = *DataDir();
  w.profiles = *perf::LoadProfileCsv(data + "/profiles/a100-parvagpu.csv", w.catalog, w.registry);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Planner> parva, Planner::Create("parva"));
  PlannerOptions options = A100();
  options.rate_quantile = 0;
  for (int n = 1; n <= 6; ++n) {
    ASSERT_OK_AND_ASSIGN(
        w.workload,
        workload::LoadWorkloadFile(
            data + "/examples/parvagpu/slo" + std::to_string(n) + ".workload.yaml", w.registry));
    ASSERT_OK_AND_ASSIGN(LowerBound b, ComputeLowerBound(w.Inputs(), options));
    ASSERT_OK_AND_ASSIGN(PlanResult plan, parva->Run(w.Inputs(), options));
    std::cout << "SLO" << n << ": lower bound " << b.lp_gpus << " (" << b.gpus << " GPUs), parva "
              << plan.summary.gpus << "\n";
    EXPECT_LE(b.gpus, plan.summary.gpus);
    EXPECT_GE(b.gpus, 1);
  }
}

}  // namespace
}  // namespace tessera::planners
