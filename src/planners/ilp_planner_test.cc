#include <memory>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "internal/simulated_capacity.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/planners/common.h"
#include "tessera/planners/lower_bound.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {
namespace {

using ::testing::HasSubstr;

constexpr char kGpu[] = "A100-SXM4-80GB";

class IlpPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(data_, DataDir());
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(registry_, models::LoadDefaultModelRegistry());
    ASSERT_OK_AND_ASSIGN(planner_, Planner::Create("ilp"));
    options_.gpu = kGpu;
    options_.rate_quantile = 0;
  }

  // resnet50 at 224 px on 1g.10gb only: latency(batch) = 4 + 3 x batch ms.
  void OneSliceProfiles() {
    for (int b : {1, 2, 4, 8}) {
      perf::ProfileRow row;
      row.key = {kGpu, hw::Partition::Mig("1g.10gb"), "resnet50", 224, b, 1};
      row.latency_ms = 4 + 3 * b;
      ASSERT_OK(profiles_.Add(row));
    }
  }

  static workload::WorkloadModel Resnet(double slo_ms, double rate_rps) {
    workload::WorkloadModel m;
    m.model = "resnet50";
    m.slo_ms = slo_ms;
    m.input.fixed = 224;
    m.demand.rate_rps = rate_rps;
    return m;
  }

  PlanningInputs Inputs(const workload::Workload* w) const {
    return {&catalog_, &profiles_, w, &registry_};
  }

  std::string data_;
  hw::Catalog catalog_;
  models::ModelRegistry registry_;
  perf::ProfileTable profiles_;
  std::unique_ptr<Planner> planner_;
  PlannerOptions options_;
};

TEST_F(IlpPlannerTest, CreatedByName) {
  EXPECT_EQ(planner_->name(), "ilp");
  EXPECT_THAT(planner_->description(), HasSubstr("CBC"));
}

// 7.5 single-instance capacities of 1g.10gb need 8 instances; seven fit one A100, so two GPUs, and
// the solver proves it. (Pooling cannot drop the eighth: 7 instances near their utilization limit
// cannot carry 7.5 instances' load.)
TEST_F(IlpPlannerTest, CountsInstancesAndProvesTwoGpus) {
  OneSliceProfiles();
  workload::Workload w;
  w.models.push_back(Resnet(200, 1));
  std::vector<Configuration> cs =
      Configurations(profiles_, kGpu, "resnet50", 224, [](double, int) { return true; });
  const Configuration& batch8 = cs.back();
  ASSERT_EQ(batch8.batch, 8);
  ASSERT_OK_AND_ASSIGN(double capacity,
                       internal::ElasticBatchCapacity(Inputs(&w), kGpu, w.models[0], batch8));
  w.models[0].demand.rate_rps = 7.5 * capacity;
  ASSERT_OK_AND_ASSIGN(PlanResult result, planner_->Run(Inputs(&w), options_));
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  EXPECT_EQ(result.summary.gpus, 2);
  EXPECT_EQ(result.summary.termination, Termination::kOptimal);
  int instances = 0;
  for (const plan::PlanGpu& g : result.plan.gpus)
    instances += static_cast<int>(g.partitions.size());
  EXPECT_EQ(instances, 8);
  EXPECT_OK(plan::ValidatePlan(result.plan, {&catalog_, &profiles_, &w, &registry_}));
}

TEST_F(IlpPlannerTest, UnservableModelIsInfeasible) {
  OneSliceProfiles();
  workload::Workload w;
  w.models.push_back(Resnet(5, 10));  // the fastest batch takes 7 ms
  ASSERT_OK_AND_ASSIGN(PlanResult result, planner_->Run(Inputs(&w), options_));
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_EQ(result.summary.termination, Termination::kInfeasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("resnet50"));
}

TEST_F(IlpPlannerTest, RejectsANonPositiveTimeLimit) {
  OneSliceProfiles();
  workload::Workload w;
  w.models.push_back(Resnet(200, 10));
  options_.time_limit_s = 0;
  EXPECT_THAT(
      planner_->Run(Inputs(&w), options_),
      ::tessera::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time_limit_s")));
}

// ParvaGPU's first two scenarios: valid plans, never below the LP bound, never above ParvaGPU's
// published deployments (2 and 3 GPUs).
TEST_F(IlpPlannerTest, ParvaScenariosOneAndTwo) {
  ASSERT_OK_AND_ASSIGN(
      profiles_, perf::LoadProfileCsv(data_ + "/profiles/a100-parvagpu.csv", catalog_, registry_));
  for (int n : {1, 2}) {
    ASSERT_OK_AND_ASSIGN(
        workload::Workload w,
        workload::LoadWorkloadFile(
            fmt::format("{}/examples/parvagpu/slo{}.workload.yaml", data_, n), registry_));
    ASSERT_OK_AND_ASSIGN(PlanResult result, planner_->Run(Inputs(&w), options_));
    ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
    ASSERT_OK_AND_ASSIGN(LowerBound bound, ComputeLowerBound(Inputs(&w), options_));
    EXPECT_GE(result.summary.gpus, bound.gpus) << n;
    EXPECT_LE(result.summary.gpus, n == 1 ? 2 : 3) << n;
    EXPECT_EQ(result.summary.models.size(), w.models.size());
    EXPECT_OK(plan::ValidatePlan(result.plan, {&catalog_, &profiles_, &w, &registry_}));
  }
}

}  // namespace
}  // namespace tessera::planners
