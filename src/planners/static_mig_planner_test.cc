#include <iostream>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {
namespace {

using ::testing::HasSubstr;

constexpr char kA100[] = "A100-SXM4-80GB";

class StaticMigPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(registry_, models::LoadDefaultModelRegistry());
    ASSERT_OK_AND_ASSIGN(planner_, Planner::Create("static-mig"));
    options_.gpu = "a100-sxm4-80gb";
    options_.rate_quantile = 0;  // provision the mean: the arithmetic below stays exact
  }

  void AddRow(const std::string& partition, const std::string& model, int input, int batch,
              int procs, double ms) {
    perf::ProfileRow row;
    row.key = {kA100, *hw::ParsePartition(partition), model, input, batch, procs};
    row.latency_ms = ms;
    ASSERT_OK(profiles_.Add(row));
  }

  void AddModel(const std::string& model, double slo_ms, int input, double rate_rps) {
    workload_.models.push_back({model, slo_ms, {.fixed = input}, {.rate_rps = rate_rps}});
  }

  absl::StatusOr<PlanResult> Run() {
    return planner_->Run({&catalog_, &profiles_, &workload_, &registry_}, options_);
  }

  void ExpectValid(const PlanResult& result) {
    EXPECT_OK(plan::ValidatePlan(result.plan, {&catalog_, &profiles_, &workload_, &registry_}));
  }

  hw::Catalog catalog_;
  models::ModelRegistry registry_;
  perf::ProfileTable profiles_;
  workload::Workload workload_{.name = "test"};
  std::unique_ptr<Planner> planner_;
  PlannerOptions options_;
};

TEST_F(StaticMigPlannerTest, PicksBestBatchAndProcsAndTheSevenSliceCut) {
  // resnet50 profiled on 1g.10gb only. SLO 25: batch 16 (2 x 20 > 25) and procs 4 (more than 3)
  // are out; procs 2 batch 8 at 12 ms (1333.3 rps) beats procs 1 batch 8 at 10 ms (800 rps).
  AddRow("1g.10gb", "resnet50", 224, 8, 1, 10);
  AddRow("1g.10gb", "resnet50", 224, 16, 1, 20);
  AddRow("1g.10gb", "resnet50", 224, 8, 2, 12);
  AddRow("1g.10gb", "resnet50", 224, 8, 4, 12.5);
  AddModel("resnet50", 25, 224, 16000);  // 12 instances: two 7 x 1g.10gb GPUs (2g + 5 x 1g: 3)
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  ExpectValid(result);
  ASSERT_EQ(result.summary.gpus, 2);
  int served = 0, idle = 0;
  for (const plan::PlanGpu& g : result.plan.gpus) {
    ASSERT_EQ(g.partitions.size(), 7u);
    for (const plan::PlanPartition& p : g.partitions) {
      EXPECT_EQ(p.partition.ToString(), "1g.10gb");
      if (p.assignments.empty()) {
        ++idle;
        continue;
      }
      ++served;
      EXPECT_EQ(p.assignments[0].batch, 8);
      EXPECT_EQ(p.assignments[0].procs, 2);
    }
  }
  EXPECT_EQ(served, 12);
  EXPECT_EQ(idle, 2);
  EXPECT_NEAR(result.summary.models[0].capacity_rps, 12 * 16000.0 / 12, 1e-6);
  EXPECT_THAT(result.summary.models[0].configurations,
              ::testing::ElementsAre("1g.10gb batch 8 procs 2 x12"));
  EXPECT_THAT(result.summary.notes, ::testing::Contains(HasSubstr("7x1g.10gb")));
}

// Served and idle instances over the plan.
std::pair<int, int> CountInstances(const plan::Plan& plan) {
  int served = 0, idle = 0;
  for (const plan::PlanGpu& g : plan.gpus) {
    for (const plan::PlanPartition& p : g.partitions) ++(p.assignments.empty() ? idle : served);
  }
  return {served, idle};
}

TEST_F(StaticMigPlannerTest, TiesOnGpusGoToFewerIdleInstances) {
  AddRow("1g.10gb", "resnet50", 224, 8, 2, 12);  // 1333.3 rps per 1g.10gb
  AddModel("resnet50", 25, 224, 10000);          // 8 instances
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible);
  ExpectValid(result);
  // 7 x 1g.10gb and 3g.40gb + 4 x 1g.10gb both need 2 GPUs; the second leaves 2 idle, not 6.
  EXPECT_EQ(result.summary.gpus, 2);
  EXPECT_EQ(CountInstances(result.plan), std::pair(8, 2));
  // Restricted to 1g.10gb and 7g.80gb, only 7 x 1g.10gb can serve it.
  options_.mig_profiles = {"1g.10gb", "7g.80gb"};
  ASSERT_OK_AND_ASSIGN(result, Run());
  EXPECT_EQ(result.summary.gpus, 2);
  EXPECT_EQ(CountInstances(result.plan), std::pair(8, 6));
  options_.mig_profiles = {"9g.90gb"};
  EXPECT_FALSE(Run().ok());
}

