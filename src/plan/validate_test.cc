#include <string>
#include <utility>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/plan/plan.h"

namespace tessera::plan {
namespace {

using ::tessera::testing::IsOk;
using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

hw::MigProfile Profile(std::string name, int g, int size, int sms, int64_t mib, int max_count,
                       std::vector<int> starts) {
  hw::MigProfile p;
  p.name = std::move(name);
  p.compute_slices = g;
  p.memory_slices = size;
  p.sms = sms;
  p.memory_mib = mib;
  p.max_count = max_count;
  p.starts = std::move(starts);
  return p;
}

// An H100 as the NVML table has it, plus a total memory so the SM-partition memory rule applies.
hw::GpuModel H100() {
  hw::GpuModel gpu;
  gpu.name = "H100-SXM5-80GB";
  gpu.aliases = {"h100"};
  gpu.sms = 132;
  gpu.memory_mib = 81559;
  gpu.compute_slices = 7;
  gpu.memory_slices = 8;
  gpu.sm_partition = {8, 8, {}};
  gpu.profiles = {Profile("1g.10gb", 1, 1, 16, 9984, 7, {0, 1, 2, 3, 4, 5, 6}),
                  Profile("2g.20gb", 2, 2, 32, 20096, 3, {0, 2, 4}),
                  Profile("3g.40gb", 3, 4, 60, 40448, 2, {0, 4}),
                  Profile("4g.40gb", 4, 4, 64, 40448, 1, {0}),
                  Profile("7g.80gb", 7, 8, 132, 81152, 1, {0})};
  return gpu;
}

models::ModelInfo Model(std::string name, std::vector<std::string> aliases, models::InputUnit unit,
                        int reference, int max) {
  models::ModelInfo m;
  m.name = std::move(name);
  m.aliases = std::move(aliases);
  m.input_unit = unit;
  m.reference_input = reference;
  m.max_input = max;
  return m;
}

class ValidatePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddRows("sm:64", "resnet50", 224, {8, 16}, 300);
    AddRows("sm:64", "bert_base", 128, {4, 8}, 450);
    AddRows("sm:64", "bert_base", 512, {4, 8}, 600);
    AddRows("3g.40gb", "resnet50", 224, {8, 16}, 300);
    AddRows("2g.20gb", "bert_base", 512, {4}, 600);
    AddRows("1g.10gb", "resnet50", 224, {8}, 30000);  // a made-up size for the memory rule
    workload_.models = {{"resnet50", 15, Fixed(224), {}}, {"bert_base", 25, Uniform(1, 512), {}}};
  }

  void AddRows(const std::string& partition, const std::string& model, int input,
               std::vector<int> batches, double memory_mib) {
    for (int batch : batches) {
      perf::ProfileRow row;
      row.key = {"H100-SXM5-80GB", *hw::ParsePartition(partition), model, input, batch, 1};
      row.latency_ms = batch * 0.5;
      row.memory_mib = memory_mib;
      ASSERT_OK(profiles_.Add(row));
    }
  }

  static workload::InputDistribution Fixed(int size) {
    workload::InputDistribution d;
    d.kind = workload::InputDistribution::Kind::kFixed;
    d.fixed = size;
    return d;
  }
  static workload::InputDistribution Uniform(int min, int max) {
    workload::InputDistribution d;
    d.kind = workload::InputDistribution::Kind::kUniform;
    d.min = min;
    d.max = max;
    return d;
  }

  // GPU 0 in SM partitions, GPU 1 in MIG instances; valid against everything above.
  static Plan GoodPlan() {
    Plan plan;
    plan.name = "good";
    PlanGpu sm{0, "", "H100-SXM5-80GB", {}};
    sm.partitions.push_back({hw::Partition::Sm(64), std::nullopt, {{"resnet50", 0, 224, 16}}});
    sm.partitions.push_back(
        {hw::Partition::Sm(64),
         std::nullopt,
         {{"bert_base", 0, 128, 8, 1, 0.6}, {"bert_base", 129, 512, 4, 1, 0.4}}});
    PlanGpu mig{1, "", "H100-SXM5-80GB", {}};
    mig.partitions.push_back({hw::Partition::Mig("3g.40gb"), 4, {{"resnet50", 0, 224, 8}}});
    mig.partitions.push_back({hw::Partition::Mig("2g.20gb"), 0, {{"bert_base", 0, 512, 4}}});
    mig.partitions.push_back({hw::Partition::Mig("1g.10gb"), 2, {}});  // idle is legal
    plan.gpus = {sm, mig};
    return plan;
  }

