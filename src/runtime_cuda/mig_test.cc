#include "tessera/runtime_cuda/mig.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/driver/fake_driver.h"
#include "tessera/hw/catalog.h"

namespace tessera::runtime_cuda {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

class MigLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(const hw::GpuModel* h100, catalog_.Find("h100"));
    fake_.AddGpu(*h100, {.mig_enabled = true, .uuid = "GPU-aaaa"});
    fake_.AddGpu(*h100, {.mig_enabled = false, .uuid = "GPU-bbbb"});
    ASSERT_OK(fake_.AddInstance(0, "2g.20gb", 0));
    ASSERT_OK(fake_.AddInstance(0, "3g.40gb", 4));
  }
  hw::Catalog catalog_;
  driver::FakeDriver fake_;
};

TEST_F(MigLookupTest, FindsTheInstanceByProfileAndStart) {
  ASSERT_OK_AND_ASSIGN(driver::GpuInstanceInfo gi, FindMigInstance(fake_, 0, "3g.40gb", 4));
  EXPECT_EQ(gi.id, 2);
  EXPECT_EQ(gi.placement.start, 4);
}

TEST_F(MigLookupTest, AMissingInstanceIsNeverCreated) {
  EXPECT_THAT(FindMigInstance(fake_, 0, "3g.40gb", 0),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("it has: 2g.20gb@0 (id 1), 3g.40gb@4 (id 2)")));
  ASSERT_OK_AND_ASSIGN(auto instances, fake_.GetGpuInstances(0));
  EXPECT_EQ(instances.size(), 2u);  // read-only
}

TEST_F(MigLookupTest, MigDisabledSaysSo) {
  EXPECT_THAT(FindMigInstance(fake_, 1, "1g.10gb", 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("has MIG disabled")));
}

TEST_F(MigLookupTest, DriverIndexByUuid) {
  EXPECT_THAT(DriverIndexOf(fake_, "GPU-bbbb", 0), IsOkAndHolds(1));
  EXPECT_THAT(DriverIndexOf(fake_, "", 3), IsOkAndHolds(3));
  EXPECT_THAT(DriverIndexOf(fake_, "GPU-zzzz", 0), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MigLookupTest, TheMigDeviceUuidComesFromTheDriver) {
  EXPECT_THAT(FindMigDeviceUuid(fake_, 0, "3g.40gb", 4),
              IsOkAndHolds(std::string("MIG-fake-gpu0-instance2")));
  EXPECT_THAT(FindMigDeviceUuid(fake_, 0, "1g.10gb", 2),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("tessera apply")));
}

}  // namespace
}  // namespace tessera::runtime_cuda
