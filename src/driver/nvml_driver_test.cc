#include "tessera/driver/nvml_driver.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/driver/apply_transition.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/transition.h"

namespace tessera::driver {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kFakeNvml[] = TESSERA_FAKE_NVML_PATH;

// Sets an environment variable for the life of the object, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

class NvmlDriverTest : public ::testing::Test {
 protected:
  ScopedEnv no_fail_{"FAKE_NVML_FAIL_INIT", nullptr};
  ScopedEnv no_instances_{"FAKE_NVML_GPU_INSTANCES", nullptr};
};

TEST_F(NvmlDriverTest, ListsTheH100WithMigDisabled) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  EXPECT_EQ(driver->Name(), "nvml");
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, driver->ListGpus());
  GpuInfo expected;
  expected.index = 0;
  expected.name = "NVIDIA H100 80GB HBM3";
  expected.uuid = "GPU-00000000-1111-2222-3333-444444444444";
  expected.pci_device_id = 0x2330;
  expected.pci_bus_id = "00000000:19:00.0";
  expected.memory_total_mib = 81559;
  expected.mig_current = MigMode::kDisabled;
  expected.mig_pending = MigMode::kDisabled;
  EXPECT_THAT(gpus, ElementsAre(expected));
}

TEST_F(NvmlDriverTest, ReportsTheSevenH100Profiles) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  ASSERT_OK_AND_ASSIGN(std::vector<ProfileInfo> profiles, driver->GetProfiles(0));
  ASSERT_THAT(profiles, SizeIs(7));
  std::vector<int> indices, ids, sms;
  std::vector<std::string> names;
  for (const ProfileInfo& p : profiles) {
    indices.push_back(p.profile_index);
    ids.push_back(p.id);
    sms.push_back(p.sms);
    names.push_back(p.name);
  }
  EXPECT_THAT(indices, ElementsAre(0, 1, 2, 3, 4, 7, 9));
  EXPECT_THAT(ids, ElementsAre(19, 14, 9, 5, 0, 20, 15));
  EXPECT_THAT(sms, ElementsAre(16, 32, 60, 64, 132, 16, 26));
  EXPECT_THAT(names, ElementsAre("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb",
                                 "1g.10gb+me", "1g.20gb"));
  const ProfileInfo& seven_g = profiles[4];
  EXPECT_EQ(seven_g.slice_count, 7);
  EXPECT_EQ(seven_g.instance_count, 1);
  EXPECT_EQ(seven_g.memory_mib, 81152);
  EXPECT_EQ(seven_g.copy_engines, 8);
  EXPECT_EQ(seven_g.decoders, 7);
  EXPECT_EQ(seven_g.encoders, 0);
  EXPECT_EQ(seven_g.jpegs, 7);
  EXPECT_EQ(seven_g.ofas, 1);
  EXPECT_THAT(seven_g.placements, ElementsAre(PlacementRange{.start = 0, .size = 8}));
  EXPECT_THAT(profiles[6].placements, ElementsAre(PlacementRange{0, 2}, PlacementRange{2, 2},
                                                  PlacementRange{4, 2}, PlacementRange{6, 2}));
  EXPECT_THAT(profiles[2].placements, ElementsAre(PlacementRange{0, 4}, PlacementRange{4, 4}));
}

TEST_F(NvmlDriverTest, HasNoGpuInstancesWhileMigIsDisabled) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, driver->GetGpuInstances(0));
  EXPECT_THAT(instances, IsEmpty());
}

TEST_F(NvmlDriverTest, ListsGpuAndComputeInstancesByStart) {
  ScopedEnv instances_env("FAKE_NVML_GPU_INSTANCES", "9@4,14@0");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, driver->ListGpus());
  EXPECT_EQ(gpus[0].mig_current, MigMode::kEnabled);
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, driver->GetGpuInstances(0));
  GpuInstanceInfo two_g{.id = 2,
                        .profile_id = 14,
                        .placement = {.start = 0, .size = 2},
                        .compute_instances = {{.id = 0, .profile_id = 1, .sms = 32}},
                        .profile_name = "2g.20gb",
                        .mig_device_uuid = "MIG-aaaaaaaa-bbbb-cccc-dddd-000000000002"};
  GpuInstanceInfo three_g{.id = 1,
                          .profile_id = 9,
                          .placement = {.start = 4, .size = 4},
                          .compute_instances = {{.id = 0, .profile_id = 2, .sms = 60}},
                          .profile_name = "3g.40gb",
                          .mig_device_uuid = "MIG-aaaaaaaa-bbbb-cccc-dddd-000000000001"};
  EXPECT_THAT(instances, ElementsAre(two_g, three_g));
}

