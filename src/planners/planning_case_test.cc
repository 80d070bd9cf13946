#include "tessera/planners/planning_case.h"

#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/plan/plan.h"
#include "tessera/planners/planner.h"
#include "tessera/workload/arrivals.h"

namespace tessera::planners {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

class PlanningCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(registry_, models::LoadDefaultModelRegistry());
    ASSERT_OK_AND_ASSIGN(base_, LoadBundledPlanningCaseBase(catalog_, registry_));
  }

  static PlanningCaseOptions Small() {
    PlanningCaseOptions o;
    o.models = 30;
    o.gpus = 40;
    o.seed = 3;
    return o;
  }

  hw::Catalog catalog_;
  models::ModelRegistry registry_;
  PlanningCaseBase base_;
};

TEST_F(PlanningCaseTest, ClonesEveryBaseModelRoundRobinAndScalesRatesToTheTarget) {
  ASSERT_OK_AND_ASSIGN(PlanningCase c, GeneratePlanningCase(base_, Small()));
  ASSERT_EQ(c.workload.models.size(), 30u);
  // ParvaGPU's 11 models in name order, then again.
  EXPECT_EQ(c.workload.models[0].model, "bert_base~0");
  EXPECT_EQ(c.workload.models[1].model, "densenet121~1");
  EXPECT_EQ(c.workload.models[11].model, "bert_base~11");
  EXPECT_EQ(c.workload.models[29].model, models::CloneName("resnet152", 29));
  EXPECT_NEAR(c.estimated_gpus, 40, 0.1);
  EXPECT_GT(c.total_rate_rps, 0);
  EXPECT_THAT(c.command, HasSubstr("--models 30 --gpus 40 --seed 3 --gpu A100-SXM4-80GB"));
  for (const workload::WorkloadModel& m : c.workload.models) {
    EXPECT_EQ(m.demand.kind, workload::Demand::Kind::kPoisson);
    EXPECT_GT(m.demand.rate_rps, 0);
  }
}

TEST_F(PlanningCaseTest, CloneRowsAreTheBaseRowsTimesOneFactorWithinTheJitter) {
  ASSERT_OK_AND_ASSIGN(PlanningCase c, GeneratePlanningCase(base_, Small()));
  size_t base_rows = 0, clone_rows = 0;
  double low = 2, high = 0;
  for (const auto& [key, row] : base_.profiles.rows()) {
    if (key.model == "resnet50") ++base_rows;
  }
  for (const auto& [key, row] : c.profiles.rows()) {
    if (key.model != "resnet50~19") continue;
    ++clone_rows;
    perf::ProfileKey original = key;
    original.model = "resnet50";
    const perf::ProfileRow* from = base_.profiles.Find(original);
    ASSERT_NE(from, nullptr) << key.ToString();
    low = std::min(low, row.latency_ms / from->latency_ms);
    high = std::max(high, row.latency_ms / from->latency_ms);
    EXPECT_EQ(row.source, perf::ProfileSource::kPredicted);
  }
  EXPECT_EQ(clone_rows, base_rows);
  EXPECT_GE(low, 0.95 - 1e-3);
  EXPECT_LE(high, 1.05 + 1e-3);
  EXPECT_LT(high - low, 1e-3);  // one factor (up to rounding latencies to 0.1 us)
}

TEST_F(PlanningCaseTest, SameOptionsAndSeedSameCase) {
  ASSERT_OK_AND_ASSIGN(PlanningCase a, GeneratePlanningCase(base_, Small()));
  ASSERT_OK_AND_ASSIGN(PlanningCase b, GeneratePlanningCase(base_, Small()));
  EXPECT_EQ(a.workload, b.workload);
  EXPECT_EQ(a.profiles.rows(), b.profiles.rows());
  EXPECT_EQ(PlanningCaseWorkloadYaml(a), PlanningCaseWorkloadYaml(b));
  PlanningCaseOptions other = Small();
  other.seed = 4;
  ASSERT_OK_AND_ASSIGN(PlanningCase c, GeneratePlanningCase(base_, other));
  EXPECT_NE(a.workload, c.workload);
  EXPECT_NE(a.profiles.rows(), c.profiles.rows());
}

TEST_F(PlanningCaseTest, WithoutJitterClonesKeepTheMeasuredLatencies) {
  PlanningCaseOptions o = Small();
  o.jitter = 0;
  ASSERT_OK_AND_ASSIGN(PlanningCase c, GeneratePlanningCase(base_, o));
  for (const auto& [key, row] : c.profiles.rows()) {
    perf::ProfileKey original = key;
    original.model = key.model.substr(0, key.model.find('~'));
    const perf::ProfileRow* from = base_.profiles.Find(original);
    ASSERT_NE(from, nullptr);
    EXPECT_NEAR(row.latency_ms, from->latency_ms, 1e-4);
    EXPECT_EQ(row.source, from->source);
  }
}

TEST_F(PlanningCaseTest, WrittenFilesLoadBackAndPlan) {
  ASSERT_OK_AND_ASSIGN(PlanningCase c, GeneratePlanningCase(base_, Small()));
  std::string dir = ::testing::TempDir() + "/planning_case_test";
  std::filesystem::remove_all(dir);
  ASSERT_OK(WritePlanningCase(c, dir));
  ASSERT_OK_AND_ASSIGN(workload::Workload w,
                       workload::LoadWorkloadFile(dir + "/workload.yaml", registry_));
  EXPECT_EQ(w, c.workload);
  ASSERT_OK_AND_ASSIGN(perf::ProfileTable profiles,
                       perf::LoadProfileCsv(dir + "/profiles.csv", catalog_, registry_));
  EXPECT_EQ(profiles.rows(), c.profiles.rows());
  EXPECT_OK(workload::MakeArrivalSources(w, registry_, {.duration_s = 1, .seed = 1}).status());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Planner> parva, Planner::Create("parva"));
  PlannerOptions options;
  options.gpu = "A100-SXM4-80GB";
  options.rate_quantile = 0;
  ASSERT_OK_AND_ASSIGN(PlanResult result,
                       parva->Run({&catalog_, &profiles, &w, &registry_}, options));
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  EXPECT_GE(result.summary.gpus, 40);
  EXPECT_OK(plan::ValidatePlan(result.plan, {&catalog_, &profiles, &w, &registry_}));
}

TEST_F(PlanningCaseTest, RejectsBadOptionsAndGpusTheBaseDoesNotProfile) {
  PlanningCaseOptions o = Small();
  o.models = 0;
  EXPECT_THAT(GeneratePlanningCase(base_, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("models must be")));
  o = Small();
  o.gpus = -1;
  EXPECT_THAT(GeneratePlanningCase(base_, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("gpus must be")));
  o = Small();
  o.jitter = 0.7;
  EXPECT_THAT(GeneratePlanningCase(base_, o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("jitter must be")));
  o = Small();
  o.gpu = "v100";
  EXPECT_THAT(GeneratePlanningCase(base_, o), StatusIs(absl::StatusCode::kNotFound));
  o.gpu = "h100";
  EXPECT_THAT(GeneratePlanningCase(base_, o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no model of the base (ParvaGPU's A100-80GB profiles")));
}

}  // namespace
}  // namespace tessera::planners
