#include "tessera/plan/plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::plan {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kExample[] = R"(name: h100-sm-example
planner: hand-written
gpus:
  - index: 0
    gpu: H100-SXM5-80GB
    partitions:
      - partition: sm:64
        assignments:
          - {model: resnet50, input_max: 224, batch: 16}
  - index: 1
    gpu: H100-SXM5-80GB
    partitions:
      - partition: 3g.40gb
        start: 4
        assignments:
          - {model: bert_base, input_min: 1, input_max: 128, batch: 8, procs: 2, share: 0.6}
          - {model: bert_base, input_min: 129, input_max: 512, batch: 4, share: 0.4}
)";

Plan ExamplePlan() {
  Plan plan;
  plan.name = "h100-sm-example";
  plan.planner = "hand-written";
  PlanGpu gpu;
  gpu.gpu = "H100-SXM5-80GB";
  gpu.partitions.push_back({hw::Partition::Sm(64), std::nullopt, {{"resnet50", 0, 224, 16, 1, 1}}});
  plan.gpus.push_back(gpu);
  gpu.index = 1;
  gpu.partitions.clear();
  gpu.partitions.push_back(
      {hw::Partition::Mig("3g.40gb"),
       4,
       {{"bert_base", 1, 128, 8, 2, 0.6}, {"bert_base", 129, 512, 4, 1, 0.4}}});
  plan.gpus.push_back(gpu);
  return plan;
}

// A plan exercising what the writers must quote or omit.
Plan AwkwardPlan() {
  Plan plan = ExamplePlan();
  plan.name = "needs: quoting, #really";
  plan.planner = "";
  PlanGpu gpu;
  gpu.index = 3;
  gpu.uuid = "GPU-5f1e2d3c-0000-1111-2222-333344445555";
  gpu.gpu = "h100";
  gpu.partitions.push_back({hw::Partition::Mps(40), std::nullopt, {}});
  gpu.partitions.push_back(
      {hw::Partition::Mps(60), std::nullopt, {{"null", 0, 7, 1, 5, 0.1 + 0.2}}});
  plan.gpus.push_back(gpu);
  plan.gpus.push_back({7, "", "A30-24GB", {}});
  return plan;
}

TEST(ParsePlanTest, ReadsTheHeaderExample) {
  absl::StatusOr<Plan> plan = ParsePlan(kExample, "example.yaml");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(*plan, ExamplePlan());
}

TEST(ParsePlanTest, YamlRoundTripsExactly) {
  for (const Plan& plan : {ExamplePlan(), AwkwardPlan(), Plan()}) {
    std::string yaml = PlanToYaml(plan);
    absl::StatusOr<Plan> back = ParsePlan(yaml, "round-trip.yaml");
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << yaml;
    EXPECT_EQ(*back, plan) << yaml;
    EXPECT_EQ(PlanToYaml(*back), yaml);
  }
}

TEST(ParsePlanTest, YamlIsReadableWithFlowAssignments) {
  EXPECT_EQ(PlanToYaml(ExamplePlan()), kExample);
}

TEST(ParsePlanTest, JsonRoundTripsExactly) {
  for (const Plan& plan : {ExamplePlan(), AwkwardPlan(), Plan()}) {
    std::string text = PlanToJson(plan).dump(2);
    absl::StatusOr<Plan> back = ParsePlan(text, "round-trip.json");
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    EXPECT_EQ(*back, plan) << text;
  }
}

TEST(ParsePlanTest, JsonHasEveryAssignmentField) {
  std::string text = PlanToJson(ExamplePlan()).dump();
  EXPECT_THAT(text, HasSubstr(R"({"model":"resnet50","input_min":0,"input_max":224,"batch":16,)"
                              R"("procs":1,"share":1.0})"));
  EXPECT_THAT(text, HasSubstr(R"("partition":"3g.40gb","start":4,)"));
}

