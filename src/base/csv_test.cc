#include "tessera/base/csv.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsvTest, ReadsCrlfQuotesAndMissingFinalNewline) {
  ASSERT_OK_AND_ASSIGN(CsvReader reader,
                       CsvReader::FromString("a,b,c\r\n1,\"x,y\",3\r\n\r\n4,\"q\"\"\",6", "t.csv"));
  EXPECT_THAT(reader.header(), ElementsAre("a", "b", "c"));
  CsvRow row;
  ASSERT_OK_AND_ASSIGN(bool more, reader.Next(row));
  ASSERT_TRUE(more);
  EXPECT_EQ(row.line(), 2);
  EXPECT_THAT(row.fields(), ElementsAre("1", "x,y", "3"));
  ASSERT_OK_AND_ASSIGN(more, reader.Next(row));
  ASSERT_TRUE(more);
  EXPECT_EQ(row.line(), 4);
  EXPECT_THAT(row.fields(), ElementsAre("4", "q\"", "6"));
  ASSERT_OK_AND_ASSIGN(more, reader.Next(row));
  EXPECT_FALSE(more);
}

TEST(CsvTest, ParsesTypedFieldsAndNamesTheSpotOnError) {
  ASSERT_OK_AND_ASSIGN(CsvReader reader,
                       CsvReader::FromString("n,x,e\n7,2.5,\nfoo,1e3x,\n", "p.csv"));
  CsvRow row;
  ASSERT_OK_AND_ASSIGN(bool more, reader.Next(row));
  ASSERT_TRUE(more);
  EXPECT_THAT(row.Int("n"), IsOkAndHolds(7));
  EXPECT_THAT(row.Double("x"), IsOkAndHolds(2.5));
  ASSERT_OK_AND_ASSIGN(std::optional<double> empty, row.OptionalDouble("e"));
  EXPECT_FALSE(empty.has_value());
  EXPECT_THAT(row.Double("e"), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("p.csv:2: column e: field is empty")));
  EXPECT_THAT(row.Double("zz"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column zz: no such column")));
  ASSERT_OK_AND_ASSIGN(more, reader.Next(row));
  EXPECT_THAT(row.Int("n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.csv:3: column n: expected an integer, found 'foo'")));
  EXPECT_THAT(row.Double("x"), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("expected a number, found '1e3x'")));
}

TEST(CsvTest, RejectsRaggedRowsAndMissingColumns) {
  ASSERT_OK_AND_ASSIGN(CsvReader reader, CsvReader::FromString("a,b\n1,2,3\n", "r.csv"));
  EXPECT_THAT(reader.RequireColumns({"a", "c"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing column 'c'")));
  CsvRow row;
  EXPECT_THAT(reader.Next(row), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("r.csv:2: expected 2 fields")));
}

TEST(CsvTest, RejectsEmptyFileDuplicateHeaderAndOpenQuote) {
  EXPECT_THAT(CsvReader::FromString("", "e.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("e.csv:1: file is empty")));
  EXPECT_THAT(CsvReader::FromString("a,a\n", "d.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'a' appears twice")));
  ASSERT_OK_AND_ASSIGN(CsvReader reader, CsvReader::FromString("a\n\"open\n", "q.csv"));
  CsvRow row;
  EXPECT_THAT(reader.Next(row), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("q.csv:2: unterminated quoted field")));
}

TEST(CsvTest, MissingFileIsNotFound) {
  EXPECT_THAT(CsvReader::Open("/nonexistent/x.csv"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/x.csv")));
}

}  // namespace
}  // namespace tessera
