// CUDA, cuBLAS(Lt), cuDNN and driver-API results as absl::Status, for everything in runtime_cuda.
//
//   RETURN_IF_CUDA_ERROR(cudaMalloc(&p, bytes));                  // "cudaMalloc(&p, bytes): out of
//   memory" RETURN_IF_CUBLAS_ERROR(cublasLtMatmul(...));
//   RETURN_IF_CUDNN_ERROR(cudnnConvolutionForward(...));
//   RETURN_IF_CU_ERROR(driver.cuGreenCtxCreate(...), driver);     // driver API through entry
//   points
//
// cudaErrorNoDevice and cudaErrorInsufficientDriver become Unavailable (there is no GPU to use; a
// user error, not a bug); out-of-memory becomes ResourceExhausted; the rest Internal.
#ifndef TESSERA_SRC_RUNTIME_CUDA_INTERNAL_CUDA_STATUS_H_
#define TESSERA_SRC_RUNTIME_CUDA_INTERNAL_CUDA_STATUS_H_

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "absl/status/status.h"
#include "fmt/core.h"

namespace tessera::runtime_cuda::internal {

inline absl::Status CudaStatus(cudaError_t e, const char* call) {
  if (e == cudaSuccess) return absl::OkStatus();
  std::string message =
      fmt::format("{}: {} ({})", call, cudaGetErrorString(e), cudaGetErrorName(e));
  switch (e) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorDevicesUnavailable:
      return absl::UnavailableError(message +
                                    "; this needs a machine with an NVIDIA GPU and driver");
    case cudaErrorMemoryAllocation:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

inline absl::Status CublasStatus(cublasStatus_t e, const char* call) {
  if (e == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  std::string message = fmt::format("{}: cuBLAS status {}", call, static_cast<int>(e));
  if (e == CUBLAS_STATUS_ALLOC_FAILED) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

inline absl::Status CudnnStatus(cudnnStatus_t e, const char* call) {
  if (e == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  std::string message = fmt::format("{}: {}", call, cudnnGetErrorString(e));
  if (e == CUDNN_STATUS_ALLOC_FAILED) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

}  // namespace tessera::runtime_cuda::internal

#define TESSERA_RETURN_IF_STATUS_(expr)      \
  do {                                       \
    absl::Status _tessera_s = (expr);        \
    if (!_tessera_s.ok()) return _tessera_s; \
  } while (0)
#define RETURN_IF_CUDA_ERROR(call) \
  TESSERA_RETURN_IF_STATUS_(::tessera::runtime_cuda::internal::CudaStatus((call), #call))
#define RETURN_IF_CUBLAS_ERROR(call) \
  TESSERA_RETURN_IF_STATUS_(::tessera::runtime_cuda::internal::CublasStatus((call), #call))
#define RETURN_IF_CUDNN_ERROR(call) \
  TESSERA_RETURN_IF_STATUS_(::tessera::runtime_cuda::internal::CudnnStatus((call), #call))

#endif  // TESSERA_SRC_RUNTIME_CUDA_INTERNAL_CUDA_STATUS_H_
