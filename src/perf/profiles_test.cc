#include "tessera/perf/profiles.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "testing/bundled.h"

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

// Two rows of another model, to be overwritten by an assignment.
ProfileTable SmOnlyTableForIndex() {
  ProfileTable table;
  EXPECT_OK(table.Add(Row(hw::Partition::Sm(16), "vgg16", 224, 1, 9.0)));
  EXPECT_OK(table.Add(Row(hw::Partition::Sm(16), "resnet50", 224, 1, 9.0)));
  return table;
}

// RowsFor of every (gpu, model) in `table` lists exactly that pair's rows, in key order, as
// pointers into this table's own rows(); Models() (read from the index) names exactly the models
// of rows().
void ExpectIndexMatchesRows(const ProfileTable& table) {
  std::map<std::pair<std::string, std::string>, std::vector<const ProfileRow*>> expected;
  std::set<std::string> models;
  for (const auto& [key, row] : table.rows()) {
    expected[{key.gpu, key.model}].push_back(&row);
    models.insert(key.model);
  }
  for (const auto& [gpu_model, rows] : expected) {
    EXPECT_EQ(table.RowsFor(gpu_model.first, gpu_model.second), rows)
        << gpu_model.first << " " << gpu_model.second;
  }
  EXPECT_EQ(table.Models(), std::vector<std::string>(models.begin(), models.end()));
}

std::vector<ProfileKey> KeysOf(const std::vector<const ProfileRow*>& rows) {
  std::vector<ProfileKey> keys;
  for (const ProfileRow* row : rows) keys.push_back(row->key);
  return keys;
}

TEST(ProfileTableTest, RowsForListsOneGpuAndModelInKeyOrder) {
  ProfileTable table = SmallTable();
  EXPECT_THAT(KeysOf(table.RowsFor(kH100, "resnet50")),
              ElementsAre(Key(hw::Partition::Mig("3g.40gb"), "resnet50", 224, 8),
                          Key(hw::Partition::Sm(32), "resnet50", 224, 8),
                          Key(hw::Partition::Sm(32), "resnet50", 224, 16),
                          Key(hw::Partition::Sm(64), "resnet50", 224, 8),
                          Key(hw::Partition::Sm(64), "resnet50", 224, 16)));
  EXPECT_THAT(KeysOf(table.RowsFor(kH100, "bert_base")),
              ElementsAre(Key(hw::Partition::Sm(32), "bert_base", 64, 8),
                          Key(hw::Partition::Sm(32), "bert_base", 128, 8)));
  ExpectIndexMatchesRows(table);
}

TEST(ProfileTableTest, RowsForIsEmptyWhenNothingMatches) {
  ProfileTable table = SmallTable();
  EXPECT_TRUE(table.RowsFor(kH100, "vgg16").empty());
  EXPECT_TRUE(table.RowsFor("A100-SXM4-80GB", "resnet50").empty());
  EXPECT_TRUE(table.RowsFor("", "").empty());
  EXPECT_TRUE(ProfileTable().RowsFor(kH100, "resnet50").empty());
  // A rejected row leaves no trace in the index.
  EXPECT_FALSE(table.Add(Row(hw::Partition::Sm(32), "vgg16", 224, 8, -1.0)).ok());
  EXPECT_TRUE(table.RowsFor(kH100, "vgg16").empty());
  ExpectIndexMatchesRows(table);
}

