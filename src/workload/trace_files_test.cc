// The trace readers: timestamps, token mapping, Azure Functions layouts, LLM and CSV rows.
#include "internal/trace_files.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "workload_test_util.h"

namespace tessera::workload::internal {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using testing::TestDir;
using testing::WriteFile;

TEST(ParseTimestampNsTest, ReadsTheAzureLlmFormat) {
  // 2023-11-16 is day 19677 since 1970-01-01.
  const int64_t day = int64_t{19677} * 86400 * 1'000'000'000;
  EXPECT_THAT(ParseTimestampNs("2023-11-16 18:17:03.9799600"),
              IsOkAndHolds(day + ((18 * 60 + 17) * 60 + 3) * int64_t{1'000'000'000} + 979'960'000));
  EXPECT_THAT(ParseTimestampNs("2023-11-16T00:00:00"), IsOkAndHolds(day));
  EXPECT_THAT(ParseTimestampNs("1970-01-01 00:00:00.000000001"), IsOkAndHolds(1));
}

TEST(ParseTimestampNsTest, RejectsMalformedTimes) {
  for (const char* bad :
       {"", "2023-11-16", "2023-13-01 00:00:00", "2023-02-30 00:00:00", "2023-11-16 24:00:00",
        "2023-11-16 18:17:03.", "2023-11-16 18:17:03x", "2023-11-16 18:17:03.1234567890"}) {
    EXPECT_THAT(ParseTimestampNs(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                                HasSubstr("expected a timestamp like")))
        << bad;
  }
}

TEST(TokensToInputTest, RoundsUpAndClamps) {
  EXPECT_EQ(TokensToInput(4808, 8, 512), 512);  // 601 clamped
  EXPECT_EQ(TokensToInput(1469, 8, 512), 184);  // 183.6 rounded up
  EXPECT_EQ(TokensToInput(16, 8, 512), 2);
  EXPECT_EQ(TokensToInput(0, 8, 512), 1);
  EXPECT_EQ(TokensToInput(7437, 1, 1024), 1024);
}

// A functions file of `layout` with two functions; counts of minute m are m and 2m.
std::string FunctionsFile(bool sampled100) {
  std::string header =
      sampled100 ? "HashFunction,HashApp,HashOwner" : "HashOwner,HashApp,HashFunction,Trigger";
  std::string a = sampled100 ? "aaaaaaaa11,app,own" : "own,app,aaaaaaaa11,http";
  std::string b = sampled100 ? "aaaaaaaa22,app,own" : "own,app,aaaaaaaa22,queue";
  for (int m = 1; m <= 1440; ++m) {
    header += sampled100 ? fmt::format(",minute_{}", m) : fmt::format(",{}", m);
    a += fmt::format(",{}", m);
    b += fmt::format(",{}", 2 * m);
  }
  return header + "\n" + a + "\n" + b;  // no final newline
}

TEST(ReadFunctionRowsTest, ReadsBothLayoutsAndTheChosenMinutes) {
  const std::string dir = TestDir();
  for (bool sampled100 : {false, true}) {
    const std::string path = WriteFile(dir, "inv.csv", FunctionsFile(sampled100));
    ASSERT_OK_AND_ASSIGN(auto rows, ReadFunctionRows(path, {"aaaaaaaa2", "aaaaaaaa"}, 10, 12));
    ASSERT_EQ(rows.size(), 2u);
    ASSERT_EQ(rows[0].size(), 1u);
    EXPECT_EQ(rows[0][0].function, "aaaaaaaa22");
    EXPECT_EQ(rows[0][0].counts, (std::vector<int64_t>{20, 22, 24}));
    EXPECT_EQ(rows[1].size(), 2u);  // an ambiguous prefix matches both
    EXPECT_THAT(PickFunction(rows[1], "aaaaaaaa", path),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("matches 2 functions")));
    EXPECT_THAT(PickFunction({}, "bbbbbbbb", path),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("no function in " + path + " has a HashFunction starting")));
  }
}

TEST(ReadFunctionRowsTest, RejectsOtherHeadersAndBadCounts) {
  const std::string dir = TestDir();
  const std::string other = WriteFile(dir, "other.csv", "a,b\n1,2\n");
  EXPECT_THAT(ReadFunctionRows(other, {"x"}, 1, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(other + ":1: not an Azure Functions invocations file")));
  std::string text = FunctionsFile(false);
  text.replace(text.rfind(",2880"), 5, ",-3");
  const std::string bad = WriteFile(dir, "bad.csv", text);
  EXPECT_THAT(ReadFunctionRows(bad, {"aaaaaaaa22"}, 1440, 1440),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(bad + ":3: column 1440: expected a count of invocations")));
}

TEST(LlmTraceReaderTest, ReadsCrlfRowsRelativeToTheFirst) {
  const std::string path = WriteFile(TestDir(), "llm.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                     "2023-11-16 18:17:03.9799600,4808,10\r\n"
                                     "2023-11-16 18:17:04.0319600,3180,8\r\n"
                                     "2023-11-16 18:18:04.0319600,12,8");
  ASSERT_OK_AND_ASSIGN(LlmTraceReader reader, LlmTraceReader::Open(path));
  LlmRow row;
  std::vector<std::pair<int64_t, int64_t>> rows;
  while (true) {
    ASSERT_OK_AND_ASSIGN(bool more, reader.Next(row));
    if (!more) break;
    rows.emplace_back(row.time_ns, row.context_tokens);
  }
  EXPECT_EQ(rows, (std::vector<std::pair<int64_t, int64_t>>{
                      {0, 4808}, {52'000'000, 3180}, {60'052'000'000, 12}}));
}

TEST(LlmTraceReaderTest, RowsOutOfOrderAreAnErrorWithTheLine) {
  const std::string path = WriteFile(TestDir(), "llm.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                     "2023-11-16 18:17:04,1,1\n"
                                     "2023-11-16 18:17:03,1,1\n");
  ASSERT_OK_AND_ASSIGN(LlmTraceReader reader, LlmTraceReader::Open(path));
  LlmRow row;
  ASSERT_OK(reader.Next(row).status());
  EXPECT_THAT(reader.Next(row),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ":3: column TIMESTAMP: 2023-11-16 "
                                        "18:17:03 is earlier than the previous")));
}

TEST(CsvTraceReaderTest, MapsModelsThroughTheRegistryAndChecksRows) {
  models::ModelRegistry registry = testing::TestRegistry();
  const std::string path = WriteFile(TestDir(), "t.csv",
                                     "timestamp_s,model,input_size\n"
                                     "0.5,bert,100\n"
                                     "0.75,resnet-50,\n"
                                     "0.6,gpt2,1\n"
                                     "1.0,bert_base,600\n"
                                     "2.0,alexnet,1\n");
  ASSERT_OK_AND_ASSIGN(CsvTraceReader reader, CsvTraceReader::Open(path, registry));
  EXPECT_TRUE(reader.has_input_column());
  CsvTraceRow row;
  ASSERT_THAT(reader.Next(row), IsOkAndHolds(true));
  EXPECT_EQ(row.time_ns, 500'000'000);
  EXPECT_EQ(row.model->name, "bert_base");
  EXPECT_EQ(row.input, 100);
  ASSERT_THAT(reader.Next(row), IsOkAndHolds(true));
  EXPECT_EQ(row.model->name, "resnet50");
  EXPECT_EQ(row.input, std::nullopt);
  EXPECT_THAT(reader.Next(row),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ":4: column timestamp_s: 0.6 s is earlier than the "
                                        "previous row's 0.75 s; sort the trace")));
  EXPECT_THAT(reader.Next(row),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ":5: column input_size: must be between 1 and "
                                        "bert_base's maximum input 512, found 600")));
  EXPECT_THAT(reader.Next(row), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr(path + ":6: column model: unknown model "
                                                          "'alexnet'")));
}

}  // namespace
}  // namespace tessera::workload::internal
