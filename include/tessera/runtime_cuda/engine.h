// tessera/runtime_cuda/engine.h — fp16 inference of the model zoo on one CUDA device (or one green
// context): weights made deterministically from a seed, every (model, batch, input) captured once
// as a CUDA graph and replayed.
//
// The engine runs the same operators, in the same order and with the same weights, as the CPU
// reference (tessera/serving/reference.h); on small shapes their outputs are compared.
//
// Models (registry canonical names): resnet50, mobilenet_v2, vgg16 (input: image side in pixels,
// 3 channels; 224 is the usual), bert_base (input: sequence length, the bucket bound), gpt2 (GPT-2
// small, a full-sequence forward: input is the sequence length).
//
// Example:
//   ASSIGN_OR_RETURN(auto engine, Engine::Create({}));          // current device, own stream
//   ModelKey key{"resnet50", /*batch=*/8, /*input=*/224};
//   RETURN_IF_ERROR(engine->Prepare(key));                     // weights + graph capture
//   ASSIGN_OR_RETURN(double ns, engine->Run(key));              // one replay, waited for
//
// Numerics: fp16 storage, fp32 accumulation; outputs match serving::ReferenceForward (same graph,
// same seed) within fp16 tolerance. Prepare sets the key's input to serving::MakeInput(graph,
// batch, seed) until SetInput replaces it.
//
// Not thread-safe: one engine per executor thread (engines on one device may share nothing but the
// device). Every CUDA object is owned RAII; every CUDA, cuBLAS and cuDNN error becomes a Status
// naming the call.
#ifndef TESSERA_RUNTIME_CUDA_ENGINE_H_
#define TESSERA_RUNTIME_CUDA_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/serving/model_zoo.h"

namespace tessera::runtime_cuda {

struct ModelKey {
  std::string model;
  int batch = 1;
  int input = 0;  // image side or sequence length
  bool operator==(const ModelKey&) const = default;
};

struct EngineOptions {
  // The cudaStream_t every kernel, copy and graph replay goes to; null: the engine creates a
  // stream of its own on the current device. A green context's stream puts the engine on that
  // context's SMs. The stream must outlive the engine. Create and every later call must run with
  // the stream's context current on the calling thread (for a green context: cuCtxSetCurrent of
  // cuCtxFromGreenCtx(green) first), since the engine's cuBLASLt and cuDNN handles, memory and
  // graphs are made in the current context.
  void* stream = nullptr;
  uint64_t seed = 1;  // weights and inputs: the same seed gives the same values as the reference
  // The zoo's scale: full size by default (latency measurement); serving::ZooOptions::Small() for
  // the small versions the GPU-vs-CPU checks run. The reference must be built with the same.
  serving::ZooOptions zoo;
  // Attention with heads of 64 (every zoo transformer) as one fused kernel (tensor cores, scores
  // kept on chip); false: batched cuBLASLt GEMMs around a softmax kernel (scores in memory), for
  // comparison.
  bool fused_attention = true;
};

class Engine {
 public:
  // Errors: Unavailable when there is no CUDA device or driver (the message says so plainly).
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  virtual ~Engine() = default;

  // Makes the model's weights (once per model) and the activations for (batch, input), and
  // captures the forward as a CUDA graph (once per key). InvalidArgument for an unknown model,
  // a batch below 1 or an input the model cannot take (serving::BuildModel's limits).
  virtual absl::Status Prepare(const ModelKey& key) = 0;
  // Replays the key's graph and waits for it; returns the GPU time in ns (CUDA events around the
  // replay). REQUIRES: Prepare(key) succeeded.
  virtual absl::StatusOr<double> Run(const ModelKey& key) = 0;
  // Sets the key's input from host values (converted to fp16; token ids for bert_base and gpt2 as
  // floats holding integers) — for checks against the reference. Size: Prepare's input size.
  virtual absl::Status SetInput(const ModelKey& key, const std::vector<float>& values) = 0;
  // The output of the key's last Run, as floats (logits), row-major by batch.
  virtual absl::StatusOr<std::vector<float>> Output(const ModelKey& key) = 0;
  // Device memory the engine holds now (weights, activations, workspaces), in bytes.
  virtual int64_t MemoryBytes() const = 0;
};

// The models the engine can run, sorted.
std::vector<std::string> EngineModels();

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_ENGINE_H_