TEST_F(NvmlDriverTest, UnknownGpuIndexIsNotFound) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  EXPECT_THAT(driver->GetProfiles(1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no GPU with index 1; NVML sees 1")));
  EXPECT_THAT(driver->GetGpuInstances(-1), StatusIs(absl::StatusCode::kNotFound, HasSubstr("-1")));
}

TEST_F(NvmlDriverTest, MissingLibraryMeansNoDriver) {
  EXPECT_THAT(OpenNvmlDriver("/nonexistent/libnvidia-ml.so.1"),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("no NVIDIA driver found (/nonexistent/libnvidia-ml.so.1: "),
                             HasSubstr("tessera can still plan and simulate without a GPU"))));
}

TEST_F(NvmlDriverTest, TheEnvironmentChoosesTheLibrary) {
  {
    ScopedEnv library("TESSERA_NVML_LIBRARY", kFakeNvml);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver());
    EXPECT_THAT(driver->ListGpus(), ::tessera::testing::IsOkAndHolds(SizeIs(1)));
  }
  ScopedEnv library("TESSERA_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1");
  EXPECT_THAT(OpenNvmlDriver(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("no NVIDIA driver found")));
}

TEST_F(NvmlDriverTest, ALibraryWithoutNvmlNamesTheMissingFunction) {
  EXPECT_THAT(OpenNvmlDriver("libm.so.6"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("libm.so.6 has no nvmlInit_v2")));
}

TEST_F(NvmlDriverTest, FailedInitReportsNvmlsMessage) {
  ScopedEnv fail("FAKE_NVML_FAIL_INIT", "1");
  EXPECT_THAT(OpenNvmlDriver(kFakeNvml),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("nvmlInit_v2 failed: Driver Not Loaded (NVML error 9)")));
}

TEST_F(NvmlDriverTest, DriversCanBeOpenedAgainAfterClosing) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
    EXPECT_THAT(driver->GetProfiles(0), ::tessera::testing::IsOkAndHolds(SizeIs(7)));
  }
}

TEST_F(NvmlDriverTest, CreatesAndDestroysInstancesThroughNvml) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  EXPECT_THAT(driver->CreateGpuInstance(0, "3g.40gb", 4),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("enable MIG")));
  ASSERT_OK(driver->SetMigMode(0, true));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, driver->ListGpus());
  EXPECT_EQ(gpus[0].mig_current, MigMode::kEnabled);
  ASSERT_OK_AND_ASSIGN(int three_g, driver->CreateGpuInstance(0, "3g.40gb", 4));
  ASSERT_OK_AND_ASSIGN(int one_g, driver->CreateGpuInstance(0, "1g.10gb", 0));
  EXPECT_NE(three_g, one_g);
  EXPECT_THAT(driver->CreateGpuInstance(0, "3g.40gb", 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot start at")));
  EXPECT_THAT(driver->CreateGpuInstance(0, "4g.40gb", 0),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("nvmlDeviceCreateGpuInstanceWithPlacement failed")));
  EXPECT_THAT(driver->CreateGpuInstance(0, "9g.99gb", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no MIG profile '9g.99gb'")));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, driver->GetGpuInstances(0));
  ASSERT_THAT(instances, SizeIs(2));
  EXPECT_EQ(instances[0].id, one_g);
  EXPECT_EQ(instances[0].profile_name, "1g.10gb");
  EXPECT_THAT(instances[1].compute_instances, SizeIs(1));
  EXPECT_THAT(driver->SetMigMode(0, false),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("In use")));
  ASSERT_OK(driver->DestroyGpuInstance(0, three_g));
  EXPECT_THAT(driver->DestroyGpuInstance(0, three_g), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(driver->DestroyGpuInstance(0, one_g));
  EXPECT_THAT(driver->GetGpuInstances(0), ::tessera::testing::IsOkAndHolds(IsEmpty()));
  ASSERT_OK(driver->SetMigMode(0, false));
}

TEST_F(NvmlDriverTest, AppliesATransitionThroughNvml) {
  ScopedEnv instances_env("FAKE_NVML_GPU_INSTANCES", "9@0,9@4");
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog.Find("h100"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GpuDriver> driver, OpenNvmlDriver(kFakeNvml));
  ASSERT_OK_AND_ASSIGN(hw::PlacedLayout current, ReadPlacedLayout(*driver, 0, *h100));
  hw::Multiset want(h100->profiles.size(), 0);
  want[h100->ProfileIndex("3g.40gb")] = 1;
  want[h100->ProfileIndex("2g.20gb")] = 1;
  want[h100->ProfileIndex("1g.10gb")] = 1;
  ASSERT_OK_AND_ASSIGN(hw::TransitionPlan plan,
                       hw::PlanTransitionToMultiset(*h100, current, want, {}));
  EXPECT_EQ(plan.operations(), 3);
  ApplyResult result = ApplyTransition(*driver, 0, *h100, plan, nullptr);
  ASSERT_OK(result.status);
  EXPECT_EQ(result.state, plan.target);
}

}  // namespace
}  // namespace tessera::driver
