// CudnnConv — one NHWC fp16 convolution (fp32 accumulation, tensor ops allowed) on cuDNN, planned
// once for fixed device pointers: descriptors, then the fastest algorithm that fits the workspace
// measured by cudnnFindConvolutionForwardAlgorithmEx (so Create runs kernels: call it outside
// stream capture). Run only convolves (y = conv(x)); the bias, residual and activation follow as a
// separate kernel (kernels.h).
//
// Example:
//   ASSIGN_OR_RETURN(CudnnConv conv, CudnnConv::Create(cudnn, shape, {x, w, y}, workspace));
//   RETURN_IF_ERROR(conv.Run());   // on the stream set on the cuDNN handle; capturable
#ifndef TESSERA_SRC_RUNTIME_CUDA_ENGINE_CUDNN_CONV_H_
#define TESSERA_SRC_RUNTIME_CUDA_ENGINE_CUDNN_CONV_H_

#include <cudnn.h>

#include "absl/status/statusor.h"
#include "runtime_cuda/engine/cuda_raii.h"
#include "runtime_cuda/engine/lt_gemm.h"

namespace tessera::runtime_cuda::internal {

struct ConvShape {
  int batch = 0, h = 0, w = 0, c = 0;  // input, NHWC
  int out_c = 0, out_h = 0, out_w = 0;
  int kernel = 1, stride = 1, pad = 0, groups = 1;
};

struct ConvPointers {
  const void* x = nullptr;
  const void* w = nullptr;  // {out_c, kernel, kernel, c / groups} (KRSC)
  void* y = nullptr;
};

class CudnnConv {
 public:
  // Internal when cuDNN's output shape differs from the expected one or no algorithm works.
  static absl::StatusOr<CudnnConv> Create(cudnnHandle_t handle, const ConvShape& shape,
                                          const ConvPointers& p, Workspace workspace);
  absl::Status Run() const;

 private:
  cudnnHandle_t handle_ = nullptr;
  ConvPointers p_;
  Workspace workspace_;
  TensorDescPtr x_desc_, y_desc_;
  FilterDescPtr w_desc_;
  ConvDescPtr conv_desc_;
  cudnnConvolutionFwdAlgo_t algo_ = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
};

}  // namespace tessera::runtime_cuda::internal

#endif  // TESSERA_SRC_RUNTIME_CUDA_ENGINE_CUDNN_CONV_H_
