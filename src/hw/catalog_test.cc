#include "tessera/hw/catalog.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::hw {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

GpuModel Hopper() {
  GpuModel gpu;
  gpu.name = "H100-SXM5-80GB";
  gpu.aliases = {"h100"};
  gpu.sms = 132;
  gpu.sm_partition = {.min_sms = 8, .multiple = 8, .provenance = {}};
  for (const char* name : {"1g.10gb+me", "3g.40gb"}) {
    MigProfile profile;
    profile.name = name;
    gpu.profiles.push_back(profile);
  }
  return gpu;
}

TEST(CatalogTest, RoundsSmPartitionsToTheGranularity) {
  GpuModel gpu = Hopper();
  EXPECT_THAT(RoundSmPartition(gpu, 26), IsOkAndHolds(32));
  EXPECT_THAT(RoundSmPartition(gpu, 60), IsOkAndHolds(64));
  EXPECT_THAT(RoundSmPartition(gpu, 3), IsOkAndHolds(8));
  EXPECT_THAT(RoundSmPartition(gpu, 128), IsOkAndHolds(128));
  EXPECT_THAT(RoundSmPartition(gpu, 132), IsOkAndHolds(132));  // the whole GPU
  EXPECT_THAT(RoundSmPartition(gpu, 130),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than the 132 SMs")));
  EXPECT_THAT(RoundSmPartition(gpu, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("positive SM count")));
}

TEST(CatalogTest, FindsByNameAliasAndPciId) {
  GpuModel gpu = Hopper();
  gpu.pci_device_ids = {0x2330};
  Catalog catalog({gpu});
  EXPECT_THAT(catalog.Find("H100"), IsOkAndHolds(&catalog.gpus()[0]));
  EXPECT_THAT(catalog.Find("h100-sxm5-80gb"), IsOkAndHolds(&catalog.gpus()[0]));
  EXPECT_THAT(catalog.Find("a100"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("known models: H100-SXM5-80GB")));
  EXPECT_EQ(catalog.FindByPciDeviceId(0x2330), &catalog.gpus()[0]);
  EXPECT_EQ(catalog.FindByPciDeviceId(0x2331), nullptr);
}

TEST(CatalogTest, FindsProfilesAndMediaExtensions) {
  GpuModel gpu = Hopper();
  ASSERT_NE(gpu.FindProfile("3g.40gb"), nullptr);
  EXPECT_EQ(gpu.ProfileIndex("3g.40gb"), 1);
  EXPECT_EQ(gpu.FindProfile("2g.20gb"), nullptr);
  EXPECT_TRUE(gpu.profiles[0].is_media_extension());
  EXPECT_FALSE(gpu.profiles[1].is_media_extension());
}

}  // namespace
}  // namespace tessera::hw
