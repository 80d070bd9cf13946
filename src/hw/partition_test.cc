#include "tessera/hw/partition.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::hw {
namespace {

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PartitionTest, ParsesAndPrintsEveryKind) {
  for (const char* text : {"3g.40gb", "1g.10gb+me", "sm:64", "mps:40"}) {
    ASSERT_OK_AND_ASSIGN(Partition p, ParsePartition(text));
    EXPECT_EQ(p.ToString(), text);
  }
  EXPECT_THAT(ParsePartition("sm:64"), IsOkAndHolds(Partition::Sm(64)));
  EXPECT_THAT(ParsePartition("mps:100"), IsOkAndHolds(Partition::Mps(100)));
}

TEST(PartitionTest, RejectsMalformedText) {
  EXPECT_THAT(ParsePartition("sm:0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("positive SM count")));
  EXPECT_THAT(ParsePartition("sm:x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("partition 'sm:x'")));
  EXPECT_THAT(ParsePartition("mps:101"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..100")));
  EXPECT_THAT(ParsePartition(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParsePartition("gpu:1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PartitionTest, ChecksAgainstTheGpuAndCountsSms) {
  ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadDefaultCatalog());
  ASSERT_OK_AND_ASSIGN(const GpuModel* h100, catalog.Find("h100"));
  EXPECT_OK(CheckPartition(*h100, Partition::Mig("3g.40gb")));
  EXPECT_OK(CheckPartition(*h100, Partition::Sm(64)));
  EXPECT_THAT(CheckPartition(*h100, Partition::Sm(60)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use sm:64")));
  EXPECT_THAT(CheckPartition(*h100, Partition::Mig("3g.20gb")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no MIG profile '3g.20gb'")));
  EXPECT_THAT(PartitionSms(*h100, Partition::Mig("3g.40gb")), IsOkAndHolds(60));
  EXPECT_THAT(PartitionSms(*h100, Partition::Mps(50)), IsOkAndHolds(66));
  EXPECT_THAT(PartitionSms(*h100, Partition::Sm(32)), IsOkAndHolds(32));
}

}  // namespace
}  // namespace tessera::hw
