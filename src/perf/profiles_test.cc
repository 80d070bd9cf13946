#include "tessera/perf/profiles.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::perf {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr char kH100[] = "H100-SXM5-80GB";

ProfileRow Row(hw::Partition partition, std::string model, int input, int batch, double latency,
               std::optional<double> memory = std::nullopt, int procs = 1) {
  ProfileRow row;
  row.key = ProfileKey{kH100, std::move(partition), std::move(model), input, batch, procs};
  row.latency_ms = latency;
  row.latency_ms_p90 = latency * 1.1;
  row.memory_mib = memory;
  return row;
}

// resnet50 on sm:32 and sm:64 at batch 8 and 16; bert_base on sm:32 at 64 and 128 tokens.
ProfileTable SmallTable() {
  ProfileTable table;
  for (const ProfileRow& row : {Row(hw::Partition::Sm(32), "resnet50", 224, 8, 4.0, 100),
                                Row(hw::Partition::Sm(32), "resnet50", 224, 16, 8.0, 200),
                                Row(hw::Partition::Sm(64), "resnet50", 224, 8, 2.0, 100),
                                Row(hw::Partition::Sm(64), "resnet50", 224, 16, 4.0, 200),
                                Row(hw::Partition::Sm(32), "bert_base", 64, 8, 3.0),
                                Row(hw::Partition::Sm(32), "bert_base", 128, 8, 5.0),
                                Row(hw::Partition::Mig("3g.40gb"), "resnet50", 224, 8, 3.0)}) {
    EXPECT_OK(table.Add(row));
  }
  return table;
}

ProfileKey Key(hw::Partition partition, std::string model, int input, int batch, int procs = 1) {
  return ProfileKey{kH100, std::move(partition), std::move(model), input, batch, procs};
}

TEST(ProfileTableTest, KeyToString) {
  EXPECT_EQ(Key(hw::Partition::Sm(64), "resnet50", 224, 8).ToString(),
            "H100-SXM5-80GB sm:64 resnet50 input 224 batch 8 procs 1");
}

TEST(ProfileTableTest, AddRejectsDuplicatesAndNonPositiveLatency) {
  ProfileTable table = SmallTable();
  EXPECT_THAT(table.Add(Row(hw::Partition::Sm(32), "resnet50", 224, 8, 9.0)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("duplicate row for H100-SXM5-80GB sm:32 resnet50 input 224 "
                                 "batch 8 procs 1")));
  EXPECT_THAT(table.Add(Row(hw::Partition::Sm(32), "resnet50", 224, 2, 0.0)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("latency_ms must be positive, found 0")));
  EXPECT_THAT(table.Add(Row(hw::Partition::Sm(32), "resnet50", 224, 0, 1.0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 1")));
  EXPECT_EQ(table.size(), 7u);
}

TEST(ProfileTableTest, LookupExactHitIsTheMeasuredRow) {
  ProfileTable table = SmallTable();
  ASSERT_OK_AND_ASSIGN(ProfileRow row,
                       table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 224, 16)));
  EXPECT_EQ(row, *table.Find(Key(hw::Partition::Sm(32), "resnet50", 224, 16)));
  EXPECT_EQ(row.source, ProfileSource::kMeasured);
}

TEST(ProfileTableTest, LookupMidpointBetweenBatches) {
  ProfileTable table = SmallTable();
  ASSERT_OK_AND_ASSIGN(ProfileRow row,
                       table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 224, 12)));
  EXPECT_EQ(row.key, Key(hw::Partition::Sm(32), "resnet50", 224, 12));
  EXPECT_EQ(row.source, ProfileSource::kInterpolated);
  EXPECT_DOUBLE_EQ(row.latency_ms, 6.0);
  EXPECT_THAT(row.latency_ms_p90, Optional(DoubleNear(6.6, 1e-12)));
  EXPECT_THAT(row.memory_mib, Optional(150.0));
  ASSERT_OK_AND_ASSIGN(row, table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 224, 10)));
  EXPECT_DOUBLE_EQ(row.latency_ms, 5.0);  // a quarter of the way from 8 to 16
}

TEST(ProfileTableTest, LookupBetweenSmCounts) {
  ProfileTable table = SmallTable();
  ASSERT_OK_AND_ASSIGN(ProfileRow row,
                       table.Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 8)));
  EXPECT_EQ(row.source, ProfileSource::kInterpolated);
  EXPECT_DOUBLE_EQ(row.latency_ms, 3.0);
  ASSERT_OK_AND_ASSIGN(row, table.Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 12)));
  EXPECT_DOUBLE_EQ(row.latency_ms, 4.5);  // batch 12 gives 6 on sm:32 and 3 on sm:64
  EXPECT_EQ(row.key.partition, hw::Partition::Sm(48));
}

TEST(ProfileTableTest, LookupBetweenInputs) {
  ProfileTable table = SmallTable();
  ASSERT_OK_AND_ASSIGN(ProfileRow row,
                       table.Lookup(Key(hw::Partition::Sm(32), "bert_base", 96, 8)));
  EXPECT_DOUBLE_EQ(row.latency_ms, 4.0);
  EXPECT_EQ(row.memory_mib, std::nullopt);  // unknown on both sides
}

TEST(ProfileTableTest, LookupNeverExtrapolates) {
  ProfileTable table = SmallTable();
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 224, 32)),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("batch 32 is outside the measured range 8..16 (measured: 8,16) "
                                 "of H100-SXM5-80GB sm:32 resnet50 input 224 procs 1")));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 224, 4)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("never extrapolates")));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(128), "resnet50", 224, 8)),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("SM count 128 is outside the measured range 32..64")));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(32), "bert_base", 256, 8)),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("input 256 is outside the measured range 64..128")));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 17)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("batch 17")));
}

TEST(ProfileTableTest, LookupOfUnprofiledConfigurationsIsNotFound) {
  ProfileTable table = SmallTable();
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(32), "vgg16", 224, 8)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no profile rows for H100-SXM5-80GB vgg16 procs 1")));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 224, 8, 2)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("procs 2")));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Mig("1g.10gb"), "resnet50", 224, 8)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("partition 1g.10gb was not profiled for H100-SXM5-80GB resnet50 "
                                 "procs 1; profiled: 3g.40gb, sm:32, sm:64")));
}

TEST(ProfileTableTest, DistinctValues) {
  ProfileTable table = SmallTable();
  EXPECT_THAT(
      table.Partitions(kH100, "resnet50"),
      ElementsAre(hw::Partition::Mig("3g.40gb"), hw::Partition::Sm(32), hw::Partition::Sm(64)));
  EXPECT_THAT(table.Batches(kH100, hw::Partition::Sm(32), "resnet50", 224, 1), ElementsAre(8, 16));
  EXPECT_THAT(table.Inputs(kH100, hw::Partition::Sm(32), "bert_base"), ElementsAre(64, 128));
  EXPECT_THAT(table.Models(), ElementsAre("bert_base", "resnet50"));
  EXPECT_TRUE(table.Partitions("A100-SXM4-80GB", "resnet50").empty());
}

TEST(ProfileTableTest, SourceNamesRoundTrip) {
  for (ProfileSource source :
       {ProfileSource::kMeasured, ProfileSource::kInterpolated, ProfileSource::kPredicted}) {
    EXPECT_THAT(ParseProfileSource(ProfileSourceName(source)),
                ::tessera::testing::IsOkAndHolds(source));
  }
  EXPECT_THAT(ParseProfileSource("guessed"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown source 'guessed'")));
}

}  // namespace
}  // namespace tessera::perf
