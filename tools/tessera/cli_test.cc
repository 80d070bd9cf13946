#include "cli.h"

#include <cstdlib>
#include <sstream>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Data;
using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::tessera::cli::testing::WriteFile;

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(CliTest, HelpListsCommands) {
  Result r = Tessera({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("gpus"));
  Result sub = Tessera({"gpus", "layouts", "--help"});
  EXPECT_EQ(sub.code, 0);
  EXPECT_THAT(sub.out, HasSubstr("--mig-profiles"));
}

TEST(CliTest, UnknownFlagIsAUserError) {
  Result r = Tessera({"gpus", "catalog", "--bogus"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
}

TEST(CliTest, CatalogPrintsProfilesAndPlacements) {
  Result r = Tessera({"gpus", "catalog", "--gpu", "h100"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("H100-SXM5-80GB"));
  EXPECT_THAT(r.out, HasSubstr("{0,4}:4"));
  EXPECT_THAT(r.out, HasSubstr("{0,1,2,3,4,5,6}:1"));
  EXPECT_THAT(r.out, HasSubstr("at least 8 SMs, multiples of 8"));
}

TEST(CliTest, CatalogJsonHasEveryModel) {
  Result r = Tessera({"gpus", "catalog", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"A30-24GB", "A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM5-80GB",
                           "H100-NVL-94GB", "H200-141GB", "B200-180GB"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("\"name\": \"") + name + "\""));
  }
}

TEST(CliTest, UnknownGpuModelNamesTheKnownOnes) {
  Result r = Tessera({"gpus", "catalog", "--gpu", "v100"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown GPU model 'v100'"));
  EXPECT_THAT(r.err, HasSubstr("H100-SXM5-80GB"));
}

TEST(CliTest, LayoutsMatchThePublishedCounts) {
  Result all = Tessera({"gpus", "layouts", "--gpu", "h100"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_THAT(all.out, EndsWith("\n722 layouts\n"));
  const std::string base = "1g.10gb,2g.20gb,3g.40gb,4g.40gb,7g.80gb";
  EXPECT_THAT(Tessera({"gpus", "layouts", "--gpu", "h100", "--mig-profiles", base}).out,
              EndsWith("\n297 layouts\n"));
  Result stuck = Tessera({"gpus", "layouts", "--gpu", "h100", "--mig-profiles", base, "--stuck"});
  EXPECT_THAT(stuck.out, HasSubstr("[3g.40gb....][2g.20gb..][1g.10gb.][ ]\n"));
  EXPECT_THAT(stuck.out, EndsWith("\n19 stuck layouts\n"));
  EXPECT_THAT(Tessera({"gpus", "layouts", "--gpu", "h100", "--multisets"}).out,
              EndsWith("\n77 multisets\n"));
  EXPECT_THAT(Tessera({"gpus", "layouts", "--gpu", "h100", "--multisets", "--maximal"}).out,
              EndsWith("\n28 maximal multisets\n"));
  EXPECT_THAT(Tessera({"gpus", "layouts", "--gpu", "a30", "--multisets", "--maximal"}).out,
              EndsWith("\n4 maximal multisets\n"));
}

TEST(CliTest, LayoutsRejectsBadCombinationsAndProfiles) {
  Result r = Tessera({"gpus", "layouts", "--gpu", "h100", "--maximal"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("add --multisets"));
  r = Tessera({"gpus", "layouts", "--gpu", "h100", "--mig-profiles", "1g.5gb"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no MIG profile '1g.5gb'"));
  r = Tessera({"gpus", "layouts"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--gpu"));
}

TEST(CliTest, LayoutsJson) {
  Result r = Tessera({"gpus", "layouts", "--gpu", "a30", "--mig-profiles", "4g.24gb", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"count\": 1"));
  EXPECT_THAT(r.out, HasSubstr("\"profile\": \"4g.24gb\""));
}

class NvmlCliTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("TESSERA_NVML_LIBRARY"); }
};

TEST_F(NvmlCliTest, NoDriverIsAPoliteUserError) {
  setenv("TESSERA_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1);
  Result r = Tessera({"gpus"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no NVIDIA driver found"));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(NvmlCliTest, ListsTheFakeH100) {
  setenv("TESSERA_NVML_LIBRARY", TESSERA_FAKE_NVML_PATH, 1);
  Result r = Tessera({"gpus"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NVIDIA H100 80GB HBM3"));
  EXPECT_THAT(r.out, HasSubstr("0x2330"));
  EXPECT_THAT(r.out, HasSubstr("disabled"));
  EXPECT_THAT(r.out, HasSubstr("H100-SXM5-80GB"));
}

TEST_F(NvmlCliTest, VerifyAgreesWithTheCatalogOnTheFakeH100) {
  setenv("TESSERA_NVML_LIBRARY", TESSERA_FAKE_NVML_PATH, 1);
  Result r = Tessera({"gpus", "verify"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("7 profiles reported"));
  // The catalog does not know the H100's total memory; NVML does: listed, not a disagreement.
  EXPECT_THAT(r.out, HasSubstr("gpu: memory_mib  null     81559"));
  EXPECT_THAT(r.out, EndsWith("0 disagreement(s)\n"));
  Result missing = Tessera({"gpus", "verify", "--gpu", "3"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("the machine has 1 GPU(s)"));
}

}  // namespace
}  // namespace tessera::cli
