#include "tessera/adapt/perf_book.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "testing/a100_test_base.h"

namespace tessera::adapt {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;

class PerfBookTest : public testing::A100TestBase {
 protected:
  void SetUp() override {
    testing::A100TestBase::SetUp();
    if (HasFatalFailure()) return;
    workload_.models.push_back({"resnet50", 100, {.fixed = 224}, {.rate_rps = 100}});
    workload_.models.push_back({"densenet121", 100, {.fixed = 224}, {.rate_rps = 100}});
    workload_.tenants.push_back({.name = "a",
                                 .model = "resnet50",
                                 .retraining_window_s = 120,
                                 .retraining_samples = 10000,
                                 .initial_accuracy = 0.8,
                                 .drift_per_window = 0.05,
                                 .accuracy_after_retraining = 0.9});
    workload_.tenants.push_back({.name = "b",
                                 .model = "densenet121",
                                 .retraining_window_s = 120,
                                 .retraining_samples = 10000,
                                 .initial_accuracy = 0.8,
                                 .drift_per_window = 0.05,
                                 .accuracy_after_retraining = 0.9});
  }

  workload::Workload workload_;
};

TEST_F(PerfBookTest, ValuesPartitionsFromTheProfiledRows) {
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*gpu_);
  ASSERT_OK_AND_ASSIGN(PerfBook book,
                       PerfBook::Build(*gpu_, space, profiles_, workload_, startup_));
  ASSERT_EQ(book.tenant_count(), 2);
  EXPECT_TRUE(book.tenants()[0].retrains);
  const int g3 = gpu_->ProfileIndex("3g.40gb");
  const int g7 = gpu_->ProfileIndex("7g.80gb");
  EXPECT_EQ(book.whole_profile(), g7);
  // 3g.40gb: batch 64 at 48.174 ms is the largest batch with 2 x latency <= 100 ms.
  EXPECT_NEAR(book.InferenceRps(0, g3), 64 / 0.048174, 1e-6);
  // 7g.80gb: batch 128 takes 50.17 ms (> 50), so batch 64 at 25.7797 ms.
  EXPECT_NEAR(book.InferenceRps(0, g7), 64 / 0.0257797, 1e-6);
  // Half of the whole GPU: a batch's wall time doubles, so 2 x 2 x latency <= 100: batch 32 at
  // 13.3536 ms, half the time: 0.5 x 32 / 13.3536 ms.
  EXPECT_NEAR(book.SharedInferenceRps(0, 0.5), 0.5 * 32 / 0.0133536, 1e-6);
  EXPECT_NEAR(book.SharedInferenceRps(0, 1.0), book.InferenceRps(0, g7), 1e-9);
  EXPECT_EQ(book.SharedInferenceRps(0, 0.01), 0);
  // Retraining at batch 32: 32 / (3 x 24.7695 ms) on 3g.40gb.
  EXPECT_NEAR(book.RetrainSamplesPerS(0, g3), 32 / (3 * 0.0247695), 1e-6);
  EXPECT_NEAR(book.SharedRetrainSamplesPerS(0, 0.25), 0.25 * book.RetrainSamplesPerS(0, g7), 1e-9);
  // resnet50's measured startup at batch 32: 0.323 + 0.0147 + 0.334 s; densenet121 has none.
  EXPECT_NEAR(book.StartupS(0), 0.323 + 0.0147 + 0.334, 1e-9);
  EXPECT_GT(book.StartupS(1), 0);
  EXPECT_THAT(book.notes(), Contains(HasSubstr("no measured startup for densenet121")));
}

TEST_F(PerfBookTest, WithoutTenantsEveryModelIsAServingTenant) {
  workload_.tenants.clear();
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*gpu_);
  ASSERT_OK_AND_ASSIGN(PerfBook book,
                       PerfBook::Build(*gpu_, space, profiles_, workload_, startup_));
  ASSERT_EQ(book.tenant_count(), 2);
  EXPECT_EQ(book.tenants()[1].name, "densenet121");
  EXPECT_FALSE(book.tenants()[1].retrains);
}

TEST_F(PerfBookTest, RejectsAModelWithoutProfiles) {
  workload_.tenants.clear();
  workload_.models.push_back({"gpt2", 100, {.fixed = 128}, {.rate_rps = 1}});
  hw::LayoutSpace space = hw::LayoutSpace::WithoutMediaExtensions(*gpu_);
  EXPECT_THAT(PerfBook::Build(*gpu_, space, profiles_, workload_, startup_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no row for gpt2")));
}

TEST(StartupCostsTest, ReadsTheBundledBatch32Rows) {
  ASSERT_OK_AND_ASSIGN(StartupCosts costs, StartupCosts::LoadDefault());
  EXPECT_EQ(costs.seconds.size(), 5u);
}

}  // namespace
}  // namespace tessera::adapt
