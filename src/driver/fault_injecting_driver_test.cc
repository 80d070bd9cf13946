#include "tessera/driver/fault_injecting_driver.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/driver/fake_driver.h"
#include "testing/h100_model.h"

namespace tessera::driver {
namespace {

using ::tessera::driver::testing::H100Model;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

FakeDriver::GpuOptions MigOn() {
  FakeDriver::GpuOptions options;
  options.mig_enabled = true;
  return options;
}

TEST(FaultInjectingDriverTest, FailsChosenCallsWithoutPerformingThem) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), MigOn());
  FaultInjectingDriver::Options options;
  options.fail_calls = {2, 3};
  FaultInjectingDriver faulty(&fake, options);
  EXPECT_EQ(faulty.Name(), "faulty fake");
  ASSERT_OK(faulty.CreateGpuInstance(0, "3g.40gb", 0).status());  // call 1
  EXPECT_THAT(faulty.CreateGpuInstance(0, "3g.40gb", 4),          // call 2
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected fault")));
  EXPECT_THAT(faulty.GetGpuInstances(0), StatusIs(absl::StatusCode::kUnavailable));  // call 3
  EXPECT_THAT(faulty.GetGpuInstances(0), ::tessera::testing::IsOkAndHolds(SizeIs(1)));
  EXPECT_EQ(faulty.calls(), 4);
  EXPECT_EQ(faulty.injected_failures(), 2);
}

TEST(FaultInjectingDriverTest, CanPerformAWriteAndStillReportFailure) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), MigOn());
  FaultInjectingDriver::Options options;
  options.write_failure_probability = 1.0;
  options.perform_then_fail_probability = 1.0;
  FaultInjectingDriver faulty(&fake, options);
  EXPECT_THAT(faulty.CreateGpuInstance(0, "7g.80gb", 0),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("performed")));
  EXPECT_THAT(fake.GetGpuInstances(0), ::tessera::testing::IsOkAndHolds(SizeIs(1)));
  EXPECT_EQ(faulty.performed_failures(), 1);
  EXPECT_THAT(faulty.GetGpuInstances(0),
              ::tessera::testing::IsOkAndHolds(SizeIs(1)));  // reads pass
}

TEST(FaultInjectingDriverTest, SeededProbabilityIsDeterministic) {
  auto failures = [](uint64_t seed) {
    FakeDriver fake;
    fake.AddGpu(H100Model());
    FaultInjectingDriver::Options options;
    options.seed = seed;
    options.read_failure_probability = 0.3;
    FaultInjectingDriver faulty(&fake, options);
    std::vector<bool> failed;
    for (int i = 0; i < 200; ++i) failed.push_back(!faulty.ListGpus().ok());
    return failed;
  };
  std::vector<bool> a = failures(7);
  EXPECT_EQ(a, failures(7));
  EXPECT_NE(a, failures(8));
  int count = static_cast<int>(std::count(a.begin(), a.end(), true));
  EXPECT_GT(count, 30);
  EXPECT_LT(count, 90);
}

TEST(FaultInjectingDriverTest, DisabledPassesEverythingThrough) {
  FakeDriver fake;
  fake.AddGpu(H100Model());
  FaultInjectingDriver::Options options;
  options.read_failure_probability = 1.0;
  FaultInjectingDriver faulty(&fake, options);
  faulty.set_enabled(false);
  EXPECT_OK(faulty.ListGpus());
  EXPECT_OK(faulty.SetMigMode(0, true));
  EXPECT_EQ(faulty.injected_failures(), 0);
}

}  // namespace
}  // namespace tessera::driver
