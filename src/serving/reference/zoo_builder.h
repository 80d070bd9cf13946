// GraphBuilder — appends operators and their tensors and params to a ModelGraph, computing each
// output's per-item shape and each weight's scale. Internal to the model zoo's builders.
//
// Example:
//   GraphBuilder b("resnet50", 224, /*token_input=*/false, {224, 224, 3});
//   int x = b.Conv("conv1", b.input(), 64, 7, 2, 3, 1, Activation::kRelu);
//   ModelGraph g = std::move(b).Finish(b.Linear("fc", b.AvgPool("pool", x, 1), 1000));
#ifndef TESSERA_SRC_SERVING_REFERENCE_ZOO_BUILDER_H_
#define TESSERA_SRC_SERVING_REFERENCE_ZOO_BUILDER_H_

#include <string>
#include <vector>

#include "tessera/serving/model_zoo.h"

namespace tessera::serving::internal {

struct ConvSpec {
  int out_channels = 0;
  int kernel = 1, stride = 1, pad = 0, groups = 1;
  Activation act = Activation::kNone;
  int residual = -1;  // tensor added before the activation
  float gain = 1.0f;  // weight scale multiplier (folded-BN gamma)
};

struct LinearSpec {
  int out_features = 0;
  Activation act = Activation::kNone;
  int residual = -1;
  int shared_weight = -1;  // reuse this param as the weight (tied embeddings); -1: a new one
  bool bias = true;
};

class GraphBuilder {
 public:
  GraphBuilder(std::string model, int input_size, bool token_input, std::vector<int> input_dims);

  int input() const { return graph_.input_tensor; }
  const std::vector<int>& dims(int tensor) const { return graph_.tensors[tensor].dims; }
  void set_vocab(int vocab) { graph_.vocab = vocab; }

  int Conv(const std::string& name, int in, const ConvSpec& spec);
  int MaxPool(const std::string& name, int in, int kernel, int stride, int pad);
  int AvgPool(const std::string& name, int in, int out_side);
  int Linear(const std::string& name, int in, const LinearSpec& spec);
  int LayerNorm(const std::string& name, int in, float eps);
  int Attention(const std::string& name, int qkv, int heads, bool causal);
  int TakeToken(const std::string& name, int in, int token);
  // Returns the output tensor; *token_table receives the token table's param id.
  int Embedding(const std::string& name, int tokens, int vocab, int positions, int dim,
                int* token_table);

  ModelGraph Finish(int output) &&;

 private:
  int AddTensor(const std::string& name, std::vector<int> dims);
  int AddParam(const std::string& name, std::vector<int> dims, float scale, float offset = 0.0f);
  int AddOp(Op op, const std::string& name, std::vector<int> out_dims);

  ModelGraph graph_;
};

// The architectures. REQUIRES: options valid, input in range (BuildModel checks both).
ModelGraph BuildResnet50(int side, const ZooOptions& options);
ModelGraph BuildMobilenetV2(int side, const ZooOptions& options);
ModelGraph BuildVgg16(int side, const ZooOptions& options);
ModelGraph BuildBertBase(int tokens, const ZooOptions& options);
ModelGraph BuildGpt2(int tokens, const ZooOptions& options);

// A channel or hidden count divided by options.width_divisor (kept a multiple of 8 when divided).
int ScaleWidth(int width, const ZooOptions& options);
// A block count capped by options.max_blocks_per_stage.
int ScaleBlocks(int blocks, const ZooOptions& options);

}  // namespace tessera::serving::internal

#endif  // TESSERA_SRC_SERVING_REFERENCE_ZOO_BUILDER_H_
