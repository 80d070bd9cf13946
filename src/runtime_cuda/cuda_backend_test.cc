#include "tessera/runtime_cuda/cuda_backend.h"

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime_cuda/testing/has_device.h"
#include "tessera/base/status_matchers.h"
#include "tessera/runtime_cuda/engine.h"

namespace tessera::runtime_cuda {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;

serving::SlotInfo SmSlot(int partition_id, int sms, const std::string& model, int input,
                         int batch) {
  serving::SlotInfo s;
  s.ref = {0, partition_id, 0};
  s.gpu_model = "H100-SXM5-80GB";
  s.gpu_sms = 132;
  s.partition = hw::Partition::Sm(sms);
  s.partition_id = partition_id;
  s.model = model;
  s.input_max = input;
  s.batch = batch;
  return s;
}

TEST(CudaBackendTest, IsNamedCuda) {
  ASSERT_OK_AND_ASSIGN(auto backend, MakeCudaBackend(plan::Plan(), {}));
  EXPECT_EQ(backend->name(), "cuda");
}

TEST(CudaBackendTest, StartWithoutADeviceIsUnavailable) {
  if (testing::HasCudaDevice()) GTEST_SKIP() << "a CUDA device is present";
  ASSERT_OK_AND_ASSIGN(auto backend, MakeCudaBackend(plan::Plan(), {}));
  EXPECT_THAT(backend->Start({SmSlot(0, 64, "resnet50", 224, 4)}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("NVIDIA GPU")));
  EXPECT_THAT(backend->RunBatch(0, 0, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  backend->Stop();
  backend->Stop();
}

TEST(CudaBackendTest, RefusesMpsPartitions) {
  SKIP_WITHOUT_CUDA_DEVICE();
  serving::SlotInfo s = SmSlot(0, 64, "resnet50", 224, 4);
  s.partition = hw::Partition::Mps(50);
  ASSERT_OK_AND_ASSIGN(auto backend, MakeCudaBackend(plan::Plan(), {}));
  EXPECT_THAT(backend->Start({s}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("MPS")));
}

TEST(CudaBackendTest, ServesTwoSmPartitionsOfOneGpu) {
  SKIP_WITHOUT_CUDA_DEVICE();
  ASSERT_OK_AND_ASSIGN(auto backend, MakeCudaBackend(plan::Plan(), {}));
  serving::SlotInfo b = SmSlot(1, 32, "bert_base", 64, 3);
  b.procs = 2;
  ASSERT_OK(backend->Start({SmSlot(0, 16, "resnet50", 224, 2), b}));
  EXPECT_OK(backend->RunBatch(0, 0, 1));
  EXPECT_OK(backend->RunBatch(0, 0, 2));
  EXPECT_OK(backend->RunBatch(1, 1, 3));
  EXPECT_THAT(backend->RunBatch(1, 2, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  backend->Stop();
}

TEST(CudaBackendTest, UnrealisablePartitionsAreNamed) {
  SKIP_WITHOUT_CUDA_DEVICE();
  ASSERT_OK_AND_ASSIGN(auto backend, MakeCudaBackend(plan::Plan(), {}));
  EXPECT_THAT(
      backend->Start({SmSlot(0, 100, "resnet50", 224, 1), SmSlot(1, 100, "resnet50", 224, 1)}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("gpus[0]")));
}

}  // namespace
}  // namespace tessera::runtime_cuda
