#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/perf/profiles.h"
#include "testing/bundled.h"

namespace tessera::perf {
namespace {

using ::tessera::perf::testing::BundledCatalog;
using ::tessera::perf::testing::BundledRegistry;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr char kHeader[] =
    "gpu,partition,model,input,batch,procs,latency_ms,latency_ms_p90,memory_mib,source\n";
constexpr char kGoodRow[] = "H100-SXM5-80GB,sm:64,resnet50,224,8,1,2.5,2.7,156,measured\n";

absl::StatusOr<ProfileTable> Parse(const std::string& text) {
  return ParseProfileCsv(text, "t.csv", BundledCatalog(), BundledRegistry());
}

// A table of kGoodRow and `row`; errors are about `row`, on line 3.
absl::Status ErrorOf(const std::string& row) {
  return Parse(std::string(kHeader) + kGoodRow + row).status();
}

TEST(ProfileCsvTest, ReadsAndMapsAliasesToCanonicalNames) {
  ASSERT_OK_AND_ASSIGN(ProfileTable table,
                       Parse("gpu,partition,model,input,batch,latency_ms,memory_mib,source\r\n"
                             "h100,sm:32,bert,128,4,3.25,,measured\r\n"
                             "a100-80gb,3g.40gb,mobilenetv2,224,1,1.5,12.5,predicted"));
  ASSERT_EQ(table.size(), 2u);
  const ProfileRow* bert =
      table.Find({"H100-SXM5-80GB", hw::Partition::Sm(32), "bert_base", 128, 4, 1});
  ASSERT_NE(bert, nullptr);
  EXPECT_DOUBLE_EQ(bert->latency_ms, 3.25);
  EXPECT_EQ(bert->memory_mib, std::nullopt);
  EXPECT_EQ(bert->latency_ms_p90, std::nullopt);
  const ProfileRow* mobilenet =
      table.Find({"A100-SXM4-80GB", hw::Partition::Mig("3g.40gb"), "mobilenet_v2", 224, 1, 1});
  ASSERT_NE(mobilenet, nullptr);
  EXPECT_THAT(mobilenet->memory_mib, Optional(12.5));
  EXPECT_EQ(mobilenet->source, ProfileSource::kPredicted);
}

TEST(ProfileCsvTest, WriteThenReadGivesTheSameText) {
  std::string text = std::string(kHeader) + kGoodRow +
                     "H100-SXM5-80GB,sm:132,gpt2,1024,2,3,13.4394,,,interpolated\n";
  ASSERT_OK_AND_ASSIGN(ProfileTable table, Parse(text));
  std::ostringstream out;
  WriteProfileCsv(table, out);
  EXPECT_EQ(out.str(), text);
  ASSERT_OK_AND_ASSIGN(ProfileTable again, Parse(out.str()));
  EXPECT_EQ(again.rows(), table.rows());
}

TEST(ProfileCsvTest, TailColumnsAreWrittenOnlyWhenPresent) {
  ASSERT_OK_AND_ASSIGN(ProfileTable table,
                       Parse("gpu,partition,model,input,batch,latency_ms,memory_mib,source\n"
                             "h100,sm:32,resnet50,224,4,3,,measured\n"));
  std::ostringstream out;
  WriteProfileCsv(table, out);
  EXPECT_EQ(out.str(),
            "gpu,partition,model,input,batch,procs,latency_ms,memory_mib,source\n"
            "H100-SXM5-80GB,sm:32,resnet50,224,4,1,3,,measured\n");
}

TEST(ProfileCsvTest, BadPartition) {
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,5g.50gb,resnet50,224,8,1,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column partition: H100-SXM5-80GB has no MIG profile "
                                 "'5g.50gb'")));
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:20,resnet50,224,8,1,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column partition: sm:20 is not a legal SM partition")));
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:x,resnet50,224,8,1,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column partition: partition 'sm:x'")));
}

