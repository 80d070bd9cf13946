#include "tessera/sim/synthetic.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"

namespace tessera::sim {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

perf::ProfileTable Base() {
  perf::ProfileTable base;
  for (const char* model : {"resnet50", "bert_base"}) {
    for (int sms : {32, 64}) {
      for (int b = 1; b <= 64; b *= 2) {
        perf::ProfileRow row;
        row.key = {"H100-SXM5-80GB", hw::Partition::Sm(sms), model, 224, b, 1};
        row.latency_ms = (1 + 0.2 * b) * 64.0 / sms;
        TESSERA_CHECK(base.Add(row).ok());
      }
    }
  }
  return base;
}

TEST(SyntheticTest, MakesAPlanOfTheRequestedSizeWithLoadBelowCapacity) {
  SyntheticOptions o;
  o.models = 5;
  o.gpus = 12;
  o.split_sms = {32, 32, 64};
  ASSERT_OK_AND_ASSIGN(SyntheticCase c, GenerateSyntheticCase(Base(), o));
  EXPECT_EQ(c.plan.gpus.size(), 12u);
  EXPECT_EQ(c.plan.gpus[3].partitions.size(), 3u);
  EXPECT_EQ(c.workload.models.size(), 5u);
  EXPECT_EQ(c.workload.models[2].model, "bert_base~2");  // base models in name order
  EXPECT_GT(c.total_rate_rps, 0);
  // Every clone's profile is the base's times one factor within the jitter.
  const perf::ProfileRow* clone =
      c.profiles.Find({"H100-SXM5-80GB", hw::Partition::Sm(64), "resnet50~1", 224, 8, 1});
  ASSERT_NE(clone, nullptr);
  double factor = clone->latency_ms / (1 + 0.2 * 8);
  EXPECT_GE(factor, 0.8);
  EXPECT_LE(factor, 1.2);
}

TEST(SyntheticTest, SameSeedSameCase) {
  SyntheticOptions o;
  o.models = 7;
  o.gpus = 9;
  ASSERT_OK_AND_ASSIGN(SyntheticCase a, GenerateSyntheticCase(Base(), o));
  ASSERT_OK_AND_ASSIGN(SyntheticCase b, GenerateSyntheticCase(Base(), o));
  EXPECT_EQ(a.plan, b.plan);
  EXPECT_EQ(a.workload, b.workload);
  o.seed = 2;
  ASSERT_OK_AND_ASSIGN(SyntheticCase c, GenerateSyntheticCase(Base(), o));
  EXPECT_NE(a.workload, c.workload);
}

TEST(SyntheticTest, RejectsBadOptionsAndUnusableBases) {
  SyntheticOptions o;
  o.gpus = 0;
  EXPECT_THAT(GenerateSyntheticCase(Base(), o), StatusIs(absl::StatusCode::kInvalidArgument));
  o.gpus = 4;
  o.split_sms = {48};
  EXPECT_THAT(GenerateSyntheticCase(Base(), o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("every split size")));
}

}  // namespace
}  // namespace tessera::sim
