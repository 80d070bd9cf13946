#include "runtime_cuda/engine/cuda_raii.h"

#include "runtime_cuda/internal/cuda_status.h"

namespace tessera::runtime_cuda::internal {

absl::StatusOr<StreamPtr> MakeStream() {
  cudaStream_t s = nullptr;
  RETURN_IF_CUDA_ERROR(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return StreamPtr(s);
}

absl::StatusOr<EventPtr> MakeEvent(unsigned int flags) {
  cudaEvent_t e = nullptr;
  RETURN_IF_CUDA_ERROR(cudaEventCreateWithFlags(&e, flags));
  return EventPtr(e);
}

absl::StatusOr<LtHandlePtr> MakeLtHandle() {
  cublasLtHandle_t h = nullptr;
  RETURN_IF_CUBLAS_ERROR(cublasLtCreate(&h));
  return LtHandlePtr(h);
}

absl::StatusOr<LtMatmulDescPtr> MakeLtMatmulDesc() {
  cublasLtMatmulDesc_t d = nullptr;
  RETURN_IF_CUBLAS_ERROR(cublasLtMatmulDescCreate(&d, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  return LtMatmulDescPtr(d);
}

absl::StatusOr<LtLayoutPtr> MakeLtLayout(cudaDataType type, uint64_t rows, uint64_t cols,
                                         int64_t ld) {
  cublasLtMatrixLayout_t l = nullptr;
  RETURN_IF_CUBLAS_ERROR(cublasLtMatrixLayoutCreate(&l, type, rows, cols, ld));
  return LtLayoutPtr(l);
}

absl::StatusOr<LtPreferencePtr> MakeLtPreference() {
  cublasLtMatmulPreference_t p = nullptr;
  RETURN_IF_CUBLAS_ERROR(cublasLtMatmulPreferenceCreate(&p));
  return LtPreferencePtr(p);
}

absl::StatusOr<CudnnPtr> MakeCudnn() {
  cudnnHandle_t h = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreate(&h));
  return CudnnPtr(h);
}

absl::StatusOr<TensorDescPtr> MakeTensorDesc() {
  cudnnTensorDescriptor_t d = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateTensorDescriptor(&d));
  return TensorDescPtr(d);
}

absl::StatusOr<FilterDescPtr> MakeFilterDesc() {
  cudnnFilterDescriptor_t d = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateFilterDescriptor(&d));
  return FilterDescPtr(d);
}

absl::StatusOr<ConvDescPtr> MakeConvDesc() {
  cudnnConvolutionDescriptor_t d = nullptr;
  RETURN_IF_CUDNN_ERROR(cudnnCreateConvolutionDescriptor(&d));
  return ConvDescPtr(d);
}

absl::StatusOr<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  void* p = nullptr;
  RETURN_IF_CUDA_ERROR(cudaMalloc(&p, bytes));
  DeviceBuffer b;
  b.ptr_.reset(p);
  b.bytes_ = bytes;
  RETURN_IF_CUDA_ERROR(cudaMemset(p, 0, bytes));
  // cudaMemset runs on the legacy default stream, which the engine's non-blocking stream does not
  // wait for: finish it before anything is written there.
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(nullptr));
  return b;
}

}  // namespace tessera::runtime_cuda::internal