TEST_F(StaticMigPlannerTest, SharesTheCutBetweenModels) {
  // resnet50 runs only on 3g.40gb (800 rps), bert_base only on 4g.40gb (400 rps): the 4g + 3g cut.
  AddRow("3g.40gb", "resnet50", 224, 8, 1, 10);
  AddRow("4g.40gb", "bert_base", 128, 4, 1, 10);
  AddModel("resnet50", 25, 224, 1500);
  AddModel("bert_base", 25, 128, 700);
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  ExpectValid(result);
  ASSERT_EQ(result.summary.gpus, 2);
  for (const plan::PlanGpu& g : result.plan.gpus) {
    ASSERT_EQ(g.partitions.size(), 2u);
    for (const plan::PlanPartition& p : g.partitions) {
      ASSERT_EQ(p.assignments.size(), 1u);
      EXPECT_EQ(p.assignments[0].model,
                p.partition.ToString() == "3g.40gb" ? "resnet50" : "bert_base");
    }
  }
}

TEST_F(StaticMigPlannerTest, GivesInstancesToTheModelNeedingMost) {
  // Both models run on 1g.10gb at 100 rps; resnet50 needs 5 instances, bert_base 2.
  AddRow("1g.10gb", "resnet50", 224, 1, 1, 10);
  AddRow("1g.10gb", "bert_base", 128, 1, 1, 10);
  AddModel("resnet50", 25, 224, 500);
  AddModel("bert_base", 25, 128, 200);
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible);
  ExpectValid(result);
  ASSERT_EQ(result.summary.gpus, 1);
  std::map<std::string, int> count;
  for (const plan::PlanPartition& p : result.plan.gpus[0].partitions) {
    if (!p.assignments.empty()) ++count[p.assignments[0].model];
  }
  EXPECT_EQ(count["resnet50"], 5);
  EXPECT_EQ(count["bert_base"], 2);
}

TEST_F(StaticMigPlannerTest, SloBelowEveryLatencyIsInfeasible) {
  AddRow("1g.10gb", "resnet50", 224, 1, 1, 10);
  AddModel("resnet50", 15, 224, 100);  // 2 x 10 > 15
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_EQ(result.summary.termination, Termination::kInfeasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("resnet50"));
}

TEST_F(StaticMigPlannerTest, NoCutServesModelsThatNeedDifferentWholeGpus) {
  AddRow("7g.80gb", "resnet50", 224, 1, 1, 1);
  AddRow("1g.10gb", "bert_base", 128, 1, 1, 1);
  AddModel("resnet50", 25, 224, 100);
  AddModel("bert_base", 25, 128, 100);
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("no uniform cut"));
}

struct Bundled {
  hw::Catalog catalog;
  models::ModelRegistry registry;
  perf::ProfileTable profiles;
  workload::Workload workload;
};

void LoadBundled(const std::string& profiles_file, const std::string& workload_file, Bundled& b) {
  ASSERT_OK_AND_ASSIGN(b.catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(b.registry, models::LoadDefaultModelRegistry());
  ASSERT_OK_AND_ASSIGN(std::string data, DataDir());
  ASSERT_OK_AND_ASSIGN(
      b.profiles, perf::LoadProfileCsv(data + "/profiles/" + profiles_file, b.catalog, b.registry));
  ASSERT_OK_AND_ASSIGN(b.workload,
                       workload::LoadWorkloadFile(data + "/examples/" + workload_file, b.registry));
}

TEST(StaticMigPlannerBundledTest, A100Mig) {
  Bundled b;
  ASSERT_NO_FATAL_FAILURE(LoadBundled("a100-parvagpu.csv", "a100-mig.workload.yaml", b));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Planner> planner, Planner::Create("static-mig"));
  PlannerOptions options;
  options.gpu = kA100;
  PlanningInputs in{&b.catalog, &b.profiles, &b.workload, &b.registry};
  ASSERT_OK_AND_ASSIGN(PlanResult result, planner->Run(in, options));
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  EXPECT_OK(plan::ValidatePlan(result.plan, {&b.catalog, &b.profiles, &b.workload, &b.registry}));
  std::cout << fmt::format("static-mig on a100-mig.workload.yaml: {} GPUs; {}\n",
                           result.summary.gpus, fmt::join(result.summary.notes, "; "));
  for (const ModelPlanSummary& m : result.summary.models) {
    EXPECT_GE(m.capacity_rps, m.provisioned_rps);
    std::cout << fmt::format("  {}: {:.0f} rps provisioned, {:.0f} rps capacity, {}\n", m.model,
                             m.provisioned_rps, m.capacity_rps, fmt::join(m.configurations, "; "));
  }

  b.workload.models[0].slo_ms = 1;  // below every resnet50 latency
  ASSERT_OK_AND_ASSIGN(result, planner->Run(in, options));
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("resnet50"));
}

TEST(StaticMigPlannerBundledTest, SmProfilesAreNotApplicable) {
  Bundled b;
  ASSERT_NO_FATAL_FAILURE(LoadBundled("h100-sm-partitions.csv", "h100-sm.workload.yaml", b));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Planner> planner, Planner::Create("static-mig"));
  PlannerOptions options;
  options.gpu = "h100";
  ASSERT_OK_AND_ASSIGN(PlanResult result,
                       planner->Run({&b.catalog, &b.profiles, &b.workload, &b.registry}, options));
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_EQ(result.summary.reason, "no MIG profiles profiled for H100-SXM5-80GB");
}

}  // namespace
}  // namespace tessera::planners
