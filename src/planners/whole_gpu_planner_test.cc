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

class WholeGpuPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(registry_, models::LoadDefaultModelRegistry());
    ASSERT_OK_AND_ASSIGN(planner_, Planner::Create("whole-gpu"));
    options_.gpu = "h100";
    options_.rate_quantile = 0;  // provision the mean: the arithmetic below stays exact
  }

  // Adds procs-1 rows of `model` at `input` on `partition` of `gpu`: batch -> latency.
  void AddRows(const std::string& gpu, const std::string& partition, const std::string& model,
               int input, const std::map<int, double>& latency_ms) {
    for (const auto& [batch, ms] : latency_ms) {
      perf::ProfileRow row;
      row.key = {gpu, *hw::ParsePartition(partition), model, input, batch, 1};
      row.latency_ms = ms;
      ASSERT_OK(profiles_.Add(row));
    }
  }

  void AddModel(const std::string& model, double slo_ms, int input, double rate_rps) {
    workload_.models.push_back({model, slo_ms, {.fixed = input}, {.rate_rps = rate_rps}});
  }

  // H100 rows: resnet50 batch 8 at 6 ms (1333.3 rps); bert_base batch 4 at 5 ms (800 rps); gpt2
  // batch 1 at 8 ms (125 rps).
  void AddH100Rows() {
    AddRows("H100-SXM5-80GB", "sm:132", "resnet50", 224, {{1, 2}, {4, 4}, {8, 6}, {16, 12}});
    AddRows("H100-SXM5-80GB", "sm:132", "bert_base", 128, {{1, 3}, {2, 4}, {4, 5}, {8, 9}});
    AddRows("H100-SXM5-80GB", "sm:132", "gpt2", 256, {{1, 8}, {2, 11}});
    AddRows("H100-SXM5-80GB", "sm:64", "resnet50", 224, {{1, 3}});  // not the whole GPU: unused
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

TEST_F(WholeGpuPlannerTest, SaturatesThenMergesResidualsByOccupancy) {
  AddH100Rows();
  AddModel("resnet50", 20, 224, 3000);  // batch 8 (2 x 12 > 20): 2 saturated + 0.25 residual
  AddModel("bert_base", 16, 128, 400);  // batch 4 (2 x 9 > 16): residual occupancy 0.5
  AddModel("gpt2", 20, 256, 100);       // batch 1 (2 x 11 > 20): residual occupancy 0.8
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  ExpectValid(result);
  // First-fit decreasing: gpt2 (0.8) alone, bert (0.5) opens a GPU that resnet50 (0.25) joins:
  // 16 >= 2 x 5 + 6 and 20 >= 2 x 6 + 5.
  ASSERT_EQ(result.summary.gpus, 4);
  const auto& gpus = result.plan.gpus;
  for (int g : {0, 1}) {
    ASSERT_EQ(gpus[g].partitions.size(), 1u);
    EXPECT_EQ(gpus[g].partitions[0].partition.ToString(), "sm:132");
    ASSERT_EQ(gpus[g].partitions[0].assignments.size(), 1u);
    EXPECT_EQ(gpus[g].partitions[0].assignments[0].model, "resnet50");
    EXPECT_EQ(gpus[g].partitions[0].assignments[0].batch, 8);
    EXPECT_EQ(gpus[g].partitions[0].assignments[0].share, 1.0);
  }
  ASSERT_EQ(gpus[2].partitions[0].assignments.size(), 1u);
  EXPECT_EQ(gpus[2].partitions[0].assignments[0].model, "gpt2");
  EXPECT_EQ(gpus[2].partitions[0].assignments[0].batch, 1);
  const auto& shared = gpus[3].partitions[0].assignments;
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[0].model, "bert_base");
  EXPECT_EQ(shared[0].batch, 4);
  EXPECT_NEAR(shared[0].share, 0.5 / 0.75, 1e-9);
  EXPECT_EQ(shared[1].model, "resnet50");
  EXPECT_NEAR(shared[1].share, 0.25 / 0.75, 1e-9);
  EXPECT_EQ(shared[0].input_max, 128);
  const ModelPlanSummary& resnet = result.summary.models[0];
  EXPECT_DOUBLE_EQ(resnet.provisioned_rps, 3000);
  EXPECT_NEAR(resnet.capacity_rps, (2 + 0.25 / 0.75) * 8000.0 / 6, 1e-6);
  EXPECT_EQ(result.summary.termination, Termination::kHeuristic);
  EXPECT_THAT(result.summary.notes, ::testing::Contains(HasSubstr("sm:132 (all SMs)")));
}

