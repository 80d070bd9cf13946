#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime_cuda/testing/has_device.h"
#include "tessera/base/status_matchers.h"
#include "tessera/runtime_cuda/cuda_backend.h"
#include "tessera/runtime_cuda/green_context.h"
#include "tessera/runtime_cuda/profiler.h"

namespace tessera::runtime_cuda {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const SmGranularity kH100{132, 8, 8};
const SmGranularity kA100{108, 4, 2};

TEST(SmSplitTest, GrantedRoundsUpToTheRule) {
  EXPECT_EQ(GrantedSms(kH100, 16), 16);
  EXPECT_EQ(GrantedSms(kH100, 26), 32);
  EXPECT_EQ(GrantedSms(kH100, 3), 8);
  EXPECT_EQ(GrantedSms(kA100, 5), 6);
  EXPECT_EQ(GrantedSms(kA100, 1), 4);
}

TEST(SmSplitTest, MixedSizesShareOneUnit) {
  ASSERT_OK_AND_ASSIGN(SmSplitPlan plan, PlanSmSplit(kH100, {16, 32, 64}));
  EXPECT_EQ(plan.unit, 16);
  EXPECT_EQ(plan.units_total, 7);
  EXPECT_THAT(plan.granted, ElementsAre(16, 32, 64));
  EXPECT_THAT(plan.first_unit, ElementsAre(0, 1, 3));
}

TEST(SmSplitTest, RequestsAreRoundedAsTheDriverDoes) {
  ASSERT_OK_AND_ASSIGN(SmSplitPlan plan, PlanSmSplit(kH100, {26, 60}));
  EXPECT_THAT(plan.granted, ElementsAre(32, 64));
  EXPECT_EQ(plan.unit, 32);
  EXPECT_EQ(plan.units_total, 3);
}

TEST(SmSplitTest, TwoHalvesOfAnH100Fit) {
  ASSERT_OK_AND_ASSIGN(SmSplitPlan plan, PlanSmSplit(kH100, {64, 64}));
  EXPECT_EQ(plan.unit, 64);
  EXPECT_EQ(plan.units_total, 2);
}

TEST(SmSplitTest, MoreThanTheSplitCanHandOutIsRefused) {
  EXPECT_THAT(PlanSmSplit(kH100, {64, 72}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot be realised on a GPU with 132 SMs")));
  // 132 SMs split in units of 8 give 16 groups: 128 SMs at most.
  EXPECT_THAT(PlanSmSplit(kH100, {64, 64, 8}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("at most 128 SMs")));
}

TEST(SmSplitTest, SizesWithoutALegalCommonUnitAreRefused) {
  EXPECT_THAT(PlanSmSplit(kA100, {4, 6}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("multiples of 4")));
}

TEST(SmSplitTest, BadRequests) {
  EXPECT_THAT(PlanSmSplit(kH100, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PlanSmSplit(kH100, {0}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SmSplitTest, FormatsUuidsAsNvml) {
  const unsigned char bytes[16] = {0x5c, 0x89, 0x85, 0x2c, 0xd2, 0x68, 0xc3, 0xf3,
                                   0x1b, 0x07, 0x00, 0x5d, 0x5a, 0xe1, 0xdc, 0x3f};
  EXPECT_EQ(FormatUuid(bytes, false), "GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f");
  EXPECT_EQ(FormatUuid(bytes, true), "MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f");
}

TEST(CaptureTest, BatchSizesCaptured) {
  EXPECT_THAT(CaptureBatchSizes(1), ElementsAre(1));
  EXPECT_THAT(CaptureBatchSizes(12), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 12));
  std::vector<int> sizes = CaptureBatchSizes(128);
  EXPECT_EQ(sizes.size(), 19u);
  EXPECT_EQ(sizes.back(), 128);
  EXPECT_EQ(PaddedBatch(sizes, 9), 16);
  EXPECT_EQ(PaddedBatch(sizes, 65), 80);
  EXPECT_EQ(PaddedBatch(sizes, 8), 8);
  EXPECT_EQ(PaddedBatch(sizes, 500), 128);
}

TEST(QuantileTest, MedianAndNearestRank) {
  EXPECT_DOUBLE_EQ(Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(Median({4, 1, 2, 3}), 2.5);
  std::vector<double> ten = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(Quantile(ten, 0.9), 9);
  EXPECT_DOUBLE_EQ(Quantile(ten, 0), 1);
  EXPECT_DOUBLE_EQ(Quantile(ten, 1), 10);
}

TEST(GreenContextTest, WithoutADeviceSaysSo) {
  if (testing::HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_THAT(QuerySmGranularity(0), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(SmSplit::Create(0, {16}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(GreenContextTest, SplitsTheDeviceIntoDisjointGroups) {
  SKIP_WITHOUT_CUDA_DEVICE();
  ASSERT_OK_AND_ASSIGN(SmGranularity g, QuerySmGranularity(0));
  ASSERT_GE(g.sm_count, 2 * std::max(g.min_sms, g.alignment));
  int unit = GrantedSms(g, g.min_sms);
  ASSERT_OK_AND_ASSIGN(auto split, SmSplit::Create(0, {unit, unit}));
  ASSERT_EQ(split->size(), 2);
  EXPECT_EQ(split->sms(0), unit);
  ASSERT_OK_AND_ASSIGN(auto a, split->NewContext(0));
  ASSERT_OK_AND_ASSIGN(auto b, split->NewContext(1));
  ASSERT_OK_AND_ASSIGN(auto a2, split->NewContext(0));  // a second context on the same SMs
  EXPECT_OK(a->MakeCurrent());
  ASSERT_OK_AND_ASSIGN(void* stream, a->NewStream());
  EXPECT_NE(stream, nullptr);
  EXPECT_OK(b->MakeCurrent());
  EXPECT_OK(a2->MakeCurrent());
}

}  // namespace
}  // namespace tessera::runtime_cuda
