// The CPU reference's operators: plain loops over `batch` items, each reading per-item tensors of
// the shapes the graph gives and writing the op's output (not yet rounded to fp16, except where
// the GPU rounds inside an op: the conv sum before its bias, attention scores and probabilities).
#ifndef TESSERA_SRC_SERVING_REFERENCE_REFERENCE_OPS_H_
#define TESSERA_SRC_SERVING_REFERENCE_REFERENCE_OPS_H_

#include <vector>

#include "tessera/serving/model_zoo.h"

namespace tessera::serving::internal {

// Everything one op reads: its input and output shapes (per item), the batch, the data.
struct OpArgs {
  const Op* op = nullptr;
  const std::vector<int>* in_dims = nullptr;
  const std::vector<int>* out_dims = nullptr;
  int batch = 0;
  const float* x = nullptr;         // batch * in elements
  const float* residual = nullptr;  // batch * out elements, or null
  const float* weight = nullptr;    // the op's weight param, or null
  const float* bias = nullptr;      // the op's bias param, or null
  float* y = nullptr;               // batch * out elements
};

void Conv2d(const OpArgs& a);
void MaxPool(const OpArgs& a);
void AvgPool(const OpArgs& a);
void AddOrActivate(const OpArgs& a);  // kAdd (x + residual) and kActivation
void Linear(const OpArgs& a);
void Embedding(const OpArgs& a);
void LayerNorm(const OpArgs& a);
void Attention(const OpArgs& a);
void TakeToken(const OpArgs& a);

}  // namespace tessera::serving::internal

#endif  // TESSERA_SRC_SERVING_REFERENCE_REFERENCE_OPS_H_
