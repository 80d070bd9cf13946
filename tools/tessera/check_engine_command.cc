// `tessera check-engine`: the CUDA engine's outputs against the CPU reference on this machine's GPU
// (runtime_cuda/engine_check.h). Exists in every build; without runtime_cuda it says so.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"
#include "tessera/base/table.h"
#if TESSERA_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "tessera/runtime_cuda/engine.h"
#include "tessera/runtime_cuda/engine_check.h"
#endif

namespace tessera::cli {
namespace {

struct CheckEngineOptions {
  std::vector<std::string> models;
  bool full_size = false;
  int batch = 2;
  int device = 0;
  uint64_t seed = 1;
};

absl::Status RunCheckEngine(const CheckEngineOptions& o, std::ostream& out) {
  if (o.batch < 1 || o.batch > 64) {
    return absl::InvalidArgumentError(fmt::format("--batch: must be 1..64, got {}", o.batch));
  }
#if TESSERA_HAVE_CUDA
  for (const std::string& model : o.models) {
    std::vector<std::string> known = runtime_cuda::EngineModels();
    if (std::find(known.begin(), known.end(), model) == known.end()) {
      return absl::InvalidArgumentError(
          fmt::format("--models: '{}' is not an engine model ({})", model, fmt::join(known, ", ")));
    }
  }
  if (cudaError_t e = cudaSetDevice(o.device); e != cudaSuccess) {
    return absl::UnavailableError(
        fmt::format("--device {}: {}; this needs a machine with an NVIDIA GPU and driver", o.device,
                    cudaGetErrorString(e)));
  }
  runtime_cuda::EngineCheckOptions check;
  check.models = o.models;
  check.full_size = o.full_size;
  check.batch = o.batch;
  check.seed = o.seed;
  ASSIGN_OR_RETURN(std::vector<runtime_cuda::EngineCheckRow> rows,
                   runtime_cuda::CheckEngineAgainstReference(check));
  TextTable table({"model", "batch", "input", "scaled error", "tolerance", "result", "GPU ms"});
  bool all = true;
  for (const runtime_cuda::EngineCheckRow& r : rows) {
    all = all && r.passed;
    table.AddRow({r.model, std::to_string(r.batch), std::to_string(r.input),
                  fmt::format("{:.5f}", r.scaled_error), fmt::format("{:.2f}", check.tolerance),
                  r.passed ? "pass" : "FAIL", fmt::format("{:.3f}", r.gpu_ms)});
  }
  out << fmt::format("{} models, {} versions: GPU output against the CPU reference\n", rows.size(),
                     o.full_size ? "full-size" : "small")
      << table.Render();
  if (!all) {
    return absl::InternalError("the engine's output differs from the reference beyond tolerance");
  }
  return absl::OkStatus();
#else
  (void)out;
  return absl::FailedPreconditionError(
      "this tessera was built without the CUDA runtime (runtime_cuda): rebuild on a machine with "
      "the CUDA 13 toolkit");
#endif
}

}  // namespace

void AddCheckEngineCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto o = std::make_shared<CheckEngineOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check-engine",
      "Run each model on this machine's GPU with the CUDA engine and compare its output with the "
      "CPU reference (same graph, weights and input)");
  cmd->add_option("--models", o->models, "Models (default: all of the engine's)")->delimiter(',');
  cmd->add_flag("--full-size", o->full_size,
                "Full-size models at 224 px / 128 tokens (the CPU side takes up to a minute each)");
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str();
  cmd->add_option("--device", o->device, "CUDA device ordinal")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Weights and inputs")->capture_default_str();
  cmd->callback(Callback([o, &out] { return RunCheckEngine(*o, out); }, err, exit_code));
}

}  // namespace tessera::cli
