#include "runtime_cuda/internal/driver_api.h"

#include <cuda_runtime_api.h>

#include <string>

#include "fmt/core.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda::internal {
namespace {

// Resolves `symbol` at the ABI of CUDA `version` into `*slot`.
template <typename Fn>
absl::Status Resolve(const char* symbol, unsigned int version, Fn* slot) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  RETURN_IF_CUDA_ERROR(
      cudaGetDriverEntryPointByVersion(symbol, &fn, version, cudaEnableDefault, &found));
  if (found != cudaDriverEntryPointSuccess || fn == nullptr) {
    return absl::UnavailableError(fmt::format(
        "the NVIDIA driver lacks {} (needs a driver of CUDA {}.{} or later); update the driver",
        symbol, version / 1000, version % 1000 / 10));
  }
  *slot = reinterpret_cast<Fn>(fn);
  return absl::OkStatus();
}

absl::StatusOr<DriverApi> Load() {
  // The runtime must be initialized before it hands out driver entry points.
  RETURN_IF_CUDA_ERROR(cudaFree(nullptr));
  DriverApi a;
  RETURN_IF_ERROR(Resolve("cuGetErrorName", 6000, &a.cuGetErrorName));
  RETURN_IF_ERROR(Resolve("cuGetErrorString", 6000, &a.cuGetErrorString));
  RETURN_IF_ERROR(Resolve("cuDeviceGet", 2000, &a.cuDeviceGet));
  RETURN_IF_ERROR(Resolve("cuCtxSetCurrent", 4000, &a.cuCtxSetCurrent));
  RETURN_IF_ERROR(Resolve("cuCtxGetCurrent", 4000, &a.cuCtxGetCurrent));
  RETURN_IF_ERROR(Resolve("cuStreamDestroy", 4000, &a.cuStreamDestroy));
  RETURN_IF_ERROR(Resolve("cuDeviceGetDevResource", 12040, &a.cuDeviceGetDevResource));
  RETURN_IF_ERROR(Resolve("cuDevSmResourceSplitByCount", 12040, &a.cuDevSmResourceSplitByCount));
  RETURN_IF_ERROR(Resolve("cuDevResourceGenerateDesc", 12040, &a.cuDevResourceGenerateDesc));
  RETURN_IF_ERROR(Resolve("cuGreenCtxCreate", 12040, &a.cuGreenCtxCreate));
  RETURN_IF_ERROR(Resolve("cuGreenCtxDestroy", 12040, &a.cuGreenCtxDestroy));
  RETURN_IF_ERROR(Resolve("cuCtxFromGreenCtx", 12040, &a.cuCtxFromGreenCtx));
  RETURN_IF_ERROR(Resolve("cuGreenCtxGetDevResource", 12040, &a.cuGreenCtxGetDevResource));
  RETURN_IF_ERROR(Resolve("cuGreenCtxStreamCreate", 12050, &a.cuGreenCtxStreamCreate));
  return a;
}

}  // namespace

absl::StatusOr<const DriverApi*> DriverApi::Get() {
  // Resolved once; a failure (no driver) is remembered too: it does not change while we run.
  static const absl::StatusOr<DriverApi>* api = new absl::StatusOr<DriverApi>(Load());
  if (!api->ok()) return api->status();
  return &api->value();
}

absl::Status CuStatus(CUresult result, const char* call, const DriverApi& api) {
  if (result == CUDA_SUCCESS) return absl::OkStatus();
  const char* name = "?";
  const char* text = "unknown error";
  if (api.cuGetErrorName != nullptr) api.cuGetErrorName(result, &name);
  if (api.cuGetErrorString != nullptr) api.cuGetErrorString(result, &text);
  std::string message = fmt::format("{}: {} ({})", call, text, name);
  switch (result) {
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_NOT_SUPPORTED:
      return absl::UnavailableError(message);
    case CUDA_ERROR_OUT_OF_MEMORY:
      return absl::ResourceExhaustedError(message);
    case CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION:
    case CUDA_ERROR_INVALID_RESOURCE_TYPE:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace tessera::runtime_cuda::internal