// Rows added out of key order (within and across (gpu, model) pairs, procs and inputs included)
// are indexed in key order, and lookups read them as they read a table built in order.
TEST(ProfileTableTest, RowsForKeepsKeyOrderWhateverTheAddOrder) {
  std::vector<ProfileRow> rows = {Row(hw::Partition::Sm(64), "resnet50", 224, 16, 4.0, 200),
                                  Row(hw::Partition::Sm(32), "resnet50", 224, 8, 4.0, 100),
                                  Row(hw::Partition::Sm(64), "resnet50", 224, 8, 2.0, 100),
                                  Row(hw::Partition::Sm(32), "bert_base", 128, 8, 5.0),
                                  Row(hw::Partition::Mig("3g.40gb"), "resnet50", 224, 8, 3.0),
                                  Row(hw::Partition::Sm(32), "resnet50", 224, 16, 8.0, 200),
                                  Row(hw::Partition::Sm(32), "resnet50", 224, 8, 7.0, 100, 2),
                                  Row(hw::Partition::Sm(32), "resnet50", 160, 8, 3.0, 100),
                                  Row(hw::Partition::Sm(32), "bert_base", 64, 8, 3.0)};
  ProfileTable table;
  for (const ProfileRow& row : rows) ASSERT_OK(table.Add(row));
  ExpectIndexMatchesRows(table);
  EXPECT_THAT(KeysOf(table.RowsFor(kH100, "resnet50")),
              ElementsAre(Key(hw::Partition::Mig("3g.40gb"), "resnet50", 224, 8),
                          Key(hw::Partition::Sm(32), "resnet50", 160, 8),
                          Key(hw::Partition::Sm(32), "resnet50", 224, 8),
                          Key(hw::Partition::Sm(32), "resnet50", 224, 8, 2),
                          Key(hw::Partition::Sm(32), "resnet50", 224, 16),
                          Key(hw::Partition::Sm(64), "resnet50", 224, 8),
                          Key(hw::Partition::Sm(64), "resnet50", 224, 16)));
  ASSERT_OK_AND_ASSIGN(ProfileRow row,
                       table.Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 12)));
  EXPECT_DOUBLE_EQ(row.latency_ms, 4.5);
  ASSERT_OK_AND_ASSIGN(row, table.Lookup(Key(hw::Partition::Sm(32), "resnet50", 192, 8)));
  EXPECT_DOUBLE_EQ(row.latency_ms, 3.5);
  EXPECT_THAT(table.Inputs(kH100, hw::Partition::Sm(32), "resnet50"), ElementsAre(160, 224));
  EXPECT_THAT(table.Batches(kH100, hw::Partition::Sm(32), "resnet50", 224, 1), ElementsAre(8, 16));
  EXPECT_THAT(table.Batches(kH100, hw::Partition::Sm(32), "resnet50", 224, 2), ElementsAre(8));
  EXPECT_THAT(
      table.Partitions(kH100, "resnet50"),
      ElementsAre(hw::Partition::Mig("3g.40gb"), hw::Partition::Sm(32), hw::Partition::Sm(64)));
  EXPECT_THAT(table.Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 8, 2)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("SM count 48")));
}

// A copy indexes its own rows: it outlives the original, and rows added to either stay there.
TEST(ProfileTableTest, CopiesIndexTheirOwnRows) {
  auto original = std::make_unique<ProfileTable>(SmallTable());
  ProfileTable copy(*original);
  ProfileTable assigned;
  ASSERT_OK(assigned.Add(Row(hw::Partition::Sm(16), "vgg16", 224, 1, 9.0)));
  assigned = *original;
  for (const ProfileTable* table : {&copy, &assigned}) {
    ASSERT_EQ(table->RowsFor(kH100, "resnet50").size(), 5u);
    EXPECT_NE(table->RowsFor(kH100, "resnet50")[0], original->RowsFor(kH100, "resnet50")[0]);
  }
  EXPECT_TRUE(assigned.RowsFor(kH100, "vgg16").empty());
  ASSERT_OK(original->Add(Row(hw::Partition::Sm(16), "resnet50", 224, 8, 9.0)));
  EXPECT_EQ(original->RowsFor(kH100, "resnet50").size(), 6u);
  EXPECT_EQ(copy.RowsFor(kH100, "resnet50").size(), 5u);
  original.reset();  // the copies' pointers must not point into it
  for (const ProfileTable* table : {&copy, &assigned}) {
    ExpectIndexMatchesRows(*table);
    ASSERT_OK_AND_ASSIGN(ProfileRow row,
                         table->Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 12)));
    EXPECT_DOUBLE_EQ(row.latency_ms, 4.5);
  }
  ASSERT_OK(copy.Add(Row(hw::Partition::Sm(16), "resnet50", 224, 8, 9.0)));
  EXPECT_EQ(copy.RowsFor(kH100, "resnet50").size(), 6u);
  EXPECT_EQ(assigned.RowsFor(kH100, "resnet50").size(), 5u);
  const ProfileTable& self = copy;
  copy = self;  // self-assignment keeps the rows and the index
  EXPECT_EQ(copy.size(), 8u);
  ExpectIndexMatchesRows(copy);
}

