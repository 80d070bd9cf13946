#include <filesystem>
#include <fstream>
#include <string>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/hw/catalog.h"

namespace tessera::hw {
namespace {

namespace fs = std::filesystem;

using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

// A small valid model; the error tests each change one spot of it.
constexpr char kValid[] = R"(name: Test-GPU
aliases: [tgpu]
identity: {pci_device_ids: [0x1234], source: test, verified: false}
resources: {sms: 132, memory_mib: 81920, compute_slices: 7, memory_slices: 8, source: test, verified: false}
sm_partition: {min_sms: 8, multiple: 8, source: test, verified: false}
peak: {fp16_dense_tflops: null, memory_bandwidth_gbps: 3350, source: test, verified: false}
mig_profiles:
  - {name: 1g.10gb, nvml_id: 19, compute_slices: 1, memory_slices: 1, sms: 16, memory_mib: 9984,
     engines: {copy: 1, decoder: 1, encoder: null, jpeg: 1, ofa: 0}, max_count: 7,
     starts: [0, 1, 2, 3, 4, 5, 6], source: test, verified: true}
  - {name: 3g.40gb, nvml_id: 9, compute_slices: 3, memory_slices: 4, sms: 60, memory_mib: null,
     engines: null, max_count: 2, starts: [0, 4], source: test, verified: false}
)";

// kValid with the first occurrence of `from` replaced by `to`.
std::string ValidWith(std::string_view from, std::string_view to) {
  std::string text = kValid;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// A fresh, empty folder under the test temp dir.
std::string FreshDir(std::string_view name) {
  fs::path dir = fs::path(::testing::TempDir()) / fmt::format("catalog_loader_test_{}", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

absl::StatusOr<Catalog> LoadBundledCatalog() {
  absl::StatusOr<std::string> dir = DataDir();
  if (!dir.ok()) return dir.status();
  return LoadCatalogDir(*dir + "/gpus");
}

TEST(CatalogLoaderTest, ParsesEveryField) {
  ASSERT_OK_AND_ASSIGN(GpuModel gpu, ParseGpuModel(kValid, "t.yaml"));
  EXPECT_EQ(gpu.name, "Test-GPU");
  EXPECT_THAT(gpu.aliases, ElementsAre("tgpu"));
  EXPECT_THAT(gpu.pci_device_ids, ElementsAre(0x1234u));
  EXPECT_EQ(gpu.identity_provenance, (Provenance{"test", false}));
  EXPECT_THAT(gpu.sms, Optional(132));
  EXPECT_THAT(gpu.memory_mib, Optional(81920));
  EXPECT_EQ(gpu.compute_slices, 7);
  EXPECT_EQ(gpu.memory_slices, 8);
  EXPECT_EQ(gpu.sm_partition.min_sms, 8);
  EXPECT_EQ(gpu.sm_partition.multiple, 8);
  EXPECT_EQ(gpu.peak_fp16_dense_tflops, std::nullopt);
  EXPECT_THAT(gpu.memory_bandwidth_gbps, Optional(3350.0));
  ASSERT_EQ(gpu.profiles.size(), 2u);
  const MigProfile& small = gpu.profiles[0];
  EXPECT_EQ(small.name, "1g.10gb");
  EXPECT_THAT(small.nvml_id, Optional(19));
  EXPECT_EQ(small.engines, (Engines{.copy = 1, .decoder = 1, .encoder = {}, .jpeg = 1, .ofa = 0}));
  EXPECT_THAT(small.starts, ElementsAre(0, 1, 2, 3, 4, 5, 6));
  EXPECT_EQ(small.provenance, (Provenance{"test", true}));
  const MigProfile& large = gpu.profiles[1];
  EXPECT_EQ(large.memory_slices, 4);
  EXPECT_EQ(large.max_count, 2);
  EXPECT_EQ(large.memory_mib, std::nullopt);
  EXPECT_EQ(large.engines, Engines{});
}

TEST(CatalogLoaderTest, ParsesAGpuWithoutMig) {
  std::string text =
      ValidWith("compute_slices: 7, memory_slices: 8", "compute_slices: 0, memory_slices: 0");
  text = text.substr(0, text.find("mig_profiles:")) + "mig_profiles: []\n";
  ASSERT_OK_AND_ASSIGN(GpuModel gpu, ParseGpuModel(text, "t.yaml"));
  EXPECT_EQ(gpu.compute_slices, 0);
  EXPECT_TRUE(gpu.profiles.empty());
}

TEST(CatalogLoaderTest, LoadsEveryBundledModel) {
  ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadBundledCatalog());
  std::vector<std::string> names;
  for (const GpuModel& gpu : catalog.gpus()) names.push_back(gpu.name);
  EXPECT_THAT(names, ElementsAre("A100-SXM4-40GB", "A100-SXM4-80GB", "A30-24GB", "B200-180GB",
                                 "H100-NVL-94GB", "H100-SXM5-80GB", "H200-141GB"));
  for (std::string_view alias :
       {"h100", "a100-80gb", "a30", "h200", "b200", "h100-nvl", "NVIDIA H100 80GB HBM3"}) {
    EXPECT_TRUE(catalog.Find(alias).ok()) << alias;
  }
}

TEST(CatalogLoaderTest, BundledH100MatchesNvml) {
  ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadBundledCatalog());
  ASSERT_OK_AND_ASSIGN(const GpuModel* h100, catalog.Find("h100"));
  EXPECT_EQ(catalog.FindByPciDeviceId(0x2330), h100);
  const MigProfile* p = h100->FindProfile("3g.40gb");
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(p->nvml_id, Optional(9));
  EXPECT_THAT(p->sms, Optional(60));
  EXPECT_EQ(p->memory_slices, 4);
  EXPECT_THAT(p->starts, ElementsAre(0, 4));
  EXPECT_TRUE(p->provenance.verified);
  ASSERT_NE(h100->FindProfile("1g.20gb"), nullptr);
  EXPECT_THAT(h100->FindProfile("1g.20gb")->sms, Optional(26));
  EXPECT_EQ(h100->memory_mib, std::nullopt);
}

TEST(CatalogLoaderTest, BundledH200AndA30) {
  ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadBundledCatalog());
  ASSERT_OK_AND_ASSIGN(const GpuModel* h200, catalog.Find("h200"));
  const MigProfile* full = h200->FindProfile("7g.141gb");
  ASSERT_NE(full, nullptr);
  EXPECT_THAT(full->sms, Optional(132));
  EXPECT_THAT(full->memory_mib, Optional(143360));
  ASSERT_OK_AND_ASSIGN(const GpuModel* a30, catalog.Find("a30"));
  EXPECT_EQ(a30->memory_slices, 4);
  EXPECT_EQ(a30->compute_slices, 4);
  EXPECT_EQ(a30->sm_partition.min_sms, 4);
  EXPECT_EQ(a30->sm_partition.multiple, 2);
}

TEST(CatalogLoaderTest, BundledUnknownsAreNullAndUnverified) {
  ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadBundledCatalog());
  ASSERT_OK_AND_ASSIGN(const GpuModel* b200, catalog.Find("b200"));
  EXPECT_EQ(b200->sms, std::nullopt);
  for (const MigProfile& p : b200->profiles) {
    EXPECT_EQ(p.sms, std::nullopt) << p.name;
    EXPECT_EQ(p.nvml_id, std::nullopt) << p.name;
    EXPECT_FALSE(p.provenance.verified) << p.name;
  }
  ASSERT_OK_AND_ASSIGN(const GpuModel* nvl, catalog.Find("h100-nvl"));
  EXPECT_EQ(nvl->FindProfile("3g.47gb")->memory_mib, std::nullopt);
  for (const GpuModel& gpu : catalog.gpus()) {
    EXPECT_FALSE(gpu.peak_provenance.verified) << gpu.name;
    EXPECT_FALSE(gpu.sm_partition.provenance.verified) << gpu.name;
  }
}

