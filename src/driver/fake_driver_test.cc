#include "tessera/driver/fake_driver.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "testing/h100_model.h"

namespace tessera::driver {
namespace {

using ::tessera::driver::testing::H100Model;
using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<int> Starts(const std::vector<GpuInstanceInfo>& instances) {
  std::vector<int> starts;
  for (const GpuInstanceInfo& instance : instances) starts.push_back(instance.placement.start);
  return starts;
}

TEST(FakeDriverTest, ListsGpusFromTheirModels) {
  FakeDriver fake;
  EXPECT_EQ(fake.AddGpu(H100Model()), 0);
  EXPECT_EQ(fake.AddGpu(H100Model(), {.mig_enabled = true, .uuid = "GPU-mine"}), 1);
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, fake.ListGpus());
  ASSERT_THAT(gpus, SizeIs(2));
  EXPECT_EQ(gpus[0].index, 0);
  EXPECT_EQ(gpus[0].name, "H100-SXM5-80GB");
  EXPECT_EQ(gpus[0].uuid, "GPU-00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(gpus[0].pci_device_id, 0x2330u);
  EXPECT_EQ(gpus[0].memory_total_mib, 81559);
  EXPECT_EQ(gpus[0].mig_current, MigMode::kDisabled);
  EXPECT_EQ(gpus[1].uuid, "GPU-mine");
  EXPECT_EQ(gpus[1].mig_current, MigMode::kEnabled);
  EXPECT_EQ(gpus[1].mig_pending, MigMode::kEnabled);
  EXPECT_EQ(fake.Name(), "fake");
}

TEST(FakeDriverTest, AModelWithoutMigSlicesDoesNotSupportMig) {
  hw::GpuModel model = H100Model();
  model.compute_slices = 0;
  FakeDriver fake;
  fake.AddGpu(model, {.mig_enabled = true, .uuid = ""});
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, fake.ListGpus());
  EXPECT_EQ(gpus[0].mig_current, MigMode::kUnsupported);
  EXPECT_STREQ(MigModeName(gpus[0].mig_current), "unsupported");
}

TEST(FakeDriverTest, ReportsProfilesFromTheCatalog) {
  hw::GpuModel model = H100Model();
  model.profiles[0].nvml_id.reset();
  model.profiles[0].sms.reset();
  FakeDriver fake;
  fake.AddGpu(model);
  ASSERT_OK_AND_ASSIGN(std::vector<ProfileInfo> profiles, fake.GetProfiles(0));
  ASSERT_THAT(profiles, SizeIs(7));
  EXPECT_EQ(profiles[0].id, -1);  // unknown id
  EXPECT_EQ(profiles[0].sms, 0);  // unknown SMs
  const ProfileInfo& three_g = profiles[4];
  EXPECT_EQ(three_g.profile_index, 4);
  EXPECT_EQ(three_g.name, "3g.40gb");
  EXPECT_EQ(three_g.id, 9);
  EXPECT_EQ(three_g.slice_count, 3);
  EXPECT_EQ(three_g.instance_count, 2);
  EXPECT_EQ(three_g.sms, 60);
  EXPECT_EQ(three_g.memory_mib, 40448);
  EXPECT_EQ(three_g.copy_engines, 3);
  EXPECT_THAT(three_g.placements, ElementsAre(PlacementRange{.start = 0, .size = 4},
                                              PlacementRange{.start = 4, .size = 4}));
}

TEST(FakeDriverTest, CreatesInstancesOrderedByStart) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), {.mig_enabled = true, .uuid = ""});
  ASSERT_OK(fake.AddInstance(0, "3g.40gb", 4));
  ASSERT_OK(fake.AddInstance(0, "2g.20gb", 0));
  ASSERT_OK(fake.AddInstance(0, "1g.10gb", 3));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, fake.GetGpuInstances(0));
  EXPECT_THAT(Starts(instances), ElementsAre(0, 3, 4));
  EXPECT_EQ(instances[0].id, 2);
  EXPECT_EQ(instances[0].profile_id, 14);
  EXPECT_EQ(instances[0].placement, (PlacementRange{.start = 0, .size = 2}));
  EXPECT_THAT(instances[0].compute_instances,
              ElementsAre(ComputeInstanceInfo{.id = 0, .profile_id = 1, .sms = 32}));
  EXPECT_EQ(instances[2].id, 1);
  EXPECT_EQ(instances[2].placement, (PlacementRange{.start = 4, .size = 4}));
  EXPECT_THAT(instances[2].compute_instances,
              ElementsAre(ComputeInstanceInfo{.id = 0, .profile_id = 2, .sms = 60}));
}

TEST(FakeDriverTest, RefusesInstancesWhileMigIsDisabled) {
  FakeDriver fake;
  fake.AddGpu(H100Model());
  EXPECT_THAT(fake.AddInstance(0, "3g.40gb", 0), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                          HasSubstr("MIG is disabled on GPU 0")));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, fake.GetGpuInstances(0));
  EXPECT_THAT(instances, IsEmpty());
}

