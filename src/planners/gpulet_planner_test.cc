#include <iostream>
#include <map>
#include <numeric>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/planners/interference.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class GpuletPlannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(registry_, models::LoadDefaultModelRegistry());
    ASSERT_OK_AND_ASSIGN(planner_, Planner::Create("gpulet"));
    options_.gpu = "h100";
    options_.rate_quantile = 0;  // provision the mean: the arithmetic below stays exact
  }

  // Adds procs-1 H100 rows of `model` at `input` on `partition`: batch -> latency.
  void AddRows(const std::string& partition, const std::string& model, int input,
               const std::map<int, double>& latency_ms) {
    for (const auto& [batch, ms] : latency_ms) {
      perf::ProfileRow row;
      row.key = {"H100-SXM5-80GB", *hw::ParsePartition(partition), model, input, batch, 1};
      row.latency_ms = ms;
      ASSERT_OK(profiles_.Add(row));
    }
  }

  void AddModel(const std::string& model, double slo_ms, int input, double rate_rps) {
    workload_.models.push_back({model, slo_ms, {.fixed = input}, {.rate_rps = rate_rps}});
  }

  // The hand-checked case (limits: latency <= SLO / 2.2):
  //   resnet50 SLO 30 (13.6 ms): sm:32 batch 16 at 8 ms = 2000 rps (62.5 per SM), sm:64 batch 32
  //     at 9 ms = 3556 rps (55.6 per SM): best sm:32; 4500 rps = 2 saturated + 500 residual
  //     (duty 0.25 on sm:32).
  //   bert_base SLO 40 (18.2 ms): sm:32 batch 8 at 7 ms = 1143 rps (35.7 per SM), sm:64 batch 16
  //     at 8 ms = 2000 rps (31.25 per SM); 400 rps: residual, right-sized sm:32 (duty 0.35).
  //   gpt2 SLO 50 (22.7 ms): sm:32 batch 2 at 16 ms = 125 rps, sm:64 batch 4 at 12 ms = 333 rps;
  //     200 rps: residual, right-sized sm:64 (duty 0.6).
  // Merging by SM demand (64 x 0.6 > 32 x 0.35 > 32 x 0.25): gpt2 opens an sm:64 gpulet; bert
  // joins it on sm:64 (duty 0.2, sum 0.8; 1.1 x (12 + 12 + 8) = 35.2 <= 50 and
  // 1.1 x (8 + 8 + 12) = 30.8 <= 40); resnet50 cannot (1.1 x (9 + 9 + 12 + 8) = 41.8 > 30) and
  // takes its own sm:32. Packing 64 + 32 + 32 | 32 SMs: 2 GPUs.
  void AddHandCheckedCase() {
    AddRows("sm:32", "resnet50", 224, {{8, 5}, {16, 8}, {32, 16}});
    AddRows("sm:64", "resnet50", 224, {{16, 5}, {32, 9}, {64, 16}});
    AddRows("sm:32", "bert_base", 128, {{4, 4}, {8, 7}, {16, 20}});
    AddRows("sm:64", "bert_base", 128, {{8, 4}, {16, 8}, {32, 19}});
    AddRows("sm:32", "gpt2", 256, {{1, 10}, {2, 16}, {4, 30}});
    AddRows("sm:64", "gpt2", 256, {{2, 8}, {4, 12}, {8, 23}});
    AddModel("resnet50", 30, 224, 4500);
    AddModel("bert_base", 40, 128, 400);
    AddModel("gpt2", 50, 256, 200);
  }

  absl::StatusOr<PlanResult> Run(const Planner& planner) {
    return planner.Run({&catalog_, &profiles_, &workload_, &registry_}, options_);
  }
  absl::StatusOr<PlanResult> Run() { return Run(*planner_); }

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

