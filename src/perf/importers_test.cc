#include "tessera/perf/importers.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "testing/bundled.h"

namespace tessera::perf {
namespace {

namespace fs = std::filesystem;

using ::tessera::perf::testing::BundledCatalog;
using ::tessera::perf::testing::BundledRegistry;
using ::tessera::perf::testing::DataPath;
using ::tessera::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Optional;

std::string FreshDir(std::string_view name) {
  fs::path dir = fs::path(::testing::TempDir()) / fmt::format("importers_test_{}", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string WriteFile(const std::string& dir, const std::string& name, std::string_view text) {
  std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  EXPECT_TRUE(out.good()) << path;
  return path;
}

absl::StatusOr<ImportResult> Import(const std::string& format, const std::string& path) {
  return ImportProfiles(format, path, BundledCatalog(), BundledRegistry());
}

std::string Text(const ProfileTable& table) {
  std::ostringstream out;
  WriteProfileCsv(table, out);
  return out.str();
}

// "" when equal, else the first line where `actual` differs from `expected`.
std::string FirstDifference(const std::string& actual, const std::string& expected) {
  if (actual == expected) return "";
  std::istringstream a(actual), e(expected);
  std::string line_a, line_e;
  for (int line = 1;; ++line) {
    bool more_a = static_cast<bool>(std::getline(a, line_a));
    bool more_e = static_cast<bool>(std::getline(e, line_e));
    if (!more_a && !more_e) return "the texts differ only in line ends";
    if (more_a != more_e || line_a != line_e) {
      return fmt::format("line {}: fresh import '{}', bundled file '{}'", line,
                         more_a ? line_a : "<end>", more_e ? line_e : "<end>");
    }
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr char kParvaHeader[] = "Mig instance,Batch size,Workload Number,Throughput,Latency\r\n";

TEST(ParvaGpuImporterTest, ConvertsRowsAndSkipsUnmeasuredOnes) {
  std::string dir = FreshDir("parva");
  WriteFile(dir, "mobilenetv2.csv",
            std::string(kParvaHeader) +
                "1,1,1,196.762,0.005\r\n3,32,2,1335.676,0.024\r\n"
                "7,256,5,0,0");  // no final newline
  ASSERT_OK_AND_ASSIGN(ImportResult result, Import("parvagpu", dir));
  EXPECT_EQ(Text(result.table),
            "gpu,partition,model,input,batch,procs,latency_ms,memory_mib,source\n"
            "A100-SXM4-80GB,1g.10gb,mobilenet_v2,224,1,1,5.0823,,measured\n"
            "A100-SXM4-80GB,3g.40gb,mobilenet_v2,224,32,2,23.9579,,measured\n");
  EXPECT_THAT(result.notes, Contains(HasSubstr("1 rows '0,0' skipped (configurations that did not "
                                               "run, e.g. out of memory): mobilenetv2.csv 1")));
}

TEST(ParvaGpuImporterTest, BertGets128Tokens) {
  std::string dir = FreshDir("parva_bert");
  std::string path = WriteFile(dir, "bert.csv", std::string(kParvaHeader) + "1,1,1,74.408,0.013\n");
  ASSERT_OK_AND_ASSIGN(ImportResult result, Import("parvagpu", path));
  ASSERT_EQ(result.table.size(), 1u);
  EXPECT_EQ(result.table.rows().begin()->first.model, "bert_base");
  EXPECT_EQ(result.table.rows().begin()->first.input, 128);
  EXPECT_THAT(result.notes, Contains(HasSubstr("bert/large.json")));
}

TEST(ParvaGpuImporterTest, RejectsUnknownMigSizeAndModel) {
  std::string dir = FreshDir("parva_bad");
  std::string path = WriteFile(dir, "vgg16.csv", std::string(kParvaHeader) + "5,1,1,10,0.1\n");
  EXPECT_THAT(Import("parvagpu", path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vgg16.csv:2: column Mig instance: expected a MIG size of 1, 2, "
                                 "3, 4 or 7 GPCs")));
  path = WriteFile(dir, "alexnet.csv", std::string(kParvaHeader) + "1,1,1,10,0.1\n");
  EXPECT_THAT(Import("parvagpu", path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'alexnet' is not in the model registry")));
  path = WriteFile(dir, "resnet50.csv", std::string(kParvaHeader) + "1,1,1,10,0\n");
  EXPECT_THAT(Import("parvagpu", path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("resnet50.csv:2: column Latency: must be positive")));
}

constexpr char kMigCvHeader[] =
    ",Unnamed: 0,model_name,batch_size,latency,latency_std,throughput,start_timestamp,"
    "end_timestamp,mig_profile,gract_mean,gract_std,fb_used_mean,fb_used_std\n";
constexpr char kMigNlpHeader[] =
    ",Unnamed: 0,model_name,batch_size,seq_length,latency,latency_std,throughput,start_timestamp,"
    "end_timestamp,mig_profile,gract_mean,gract_std,fb_used_mean,fb_used_std\n";

TEST(MigProfilerImporterTest, SubtractsTheContextAndMapsNames) {
  std::string dir = FreshDir("migp");
  std::string path =
      WriteFile(dir, "cv.csv",
                std::string(kMigCvHeader) +
                    "0,0,vision_transformer,1,5.38,0.1,185.7,1,2,7g.80gb,0.8,0.1,2052.426,12.9\n"
                    "1,0,resnet50,2,5.85,0.15,170.99,1,2,2g.20gb,0.6,0.05,1513.262,8.1\n");
  ASSERT_OK_AND_ASSIGN(ImportResult result, Import("migprofiler", path));
  EXPECT_EQ(Text(result.table),
            "gpu,partition,model,input,batch,procs,latency_ms,memory_mib,source\n"
            "A100-SXM4-80GB,2g.20gb,resnet50,224,2,1,5.85,1013.262,measured\n"
            "A100-SXM4-80GB,7g.80gb,vit_b_16,224,1,1,5.38,1552.426,measured\n");
  EXPECT_THAT(result.notes, Contains(HasSubstr("fb_used_mean - 500 MiB")));
}

TEST(MigProfilerImporterTest, FlagsNoisyRowsAndMergesRepeats) {
  std::string dir = FreshDir("migp_nlp");
  WriteFile(dir, "a_bsz.csv",
            std::string(kMigNlpHeader) +
                "0,0,bert-base,32,64,26.34,0.02,1214,1,2,7g.80gb,0.9,0.1,1963.033,10\n");
  WriteFile(dir, "b_seq.csv",
            std::string(kMigNlpHeader) +
                "0,0,bert-base,32,64,26.34,0.02,1214,1,2,7g.80gb,0.9,0.1,1963.033,10\n"
                "1,0,bert-base,32,512,82.4,33.29,388,1,2,7g.80gb,0.9,0.1,3639.115,10\n");
  ASSERT_OK_AND_ASSIGN(ImportResult result, Import("migprofiler", dir));
  EXPECT_EQ(result.table.size(), 2u);
  EXPECT_THAT(result.notes, Contains(HasSubstr("b_seq.csv: 1 rows repeat configurations")));
  EXPECT_THAT(result.notes,
              Contains(AllOf(HasSubstr("b_seq.csv: 1 rows kept but doubtful, latency_std 40-40%"),
                             HasSubstr("bert_base at input 512 on 7g.80gb"))));
  WriteFile(dir, "c_conflict.csv",
            std::string(kMigNlpHeader) +
                "0,0,bert-base,32,64,30,0.02,1214,1,2,7g.80gb,0.9,0.1,1963.033,10\n");
  EXPECT_THAT(Import("migprofiler", dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("c_conflict.csv:2:"),
                             HasSubstr("was measured with different values at"),
                             HasSubstr("a_bsz.csv:2"))));
}

TEST(MigProfilerImporterTest, RejectsBadRows) {
  std::string dir = FreshDir("migp_bad");
  std::string path = WriteFile(
      dir, "x.csv",
      std::string(kMigNlpHeader) + "0,0,bert-base,1,1024,6,0.1,1,1,2,7g.80gb,0.4,0,1877,24\n");
  EXPECT_THAT(Import("migprofiler", path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("x.csv:2: column seq_length: input 1024 is above bert_base's "
                                 "maximum of 512 tokens")));
  path =
      WriteFile(dir, "y.csv",
                std::string(kMigCvHeader) + "0,0,resnet50,1,5,0.1,1,1,2,5g.50gb,0.4,0,1877,24\n");
  EXPECT_THAT(Import("migprofiler", path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("y.csv:2: column mig_profile: A100-SXM4-80GB has no MIG profile "
                                 "'5g.50gb'")));
}

constexpr char kH100Header[] =
    "gpu,sms,model,input,batch,latency_ms_p50,latency_ms_p90,latency_ms_min,iterations,"
    "peak_memory_mib\n";

TEST(H100SmImporterTest, ConvertsInputsAndPartitions) {
  std::string dir = FreshDir("h100");
  std::string path = WriteFile(dir, "profiles.csv",
                               std::string(kH100Header) +
                                   "H100-SXM5-80GB,16,resnet50,img224,1,1.4417,1.4437,1.43,30,119\n"
                                   "H100-SXM5-80GB,132,gpt2,seq1024,2,9.5,9.75,9.4,5,880\n");
  ASSERT_OK_AND_ASSIGN(ImportResult result, Import("h100-sm", path));
  EXPECT_EQ(Text(result.table),
            "gpu,partition,model,input,batch,procs,latency_ms,latency_ms_p90,memory_mib,source\n"
            "H100-SXM5-80GB,sm:16,resnet50,224,1,1,1.4417,1.4437,119,measured\n"
            "H100-SXM5-80GB,sm:132,gpt2,1024,2,1,9.5,9.75,880,measured\n");
}

TEST(H100SmImporterTest, RejectsBadInputsAndPartitions) {
  std::string dir = FreshDir("h100_bad");
  auto import_row = [&](std::string_view row) {
    return Import("h100-sm", WriteFile(dir, "p.csv", std::string(kH100Header) + std::string(row)));
  };
  EXPECT_THAT(import_row("H100-SXM5-80GB,16,bert_base,seqx,1,1,1,1,1,1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.csv:2: column input: expected imgN")));
  EXPECT_THAT(import_row("H100-SXM5-80GB,16,bert_base,img224,1,1,1,1,1,1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'img224' is in pixels but bert_base takes tokens")));
  EXPECT_THAT(import_row("H100-SXM5-80GB,20,resnet50,img224,1,1,1,1,1,1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.csv:2: column sms: sm:20 is not a legal SM partition")));
  EXPECT_THAT(import_row("H100-SXM5-80GB,16,resnet50,img224,1,-1,1,1,1,1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.csv:2: H100-SXM5-80GB sm:16 resnet50 input 224 batch 1 procs "
                                 "1: latency_ms must be positive")));
  EXPECT_THAT(Import("h100-sm", dir),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is a folder")));
}

TEST(ImportersTest, UnknownFormatListsTheFormats) {
  EXPECT_THAT(Import("mlperf", "x.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown profile format 'mlperf'; formats: parvagpu, "
                                 "migprofiler, h100-sm")));
  EXPECT_THAT(Import("parvagpu", "/nonexistent/prof_data"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no such file or folder")));
}

// The bundled tables in data/profiles are made by the importers from data/datasets; this keeps
// them from going stale (regenerate with the commands in data/profiles/README.md).
TEST(ImportersTest, BundledTablesMatchAFreshImport) {
  struct Bundled {
    const char* format;
    const char* source;
    const char* table;
    size_t rows;
  };
  for (const Bundled& b : {Bundled{"h100-sm", "datasets/h100-sm-partitions/profiles.csv",
                                   "profiles/h100-sm-partitions.csv", 352},
                           Bundled{"parvagpu", "datasets/parvagpu-a100-mig-mps/prof_data",
                                   "profiles/a100-parvagpu.csv", 1747},
                           Bundled{"migprofiler", "datasets/migprofiler-a100-80gb",
                                   "profiles/a100-migprofiler.csv", 124}}) {
    absl::StatusOr<ImportResult> result = Import(b.format, DataPath(b.source));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->table.size(), b.rows) << b.format;
    std::string difference = FirstDifference(Text(result->table), ReadAll(DataPath(b.table)));
    EXPECT_EQ(difference, "") << b.table
                              << " is stale; regenerate it as data/profiles/README.md says";
  }
}

}  // namespace
}  // namespace tessera::perf
