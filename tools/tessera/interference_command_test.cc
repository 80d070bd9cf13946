// `tessera interference fit` and the --interference flags of plan, simulate and compare.
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::tessera::cli::testing::WriteFile;
using ::testing::HasSubstr;

std::vector<std::string> Inputs() {
  return {"--workload", Data("examples/h100-mix.workload.yaml"), "--profiles",
          Data("profiles/h100-sm-partitions.csv")};
}

std::vector<std::string> With(std::vector<std::string> args) {
  std::vector<std::string> inputs = Inputs();
  args.insert(args.end(), inputs.begin(), inputs.end());
  return args;
}

TEST(InterferenceCommandTest, FitsTheBundledPairs) {
  Result r = Tessera({"interference", "fit"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* text :
       {"interference_64_68.csv (49 pairs, 98 samples", "fitted on all samples: c0",
        "cross-validation: 5 folds by pair", "fitted linear (gpulet's form)",
        "constant 1.1 (gpulet's margin)", "vit_b_16_b16", "efficientnet_b0_b32",
        "jobs without profile rows (efficientnet_b0_b32, vit_b_16_b16)"}) {
    EXPECT_THAT(r.out, HasSubstr(text)) << r.out;
  }
  Result loo = Tessera({"interference", "fit", "--folds", "0"});
  ASSERT_EQ(loo.code, 0) << loo.err;
  EXPECT_THAT(loo.out, HasSubstr("49 folds by pair (leave one pair out)"));
}

TEST(InterferenceCommandTest, BadDataNamesFileLineAndColumn) {
  std::string path = WriteFile(
      "bad_pairs.csv",
      "gpu,job_a,sms_a,job_b,sms_b,solo_a_ms,solo_b_ms,coloc_a_ms,coloc_b_ms,slowdown_a,"
      "slowdown_b\nH100-SXM5-80GB,resnet50_b32,64,vgg16_b32,68,3.7,6.7,4.6,8.2,1.26,oops\n");
  Result r = Tessera({"interference", "fit", "--data", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad_pairs.csv:2"));
  EXPECT_THAT(r.err, HasSubstr("slowdown_b"));
}

TEST(InterferenceCommandTest, GpuletPlansWithTheFittedModel) {
  Result r = Tessera(With({"plan", "--gpu", "h100", "--planner", "gpulet", "--rate-scale", "0.2",
                           "--interference", "fitted"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("linear interference (gpulet's form)"));
  Result c = Tessera(With({"plan", "--gpu", "h100", "--planner", "gpulet", "--rate-scale", "0.2",
                           "--interference", "constant:1.3"}));
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr("every batch 1.3x"));
  Result bad = Tessera(
      With({"plan", "--gpu", "h100", "--planner", "gpulet", "--interference", "constant:0.9"}));
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--interference 'constant:0.9'"));
  Result other = Tessera(
      With({"plan", "--gpu", "h100", "--planner", "whole-gpu", "--interference", "fitted"}));
  EXPECT_EQ(other.code, 1);
  EXPECT_THAT(other.err, HasSubstr("gpulet planner only"));
}

TEST(InterferenceCommandTest, SimulateAndCompareTakeAnInterferenceModel) {
  std::string plan = ::testing::TempDir() + "/interference-gpulet.plan.yaml";
  Result p = Tessera(
      With({"plan", "--gpu", "h100", "--planner", "gpulet", "--rate-scale", "0.2", "-o", plan}));
  ASSERT_EQ(p.code, 0) << p.err;
  auto simulate = [&](const std::string& interference) {
    Result r = Tessera(With({"simulate", "--plan", plan, "--duration", "3", "--rate-scale", "0.2",
                             "--json", "--interference", interference}));
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  };
  std::string none = simulate("none");
  std::string heavy = simulate("constant:2");
  EXPECT_NE(none, heavy);
  EXPECT_THAT(heavy, HasSubstr("--interference"));
  EXPECT_EQ(simulate("fitted").empty(), false);
  Result compare = Tessera(
      With({"compare", "--gpu", "h100", "--planners", "gpulet", "--rate-scale", "0.2", "--duration",
            "2", "--interference", "fitted", "--gpulet-interference", "constant:1.2"}));
  ASSERT_EQ(compare.code, 0) << compare.err;
  EXPECT_THAT(compare.out, HasSubstr("simulated interference: linear interference"));
}

}  // namespace
}  // namespace tessera::cli