TEST_F(GpuletPlannerTest, HandCheckedCase) {
  AddHandCheckedCase();
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  ExpectValid(result);
  ASSERT_EQ(result.summary.gpus, 2);
  const auto& gpu0 = result.plan.gpus[0].partitions;
  ASSERT_EQ(gpu0.size(), 3u);
  EXPECT_EQ(gpu0[0].partition.ToString(), "sm:64");
  const auto& shared = gpu0[0].assignments;
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[0].model, "gpt2");
  EXPECT_EQ(shared[0].batch, 4);
  EXPECT_NEAR(shared[0].share, 0.6 / 0.8, 1e-9);
  EXPECT_EQ(shared[1].model, "bert_base");
  EXPECT_EQ(shared[1].batch, 16);
  EXPECT_NEAR(shared[1].share, 0.2 / 0.8, 1e-9);
  for (int p : {1, 2}) {
    EXPECT_EQ(gpu0[p].partition.ToString(), "sm:32");
    ASSERT_EQ(gpu0[p].assignments.size(), 1u);
    EXPECT_EQ(gpu0[p].assignments[0].model, "resnet50");
    EXPECT_EQ(gpu0[p].assignments[0].batch, 16);
    EXPECT_EQ(gpu0[p].assignments[0].share, 1.0);
  }
  const auto& gpu1 = result.plan.gpus[1].partitions;
  ASSERT_EQ(gpu1.size(), 1u);
  EXPECT_EQ(gpu1[0].partition.ToString(), "sm:32");
  EXPECT_EQ(gpu1[0].assignments[0].model, "resnet50");
  const ModelPlanSummary& resnet = result.summary.models[0];
  EXPECT_DOUBLE_EQ(resnet.provisioned_rps, 4500);
  // Capacities are at the budgeted slowdown: batch / (1.1 x latency).
  EXPECT_NEAR(resnet.capacity_rps, 6000 / 1.1, 1e-6);
  EXPECT_THAT(resnet.configurations, Contains("sm:32 batch 16 procs 1 x2 (saturated)"));
  EXPECT_THAT(resnet.configurations, Contains("sm:32 batch 16 procs 1 x1 (residual)"));
  EXPECT_NEAR(result.summary.models[2].capacity_rps, 0.75 * 1000.0 * 4 / (1.1 * 12), 1e-6);
  EXPECT_EQ(result.summary.termination, Termination::kHeuristic);
  EXPECT_THAT(result.summary.notes,
              Contains("4 gpulets: 2 saturated, 1 residual alone, 1 shared by 2-3 models"));
  EXPECT_THAT(result.summary.notes, Contains(HasSubstr("gpulet sizes: sm:32, sm:64")));
  EXPECT_THAT(result.summary.notes, Contains(HasSubstr("constant interference: every batch 1.1x")));
}

// 2 x 1.1 x latency <= SLO, the 1.1 from the interference model.
TEST_F(GpuletPlannerTest, BatchMeetsTwiceTheInterferenceFactorTimesLatency) {
  // SLO 22: batch 8 at 10 ms is exactly 2 x 1.1 x 10; batch 16 at 10.5 ms would pass 2 x latency
  // (21) but not 2 x 1.1 x latency (23.1).
  AddRows("sm:32", "resnet50", 224, {{4, 4}, {8, 10}, {16, 10.5}});
  AddModel("resnet50", 22, 224, 100);
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  EXPECT_EQ(result.plan.gpus[0].partitions[0].assignments[0].batch, 8);

  std::unique_ptr<Planner> none = NewGpuletPlanner(std::make_shared<ConstantInterference>(1.0));
  ASSERT_OK_AND_ASSIGN(result, Run(*none));
  EXPECT_EQ(result.plan.gpus[0].partitions[0].assignments[0].batch, 16);

  std::unique_ptr<Planner> heavy = NewGpuletPlanner(std::make_shared<ConstantInterference>(1.3));
  ASSERT_OK_AND_ASSIGN(result, Run(*heavy));
  EXPECT_EQ(result.plan.gpus[0].partitions[0].assignments[0].batch, 4);  // 2.6 x 10 > 22
}

TEST_F(GpuletPlannerTest, AtMostThreeModelsShareAGpulet) {
  // Five light models that all fit one sm:32 by duty (0.01 each) and SLO (1.1 x 6 ms << 100).
  for (const char* model : {"resnet50", "vgg16", "mobilenet_v2", "bert_base", "gpt2"}) {
    int input = std::string(model) == "bert_base" ? 128 : std::string(model) == "gpt2" ? 256 : 224;
    AddRows("sm:32", model, input, {{1, 1}});
    AddModel(model, 100, input, 10);
  }
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  ExpectValid(result);
  ASSERT_EQ(result.summary.gpus, 1);
  const auto& partitions = result.plan.gpus[0].partitions;
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].assignments.size(), 3u);
  EXPECT_EQ(partitions[1].assignments.size(), 2u);
  for (const plan::PlanPartition& p : partitions) {
    double shares = 0;
    for (const plan::Assignment& a : p.assignments) shares += a.share;
    EXPECT_NEAR(shares, 1.0, 1e-9);
  }
}

TEST_F(GpuletPlannerTest, NoPartitionMeetingTheSloIsInfeasibleWithTheReason) {
  AddRows("sm:32", "resnet50", 224, {{1, 2}, {4, 4}});
  AddRows("sm:64", "resnet50", 224, {{1, 1.5}, {4, 3}});
  AddModel("resnet50", 3, 224, 100);  // 2 x 1.1 x 1.5 = 3.3 > 3
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_EQ(result.summary.termination, Termination::kInfeasible);
  EXPECT_EQ(result.summary.reason,
            "resnet50: no batch on any SM partition (sm:32, sm:64) meets 2 x 1.1 x latency <= SLO "
            "3 ms (the fastest takes 1.5 ms)");
  EXPECT_TRUE(result.plan.gpus.empty());
}