  absl::Status Validate(const Plan& plan) {
    return ValidatePlan(plan, {&catalog_, &profiles_, &workload_, &registry_});
  }

  PlanPartition& Part(Plan& plan, int g, int p) { return plan.gpus[g].partitions[p]; }

  hw::Catalog catalog_{{H100()}};
  models::ModelRegistry registry_{
      {Model("resnet50", {}, models::InputUnit::kPixels, 224, 224),
       Model("bert_base", {"bert"}, models::InputUnit::kTokens, 128, 512)}};
  perf::ProfileTable profiles_;
  workload::Workload workload_;
};

// Expects exactly one problem, containing `text`.
#define EXPECT_ONE_PROBLEM(status, text)                                            \
  do {                                                                              \
    absl::Status s_ = (status);                                                     \
    EXPECT_THAT(s_, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(text))); \
    EXPECT_THAT(std::string(s_.message()), Not(HasSubstr("\n"))) << s_;             \
  } while (false)

TEST_F(ValidatePlanTest, GoodPlanIsValid) { EXPECT_OK(Validate(GoodPlan())); }

TEST_F(ValidatePlanTest, OnlyTheCatalogIsRequired) {
  Plan plan = GoodPlan();
  Part(plan, 0, 0).assignments[0].model = "not-in-any-registry";
  EXPECT_OK(ValidatePlan(plan, {&catalog_}));
}

TEST_F(ValidatePlanTest, IllegalMigOverlap) {
  Plan plan = GoodPlan();
  Part(plan, 1, 2).start = 1;  // 1g at slice 1 lands inside 2g.20gb@0
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1].partitions[2]: 1g.10gb@1 conflicts with gpus[1].partitions[1] "
                     "(2g.20gb@0): 1g.10gb at start 1: overlaps another instance's memory slices");
}

TEST_F(ValidatePlanTest, MigStartNotAllowed) {
  Plan plan = GoodPlan();
  Part(plan, 1, 0).start = 2;
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1].partitions[0]: 3g.40gb at start 2: start not allowed; 3g.40gb may "
                     "start at 0, 4");
}

TEST_F(ValidatePlanTest, MigProfileTheGpuLacks) {
  Plan plan = GoodPlan();
  Part(plan, 1, 2).partition = hw::Partition::Mig("1g.5gb");
  EXPECT_ONE_PROBLEM(Validate(plan), "gpus[1].partitions[2]: H100-SXM5-80GB has no MIG profile");
}

TEST_F(ValidatePlanTest, SmPartitionsOverTheGpusSms) {
  Plan plan = GoodPlan();
  plan.gpus[0].partitions.push_back({hw::Partition::Sm(32), std::nullopt, {}});
  plan.gpus[0].partitions.push_back({hw::Partition::Sm(8), std::nullopt, {}});
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[0]: SM partitions take 168 SMs, more than the 132 of a H100-SXM5-80GB");
}

TEST_F(ValidatePlanTest, NonGranularSmPartition) {
  Plan plan = GoodPlan();
  Part(plan, 0, 1).partition = hw::Partition::Sm(60);
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[0].partitions[1]: sm:60 is not a legal SM partition on H100-SXM5-80GB");
}

TEST_F(ValidatePlanTest, MpsOverOneHundredPercent) {
  Plan plan = GoodPlan();
  plan.gpus[0].partitions = {{hw::Partition::Mps(60), std::nullopt, {}},
                             {hw::Partition::Mps(50), std::nullopt, {}}};
  EXPECT_ONE_PROBLEM(Validate(plan), "gpus[0]: MPS shares add up to 110%, more than 100%");
}

TEST_F(ValidatePlanTest, MixedMigAndSmOnOneGpu) {
  Plan plan = GoodPlan();
  plan.gpus[1].partitions.push_back({hw::Partition::Sm(16), std::nullopt, {}});
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1]: mixes MIG instances (3g.40gb@4) with SM/MPS partitions (sm:16)");
}

TEST_F(ValidatePlanTest, SharesAboveOne) {
  Plan plan = GoodPlan();
  Part(plan, 0, 1).assignments[1].share = 0.5;
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[0].partitions[1]: the assignments' shares add up to 1.1, more than 1");
}

