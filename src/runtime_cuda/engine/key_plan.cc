#include "runtime_cuda/engine/key_plan.h"

#include <cmath>
#include <cstring>

#include "fmt/core.h"
#include "runtime_cuda/engine/memory_plan.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda::internal {
namespace {

int64_t AlignUp(int64_t v) { return (v + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

}  // namespace

absl::StatusOr<DeviceWeights> DeviceWeights::Upload(const serving::ModelGraph& graph,
                                                    uint64_t seed) {
  DeviceWeights w;
  int64_t bytes = 0;
  for (const serving::ParamInfo& p : graph.params) {
    w.offsets_.push_back(bytes);
    bytes += AlignUp(p.Elements() * 2);
  }
  ASSIGN_OR_RETURN(w.buffer_, DeviceBuffer::Allocate(std::max<int64_t>(bytes, kArenaAlignment)));
  for (size_t p = 0; p < graph.params.size(); ++p) {
    std::vector<uint16_t> bits = serving::ParamHalfBits(graph, static_cast<int>(p), seed);
    RETURN_IF_CUDA_ERROR(cudaMemcpy(w.buffer_.at<char>(w.offsets_[p]), bits.data(), bits.size() * 2,
                                    cudaMemcpyHostToDevice));
  }
  return w;
}

std::vector<__half*> DeviceWeights::Pointers() const {
  std::vector<__half*> out;
  for (int64_t offset : offsets_) out.push_back(buffer_.at<__half>(offset));
  return out;
}

absl::StatusOr<std::unique_ptr<KeyPlan>> KeyPlan::Create(const Libraries& libs,
                                                         serving::ModelGraph graph, int batch,
                                                         const DeviceWeights& weights,
                                                         uint64_t seed, cudaStream_t stream) {
  std::unique_ptr<KeyPlan> plan(new KeyPlan());
  plan->graph_ = std::move(graph);
  plan->batch_ = batch;
  const serving::ModelGraph& g = plan->graph_;
  const MemoryPlan memory = PlanMemory(g, batch);
  const int64_t scratch = AttentionScratchBytes(g, batch, libs.fused_attention);
  ASSIGN_OR_RETURN(plan->arena_, DeviceBuffer::Allocate(memory.bytes + scratch));
  for (int64_t offset : memory.offsets) plan->tensors_.push_back(plan->arena_.at<__half>(offset));
  if (g.token_input) {
    ASSIGN_OR_RETURN(plan->token_ids_,
                     DeviceBuffer::Allocate(batch * g.InputElements() * sizeof(int32_t)));
  }
  StepContext ctx{.libs = libs,
                  .graph = &g,
                  .batch = batch,
                  .tensors = plan->tensors_,
                  .params = weights.Pointers(),
                  .token_ids = plan->token_ids_.at<int32_t>(0),
                  .scratch = plan->arena_.at<__half>(memory.bytes)};
  for (const serving::Op& op : g.ops) RETURN_IF_ERROR(AppendOpSteps(ctx, op, &plan->steps_));
  RETURN_IF_ERROR(plan->SetInput(serving::MakeInput(g, batch, seed), stream));
  RETURN_IF_ERROR(plan->Forward(stream));  // loads every kernel before capture
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  RETURN_IF_ERROR(plan->Capture(stream));
  return plan;
}

absl::Status KeyPlan::Forward(cudaStream_t stream) const {
  for (const Step& step : steps_) RETURN_IF_ERROR(step(stream));
  return absl::OkStatus();
}

absl::Status KeyPlan::Capture(cudaStream_t stream) {
  RETURN_IF_CUDA_ERROR(cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed));
  const absl::Status forward = Forward(stream);
  cudaGraph_t captured = nullptr;
  const absl::Status end =
      CudaStatus(cudaStreamEndCapture(stream, &captured), "cudaStreamEndCapture");
  graph_capture_.reset(captured);
  RETURN_IF_ERROR(forward);  // the capture is ended (the stream usable) either way
  RETURN_IF_ERROR(end);
  cudaGraphExec_t exec = nullptr;
  RETURN_IF_CUDA_ERROR(cudaGraphInstantiate(&exec, captured, 0));
  exec_.reset(exec);
  return absl::OkStatus();
}

absl::Status KeyPlan::Launch(cudaStream_t stream) const {
  RETURN_IF_CUDA_ERROR(cudaGraphLaunch(exec_.get(), stream));
  return absl::OkStatus();
}

absl::Status KeyPlan::SetInput(const std::vector<float>& values, cudaStream_t stream) {
  const int64_t want = batch_ * graph_.InputElements();
  if (static_cast<int64_t>(values.size()) != want) {
    return absl::InvalidArgumentError(fmt::format("{}: input has {} values; batch {} needs {}",
                                                  graph_.model, values.size(), batch_, want));
  }
  if (graph_.token_input) {
    std::vector<int32_t> ids(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      const float id = values[i];
      if (!(id >= 0 && id < graph_.vocab) || id != std::floor(id)) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: token id {} is not an integer in [0, {})", graph_.model, id, graph_.vocab));
      }
      ids[i] = static_cast<int32_t>(id);
    }
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(token_ids_.get(), ids.data(), ids.size() * 4,
                                         cudaMemcpyHostToDevice, stream));
    RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
    return absl::OkStatus();
  }
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = serving::FloatToHalfBits(values[i]);
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(tensors_[graph_.input_tensor], bits.data(), bits.size() * 2,
                                       cudaMemcpyHostToDevice, stream));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> KeyPlan::Output(cudaStream_t stream) const {
  std::vector<uint16_t> bits(static_cast<size_t>(batch_ * graph_.OutputElements()));
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(bits.data(), tensors_[graph_.output_tensor], bits.size() * 2,
                                       cudaMemcpyDeviceToHost, stream));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = serving::HalfBitsToFloat(bits[i]);
  return out;
}

int64_t KeyPlan::bytes() const { return static_cast<int64_t>(arena_.bytes() + token_ids_.bytes()); }

}  // namespace tessera::runtime_cuda::internal