TEST_F(WholeGpuPlannerTest, KeepsResidualsApartWhenTheRoundBreaksAnSlo) {
  AddH100Rows();
  AddModel("resnet50", 20, 224, 3000);
  AddModel("bert_base", 15, 128, 400);  // batch 4, but 15 < 2 x 5 + 6: cannot share with resnet50
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible);
  ExpectValid(result);
  EXPECT_EQ(result.summary.gpus, 4);  // 2 saturated + 2 residual GPUs alone
  for (const plan::PlanGpu& g : result.plan.gpus) {
    EXPECT_EQ(g.partitions[0].assignments.size(), 1u);
  }
}

TEST_F(WholeGpuPlannerTest, ExactMultipleLeavesNoResidual) {
  AddH100Rows();
  AddModel("bert_base", 16, 128, 1600);  // exactly 2 x 800
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_EQ(result.summary.gpus, 2);
}

TEST_F(WholeGpuPlannerTest, StandsInWithTheLargestMigProfileOnA100) {
  AddRows("A100-SXM4-80GB", "7g.80gb", "resnet50", 224, {{8, 5}, {16, 7}});
  AddRows("A100-SXM4-80GB", "3g.40gb", "resnet50", 224, {{8, 9}});
  AddModel("resnet50", 15, 224, 1000);  // batch 16 at 7 ms: 2285.7 rps, one residual GPU
  options_.gpu = "a100-sxm4-80gb";
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  ExpectValid(result);
  ASSERT_EQ(result.summary.gpus, 1);
  const plan::PlanPartition& p = result.plan.gpus[0].partitions[0];
  EXPECT_EQ(p.partition.ToString(), "7g.80gb");
  EXPECT_EQ(p.start, 0);
  EXPECT_EQ(p.assignments[0].batch, 16);
  EXPECT_THAT(result.summary.notes,
              ::testing::Contains(HasSubstr("7g.80gb (98 SMs) stands in for the whole "
                                            "A100-SXM4-80GB (108 SMs): optimistic for MIG-disabled "
                                            "serving by nothing, pessimistic by ~10%")));
}

TEST_F(WholeGpuPlannerTest, SloBelowEveryLatencyIsInfeasible) {
  AddH100Rows();
  AddModel("resnet50", 3, 224, 100);  // batch 1 takes 2 ms: 2 x 2 > 3
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_EQ(result.summary.termination, Termination::kInfeasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("resnet50"));
  EXPECT_TRUE(result.plan.gpus.empty());
}

TEST_F(WholeGpuPlannerTest, MaxGpusBoundsThePlan) {
  AddH100Rows();
  AddModel("resnet50", 20, 224, 3000);
  options_.max_gpus = 2;
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("max_gpus"));
}

// The bundled profiles and workloads give valid plans.
void PlanBundled(const std::string& profiles_file, const std::string& workload_file,
                 const std::string& gpu) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSERT_OK_AND_ASSIGN(std::string data, DataDir());
  ASSERT_OK_AND_ASSIGN(
      perf::ProfileTable profiles,
      perf::LoadProfileCsv(data + "/profiles/" + profiles_file, catalog, registry));
  ASSERT_OK_AND_ASSIGN(workload::Workload w,
                       workload::LoadWorkloadFile(data + "/examples/" + workload_file, registry));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Planner> planner, Planner::Create("whole-gpu"));
  PlannerOptions options;
  options.gpu = gpu;
  ASSERT_OK_AND_ASSIGN(PlanResult result,
                       planner->Run({&catalog, &profiles, &w, &registry}, options));
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  EXPECT_OK(plan::ValidatePlan(result.plan, {&catalog, &profiles, &w, &registry}));
  std::cout << fmt::format("whole-gpu on {}: {} GPUs\n", workload_file, result.summary.gpus);
  for (const ModelPlanSummary& m : result.summary.models) {
    std::cout << fmt::format("  {}: {:.0f} rps provisioned, {:.0f} rps capacity, {}\n", m.model,
                             m.provisioned_rps, m.capacity_rps, fmt::join(m.configurations, "; "));
  }
  EXPECT_GE(result.summary.gpus, 1);
}

TEST(WholeGpuPlannerBundledTest, A100Mig) {
  PlanBundled("a100-parvagpu.csv", "a100-mig.workload.yaml", "A100-SXM4-80GB");
}

TEST(WholeGpuPlannerBundledTest, H100Sm) {
  PlanBundled("h100-sm-partitions.csv", "h100-sm.workload.yaml", "H100-SXM5-80GB");
}

}  // namespace
}  // namespace tessera::planners