TEST(ParsePlanTest, JsonErrorsHaveLineAndColumn) {
  constexpr char kJson[] =
      "{\n  \"gpus\": [\n    {\"index\": 0, \"gpu\": \"h100\", \"partitions\": 3}\n  ]\n}\n";
  EXPECT_THAT(ParsePlan(kJson, "p.json"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.json:3:47: field gpus[0].partitions: expected a list")));
}

TEST(DebugStringTest, DrawsPartitionsAndAssignments) {
  Plan plan = ExamplePlan();
  plan.gpus[1].partitions.push_back({hw::Partition::Mig("2g.20gb"), 0, {}});
  plan.gpus[0].uuid = "GPU-1234";
  EXPECT_EQ(plan.DebugString(),
            "plan h100-sm-example (planner hand-written), 2 GPU(s)\n"
            "gpu 0 H100-SXM5-80GB GPU-1234: [sm:64]\n"
            "  partitions[0] sm:64:\n"
            "    resnet50 inputs 0..224 batch 16 procs 1 share 1\n"
            "gpu 1 H100-SXM5-80GB: [2g.20gb@0][3g.40gb@4]\n"
            "  partitions[0] 3g.40gb@4:\n"
            "    bert_base inputs 1..128 batch 8 procs 2 share 0.6\n"
            "    bert_base inputs 129..512 batch 4 procs 1 share 0.4\n"
            "  partitions[1] 2g.20gb@0: idle\n");
}

// One malformed document per structural rule; each error names file, line, column and field.
struct Malformed {
  const char* name;
  const char* yaml;
  const char* error;
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class MalformedPlanTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedPlanTest, IsALocatedInvalidArgument) {
  EXPECT_THAT(ParsePlan(GetParam().yaml, "bad.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().error)));
}

constexpr char kHead[] = "gpus:\n  - index: 0\n    gpu: h100\n    partitions:\n";

std::string WithPartition(std::string partition) { return kHead + partition; }

const std::string kMissingField = WithPartition(
    "      - partition: sm:64\n        assignments:\n          - {model: resnet50, batch: 8}\n");
const std::string kUnknownKey = WithPartition("      - partition: sm:64\n        gpu: 1\n");
const std::string kWrongType = WithPartition(
    "      - partition: sm:64\n        assignments:\n"
    "          - {model: resnet50, input_max: 224, batch: eight}\n");
const std::string kBadPartition = WithPartition("      - partition: sm:0\n");
const std::string kBatchZero = WithPartition(
    "      - partition: sm:64\n        assignments:\n"
    "          - {model: resnet50, input_max: 224, batch: 0}\n");
const std::string kShare = WithPartition(
    "      - partition: sm:64\n        assignments:\n"
    "          - {model: resnet50, input_max: 224, batch: 8, share: 1.5}\n");
const std::string kBucket = WithPartition(
    "      - partition: sm:64\n        assignments:\n"
    "          - {model: bert_base, input_min: 300, input_max: 128, batch: 8}\n");
const std::string kNoStart = WithPartition("      - partition: 3g.40gb\n        assignments: []\n");
const std::string kSmStart = WithPartition("      - partition: sm:64\n        start: 0\n");
const std::string kProcs = WithPartition(
    "      - partition: mps:50\n        assignments:\n"
    "          - {model: resnet50, input_max: 224, batch: 8, procs: 0}\n");

INSTANTIATE_TEST_SUITE_P(
    Structure, MalformedPlanTest,
    ::testing::Values(
        Malformed{"Empty", "", "bad.yaml: document: the document is empty"},
        Malformed{"MissingGpus", "name: x\n", "field gpus: missing required field"},
        Malformed{"MissingGpuModel", "gpus:\n  - {index: 0, partitions: []}\n",
                  "bad.yaml:2:5: field gpus[0].gpu: missing required field"},
        Malformed{"MissingInputMax", kMissingField.c_str(),
                  "bad.yaml:7:13: field gpus[0].partitions[0].assignments[0].input_max: "
                  "missing required field"},
        Malformed{"UnknownKey", kUnknownKey.c_str(),
                  "bad.yaml:6:9: field gpus[0].partitions[0].gpu: unknown key 'gpu'; expected "
                  "one of: partition, start, assignments"},
        Malformed{"WrongType", kWrongType.c_str(),
                  "bad.yaml:7:54: field gpus[0].partitions[0].assignments[0].batch: expected an "
                  "integer, found 'eight'"},
        Malformed{"ListWhereMappingBelongs", "gpus: {index: 0}\n",
                  "bad.yaml:1:7: field gpus: expected a list, found a mapping"},
        Malformed{"BadPartitionText", kBadPartition.c_str(),
                  "bad.yaml:5:20: field gpus[0].partitions[0].partition: partition 'sm:0': "
                  "expected sm:N with N a positive SM count"},
        Malformed{"BatchZero", kBatchZero.c_str(),
                  "bad.yaml:7:54: field gpus[0].partitions[0].assignments[0].batch: must be at "
                  "least 1 (requests per batch), found 0"},
        Malformed{"ProcsZero", kProcs.c_str(),
                  "field gpus[0].partitions[0].assignments[0].procs: must be at least 1"},
        Malformed{"ShareAboveOne", kShare.c_str(),
                  "bad.yaml:7:64: field gpus[0].partitions[0].assignments[0].share: share 1.5 "
                  "is outside (0, 1]"},
        Malformed{"InputMinAboveMax", kBucket.c_str(),
                  "bad.yaml:7:43: field gpus[0].partitions[0].assignments[0].input_min: "
                  "input_min 300 is above input_max 128"},
        Malformed{"MigWithoutStart", kNoStart.c_str(),
                  "bad.yaml:5:9: field gpus[0].partitions[0]: MIG instance 3g.40gb needs "
                  "`start`"},
        Malformed{"StartOnSmPartition", kSmStart.c_str(),
                  "bad.yaml:6:16: field gpus[0].partitions[0].start: start applies only to MIG "
                  "instances, not to sm:64; remove it"},
        Malformed{"NegativeIndex", "gpus:\n  - {index: -1, gpu: h100, partitions: []}\n",
                  "field gpus[0].index: must be at least 0"},
        Malformed{"SyntaxError", "gpus: [\n", "bad.yaml:2:1: YAML syntax error"}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return info.param.name; });

TEST(LoadPlanFileTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadPlanFile("/nonexistent/plan.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/plan.yaml")));
}

}  // namespace
}  // namespace tessera::plan
