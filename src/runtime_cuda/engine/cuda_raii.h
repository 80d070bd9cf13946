// Move-only owners for every CUDA, cuBLASLt and cuDNN object the engine makes, and factories that
// return them as StatusOr (the error names the call).
//
// Example:
//   ASSIGN_OR_RETURN(StreamPtr stream, MakeStream());
//   ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::Allocate(1 << 20));
//   cudaMemsetAsync(buf.get(), 0, buf.bytes(), stream.get());
//
// Thread-compatible: owners are plain values.
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_CUDA_RAII_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_CUDA_RAII_H_

#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <memory>
#include <type_traits>

#include "absl/status/statusor.h"

namespace tessera::runtime_cuda::internal {

template <typename Handle, auto Destroy>
struct HandleDeleter {
  void operator()(Handle h) const {
    if (h != nullptr) Destroy(h);  // errors at teardown have nowhere to go
  }
};
template <typename Handle, auto Destroy>
using Owned = std::unique_ptr<std::remove_pointer_t<Handle>, HandleDeleter<Handle, Destroy>>;

using StreamPtr = Owned<cudaStream_t, cudaStreamDestroy>;
using EventPtr = Owned<cudaEvent_t, cudaEventDestroy>;
using GraphPtr = Owned<cudaGraph_t, cudaGraphDestroy>;
using GraphExecPtr = Owned<cudaGraphExec_t, cudaGraphExecDestroy>;
using LtHandlePtr = Owned<cublasLtHandle_t, cublasLtDestroy>;
using LtMatmulDescPtr = Owned<cublasLtMatmulDesc_t, cublasLtMatmulDescDestroy>;
using LtLayoutPtr = Owned<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy>;
using LtPreferencePtr = Owned<cublasLtMatmulPreference_t, cublasLtMatmulPreferenceDestroy>;
using CudnnPtr = Owned<cudnnHandle_t, cudnnDestroy>;
using TensorDescPtr = Owned<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;
using FilterDescPtr = Owned<cudnnFilterDescriptor_t, cudnnDestroyFilterDescriptor>;
using ConvDescPtr = Owned<cudnnConvolutionDescriptor_t, cudnnDestroyConvolutionDescriptor>;

absl::StatusOr<StreamPtr> MakeStream();  // non-blocking, on the current device
// cudaEventBlockingSync: a thread waiting for it sleeps instead of spinning on a CPU core.
absl::StatusOr<EventPtr> MakeEvent(unsigned int flags = cudaEventDefault);
absl::StatusOr<LtHandlePtr> MakeLtHandle();
absl::StatusOr<LtMatmulDescPtr> MakeLtMatmulDesc();  // fp32 compute and scale
absl::StatusOr<LtLayoutPtr> MakeLtLayout(cudaDataType type, uint64_t rows, uint64_t cols,
                                         int64_t ld);  // column-major
absl::StatusOr<LtPreferencePtr> MakeLtPreference();
absl::StatusOr<CudnnPtr> MakeCudnn();
absl::StatusOr<TensorDescPtr> MakeTensorDesc();
absl::StatusOr<FilterDescPtr> MakeFilterDesc();
absl::StatusOr<ConvDescPtr> MakeConvDesc();

// Device memory, freed on destruction. Move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Allocates `bytes` (> 0) of device memory, zeroed. ResourceExhausted when out of memory.
  static absl::StatusOr<DeviceBuffer> Allocate(size_t bytes);

  void* get() const { return ptr_.get(); }
  size_t bytes() const { return bytes_; }
  template <typename T>
  T* at(size_t offset_bytes) const {
    return reinterpret_cast<T*>(static_cast<char*>(ptr_.get()) + offset_bytes);
  }

 private:
  Owned<void*, cudaFree> ptr_;
  size_t bytes_ = 0;
};

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_CUDA_RAII_H_
