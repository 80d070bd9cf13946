#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempFile(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

TEST(ProfilesCommandTest, ImportWritesTheBundledTableAndSummarizes) {
  std::string out = TempFile("profiles_command_test_h100.csv");
  Result r = Tessera({"profiles", "import", "--format", "h100-sm",
                      Data("datasets/h100-sm-partitions/profiles.csv"), "-o", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 352 rows (h100-sm)"));
  EXPECT_THAT(r.out, HasSubstr("H100-SXM5-80GB  sm:132     gpt2            24  64..1024 (3)"));
  EXPECT_THAT(r.out, HasSubstr("notes:\n  - latency_ms = latency_ms_p50"));
  EXPECT_EQ(ReadAll(out), ReadAll(Data("profiles/h100-sm-partitions.csv")));
}

TEST(ProfilesCommandTest, ImportReportsSkippedRows) {
  Result r = Tessera({"profiles", "import", "--format", "parvagpu",
                      Data("datasets/parvagpu-a100-mig-mps/prof_data"), "-o",
                      TempFile("profiles_command_test_parva.csv")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 1747 rows"));
  EXPECT_THAT(r.out, HasSubstr("728 rows '0,0' skipped"));
}

TEST(ProfilesCommandTest, ImportErrors) {
  Result r = Tessera({"profiles", "import", "--format", "mlperf", "x.csv", "-o", "y.csv"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("mlperf"));
  r = Tessera({"profiles", "import", "--format", "h100-sm", "/nonexistent/profiles.csv", "-o",
               TempFile("profiles_command_test_none.csv")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("tessera: error: /nonexistent/profiles.csv: cannot open file"));
  r = Tessera({"profiles", "import", "--format", "h100-sm",
               Data("datasets/h100-sm-partitions/profiles.csv"), "-o", "/nonexistent/dir/o.csv"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot write the file"));
}

TEST(ProfilesCommandTest, ShowFiltersRows) {
  Result r = Tessera({"profiles", "show", "--profiles", Data("profiles/h100-sm-partitions.csv"),
                      "--model", "resnet50", "--gpu", "h100", "--partition", "sm:64"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("h100-sm-partitions.csv: 8 of 352 rows"));
  EXPECT_THAT(r.out, HasSubstr("latency ms"));
  EXPECT_THAT(r.out, HasSubstr("H100-SXM5-80GB  sm:64      resnet50    224      8      1"));
  EXPECT_THAT(r.out, Not(HasSubstr("vgg16")));
}

TEST(ProfilesCommandTest, ShowDefaultsToEveryBundledTable) {
  Result r = Tessera({"profiles", "show", "--model", "bert", "--partition", "7g.80gb"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("a100-migprofiler.csv: 13 of 124 rows"),
                           HasSubstr("a100-parvagpu.csv: 45 of 1747 rows"),
                           HasSubstr("h100-sm-partitions.csv: 0 of 352 rows")));
}

TEST(ProfilesCommandTest, ShowJson) {
  Result r = Tessera({"profiles", "show", "--profiles", Data("profiles/a100-migprofiler.csv"),
                      "--model", "vision_transformer", "--partition", "1g.10gb", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"model\": \"vit_b_16\""));
  EXPECT_THAT(r.out, HasSubstr("\"latency_ms_p90\": null"));
  EXPECT_THAT(r.out, HasSubstr("\"source\": \"measured\""));
}

TEST(ProfilesCommandTest, ShowUnknownModelIsAUserError) {
  Result r = Tessera({"profiles", "show", "--model", "alexnet"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown model 'alexnet'"));
  EXPECT_THAT(r.out, IsEmpty());
}

std::vector<std::string> LookupArgs(std::string partition, std::string batch) {
  return {"profiles", "lookup",   "--profiles",  Data("profiles/h100-sm-partitions.csv"),
          "--gpu",    "h100",     "--partition", partition,
          "--model",  "resnet50", "--batch",     batch};
}

TEST(ProfilesCommandTest, LookupMeasuredAndInterpolated) {
  Result r = Tessera(LookupArgs("sm:64", "8"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1.4845"));
  EXPECT_THAT(r.out, HasSubstr("measured"));
  r = Tessera(LookupArgs("sm:48", "12"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("interpolated linearly between measured rows"));
  EXPECT_THAT(r.out, HasSubstr("H100-SXM5-80GB  sm:48      resnet50    224     12"));
}

TEST(ProfilesCommandTest, LookupOutOfRangeIsAClearError) {
  Result r = Tessera(LookupArgs("sm:64", "256"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("batch 256 is outside the measured range 1..128"));
  r = Tessera(LookupArgs("sm:8", "8"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("SM count 8 is outside the measured range 16..132"));
}

TEST(ProfilesCommandTest, LookupInputAboveTheModelsMaximum) {
  std::vector<std::string> args = LookupArgs("sm:64", "8");
  args.insert(args.end(), {"--input", "2048"});
  Result r = Tessera(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--input 2048 is above resnet50's maximum of 1024 pixels"));
}

}  // namespace
}  // namespace tessera::cli
