#include <cstdlib>

#include "cli_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tessera::cli {
namespace {

using ::tessera::cli::testing::Result;
using ::tessera::cli::testing::Tessera;
using ::tessera::cli::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

// The fake NVML library answers as one H100 holding two 3g.40gb instances (at 0 and 4).
class ApplyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TESSERA_NVML_LIBRARY", TESSERA_FAKE_NVML_PATH, 1);
    setenv("FAKE_NVML_GPU_INSTANCES", "9@0,9@4", 1);
  }
  void TearDown() override {
    unsetenv("TESSERA_NVML_LIBRARY");
    unsetenv("FAKE_NVML_GPU_INSTANCES");
  }
};

std::string PlanFile(const std::string& gpu_line) {
  return WriteFile("apply_plan.yaml", R"(name: apply-test
gpus:
  - )" + gpu_line + R"(
    gpu: H100-SXM5-80GB
    partitions:
      - {partition: 3g.40gb, start: 0}
      - {partition: 2g.20gb, start: 4}
      - {partition: 1g.10gb, start: 6}
)");
}

TEST_F(ApplyCommandTest, DryRunPrintsTheStepsAndChangesNothing) {
  Result r = Tessera({"apply", "--plan", PlanFile("index: 0")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("plan gpus[0] -> GPU 0 (NVIDIA H100 80GB HBM3"));
  EXPECT_THAT(r.out, HasSubstr("1 destroy(s), 2 create(s):\n"
                               "    destroy 3g.40gb@4\n"
                               "    create 2g.20gb@4\n"
                               "    create 1g.10gb@6\n"));
  EXPECT_THAT(r.out, HasSubstr("dry run: nothing changed"));
  EXPECT_THAT(r.out, Not(HasSubstr("GPU now shows")));
}

TEST_F(ApplyCommandTest, ExecutePerformsTheSteps) {
  Result r = Tessera({"apply", "--plan",
                      PlanFile("uuid: GPU-00000000-1111-2222-3333-444444444444\n    index: 0"),
                      "--execute"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("GPU now shows: [3g.40gb....][2g.20gb..][1g.10gb.][ ]"));
  EXPECT_THAT(r.out, HasSubstr("done: 3 step(s)"));
}

TEST_F(ApplyCommandTest, EnablesMigFirstWhenItIsOff) {
  unsetenv("FAKE_NVML_GPU_INSTANCES");
  Result r = Tessera({"apply", "--plan", PlanFile("index: 0"), "--execute"});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("0 destroy(s), 3 create(s), after enabling MIG:\n    enable MIG\n"));
  EXPECT_THAT(r.out, HasSubstr("done: 3 step(s)"));
}

TEST_F(ApplyCommandTest, AnUnknownGpuIsAUserError) {
  Result r = Tessera({"apply", "--plan", PlanFile("uuid: GPU-nope\n    index: 0")});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("plan gpus[0] names GPU GPU-nope, which this machine does not have"));
  Result index = Tessera({"apply", "--plan", PlanFile("index: 3")});
  EXPECT_EQ(index.code, 1);
  EXPECT_THAT(index.err, HasSubstr("names GPU index 3"));
}

}  // namespace
}  // namespace tessera::cli
