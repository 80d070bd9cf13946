// For runtime_cuda's tests: whether this machine has a CUDA device to run GPU tests on.
#ifndef TESSERA_SRC_RUNTIME_CUDA_TESTING_HAS_DEVICE_H_
#define TESSERA_SRC_RUNTIME_CUDA_TESTING_HAS_DEVICE_H_

#include <cuda_runtime_api.h>

namespace tessera::runtime_cuda::testing {

inline bool HasCudaDevice() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

}  // namespace tessera::runtime_cuda::testing

#define SKIP_WITHOUT_CUDA_DEVICE()                                     \
  do {                                                                 \
    if (!::tessera::runtime_cuda::testing::HasCudaDevice()) {          \
      GTEST_SKIP() << "no CUDA device: this test needs an NVIDIA GPU"; \
    }                                                                  \
  } while (0)

#endif  // TESSERA_SRC_RUNTIME_CUDA_TESTING_HAS_DEVICE_H_