// A move takes the rows (the same nodes) and the index with them; the source is left empty and
// usable.
TEST(ProfileTableTest, MovesCarryTheIndex) {
  ProfileTable source = SmallTable();
  std::vector<const ProfileRow*> before = source.RowsFor(kH100, "resnet50");
  ProfileTable moved(std::move(source));
  EXPECT_EQ(moved.RowsFor(kH100, "resnet50"), before);
  ExpectIndexMatchesRows(moved);
  EXPECT_EQ(source.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(source.RowsFor(kH100, "resnet50").empty());
  EXPECT_TRUE(source.Models().empty());
  ASSERT_OK(source.Add(Row(hw::Partition::Sm(32), "resnet50", 224, 8, 4.0)));
  EXPECT_EQ(source.RowsFor(kH100, "resnet50").size(), 1u);
  ExpectIndexMatchesRows(source);

  ProfileTable assigned = SmOnlyTableForIndex();
  assigned = std::move(moved);
  EXPECT_EQ(assigned.RowsFor(kH100, "resnet50"), before);
  ExpectIndexMatchesRows(assigned);
  EXPECT_TRUE(moved.RowsFor(kH100, "resnet50").empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.size(), 0u);                            // NOLINT(bugprone-use-after-move)
  ASSERT_OK_AND_ASSIGN(ProfileRow row,
                       assigned.Lookup(Key(hw::Partition::Sm(48), "resnet50", 224, 12)));
  EXPECT_DOUBLE_EQ(row.latency_ms, 4.5);
}

TEST(ProfileTableTest, SourceNamesRoundTrip) {
  for (ProfileSource source : {ProfileSource::kMeasured, ProfileSource::kInterpolated,
                               ProfileSource::kPredicted, ProfileSource::kStandIn}) {
    EXPECT_THAT(ParseProfileSource(ProfileSourceName(source)),
                ::tessera::testing::IsOkAndHolds(source));
  }
  EXPECT_THAT(ParseProfileSource("guessed"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown source 'guessed'")));
}

// resnet50 on sm:16, sm:32 and sm:64 (latency 64 / SMs per image at batch 1 and 2).
ProfileTable SmOnlyTable() {
  ProfileTable table;
  for (int sms : {16, 32, 64}) {
    for (int batch : {1, 2}) {
      EXPECT_OK(table.Add(
          Row(hw::Partition::Sm(sms), "resnet50", 224, batch, 64.0 * batch / sms, 100.0 * batch)));
    }
  }
  return table;
}

// Stand-ins: exact SM counts copy the sm: rows; 1g.20gb (26 SMs) and 3g.40gb (60 SMs) are
// interpolated; 7g.80gb (132 SMs) lies beyond sm:64 and gets no row. All are marked stand-in.
TEST(MigStandInsTest, ReadsSmRowsAsMigProfiles) {
  const hw::Catalog& catalog = testing::BundledCatalog();
  ASSERT_OK_AND_ASSIGN(ProfileTable table, WithMigStandIns(SmOnlyTable(), catalog));
  const ProfileRow* g1 = table.Find(Key(hw::Partition::Mig("1g.10gb"), "resnet50", 224, 2));
  ASSERT_NE(g1, nullptr);
  EXPECT_DOUBLE_EQ(g1->latency_ms, 8.0);
  EXPECT_THAT(g1->memory_mib, Optional(200.0));
  EXPECT_EQ(g1->source, ProfileSource::kStandIn);
  const ProfileRow* g4 = table.Find(Key(hw::Partition::Mig("4g.40gb"), "resnet50", 224, 1));
  ASSERT_NE(g4, nullptr);
  EXPECT_DOUBLE_EQ(g4->latency_ms, 1.0);
  const ProfileRow* g3 = table.Find(Key(hw::Partition::Mig("3g.40gb"), "resnet50", 224, 1));
  ASSERT_NE(g3, nullptr);  // sm:60: 7/8 of the way from 2 ms (sm:32) to 1 ms (sm:64)
  EXPECT_DOUBLE_EQ(g3->latency_ms, 2.0 - 28.0 / 32);
  EXPECT_EQ(g3->source, ProfileSource::kStandIn);
  const ProfileRow* g1x = table.Find(Key(hw::Partition::Mig("1g.20gb"), "resnet50", 224, 1));
  ASSERT_NE(g1x, nullptr);  // sm:26: between 4 ms (sm:16) and 2 ms (sm:32)
  EXPECT_DOUBLE_EQ(g1x->latency_ms, 4.0 - 2.0 * 10 / 16);
  EXPECT_EQ(table.Find(Key(hw::Partition::Mig("7g.80gb"), "resnet50", 224, 1)), nullptr);
  EXPECT_EQ(table.size(), 6u + 2 * 6);  // 1g.10gb, +me, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb
  EXPECT_OK(table.Lookup(Key(hw::Partition::Mig("3g.40gb"), "resnet50", 224, 2)));
  // The stand-ins (added after the sm: rows, sorting before them) are indexed in key order.
  ExpectIndexMatchesRows(table);
  const std::vector<const ProfileRow*>& indexed = table.RowsFor(kH100, "resnet50");
  ASSERT_EQ(indexed.size(), table.size());
  EXPECT_EQ(indexed.front()->source, ProfileSource::kStandIn);
  EXPECT_EQ(indexed.back()->key, Key(hw::Partition::Sm(64), "resnet50", 224, 2));
  EXPECT_TRUE(
      std::is_sorted(indexed.begin(), indexed.end(),
                     [](const ProfileRow* a, const ProfileRow* b) { return a->key < b->key; }));

  const hw::GpuModel* h100 = *catalog.Find(kH100);
  std::string note = MigStandInNote(table, *h100);
  EXPECT_THAT(note, HasSubstr("1g.10gb = sm:16, "));
  EXPECT_THAT(note, HasSubstr("3g.40gb = sm:60 (interpolated between sm:32 and sm:64)"));
  EXPECT_THAT(note, HasSubstr("1g.20gb = sm:26 (interpolated between sm:16 and sm:32)"));
  EXPECT_THAT(note, ::testing::Not(HasSubstr("7g.80gb")));
  EXPECT_EQ(MigStandInNote(SmOnlyTable(), *h100), "");
}

// A model that has measured MIG rows keeps them and gets no stand-ins; other GPUs are untouched.
TEST(MigStandInsTest, MeasuredMigRowsWin) {
  ProfileTable small = SmallTable();  // resnet50 has a 3g.40gb row; bert_base only sm:32
  ASSERT_OK_AND_ASSIGN(ProfileTable table, WithMigStandIns(small, testing::BundledCatalog()));
  EXPECT_EQ(table.Partitions(kH100, "resnet50"), small.Partitions(kH100, "resnet50"));
  ExpectIndexMatchesRows(table);
  ExpectIndexMatchesRows(small);  // the argument was a copy: `small` keeps its own rows
  EXPECT_EQ(small.size(), 7u);
  const ProfileRow* bert = table.Find(Key(hw::Partition::Mig("2g.20gb"), "bert_base", 64, 8));
  ASSERT_NE(bert, nullptr);
  EXPECT_EQ(bert->source, ProfileSource::kStandIn);
  EXPECT_THAT(table.RowsFor(kH100, "bert_base"), ::testing::Contains(bert));
  EXPECT_EQ(table.Find(Key(hw::Partition::Mig("1g.10gb"), "bert_base", 64, 8)), nullptr);
}

// The bundled H100 table gains stand-ins for every MIG profile up to 7g.80gb (= sm:132).
TEST(MigStandInsTest, BundledH100Table) {
  const hw::Catalog& catalog = testing::BundledCatalog();
  ASSERT_OK_AND_ASSIGN(ProfileTable measured,
                       LoadProfileCsv(testing::DataPath("profiles/h100-sm-partitions.csv"), catalog,
                                      testing::BundledRegistry()));
  ASSERT_OK_AND_ASSIGN(ProfileTable table, WithMigStandIns(measured, catalog));
  ExpectIndexMatchesRows(measured);
  ExpectIndexMatchesRows(table);
  for (const char* profile : {"1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"}) {
    EXPECT_FALSE(table.Batches(kH100, hw::Partition::Mig(profile), "resnet50", 224, 1).empty())
        << profile;
  }
  const ProfileRow* whole = table.Find(Key(hw::Partition::Mig("7g.80gb"), "resnet50", 224, 8));
  const ProfileRow* sm = measured.Find(Key(hw::Partition::Sm(132), "resnet50", 224, 8));
  ASSERT_NE(whole, nullptr);
  ASSERT_NE(sm, nullptr);
  EXPECT_DOUBLE_EQ(whole->latency_ms, sm->latency_ms);
}

}  // namespace
}  // namespace tessera::perf