TEST_F(ValidatePlanTest, UnknownGpuModel) {
  Plan plan = GoodPlan();
  plan.gpus[1].gpu = "V100";
  EXPECT_ONE_PROBLEM(Validate(plan), "gpus[1].gpu: unknown GPU model 'V100'");
}

TEST_F(ValidatePlanTest, AliasesAreNotCanonicalNames) {
  Plan plan = GoodPlan();
  plan.gpus[1].gpu = "h100";
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1].gpu: 'h100' is an alias; write the canonical name "
                     "'H100-SXM5-80GB'");
  plan = GoodPlan();
  Part(plan, 1, 1).assignments[0].model = "bert";
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1].partitions[1].assignments[0]: model 'bert' is an "
                     "alias; write the canonical name 'bert_base'");
}

TEST_F(ValidatePlanTest, DuplicateGpuIndex) {
  Plan plan = GoodPlan();
  plan.gpus[1].index = 0;
  EXPECT_ONE_PROBLEM(Validate(plan), "gpus[1]: index 0 is also used by gpus[0]");
}

TEST_F(ValidatePlanTest, UnknownModel) {
  Plan plan = GoodPlan();
  Part(plan, 1, 2).assignments.push_back({"vgg16", 0, 224, 8});
  EXPECT_ONE_PROBLEM(Validate(plan), "gpus[1].partitions[2].assignments[0]: ");
  EXPECT_THAT(Validate(plan), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vgg16")));
}

TEST_F(ValidatePlanTest, InputAboveTheModelsLargest) {
  Plan plan = GoodPlan();
  Part(plan, 0, 1).assignments[1].input_max = 1024;
  absl::Status status = ValidatePlan(plan, {&catalog_, nullptr, &workload_, &registry_});
  EXPECT_ONE_PROBLEM(status,
                     "gpus[0].partitions[1].assignments[1]: input_max 1024 is above "
                     "bert_base's largest input 512 (tokens)");
}

TEST_F(ValidatePlanTest, ConfigurationMissingFromProfiles) {
  Plan plan = GoodPlan();
  Part(plan, 1, 1).assignments[0].procs = 3;  // profiled with one process only
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1].partitions[1].assignments[0]: the profiles have no "
                     "H100-SXM5-80GB 2g.20gb bert_base input 512 batch 4 procs 3");
}

TEST_F(ValidatePlanTest, MigMemoryOverflow) {
  Plan plan = GoodPlan();
  Part(plan, 1, 2).assignments.push_back({"resnet50", 0, 224, 8});  // 30000 + 550 > 9984
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "gpus[1].partitions[2]: models need 30550 MiB (profiled memory plus 550 MiB "
                     "of CUDA context per process), more than the 9984 MiB of 1g.10gb");
}

TEST_F(ValidatePlanTest, GpuMemoryOverflowForSmPartitions) {
  AddRows("sm:32", "resnet50", 224, {8}, 40000);
  Plan plan = GoodPlan();
  plan.gpus[0].partitions.pop_back();
  plan.gpus[0].partitions.push_back(
      {hw::Partition::Sm(32), std::nullopt, {{"resnet50", 0, 224, 8, 1, 0.5}}});
  plan.gpus[0].partitions.push_back(
      {hw::Partition::Sm(32), std::nullopt, {{"resnet50", 0, 224, 8, 1, 0.5}}});
  // 300 + 550 for sm:64, twice 40000 + 550 for the sm:32 pair.
  EXPECT_ONE_PROBLEM(Validate(plan), "gpus[0]: models need 81950 MiB");
}

TEST_F(ValidatePlanTest, UnknownGpuMemoryIsSkippedSilently) {
  hw::GpuModel gpu = H100();
  gpu.memory_mib.reset();
  gpu.profiles[0].memory_mib.reset();
  hw::Catalog catalog({gpu});
  AddRows("sm:32", "resnet50", 224, {8}, 90000);
  Plan plan = GoodPlan();
  Part(plan, 0, 0).partition = hw::Partition::Sm(32);
  Part(plan, 0, 0).assignments = {{"resnet50", 0, 224, 8}};
  Part(plan, 1, 2).assignments.push_back({"resnet50", 0, 224, 8});
  EXPECT_OK(ValidatePlan(plan, {&catalog, &profiles_, &workload_, &registry_}));
}