TEST(FakeDriverTest, RefusesIllegalPlacementsLikeNvml) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), {.mig_enabled = true, .uuid = ""});
  EXPECT_THAT(fake.AddInstance(0, "3g.40gb", 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("3g.40gb cannot start at memory slice 2 on a H100-SXM5-80GB; "
                                 "allowed starts: 0, 4")));
  ASSERT_OK(fake.AddInstance(0, "3g.40gb", 0));
  EXPECT_THAT(
      fake.AddInstance(0, "1g.20gb", 2),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("1g.20gb at memory slices [2, 4) overlaps the 3g.40gb at [0, 4)")));
  ASSERT_OK(fake.AddInstance(0, "1g.10gb+me", 4));
  EXPECT_THAT(fake.AddInstance(0, "1g.10gb+me", 5),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds at most 1 1g.10gb+me instance(s)")));
  EXPECT_THAT(fake.AddInstance(0, "5g.50gb", 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no MIG profile '5g.50gb'; profiles: 1g.10gb, 1g.10gb+me")));
  EXPECT_THAT(fake.AddInstance(3, "1g.10gb", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no GPU with index 3")));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, fake.GetGpuInstances(0));
  EXPECT_THAT(Starts(instances), ElementsAre(0, 4));
}

TEST(FakeDriverTest, RefusesMoreComputeSlicesThanTheGpuHas) {
  hw::GpuModel model = H100Model();
  model.compute_slices = 3;
  FakeDriver fake;
  fake.AddGpu(model, {.mig_enabled = true, .uuid = ""});
  ASSERT_OK(fake.AddInstance(0, "2g.20gb", 0));
  EXPECT_THAT(fake.AddInstance(0, "2g.20gb", 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs 4 compute slices in all, more than the 3")));
}

TEST(FakeDriverTest, UnknownGpuIsNotFound) {
  FakeDriver fake;
  EXPECT_THAT(fake.GetProfiles(0), StatusIs(absl::StatusCode::kNotFound, HasSubstr("index 0")));
  EXPECT_THAT(fake.GetGpuInstances(-1), StatusIs(absl::StatusCode::kNotFound, HasSubstr("-1")));
}

}  // namespace
}  // namespace tessera::driver

namespace tessera::driver {
namespace {

using ::tessera::driver::testing::H100Model;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

FakeDriver::GpuOptions MigOn() {
  FakeDriver::GpuOptions options;
  options.mig_enabled = true;
  return options;
}

TEST(FakeDriverWritesTest, CreatesAndDestroysInstances) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), MigOn());
  ASSERT_OK_AND_ASSIGN(int first, fake.CreateGpuInstance(0, "3g.40gb", 4));
  ASSERT_OK_AND_ASSIGN(int second, fake.CreateGpuInstance(0, "1g.10gb", 0));
  EXPECT_NE(first, second);
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInstanceInfo> instances, fake.GetGpuInstances(0));
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[0].profile_name, "1g.10gb");
  EXPECT_EQ(instances[1].id, first);
  EXPECT_EQ(instances[1].compute_instances.size(), 1u);
  ASSERT_OK(fake.DestroyGpuInstance(0, first));
  ASSERT_OK_AND_ASSIGN(instances, fake.GetGpuInstances(0));
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].id, second);
  EXPECT_THAT(fake.DestroyGpuInstance(0, first),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no GPU instance with id")));
}

TEST(FakeDriverWritesTest, EnforcesPlacementRules) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), MigOn());
  EXPECT_THAT(fake.CreateGpuInstance(0, "3g.40gb", 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("allowed starts: 0, 4")));
  ASSERT_OK(fake.CreateGpuInstance(0, "4g.40gb", 0).status());
  EXPECT_THAT(fake.CreateGpuInstance(0, "1g.10gb", 3),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps")));
  EXPECT_THAT(fake.CreateGpuInstance(0, "4g.40gb", 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(fake.CreateGpuInstance(0, "3g.40gb", 4).status());
  EXPECT_THAT(fake.CreateGpuInstance(0, "nope", 4),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no MIG profile 'nope'")));
}

TEST(FakeDriverWritesTest, BusyInstanceCannotBeDestroyed) {
  FakeDriver fake;
  fake.AddGpu(H100Model(), MigOn());
  ASSERT_OK_AND_ASSIGN(int id, fake.CreateGpuInstance(0, "7g.80gb", 0));
  ASSERT_OK(fake.SetBusy(0, id, true));
  EXPECT_THAT(fake.IsBusy(0, id), ::tessera::testing::IsOkAndHolds(true));
  EXPECT_THAT(fake.DestroyGpuInstance(0, id),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("drain it")));
  ASSERT_OK(fake.SetBusy(0, id, false));
  EXPECT_OK(fake.DestroyGpuInstance(0, id));
  EXPECT_THAT(fake.SetBusy(0, id, true), StatusIs(absl::StatusCode::kNotFound));
}

TEST(FakeDriverWritesTest, MigModeChangeNeedsAnIdleGpu) {
  FakeDriver fake;
  fake.AddGpu(H100Model());
  EXPECT_THAT(fake.CreateGpuInstance(0, "7g.80gb", 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("enable MIG")));
  ASSERT_OK(fake.SetMigMode(0, true));
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, fake.ListGpus());
  EXPECT_EQ(gpus[0].mig_current, MigMode::kEnabled);
  ASSERT_OK_AND_ASSIGN(int id, fake.CreateGpuInstance(0, "7g.80gb", 0));
  EXPECT_THAT(fake.SetMigMode(0, false),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("destroy them")));
  ASSERT_OK(fake.DestroyGpuInstance(0, id));
  ASSERT_OK(fake.SetMigMode(0, false));
  EXPECT_THAT(fake.GetGpuInstances(0), ::tessera::testing::IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(fake.SetMigMode(3, true), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace tessera::driver
