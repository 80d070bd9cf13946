#include "tessera/driver/verify.h"

#include <ostream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/driver/fake_driver.h"
#include "tessera/driver/nvml_driver.h"
#include "testing/h100_model.h"

namespace tessera::driver {

void PrintTo(const Difference& d, std::ostream* os) {
  *os << "{" << d.where << ": catalog '" << d.catalog << "', hardware '" << d.hardware << "'}";
}

namespace {

using ::tessera::driver::testing::H100Model;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// What the fake NVML (an H100 80GB HBM3) reports through NvmlDriver.
struct Hardware {
  GpuInfo gpu;
  std::vector<ProfileInfo> profiles;
};

Hardware ReadFakeNvml() {
  absl::StatusOr<std::unique_ptr<GpuDriver>> driver = OpenNvmlDriver(TESSERA_FAKE_NVML_PATH);
  EXPECT_OK(driver);
  Hardware result;
  if (!driver.ok()) return result;
  absl::StatusOr<std::vector<GpuInfo>> gpus = (*driver)->ListGpus();
  absl::StatusOr<std::vector<ProfileInfo>> profiles = (*driver)->GetProfiles(0);
  EXPECT_OK(gpus);
  EXPECT_OK(profiles);
  if (gpus.ok() && !gpus->empty()) result.gpu = gpus->front();
  if (profiles.ok()) result.profiles = *profiles;
  return result;
}

hw::MigProfile& Profile(hw::GpuModel& model, std::string_view name) {
  int index = model.ProfileIndex(name);
  EXPECT_GE(index, 0) << name;
  return model.profiles[index];
}

TEST(VerifyTest, TheH100ModelAgreesWithNvml) {
  Hardware seen = ReadFakeNvml();
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, H100Model()), IsEmpty());
}

TEST(VerifyTest, AFakeDriverAgreesWithItsModel) {
  FakeDriver fake;
  fake.AddGpu(H100Model());
  ASSERT_OK_AND_ASSIGN(std::vector<GpuInfo> gpus, fake.ListGpus());
  ASSERT_OK_AND_ASSIGN(std::vector<ProfileInfo> profiles, fake.GetProfiles(0));
  EXPECT_THAT(CompareWithCatalog(gpus[0], profiles, H100Model()), IsEmpty());
}

TEST(VerifyTest, ReportsExactlyWhatDiffers) {
  Hardware seen = ReadFakeNvml();
  hw::GpuModel model = H100Model();
  Profile(model, "3g.40gb").sms = 62;
  Profile(model, "2g.20gb").starts = {0, 2, 6};
  Profile(model, "1g.20gb").memory_mib.reset();
  model.profiles.erase(model.profiles.begin() + model.ProfileIndex("4g.40gb"));
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, model),
              ElementsAre(Difference{"profile 1g.20gb: memory_mib", "null", "20096", true},
                          Difference{"profile 2g.20gb: placements", "starts 0, 2, 6 (size 2)",
                                     "starts 0, 2, 4 (size 2)"},
                          Difference{"profile 3g.40gb: sms", "62", "60"},
                          Difference{"profile 4g.40gb", "absent",
                                     "id 5, 4 compute slice(s), 64 SMs, 40448 MiB"}));
}

TEST(VerifyTest, ReportsGpuIdentityAndMemory) {
  Hardware seen = ReadFakeNvml();
  hw::GpuModel model = H100Model();
  model.pci_device_ids = {0x2331, 0x20B0};
  model.memory_mib.reset();
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, model),
              ElementsAre(Difference{"gpu: pci_device_id", "0x2331, 0x20B0", "0x2330"},
                          Difference{"gpu: memory_mib", "null", "81559", true}));
}

TEST(VerifyTest, MatchesByNameWhenTheIdIsUnknownOrWrong) {
  Hardware seen = ReadFakeNvml();
  hw::GpuModel model = H100Model();
  Profile(model, "1g.10gb").nvml_id.reset();
  Profile(model, "1g.10gb+me").nvml_id = 21;
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, model),
              ElementsAre(Difference{"profile 1g.10gb: nvml_id", "null", "19", true},
                          Difference{"profile 1g.10gb+me: nvml_id", "21", "20"}));
}

TEST(VerifyTest, MatchesByIdAndReportsARename) {
  Hardware seen = ReadFakeNvml();
  hw::GpuModel model = H100Model();
  Profile(model, "7g.80gb").name = "7g.81gb";
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, model),
              ElementsAre(Difference{"profile 7g.81gb: name", "7g.81gb", "7g.80gb"}));
}

TEST(VerifyTest, ComparesEnginesOnlyWhereTheCatalogKnowsThem) {
  Hardware seen = ReadFakeNvml();
  hw::GpuModel model = H100Model();
  Profile(model, "2g.20gb").engines.encoder.reset();
  Profile(model, "7g.80gb").engines.ofa = 0;
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, model),
              ElementsAre(Difference{"profile 7g.80gb: engines.ofa", "0", "1"}));
}

TEST(VerifyTest, WithoutNamesOnlyIdsMatch) {
  Hardware seen = ReadFakeNvml();
  for (ProfileInfo& p : seen.profiles) p.name.clear();
  hw::GpuModel model = H100Model();
  Profile(model, "7g.80gb").nvml_id.reset();
  EXPECT_THAT(CompareWithCatalog(seen.gpu, seen.profiles, model),
              ElementsAre(Difference{"profile 7g.80gb",
                                     "id null, 7 compute slice(s), 132 SMs, 81152 MiB", "absent"},
                          Difference{"profile id 0", "absent",
                                     "id 0, 7 compute slice(s), 132 SMs, 81152 MiB"}));
}

}  // namespace
}  // namespace tessera::driver
