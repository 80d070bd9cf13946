// The few CUDA driver-API functions runtime_cuda needs (green contexts), reached through
// cudaGetDriverEntryPointByVersion so that tessera never links libcuda: the binary starts on a
// machine without an NVIDIA driver and says so politely.
//
//   ASSIGN_OR_RETURN(const DriverApi* cu, DriverApi::Get());     // Unavailable without a driver
//   RETURN_IF_CU_ERROR(cu->cuGreenCtxCreate(&g, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM), *cu);
//
// Each entry point is asked at the CUDA version whose ABI tessera was written against (the
// `_vNNNNN` suffix of its PFN type in cudaTypedefs.h): green contexts need a driver of CUDA 12.4
// or later, green-context streams 12.5. The table is resolved once per process and never freed;
// it is immutable afterwards and safe to share between threads.
#ifndef TESSERA_SRC_RUNTIME_CUDA_INTERNAL_DRIVER_API_H_
#define TESSERA_SRC_RUNTIME_CUDA_INTERNAL_DRIVER_API_H_

#include <cuda.h>  // types and constants only: tessera does not link the driver library
#include <cudaTypedefs.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera::runtime_cuda::internal {

struct DriverApi {
  PFN_cuGetErrorName_v6000 cuGetErrorName = nullptr;
  PFN_cuGetErrorString_v6000 cuGetErrorString = nullptr;
  PFN_cuDeviceGet_v2000 cuDeviceGet = nullptr;
  PFN_cuCtxSetCurrent_v4000 cuCtxSetCurrent = nullptr;
  PFN_cuCtxGetCurrent_v4000 cuCtxGetCurrent = nullptr;
  PFN_cuStreamDestroy_v4000 cuStreamDestroy = nullptr;
  PFN_cuDeviceGetDevResource_v12040 cuDeviceGetDevResource = nullptr;
  PFN_cuDevSmResourceSplitByCount_v12040 cuDevSmResourceSplitByCount = nullptr;
  PFN_cuDevResourceGenerateDesc_v12040 cuDevResourceGenerateDesc = nullptr;
  PFN_cuGreenCtxCreate_v12040 cuGreenCtxCreate = nullptr;
  PFN_cuGreenCtxDestroy_v12040 cuGreenCtxDestroy = nullptr;
  PFN_cuCtxFromGreenCtx_v12040 cuCtxFromGreenCtx = nullptr;
  PFN_cuGreenCtxGetDevResource_v12040 cuGreenCtxGetDevResource = nullptr;
  PFN_cuGreenCtxStreamCreate_v12050 cuGreenCtxStreamCreate = nullptr;

  // The process's table. Initializes the CUDA runtime on the first call (cudaFree(0) on the
  // current device). Unavailable when there is no driver, no device, or a driver too old for
  // green contexts (the message names the missing function and the driver version needed).
  static absl::StatusOr<const DriverApi*> Get();
};

// A driver-API result as a Status naming `call`: CUDA_ERROR_NO_DEVICE, NOT_INITIALIZED and
// NOT_SUPPORTED become Unavailable, OUT_OF_MEMORY ResourceExhausted,
// INVALID_RESOURCE_CONFIGURATION and INVALID_RESOURCE_TYPE FailedPrecondition (a split the GPU
// cannot make), the rest Internal.
absl::Status CuStatus(CUresult result, const char* call, const DriverApi& api);

}  // namespace tessera::runtime_cuda::internal

#define RETURN_IF_CU_ERROR(call, api)                                                             \
  do {                                                                                            \
    absl::Status _tessera_cu = ::tessera::runtime_cuda::internal::CuStatus((call), #call, (api)); \
    if (!_tessera_cu.ok()) return _tessera_cu;                                                    \
  } while (0)

#endif  // TESSERA_SRC_RUNTIME_CUDA_INTERNAL_DRIVER_API_H_
