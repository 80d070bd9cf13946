// `tessera plan`, run in-process on the bundled ParvaGPU scenarios.
#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::testing::HasSubstr;

std::vector<std::string> Scenario(int n, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "plan",
      "--workload",
      Data("examples/parvagpu/slo" + std::to_string(n) + ".workload.yaml"),
      "--profiles",
      Data("profiles/a100-parvagpu.csv"),
      "--gpu",
      "a100-80gb"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(PlanCommandTest, ParvaReproducesTheFirstScenario) {
  std::string out = ::testing::TempDir() + "/slo1.plan.yaml";
  Result r = Tessera(Scenario(1, {"--planner", "parva", "--rate-quantile", "0", "-o", out}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("planner parva: feasible (heuristic), 2 GPU(s) of A100-SXM4-80GB"));
  EXPECT_THAT(r.out, HasSubstr("[3g.40gb....]"));
  EXPECT_THAT(r.out, HasSubstr("0.9 x SLO / 2"));
  EXPECT_THAT(r.out, HasSubstr("lower bound: 1 GPU(s) (LP 0.74"));
  // The written plan is valid against the same inputs.
  Result v = Tessera({"validate", "--plan", out, "--workload",
                      Data("examples/parvagpu/slo1.workload.yaml"), "--profiles",
                      Data("profiles/a100-parvagpu.csv")});
  EXPECT_EQ(v.code, 0) << v.out << v.err;
}

TEST(PlanCommandTest, EveryPlannerRunsOnTheBundledScenario) {
  for (const char* planner : {"parva", "whole-gpu", "static-mig"}) {
    Result r = Tessera(Scenario(2, {"--planner", planner}));
    EXPECT_EQ(r.code, 0) << planner << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr(std::string("planner ") + planner + ": feasible"));
  }
}

TEST(PlanCommandTest, UnknownPlannerAndBadOptionsAreUserErrors) {
  Result r = Tessera(Scenario(1, {"--planner", "magic"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown planner 'magic'; known planners: "));
  EXPECT_THAT(r.err, HasSubstr("parva"));
  r = Tessera(Scenario(1, {"--planner", "parva", "--rate-quantile", "1.5"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("rate_quantile"));
}

TEST(PlanCommandTest, InfeasibleIsAUserErrorWithTheReason) {
  // H100 profiles (SM partitions, read as MIG stand-ins on an H100) say nothing of an A100.
  Result r = Tessera({"plan", "--workload", Data("examples/h100-sm.workload.yaml"), "--profiles",
                      Data("profiles/h100-sm-partitions.csv"), "--gpu", "a100-80gb", "--planner",
                      "static-mig"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("INFEASIBLE"));
  EXPECT_THAT(r.err, HasSubstr("no feasible plan: no MIG profiles profiled for A100-SXM4-80GB"));
}

TEST(PlanCommandTest, RateScaleMultipliesEveryRate) {
  Result r =
      Tessera(Scenario(1, {"--planner", "parva", "--rate-quantile", "0", "--rate-scale", "2"}));
  ASSERT_EQ(r.code, 0) << r.err;
  // slo1 asks 19 req/s of bert_base and 353 of densenet121: doubled, and provisioned as such.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("bert_base +38 +38 "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("densenet121 +706 +706 "));
  for (const char* bad : {"0", "-2"}) {
    Result b = Tessera(Scenario(1, {"--planner", "parva", "--rate-scale", bad}));
    EXPECT_EQ(b.code, 1) << bad;
    EXPECT_THAT(b.err,
                HasSubstr(std::string("--rate-scale ") + bad + ": must be a positive number"));
  }
}

TEST(PlanCommandTest, GpuletPlansTheH100Mix) {
  std::string out = ::testing::TempDir() + "/h100-mix-gpulet.plan.yaml";
  std::vector<std::string> inputs = {"--workload", Data("examples/h100-mix.workload.yaml"),
                                     "--profiles", Data("profiles/h100-sm-partitions.csv")};
  std::vector<std::string> plan = {"plan",         "--gpu", "h100", "--planner", "gpulet",
                                   "--rate-scale", "0.2",   "-o",   out};
  plan.insert(plan.end(), inputs.begin(), inputs.end());
  Result r = Tessera(plan);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("planner gpulet: feasible (heuristic)"));
  EXPECT_THAT(r.out, HasSubstr("2 x interference x latency <= SLO"));
  std::vector<std::string> validate = {"validate", "--plan", out};
  validate.insert(validate.end(), inputs.begin(), inputs.end());
  Result v = Tessera(validate);
  EXPECT_EQ(v.code, 0) << v.out << v.err;
}

TEST(CompareCommandTest, EveryPlannerOnOneScenarioInOneTable) {
  Result r =
      Tessera({"compare", "--workload", Data("examples/parvagpu/slo1.workload.yaml"), "--profiles",
               Data("profiles/a100-parvagpu.csv"), "--gpu", "a100-80gb", "--planners",
               "parva,static-mig,whole-gpu", "--duration", "5", "--seeds", "1,2"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* text :
       {"parva", "static-mig", "whole-gpu", "gap to bound", "lower bound: 1 GPU", "seeds 1,2"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
  Result json = Tessera({"compare", "--workload", Data("examples/parvagpu/slo1.workload.yaml"),
                         "--profiles", Data("profiles/a100-parvagpu.csv"), "--gpu", "a100-80gb",
                         "--planners", "parva", "--duration", "5", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"lower_bound_gpus\": 1"));
  EXPECT_THAT(json.out, HasSubstr("\"gpus\": 2"));
  Result bad =
      Tessera({"compare", "--workload", Data("examples/parvagpu/slo1.workload.yaml"), "--profiles",
               Data("profiles/a100-parvagpu.csv"), "--gpu", "a100-80gb", "--planners", "nope"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("unknown planner 'nope'"));
}

// Without --rate-quantile each planner provisions at its own (parva: the mean, static-mig: the
// Poisson p99); with it, every planner at the one given.
TEST(CompareCommandTest, EachPlannerAtItsOwnRateQuantileUnlessOneIsGiven) {
  std::vector<std::string> args = {"compare",
                                   "--workload",
                                   Data("examples/parvagpu/slo1.workload.yaml"),
                                   "--profiles",
                                   Data("profiles/a100-parvagpu.csv"),
                                   "--gpu",
                                   "a100-80gb",
                                   "--planners",
                                   "parva,static-mig",
                                   "--duration",
                                   "2",
                                   "--json"};
  Result own = Tessera(args);
  ASSERT_EQ(own.code, 0) << own.err;
  EXPECT_THAT(own.out,
              ::testing::ContainsRegex("\"planner\": \"parva\",\\s*\"rate_quantile\": 0[,.]"));
  EXPECT_THAT(own.out, HasSubstr("\"rate_quantile\": 0.99"));
  args.insert(args.end(), {"--rate-quantile", "0.5"});
  Result given = Tessera(args);
  ASSERT_EQ(given.code, 0) << given.err;
  EXPECT_THAT(given.out, ::testing::Not(HasSubstr("\"rate_quantile\": 0.99")));
  EXPECT_THAT(given.out, HasSubstr("\"rate_quantile\": 0.5"));
}

}  // namespace
}  // namespace tessera::cli