TEST(ProfileCsvTest, UnknownModel) {
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,alexnet,224,8,1,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column model: unknown model 'alexnet'; known models:")));
}

TEST(ProfileCsvTest, UnknownGpu) {
  EXPECT_THAT(ErrorOf("V100,sm:64,resnet50,224,8,1,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column gpu: unknown GPU model 'V100'")));
}

TEST(ProfileCsvTest, NonPositiveLatency) {
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,resnet50,224,16,1,0,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column latency_ms: must be positive, found 0")));
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,resnet50,224,16,1,2,-1,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column latency_ms_p90: must be positive")));
}

TEST(ProfileCsvTest, DuplicateKeyNamesBothLines) {
  // `h100` and `H100-SXM5-80GB` are the same GPU, so this repeats line 2.
  EXPECT_THAT(ErrorOf("h100,sm:64,resnet50,224,8,1,2.6,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: duplicate row: H100-SXM5-80GB sm:64 resnet50 input 224 "
                                 "batch 8 procs 1 is already on line 2")));
}

TEST(ProfileCsvTest, MissingColumn) {
  EXPECT_THAT(Parse("gpu,partition,model,input,batch,memory_mib,source\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:1: missing column 'latency_ms'")));
}

TEST(ProfileCsvTest, UnknownColumn) {
  EXPECT_THAT(
      Parse("gpu,partition,model,input,batch,latency_ms,latency_ms_p95,memory_mib,source\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("t.csv:1: unknown column 'latency_ms_p95'")));
}

TEST(ProfileCsvTest, InputAboveTheModelsMaximum) {
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,bert_base,600,8,1,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column input: input 600 is above bert_base's maximum "
                                 "of 512 tokens")));
}

TEST(ProfileCsvTest, OtherBadFields) {
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,resnet50,224,8,0,2.5,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column procs: must be an integer of at least 1")));
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,resnet50,224,4,1,2.5,,-3,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column memory_mib: must not be negative")));
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,resnet50,224,4,1,2.5,,,guessed\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column source: unknown source 'guessed'")));
  EXPECT_THAT(ErrorOf("H100-SXM5-80GB,sm:64,resnet50,224,4,1,fast,,,measured\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.csv:3: column latency_ms: expected a number, found 'fast'")));
}

TEST(ProfileCsvTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadProfileCsv("/nonexistent/p.csv", BundledCatalog(), BundledRegistry()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/p.csv")));
}

TEST(ProfileCsvTest, BundledTablesLoad) {
  for (const char* name : {"h100-sm-partitions.csv", "a100-parvagpu.csv", "a100-migprofiler.csv"}) {
    absl::StatusOr<ProfileTable> table = LoadProfileCsv(
        testing::DataPath(std::string("profiles/") + name), BundledCatalog(), BundledRegistry());
    ASSERT_TRUE(table.ok()) << table.status();
    EXPECT_GT(table->size(), 100u) << name;
  }
}

TEST(ProfileCsvTest, BundledH100TableInterpolatesBilinearly) {
  ASSERT_OK_AND_ASSIGN(ProfileTable table,
                       LoadProfileCsv(testing::DataPath("profiles/h100-sm-partitions.csv"),
                                      BundledCatalog(), BundledRegistry()));
  // resnet50 batch 8/16: 2.2103/3.4623 ms on sm:32, 1.4845/2.186 ms on sm:64.
  ASSERT_OK_AND_ASSIGN(ProfileRow row, table.Lookup({"H100-SXM5-80GB", hw::Partition::Sm(48),
                                                     "resnet50", 224, 12, 1}));
  EXPECT_DOUBLE_EQ(row.latency_ms, ((2.2103 + 3.4623) / 2 + (1.4845 + 2.186) / 2) / 2);
  EXPECT_EQ(row.source, ProfileSource::kInterpolated);
}

}  // namespace
}  // namespace tessera::perf
