// Engine::Create and the CUDA engine: libraries, workspaces and a stream per engine; weights per
// model; a KeyPlan (activations + captured graph) per (model, batch, input).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "fmt/core.h"
#include "runtime_cuda/engine/cuda_raii.h"
#include "runtime_cuda/engine/key_plan.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/status.h"
#include "tessera/runtime_cuda/engine.h"
#include "tessera/serving/model_zoo.h"

namespace tessera::runtime_cuda {
namespace {

using internal::DeviceBuffer;
using internal::DeviceWeights;
using internal::KeyPlan;

constexpr size_t kLtWorkspaceBytes = size_t{32} << 20;    // cuBLASLt's advice for Hopper
constexpr size_t kConvWorkspaceBytes = size_t{64} << 20;  // cap for cuDNN algorithms

std::string KeyName(const ModelKey& key) {
  return fmt::format("{}/batch {}/input {}", key.model, key.batch, key.input);
}

class CudaEngine final : public Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Make(const EngineOptions& options);

  absl::Status Prepare(const ModelKey& key) override;
  absl::StatusOr<double> Run(const ModelKey& key) override;
  absl::Status SetInput(const ModelKey& key, const std::vector<float>& values) override;
  absl::StatusOr<std::vector<float>> Output(const ModelKey& key) override;
  int64_t MemoryBytes() const override;

 private:
  explicit CudaEngine(const EngineOptions& options) : options_(options) {}
  absl::StatusOr<KeyPlan*> Find(const ModelKey& key);

  EngineOptions options_;
  internal::StreamPtr own_stream_;
  cudaStream_t stream_ = nullptr;
  internal::LtHandlePtr lt_;
  internal::CudnnPtr cudnn_;
  DeviceBuffer lt_workspace_, conv_workspace_;
  internal::EventPtr start_, stop_;
  std::map<std::string, DeviceWeights> weights_;           // by model
  std::map<std::string, std::unique_ptr<KeyPlan>> plans_;  // by KeyName
};

absl::StatusOr<std::unique_ptr<Engine>> CudaEngine::Make(const EngineOptions& options) {
  RETURN_IF_ERROR(options.zoo.Validate());
  std::unique_ptr<CudaEngine> e(new CudaEngine(options));
  if (options.stream != nullptr) {
    e->stream_ = static_cast<cudaStream_t>(options.stream);
  } else {
    ASSIGN_OR_RETURN(e->own_stream_, internal::MakeStream());
    e->stream_ = e->own_stream_.get();
  }
  ASSIGN_OR_RETURN(e->lt_, internal::MakeLtHandle());
  ASSIGN_OR_RETURN(e->cudnn_, internal::MakeCudnn());
  RETURN_IF_CUDNN_ERROR(cudnnSetStream(e->cudnn_.get(), e->stream_));
  ASSIGN_OR_RETURN(e->lt_workspace_, DeviceBuffer::Allocate(kLtWorkspaceBytes));
  ASSIGN_OR_RETURN(e->start_, internal::MakeEvent());
  // Run() waits for the stop event: sleeping, so that executor threads do not spin a core each.
  ASSIGN_OR_RETURN(e->stop_, internal::MakeEvent(cudaEventBlockingSync));
  return std::unique_ptr<Engine>(std::move(e));
}

absl::Status CudaEngine::Prepare(const ModelKey& key) {
  if (plans_.contains(KeyName(key))) return absl::OkStatus();
  if (key.batch < 1) {
    return absl::InvalidArgumentError(
        fmt::format("{}: batch {} must be >= 1", key.model, key.batch));
  }
  ASSIGN_OR_RETURN(serving::ModelGraph graph,
                   serving::BuildModel(key.model, key.input, options_.zoo));
  const bool convolves = std::any_of(graph.ops.begin(), graph.ops.end(), [](const auto& op) {
    return op.kind == serving::OpKind::kConv2d;
  });
  if (convolves && conv_workspace_.get() == nullptr) {  // made once: graphs hold its address
    ASSIGN_OR_RETURN(conv_workspace_, DeviceBuffer::Allocate(kConvWorkspaceBytes));
  }
  auto it = weights_.find(key.model);
  if (it == weights_.end()) {
    ASSIGN_OR_RETURN(DeviceWeights w, DeviceWeights::Upload(graph, options_.seed));
    it = weights_.emplace(key.model, std::move(w)).first;
  }
  const internal::Libraries libs{.lt = lt_.get(),
                                 .cudnn = cudnn_.get(),
                                 .lt_workspace = {lt_workspace_.get(), lt_workspace_.bytes()},
                                 .conv_workspace = {conv_workspace_.get(), conv_workspace_.bytes()},
                                 .fused_attention = options_.fused_attention};
  ASSIGN_OR_RETURN(
      std::unique_ptr<KeyPlan> plan,
      KeyPlan::Create(libs, std::move(graph), key.batch, it->second, options_.seed, stream_));
  plans_.emplace(KeyName(key), std::move(plan));
  return absl::OkStatus();
}

absl::StatusOr<KeyPlan*> CudaEngine::Find(const ModelKey& key) {
  auto it = plans_.find(KeyName(key));
  if (it == plans_.end()) {
    return absl::FailedPreconditionError(
        fmt::format("{} is not prepared; call Prepare first", KeyName(key)));
  }
  return it->second.get();
}

absl::StatusOr<double> CudaEngine::Run(const ModelKey& key) {
  ASSIGN_OR_RETURN(KeyPlan * plan, Find(key));
  RETURN_IF_CUDA_ERROR(cudaEventRecord(start_.get(), stream_));
  RETURN_IF_ERROR(plan->Launch(stream_));
  RETURN_IF_CUDA_ERROR(cudaEventRecord(stop_.get(), stream_));
  RETURN_IF_CUDA_ERROR(cudaEventSynchronize(stop_.get()));
  float ms = 0.0f;
  RETURN_IF_CUDA_ERROR(cudaEventElapsedTime(&ms, start_.get(), stop_.get()));
  return static_cast<double>(ms) * 1e6;
}

absl::Status CudaEngine::SetInput(const ModelKey& key, const std::vector<float>& values) {
  ASSIGN_OR_RETURN(KeyPlan * plan, Find(key));
  return plan->SetInput(values, stream_);
}

absl::StatusOr<std::vector<float>> CudaEngine::Output(const ModelKey& key) {
  ASSIGN_OR_RETURN(KeyPlan * plan, Find(key));
  return plan->Output(stream_);
}

int64_t CudaEngine::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(lt_workspace_.bytes() + conv_workspace_.bytes());
  for (const auto& [name, w] : weights_) bytes += w.bytes();
  for (const auto& [name, plan] : plans_) bytes += plan->bytes();
  return bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  int count = 0;
  RETURN_IF_CUDA_ERROR(cudaGetDeviceCount(&count));
  if (count == 0) {
    return absl::UnavailableError(
        "no CUDA device is visible; this needs a machine with an NVIDIA GPU and driver");
  }
  return CudaEngine::Make(options);
}

std::vector<std::string> EngineModels() { return serving::ZooModels(); }

}  // namespace tessera::runtime_cuda
