// tessera/runtime_cuda/engine_check.h — the CUDA engine's outputs against the CPU reference on the
// GPU at hand: each model of the zoo, built small (ZooOptions::Small) or full size, the same graph,
// weights and input on both sides, compared by the largest difference relative to the output's
// scale. `tessera check-engine` prints it; bench/gpu/run_all.sh runs it first.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<EngineCheckRow> rows, CheckEngineAgainstReference({}));
//   for (const EngineCheckRow& r : rows) if (!r.passed) ...
//
// Needs a CUDA device (Unavailable otherwise); the reference runs on one CPU thread, so full-size
// models take seconds (vgg16 at 224 px about a minute).
#ifndef TESSERA_RUNTIME_CUDA_ENGINE_CHECK_H_
#define TESSERA_RUNTIME_CUDA_ENGINE_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::runtime_cuda {

struct EngineCheckOptions {
  std::vector<std::string> models;  // empty: every model of the zoo
  bool full_size = false;           // false: the small versions, at small inputs
  int batch = 2;
  uint64_t seed = 1;
  // Pass when max |gpu - cpu| <= tolerance x max(1, max |cpu|): fp16 storage with different
  // summation orders and rounding points on the two sides.
  float tolerance = 0.03f;
};

struct EngineCheckRow {
  std::string model;
  int batch = 0;
  int input = 0;
  float scaled_error = 0;  // max |gpu - cpu| / max(1, max |cpu|)
  bool passed = false;
  double gpu_ms = 0;  // one graph replay
};

// Runs on the current CUDA device. InvalidArgument for an unknown model; Unavailable without a
// device; other engine errors as they come.
absl::StatusOr<std::vector<EngineCheckRow>> CheckEngineAgainstReference(
    const EngineCheckOptions& options);

// Max |a - b| relative to max(1, max |b|). REQUIRES: a.size() == b.size().
float ScaledError(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace tessera::runtime_cuda

#endif  // TESSERA_RUNTIME_CUDA_ENGINE_CHECK_H_
