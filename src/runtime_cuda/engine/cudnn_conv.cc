#include "runtime_cuda/engine/cudnn_conv.h"

#include "fmt/core.h"
#include "runtime_cuda/internal/cuda_status.h"
#include "tessera/base/status.h"

namespace tessera::runtime_cuda::internal {
namespace {

constexpr int kAlgoCandidates = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;

absl::Status Describe(const ConvShape& s, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                      cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y) {
  RETURN_IF_CUDNN_ERROR(
      cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, s.batch, s.c, s.h, s.w));
  RETURN_IF_CUDNN_ERROR(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, s.out_c,
                                                   s.c / s.groups, s.kernel, s.kernel));
  RETURN_IF_CUDNN_ERROR(cudnnSetConvolution2dDescriptor(
      conv, s.pad, s.pad, s.stride, s.stride, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  RETURN_IF_CUDNN_ERROR(cudnnSetConvolutionGroupCount(conv, s.groups));
  RETURN_IF_CUDNN_ERROR(cudnnSetConvolutionMathType(conv, CUDNN_TENSOR_OP_MATH));
  int n = 0, c = 0, h = 0, wd = 0;
  RETURN_IF_CUDNN_ERROR(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &h, &wd));
  if (n != s.batch || c != s.out_c || h != s.out_h || wd != s.out_w) {
    return absl::InternalError(fmt::format("cuDNN conv output {}x{}x{}x{}, expected {}x{}x{}x{}", n,
                                           h, wd, c, s.batch, s.out_h, s.out_w, s.out_c));
  }
  RETURN_IF_CUDNN_ERROR(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, s.batch,
                                                   s.out_c, s.out_h, s.out_w));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CudnnConv> CudnnConv::Create(cudnnHandle_t handle, const ConvShape& shape,
                                            const ConvPointers& p, Workspace workspace) {
  CudnnConv conv;
  conv.handle_ = handle;
  conv.p_ = p;
  conv.workspace_ = workspace;
  ASSIGN_OR_RETURN(conv.x_desc_, MakeTensorDesc());
  ASSIGN_OR_RETURN(conv.y_desc_, MakeTensorDesc());
  ASSIGN_OR_RETURN(conv.w_desc_, MakeFilterDesc());
  ASSIGN_OR_RETURN(conv.conv_desc_, MakeConvDesc());
  RETURN_IF_ERROR(Describe(shape, conv.x_desc_.get(), conv.w_desc_.get(), conv.conv_desc_.get(),
                           conv.y_desc_.get()));
  cudnnConvolutionFwdAlgoPerf_t perf[kAlgoCandidates];
  int returned = 0;
  RETURN_IF_CUDNN_ERROR(cudnnFindConvolutionForwardAlgorithmEx(
      handle, conv.x_desc_.get(), p.x, conv.w_desc_.get(), p.w, conv.conv_desc_.get(),
      conv.y_desc_.get(), p.y, kAlgoCandidates, &returned, perf, workspace.ptr, workspace.bytes));
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > workspace.bytes) continue;
    conv.algo_ = perf[i].algo;
    RETURN_IF_CUDNN_ERROR(cudnnSetConvolutionMathType(conv.conv_desc_.get(), perf[i].mathType));
    return conv;
  }
  return absl::InternalError(fmt::format(
      "cuDNN has no forward algorithm for a {}x{}x{}x{} conv to {} channels (kernel {}, groups {})",
      shape.batch, shape.h, shape.w, shape.c, shape.out_c, shape.kernel, shape.groups));
}

absl::Status CudnnConv::Run() const {
  const float alpha = 1.0f, beta = 0.0f;
  RETURN_IF_CUDNN_ERROR(cudnnConvolutionForward(handle_, &alpha, x_desc_.get(), p_.x, w_desc_.get(),
                                                p_.w, conv_desc_.get(), algo_, workspace_.ptr,
                                                workspace_.bytes, &beta, y_desc_.get(), p_.y));
  return absl::OkStatus();
}

}  // namespace tessera::runtime_cuda::internal
