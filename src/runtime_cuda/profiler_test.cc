#include "tessera/runtime_cuda/profiler.h"

#include <sstream>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime_cuda/testing/has_device.h"
#include "tessera/base/status_matchers.h"
#include "tessera/hw/catalog.h"

namespace tessera::runtime_cuda {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

TEST(MeasureOptionsTest, ValidateNamesTheField) {
  EXPECT_OK(MeasureOptions().Validate());
  MeasureOptions o;
  o.repeats = 0;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--repeats")));
  o = MeasureOptions();
  o.warmup = -1;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--warmup")));
  o = MeasureOptions();
  o.device = -2;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--device")));
}

TEST(ConcurrentCsvTest, OneLinePerSide) {
  std::ostringstream out;
  WriteConcurrentCsv({{{"resnet50", 224, 8, "sm:64"}, 64, 2.0, 2.5, "bert_base 128 8 sm:64"}}, out);
  EXPECT_EQ(out.str(),
            "model,partition,input,batch,alone_ms,together_ms,slowdown,neighbour\n"
            "resnet50,sm:64,224,8,2.0000,2.5000,1.2500,bert_base 128 8 sm:64\n");
}

TEST(ProfilerTest, WithoutADeviceSaysSo) {
  if (testing::HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  std::ostringstream progress;
  EXPECT_THAT(MeasureProfiles({{"resnet50", 224, 1, "sm:16"}}, {}, hw::Catalog(), progress),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(MeasureConcurrent({{"resnet50", 224, 1, "sm:16"}, {"bert_base", 128, 1, "sm:16"}}, {},
                                progress),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ProfilerTest, ConcurrentNeedsTwoSmPartitions) {
  std::ostringstream progress;
  EXPECT_THAT(MeasureConcurrent({{"resnet50", 224, 1, "sm:16"}}, {}, progress),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exactly two")));
  EXPECT_THAT(MeasureConcurrent({{"resnet50", 224, 1, "whole"}, {"bert_base", 128, 1, "sm:16"}}, {},
                                progress),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sm:N")));
}

TEST(ProfilerTest, MeasuresOnAGreenContextAndTheWholeGpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  ASSERT_OK_AND_ASSIGN(hw::Catalog catalog, hw::LoadDefaultCatalog());
  MeasureOptions options;
  options.warmup = 2;
  options.repeats = 5;
  std::ostringstream progress;
  absl::StatusOr<perf::ProfileTable> table = MeasureProfiles(
      {{"resnet50", 64, 1, "sm:16"}, {"resnet50", 64, 2, "sm:16"}, {"resnet50", 64, 1, "whole"}},
      options, catalog, progress);
  if (!table.ok() && table.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << table.status();  // a GPU the catalog does not know
  }
  ASSERT_OK(table.status());
  EXPECT_EQ(table->size(), 3u);
  for (const auto& [key, row] : table->rows()) {
    EXPECT_GT(row.latency_ms, 0);
    EXPECT_EQ(row.source, perf::ProfileSource::kMeasured);
  }
}

}  // namespace
}  // namespace tessera::runtime_cuda