TEST_F(ValidatePlanTest, WorkloadModelNotServed) {
  Plan plan = GoodPlan();
  Part(plan, 1, 1).assignments.clear();
  Part(plan, 0, 1).assignments.clear();
  EXPECT_ONE_PROBLEM(Validate(plan), "workload.models[1] (bert_base): not served");
}

TEST_F(ValidatePlanTest, ServedModelMissingFromTheWorkload) {
  workload_.models.pop_back();
  absl::Status status = Validate(GoodPlan());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("gpus[0].partitions[1].assignments[0]: model bert_base is "
                                         "not in the workload")));
  EXPECT_OK(ValidatePlan(GoodPlan(), {&catalog_, &profiles_, nullptr, &registry_}));
}

TEST_F(ValidatePlanTest, BucketsNotCoveringTheInputs) {
  Plan plan = GoodPlan();
  Part(plan, 1, 1).assignments[0].input_min = 300;  // GPU 1 now serves bert_base 300..512 only
  Part(plan, 0, 1).assignments[0].input_min = 10;   // GPU 0 serves 10..128, 129..512
  EXPECT_ONE_PROBLEM(Validate(plan),
                     "workload.models[1] (bert_base): input sizes 1..9 fall in no "
                     "assignment's [input_min, input_max]");
  workload::InputDistribution empirical;
  empirical.kind = workload::InputDistribution::Kind::kEmpirical;
  empirical.sizes = {4, 9, 64, 512};
  empirical.weights = {0.25, 0.25, 0.25, 0.25};
  workload_.models[1].input = empirical;
  EXPECT_ONE_PROBLEM(Validate(plan), "input sizes 4, 9 fall in no");
  workload_.models[0].input = Fixed(200);
  Part(plan, 0, 0).assignments[0].input_min = 201;
  Part(plan, 1, 0).assignments[0].input_min = 224;
  EXPECT_THAT(Validate(plan),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("workload.models[0] (resnet50): input sizes 200 ")));
}

TEST_F(ValidatePlanTest, ListsEveryProblemOnItsOwnLine) {
  Plan plan = GoodPlan();
  Part(plan, 1, 0).start = 2;
  Part(plan, 0, 1).partition = hw::Partition::Sm(60);
  Part(plan, 0, 1).assignments[0].share = 0.9;
  plan.gpus[1].gpu = "V100";
  absl::Status status = Validate(plan);
  ASSERT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(std::string(status.message()),
            "gpus[0].partitions[1]: sm:60 is not a legal SM partition on H100-SXM5-80GB: green "
            "contexts grant at least 8 SMs in multiples of 8 (use sm:64)\n"
            "gpus[0].partitions[1]: the assignments' shares add up to 1.3, more than 1 (the "
            "whole partition's time)\n"
            "gpus[1].gpu: unknown GPU model 'V100'; known models: H100-SXM5-80GB");
}

// The bundled examples (data/examples) load, round-trip and validate against the bundled catalog,
// registry and profiles and their own workloads.
TEST(BundledExamplesTest, Validate) {
  ASSERT_OK_AND_ASSIGN(std::string data, DataDir());
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(models::ModelRegistry registry, models::LoadDefaultModelRegistry());
  for (const auto& [name, profiles_csv] : {std::pair{"h100-sm", "h100-sm-partitions.csv"},
                                           std::pair{"a100-mig", "a100-parvagpu.csv"}}) {
    SCOPED_TRACE(name);
    const std::string stem = fmt::format("{}/examples/{}", data, name);
    ASSERT_OK_AND_ASSIGN(Plan plan, LoadPlanFile(stem + ".plan.yaml"));
    EXPECT_THAT(ParsePlan(PlanToYaml(plan), "round-trip"), IsOkAndHolds(plan));
    ASSERT_OK_AND_ASSIGN(workload::Workload workload,
                         workload::LoadWorkloadFile(stem + ".workload.yaml", registry));
    ASSERT_OK_AND_ASSIGN(
        perf::ProfileTable profiles,
        perf::LoadProfileCsv(fmt::format("{}/profiles/{}", data, profiles_csv), catalog, registry));
    EXPECT_OK(ValidatePlan(plan, {&catalog, &profiles, &workload, &registry}));
  }
}

}  // namespace
}  // namespace tessera::plan