TEST_F(GpuletPlannerTest, NoSmPartitionProfiledIsInfeasible) {
  AddModel("resnet50", 30, 224, 100);
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("no SM partition (sm:N) profiled"));
}

TEST_F(GpuletPlannerTest, MaxGpusBoundsThePlan) {
  AddHandCheckedCase();
  options_.max_gpus = 1;
  ASSERT_OK_AND_ASSIGN(PlanResult result, Run());
  EXPECT_FALSE(result.summary.feasible);
  EXPECT_THAT(result.summary.reason, HasSubstr("needs 2 GPUs, more than max_gpus 1"));
}

// An interference model that budgets 1.1 but slows everything next to gpt2 by 1.5.
class Gpt2IsANoisyNeighbour : public InterferenceModel {
 public:
  std::string Describe() const override { return "gpt2 is a noisy neighbour"; }
  double BudgetSlowdown(const InterferenceJob&) const override { return 1.1; }
  double Slowdown(const InterferenceJob& job,
                  const std::vector<InterferenceJob>& neighbours) const override {
    if (neighbours.empty()) return 1.0;
    for (const InterferenceJob& n : neighbours) {
      if (n.model == "gpt2" && job.model != "gpt2") return 1.5;
    }
    return 1.1;
  }
};

TEST_F(GpuletPlannerTest, PackingKeepsApartWhatTheInterferenceModelForbids) {
  // resnet50 on sm:32 at batch 16 takes 8 ms: 1.1 x 16 = 17.6 <= 19, but 1.5 x 16 = 24 > 19;
  // sharing a gpulet with gpt2 breaks its SLO (1.1 x (8 + 8 + 2) = 19.8 > 19).
  AddRows("sm:32", "resnet50", 224, {{16, 8}});
  AddRows("sm:32", "gpt2", 256, {{1, 2}});
  AddModel("resnet50", 19, 224, 1000);
  AddModel("gpt2", 50, 256, 100);
  ASSERT_OK_AND_ASSIGN(PlanResult together, Run());
  EXPECT_EQ(together.summary.gpus, 1);
  std::unique_ptr<Planner> planner = NewGpuletPlanner(std::make_shared<Gpt2IsANoisyNeighbour>());
  ASSERT_OK_AND_ASSIGN(PlanResult apart, Run(*planner));
  ASSERT_TRUE(apart.summary.feasible);
  ExpectValid(apart);
  EXPECT_EQ(apart.summary.gpus, 2);
}

TEST(ConstantInterferenceTest, FactorOnlyWithNeighbours) {
  ConstantInterference interference(1.1);
  InterferenceJob job{"resnet50", 32, 16, 224};
  EXPECT_DOUBLE_EQ(interference.BudgetSlowdown(job), 1.1);
  EXPECT_DOUBLE_EQ(interference.Slowdown(job, {}), 1.0);
  EXPECT_DOUBLE_EQ(interference.Slowdown(job, {{"bert_base", 64, 8, 128}}), 1.1);
}

// The bundled H100 mix plans to a valid plan on the H100 SM-partition profiles.
TEST(GpuletPlannerBundledTest, H100Mix) {
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  ASSERT_OK_AND_ASSIGN(std::string data, DataDir());
  ASSERT_OK_AND_ASSIGN(
      perf::ProfileTable profiles,
      perf::LoadProfileCsv(data + "/profiles/h100-sm-partitions.csv", catalog, registry));
  ASSERT_OK_AND_ASSIGN(
      workload::Workload w,
      workload::LoadWorkloadFile(data + "/examples/h100-mix.workload.yaml", registry));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Planner> planner, Planner::Create("gpulet"));
  PlannerOptions options;
  options.gpu = "h100";
  ASSERT_OK_AND_ASSIGN(PlanResult result,
                       planner->Run({&catalog, &profiles, &w, &registry}, options));
  ASSERT_TRUE(result.summary.feasible) << result.summary.reason;
  EXPECT_OK(plan::ValidatePlan(result.plan, {&catalog, &profiles, &w, &registry}));
  std::cout << fmt::format("gpulet on h100-mix: {} GPUs\n", result.summary.gpus);
  for (const ModelPlanSummary& m : result.summary.models) {
    std::cout << fmt::format("  {}: {:.0f} rps provisioned, {:.0f} rps capacity, {}\n", m.model,
                             m.provisioned_rps, m.capacity_rps, fmt::join(m.configurations, "; "));
    EXPECT_GE(m.capacity_rps, m.provisioned_rps - 1e-6) << m.model;
  }
  for (const plan::PlanGpu& g : result.plan.gpus) {
    for (const plan::PlanPartition& p : g.partitions) EXPECT_LE(p.assignments.size(), 3u);
  }
}

}  // namespace
}  // namespace tessera::planners
