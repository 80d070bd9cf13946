// `tessera validate`, run in-process on the bundled examples and on plans written here.
#include <fstream>
#include <sstream>

#include "cli.h"
#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::tessera::cli::testing::WriteFile;

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

void ExpectValidExample(const std::string& name, const std::string& profiles) {
  Result r = Tessera({"validate", "--plan", Data("examples/" + name + ".plan.yaml"), "--workload",
                      Data("examples/" + name + ".workload.yaml"), "--profiles", Data(profiles)});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, EndsWith("plan is valid\n"));
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(ValidateCommandTest, BundledH100SmExampleIsValid) {
  ExpectValidExample("h100-sm", "profiles/h100-sm-partitions.csv");
}

TEST(ValidateCommandTest, BundledA100MigExampleIsValid) {
  ExpectValidExample("a100-mig", "profiles/a100-parvagpu.csv");
}

TEST(ValidateCommandTest, PrintsThePlanAndMigLayout) {
  Result r = Tessera({"validate", "--plan", Data("examples/a100-mig.plan.yaml")});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("gpu 0 A100-SXM4-80GB: [2g.20gb@0][1g.10gb@2][1g.10gb@3][3g.40gb@4]"));
  EXPECT_THAT(r.out,
              HasSubstr("gpu 0 memory slices: [2g.20gb..][1g.10gb.][1g.10gb.][3g.40gb....]"));
  EXPECT_THAT(r.out, HasSubstr("resnet50 inputs 0..224 batch 16 procs 2 share 1"));
  EXPECT_THAT(r.out, HasSubstr("(no --profiles: profiled configurations and memory were not "
                               "checked)"));
  EXPECT_THAT(r.out, EndsWith("plan is valid\n"));
}

constexpr char kBadPlan[] = R"(name: bad
gpus:
  - index: 0
    gpu: H100-SXM5-80GB
    partitions:
      - partition: 3g.40gb
        start: 2
        assignments:
          - {model: resnet50, input_max: 224, batch: 8, share: 0.7}
          - {model: resnet50, input_max: 224, batch: 16, share: 0.7}
      - partition: sm:64
        assignments: []
)";

TEST(ValidateCommandTest, ListsEveryProblemAndExitsOne) {
  Result r = Tessera({"validate", "--plan", WriteFile("bad.plan.yaml", kBadPlan)});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("plan is invalid: 3 problem(s)\n"));
  EXPECT_THAT(r.out, HasSubstr("  gpus[0]: mixes MIG instances (3g.40gb@2) with SM/MPS partitions "
                               "(sm:64)"));
  EXPECT_THAT(r.out, HasSubstr("  gpus[0].partitions[0]: 3g.40gb at start 2: start not allowed"));
  EXPECT_THAT(r.out, HasSubstr("  gpus[0].partitions[0]: the assignments' shares add up to 1.4"));
  EXPECT_THAT(r.out, Not(HasSubstr("plan is valid")));
}

TEST(ValidateCommandTest, JsonReport) {
  Result r =
      Tessera({"validate", "--plan", WriteFile("bad-for-json.plan.yaml", kBadPlan), "--json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("\"valid\": false"));
  EXPECT_THAT(r.out, HasSubstr("\"gpus[0].partitions[0]: 3g.40gb at start 2: start not allowed"));
  EXPECT_THAT(r.out, HasSubstr("\"partition\": \"sm:64\""));
  Result ok = Tessera({"validate", "--plan", Data("examples/a100-mig.plan.yaml"), "--json"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("\"valid\": true"));
  EXPECT_THAT(ok.out, HasSubstr("\"problems\": []"));
}

TEST(ValidateCommandTest, MalformedPlanIsALocatedError) {
  Result r = Tessera({"validate", "--plan", WriteFile("malformed.plan.yaml", "gpus: 3\n")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("malformed.plan.yaml:1:7: field gpus: expected a list"));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST(ValidateCommandTest, NeedsAPlan) {
  Result r = Tessera({"validate"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--plan"));
}

TEST(ValidateCommandTest, WorkloadChecksNeedTheWorkloadFile) {
  Result r = Tessera({"validate", "--plan", Data("examples/a100-mig.plan.yaml"), "--workload",
                      "/nonexistent/workload.yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/workload.yaml"));
}

}  // namespace
}  // namespace tessera::cli