TEST(CatalogLoaderTest, LoadsOneFile) {
  std::string dir = FreshDir("one_file");
  WriteFile(dir + "/t.yaml", kValid);
  ASSERT_OK_AND_ASSIGN(GpuModel gpu, LoadGpuModelFile(dir + "/t.yaml"));
  EXPECT_EQ(gpu.name, "Test-GPU");
  EXPECT_THAT(LoadGpuModelFile(dir + "/absent.yaml"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.yaml")));
}

// One malformed input: replace `from` with `to` in kValid and expect `message` in the error.
struct BadInput {
  std::string test_name;
  std::string from;
  std::string to;
  std::string message;
};

void PrintTo(const BadInput& bad, std::ostream* os) { *os << bad.test_name; }

class MalformedModelTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(MalformedModelTest, ReportsLocationAndField) {
  const BadInput& bad = GetParam();
  EXPECT_THAT(ParseGpuModel(ValidWith(bad.from, bad.to), "t.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad.message)));
}

INSTANTIATE_TEST_SUITE_P(
    CatalogLoaderTest, MalformedModelTest,
    ::testing::Values(
        BadInput{"MissingField", "sms: 60, ", "",
                 "t.yaml:11:5: field mig_profiles[1].sms: missing required field"},
        BadInput{"UnknownTopLevelKey", "peak: {", "perk: {",
                 "t.yaml:6:1: field perk: unknown key 'perk'; expected one of: name, aliases"},
        BadInput{"UnknownEngineKey", "ofa: 0}", "ofa: 0, nvenc: 0}",
                 "t.yaml:9:69: field mig_profiles[0].engines.nvenc: unknown key 'nvenc'; "
                 "expected one of: copy, decoder, encoder, jpeg, ofa"},
        BadInput{"WrongType", "max_count: 2", "max_count: two",
                 "t.yaml:12:32: field mig_profiles[1].max_count: expected an integer, found 'two'"},
        BadInput{"GroupNotAMapping",
                 "sm_partition: {min_sms: 8, multiple: 8, source: test, "
                 "verified: false}",
                 "sm_partition: 8", "t.yaml:5:15: field sm_partition: expected a mapping"},
        BadInput{"StartOutsideGpu", "starts: [0, 4]", "starts: [0, 9]",
                 "t.yaml:12:47: field mig_profiles[1].starts[1]: start 9 is outside the GPU's 8 "
                 "memory slices (0..7)"},
        BadInput{"StartLeavesNoRoom", "starts: [0, 4]", "starts: [0, 5]",
                 "t.yaml:12:47: field mig_profiles[1].starts[1]: start 5 leaves no room: an "
                 "instance of 4 memory slices there would need slices 5..8"},
        BadInput{"StartsNotAscending", "starts: [0, 1, 2", "starts: [0, 2, 1",
                 "t.yaml:10:21: field mig_profiles[0].starts[2]: start 1 does not follow 2"},
        BadInput{"ProfileLargerThanGpu", "compute_slices: 3", "compute_slices: 8",
                 "t.yaml:11:49: field mig_profiles[1].compute_slices: the profile needs 8 compute "
                 "slices but the GPU has only 7"},
        BadInput{"ProfileWithMoreSmsThanGpu", "sms: 60", "sms: 140",
                 "t.yaml:11:75: field mig_profiles[1].sms: the profile has 140 SMs, more than the "
                 "GPU's 132"},
        BadInput{"DuplicateProfile", "name: 3g.40gb", "name: 1g.10gb",
                 "t.yaml:11:12: field mig_profiles[1].name: profile '1g.10gb' is already defined "
                 "at mig_profiles[0]"},
        BadInput{
            "DuplicateNvmlId", "nvml_id: 9", "nvml_id: 19",
            "t.yaml:11:30: field mig_profiles[1].nvml_id: NVML id 19 is already used by '1g.10gb'"},
        BadInput{"MaxCountZero", "max_count: 2", "max_count: 0",
                 "t.yaml:12:32: field mig_profiles[1].max_count: must be at least 1, found 0"},
        BadInput{
            "MaxCountBeyondStarts", "max_count: 2", "max_count: 3",
            "t.yaml:12:32: field mig_profiles[1].max_count: 3 instances need 3 distinct starts"},
        BadInput{"NegativeNvmlId", "nvml_id: 9", "nvml_id: -1",
                 "t.yaml:11:30: field mig_profiles[1].nvml_id: must be at least 0, found -1"},
        BadInput{"SmPartitionNotPositive", "min_sms: 8", "min_sms: 0",
                 "t.yaml:5:25: field sm_partition.min_sms: must be at least 1, found 0"},
        BadInput{"PciIdTooWide", "[0x1234]", "[0x12345]",
                 "t.yaml:3:29: field identity.pci_device_ids[0]: must be between 0 and 65535"},
        BadInput{"VerifiedNotBool", "verified: true}", "verified: yes}",
                 "t.yaml:10:61: field mig_profiles[0].verified: expected true or false, found "
                 "'yes'"},
        BadInput{"EmptySource", "source: test, verified: false}\nsm_partition",
                 "source: \"\", verified: false}\nsm_partition",
                 "t.yaml:4:87: field resources.source: must not be empty"},
        BadInput{"AliasRepeatsName", "aliases: [tgpu]", "aliases: [test-gpu]",
                 "t.yaml:2:11: field aliases[0]: 'test-gpu' repeats the name or another alias"},
        BadInput{"SlicesWithoutMig", "memory_slices: 8", "memory_slices: 0",
                 "t.yaml:4:76: field resources.memory_slices: is 0 but compute_slices is 7"},
        BadInput{"SyntaxError", "aliases: [tgpu]", "aliases: [tgpu",
                 "t.yaml:3:9: YAML syntax error"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return info.param.test_name; });

TEST(CatalogLoaderTest, EmptyDocumentIsAnError) {
  EXPECT_THAT(ParseGpuModel("", "t.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("t.yaml")));
}

TEST(CatalogLoaderTest, DuplicateAliasAcrossFilesNamesBothFiles) {
  std::string dir = FreshDir("duplicate_alias");
  WriteFile(dir + "/a.yaml", kValid);
  std::string other = ValidWith("name: Test-GPU", "name: Other-GPU");
  other.replace(other.find("[tgpu]"), 6, "[TGPU]");
  other.replace(other.find("0x1234"), 6, "0x4321");
  WriteFile(dir + "/b.yaml", other);
  EXPECT_THAT(LoadCatalogDir(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(fmt::format("{}/b.yaml:2:11: field aliases[0]: 'TGPU' is already "
                                             "the name or an alias of Test-GPU in {}/a.yaml",
                                             dir, dir))));
}

TEST(CatalogLoaderTest, DuplicatePciIdAcrossFilesNamesBothFiles) {
  std::string dir = FreshDir("duplicate_pci");
  WriteFile(dir + "/a.yaml", kValid);
  std::string other = ValidWith("name: Test-GPU", "name: Other-GPU");
  other.replace(other.find("[tgpu]"), 6, "[ogpu]");
  WriteFile(dir + "/b.yaml", other);
  EXPECT_THAT(LoadCatalogDir(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(fmt::format("{}/b.yaml:3:29: field identity.pci_device_ids[0]: "
                                             "PCI device id 0x1234 already belongs to Test-GPU in "
                                             "{}/a.yaml",
                                             dir, dir))));
}

TEST(CatalogLoaderTest, ErrorInOneFileNamesThatFile) {
  std::string dir = FreshDir("bad_file");
  WriteFile(dir + "/a.yaml", ValidWith("max_count: 2", "max_count: 0"));
  EXPECT_THAT(LoadCatalogDir(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(dir + "/a.yaml:12:32: field mig_profiles[1].max_count")));
}

TEST(CatalogLoaderTest, EmptyCatalogDirIsAnError) {
  std::string dir = FreshDir("empty");
  WriteFile(dir + "/README.md", "not a model");
  EXPECT_THAT(
      LoadCatalogDir(dir),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr(dir +
                    ": no *.yaml files in this folder; point at a folder of GPU model files")));
  EXPECT_THAT(LoadCatalogDir(dir + "/absent"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent: not a folder")));
}

}  // namespace
}  // namespace tessera::hw
