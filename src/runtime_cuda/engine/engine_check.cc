#include "tessera/runtime_cuda/engine_check.h"

#include <algorithm>
#include <cmath>

#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/runtime_cuda/engine.h"
#include "tessera/serving/model_zoo.h"
#include "tessera/serving/reference.h"

namespace tessera::runtime_cuda {
namespace {

// Inputs the small zoo takes quickly; full size: the models' usual inputs at modest lengths.
int CheckInput(const std::string& model, bool full_size) {
  bool text = model == "bert_base" || model == "gpt2";
  if (full_size) return text ? 128 : 224;
  return text ? 24 : 64;
}

}  // namespace

float ScaledError(const std::vector<float>& a, const std::vector<float>& b) {
  float err = 0.0f, scale = 1.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::fabs(a[i] - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return err / scale;
}

absl::StatusOr<std::vector<EngineCheckRow>> CheckEngineAgainstReference(
    const EngineCheckOptions& options) {
  std::vector<std::string> models = options.models.empty() ? EngineModels() : options.models;
  EngineOptions engine_options;
  engine_options.seed = options.seed;
  if (!options.full_size) engine_options.zoo = serving::ZooOptions::Small();
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Create(engine_options));
  std::vector<EngineCheckRow> rows;
  for (const std::string& model : models) {
    ModelKey key{model, options.batch, CheckInput(model, options.full_size)};
    ASSIGN_OR_RETURN(serving::ModelGraph graph,
                     serving::BuildModel(model, key.input, engine_options.zoo));
    std::vector<float> input = serving::MakeInput(graph, key.batch, options.seed + 1);
    RETURN_IF_ERROR(engine->Prepare(key));
    RETURN_IF_ERROR(engine->SetInput(key, input));
    ASSIGN_OR_RETURN(double ns, engine->Run(key));
    ASSIGN_OR_RETURN(std::vector<float> gpu, engine->Output(key));
    ASSIGN_OR_RETURN(std::vector<float> cpu,
                     serving::ReferenceForward(graph, key.batch, input, options.seed));
    if (gpu.size() != cpu.size()) {
      return absl::InternalError(fmt::format("{}: the engine gave {} outputs, the reference {}",
                                             model, gpu.size(), cpu.size()));
    }
    EngineCheckRow row;
    row.model = model;
    row.batch = key.batch;
    row.input = key.input;
    row.scaled_error = ScaledError(gpu, cpu);
    row.passed = row.scaled_error <= options.tolerance;
    row.gpu_ms = ns / 1e6;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace tessera::runtime_cuda
