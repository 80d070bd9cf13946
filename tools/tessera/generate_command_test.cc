// `tessera generate planning-case`, run in-process; the files it writes go through plan, validate
// and simulate.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/generate_command_test_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(GenerateCommandTest, WritesACaseThatPlansValidatesAndSimulates) {
  std::string dir = FreshDir("pipeline");
  Result r = Tessera({"generate", "planning-case", "--models", "24", "--gpus", "30", "--seed", "5",
                      "--gpu", "a100-80gb", "-o", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(24 models,"));
  EXPECT_THAT(r.out, HasSubstr("needs about 30 GPUs"));
  EXPECT_THAT(ReadAll(dir + "/workload.yaml"),
              HasSubstr("--models 24 --gpus 30 --seed 5 --gpu A100-SXM4-80GB --jitter 0.05"));
  EXPECT_THAT(ReadAll(dir + "/workload.yaml"), HasSubstr("- model: bert_base~11\n"));
  EXPECT_THAT(ReadAll(dir + "/profiles.csv"), HasSubstr("A100-SXM4-80GB,1g.10gb,bert_base~0,"));

  std::string plan = dir + "/plan.yaml";
  std::vector<std::string> inputs = {"--workload", dir + "/workload.yaml", "--profiles",
                                     dir + "/profiles.csv"};
  std::vector<std::string> args = {
      "plan", "--gpu", "a100-80gb", "--planner", "parva", "--rate-quantile", "0", "-o", plan};
  args.insert(args.end(), inputs.begin(), inputs.end());
  Result p = Tessera(args);
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_THAT(p.out, HasSubstr("planner parva: feasible"));

  args = {"validate", "--plan", plan};
  args.insert(args.end(), inputs.begin(), inputs.end());
  Result v = Tessera(args);
  EXPECT_EQ(v.code, 0) << v.out << v.err;

  args = {"simulate", "--plan", plan, "--duration", "2"};
  args.insert(args.end(), inputs.begin(), inputs.end());
  Result s = Tessera(args);
  EXPECT_EQ(s.code, 0) << s.out << s.err;
  EXPECT_THAT(s.out, HasSubstr("resnet50~"));
}

TEST(GenerateCommandTest, SameFlagsSameFiles) {
  std::string a = FreshDir("a"), b = FreshDir("b"), c = FreshDir("c");
  ASSERT_EQ(Tessera({"generate", "planning-case", "--models", "15", "--gpus", "20", "-o", a}).code,
            0);
  ASSERT_EQ(Tessera({"generate", "planning-case", "--models", "15", "--gpus", "20", "-o", b}).code,
            0);
  ASSERT_EQ(Tessera({"generate", "planning-case", "--models", "15", "--gpus", "20", "--seed", "2",
                     "-o", c})
                .code,
            0);
  EXPECT_EQ(ReadAll(a + "/workload.yaml"), ReadAll(b + "/workload.yaml"));
  EXPECT_EQ(ReadAll(a + "/profiles.csv"), ReadAll(b + "/profiles.csv"));
  EXPECT_NE(ReadAll(a + "/workload.yaml"), ReadAll(c + "/workload.yaml"));
}

TEST(GenerateCommandTest, TheH100CaseClonesTheH100MixForGpulet) {
  std::string dir = FreshDir("h100");
  Result r = Tessera(
      {"generate", "planning-case", "--models", "8", "--gpus", "20", "--gpu", "h100", "-o", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--planner gpulet"));
  r = Tessera({"plan", "--workload", dir + "/workload.yaml", "--profiles", dir + "/profiles.csv",
               "--gpu", "h100", "--planner", "gpulet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("planner gpulet: feasible"));
  EXPECT_THAT(r.out, HasSubstr("resnet50~"));  // clones of the H100 mix's models
}

TEST(GenerateCommandTest, BadFlagsAreUserErrors) {
  std::string dir = FreshDir("bad");
  Result r = Tessera({"generate", "planning-case", "--models", "0", "-o", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("models must be in [1, 100000], found 0"));
  r = Tessera({"generate", "planning-case", "--jitter", "0.9", "-o", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("jitter must be in [0, 0.5]"));
  r = Tessera({"generate", "planning-case", "--gpus", "many", "-o", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--gpus"));
  r = Tessera({"generate", "planning-case", "--gpu", "v100", "-o", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown GPU model 'v100'"));
  r = Tessera({"generate", "planning-case", "--gpu", "a30", "-o", dir});  // no bundled base
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no model of the base"));
  r = Tessera({"generate", "planning-case", "--models", "3"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--output is required"));
  r = Tessera({"generate"});
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace tessera::cli
