// `tessera simulate`, run in-process on the bundled examples.
#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::tessera::cli::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> H100Example(std::vector<std::string> extra) {
  std::vector<std::string> args = {"simulate",
                                   "--plan",
                                   Data("examples/h100-sm.plan.yaml"),
                                   "--workload",
                                   Data("examples/h100-sm.workload.yaml"),
                                   "--profiles",
                                   Data("profiles/h100-sm-partitions.csv")};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(SimulateCommandTest, BundledExamplePrintsAReadableReport) {
  Result r = Tessera(H100Example({"--duration", "20"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  for (const char* text :
       {"resnet50", "bert_base", "gpt2", "SLO met", "p99 ms", "sm:64", "1 GPU(s) used", "seed 1"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
}

TEST(SimulateCommandTest, SameSeedSameJsonAndTheCommandLineIsRecorded) {
  Result a =
      Tessera(H100Example({"--duration", "10", "--seed", "4", "--json", "--noise-cv", "0.1"}));
  Result b =
      Tessera(H100Example({"--duration", "10", "--seed", "4", "--json", "--noise-cv", "0.1"}));
  Result c =
      Tessera(H100Example({"--duration", "10", "--seed", "5", "--json", "--noise-cv", "0.1"}));
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  EXPECT_THAT(a.out, HasSubstr("\"command_line\""));
  EXPECT_THAT(a.out, HasSubstr("\"--seed\",\n    \"4\""));
  EXPECT_THAT(a.out, HasSubstr("\"slo_attainment\""));
}

TEST(SimulateCommandTest, TraceFileReplacesTheDemand) {
  std::string trace = WriteFile("trace.csv",
                                "timestamp_s,model,input_size\n"
                                "0.001,resnet50,224\n0.002,bert_base,100\n0.003,gpt2,200\n"
                                "0.004,bert_base,60\n");
  Result r = Tessera(H100Example({"--trace", trace, "--duration", "1", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"arrivals\": 4"));
  EXPECT_THAT(r.out, HasSubstr("\"--trace\""));
  // The trace's input sizes are checked against the plan's buckets before simulating.
  std::string long_inputs = WriteFile("long.csv",
                                      "timestamp_s,model,input_size\n0.001,resnet50,224\n"
                                      "0.002,bert_base,300\n0.003,gpt2,200\n");
  Result refused = Tessera(H100Example({"--trace", long_inputs, "--duration", "1"}));
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("input sizes 300 fall in no assignment"));
  // A model of the workload with no rows in the trace is named.
  std::string missing = WriteFile("missing.csv", "timestamp_s,model\n0.001,resnet50\n");
  Result absent = Tessera(H100Example({"--trace", missing, "--duration", "1"}));
  EXPECT_EQ(absent.code, 1);
  EXPECT_THAT(absent.err, HasSubstr("no rows for model bert_base"));
  // Rows out of time order are refused with their line.
  std::string bad = WriteFile("bad_trace.csv", "timestamp_s,model\n0.5,resnet50\n0.1,gpt2\n");
  Result late = Tessera(H100Example({"--trace", bad, "--duration", "1"}));
  EXPECT_EQ(late.code, 1);
  EXPECT_THAT(late.err, HasSubstr("bad_trace.csv:3"));
}

TEST(SimulateCommandTest, InvalidPlanIsRefusedWithTheProblems) {
  std::string plan = WriteFile("bad.plan.yaml",
                               "gpus:\n  - index: 0\n    gpu: H100-SXM5-80GB\n    partitions:\n"
                               "      - partition: sm:32\n        assignments:\n"
                               "          - {model: resnet50, input_max: 224, batch: 16}\n");
  Result r =
      Tessera({"simulate", "--plan", plan, "--workload", Data("examples/h100-sm.workload.yaml"),
               "--profiles", Data("profiles/h100-sm-partitions.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("the plan is not valid"));
  EXPECT_THAT(r.err, HasSubstr("bert_base"));
}

TEST(SimulateCommandTest, BadOptionsAreUserErrors) {
  Result r = Tessera(H100Example({"--duration", "0"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("duration_s"));
  r = Tessera(H100Example({"--router", "random"}));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown router 'random'"));
  r = Tessera({"simulate", "--plan", "/nonexistent.yaml"});
  EXPECT_EQ(r.code, 1);
}

// Total arrivals of a `simulate --json` run.
int64_t Arrivals(const std::string& json) {
  const nlohmann::json parsed = nlohmann::json::parse(json);
  int64_t n = 0;
  for (const auto& m : parsed["models"]) n += m["arrivals"].get<int64_t>();
  return n;
}

TEST(SimulateCommandTest, RateScaleMultipliesTheArrivals) {
  Result base = Tessera(H100Example({"--duration", "10", "--json"}));
  Result twice = Tessera(H100Example({"--duration", "10", "--json", "--rate-scale", "2"}));
  ASSERT_EQ(base.code, 0) << base.err;
  ASSERT_EQ(twice.code, 0) << twice.err;
  double ratio = static_cast<double>(Arrivals(twice.out)) / static_cast<double>(Arrivals(base.out));
  EXPECT_NEAR(ratio, 2.0, 0.05);  // ~52,000 arrivals per run: a 2.5% band is several sigmas
  EXPECT_THAT(twice.out, HasSubstr("\"--rate-scale\",\n    \"2\""));
  for (const char* bad : {"0", "-2"}) {
    Result r = Tessera(H100Example({"--duration", "1", "--rate-scale", bad}));
    EXPECT_EQ(r.code, 1) << bad;
    EXPECT_THAT(r.err,
                HasSubstr(std::string("--rate-scale ") + bad + ": must be a positive number"));
  }
}

}  // namespace
}  // namespace tessera::cli
