// tessera/serving/reference.h — the CPU reference forward of a model zoo graph (model_zoo.h):
// plain float loops, weights rounded to fp16, and every operator's output (plus attention's scores
// and probabilities) rounded to fp16, as the fp16 GPU engine stores them. Slow on purpose (no
// blocking, no threads): it exists to check the GPU engine on small shapes.
//
// Example:
//   ASSIGN_OR_RETURN(ModelGraph g, BuildModel("bert_base", 16, ZooOptions::Small()));
//   std::vector<float> input = MakeInput(g, /*batch=*/2, /*seed=*/1);
//   ASSIGN_OR_RETURN(std::vector<float> out, ReferenceForward(g, 2, input, /*seed=*/1));
//   // out.size() == 2 * g.OutputElements(), row-major by item
//
// Thread-safe: pure functions.
#ifndef TESSERA_SERVING_REFERENCE_H_
#define TESSERA_SERVING_REFERENCE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/serving/model_zoo.h"

namespace tessera::serving {

// Every param of `graph`, in param order, fp16-rounded (ParamValues for each).
std::vector<std::vector<float>> MakeWeights(const ModelGraph& graph, uint64_t seed);

// Runs `graph` on `batch` items of `input` (batch * InputElements() values, row-major by item)
// with the given weights (one vector per param, sizes as the params') and returns the output
// tensor, batch * OutputElements() values. InvalidArgument, naming the model, for a bad batch,
// input size, weight count or size, or a token id outside [0, vocab).
absl::StatusOr<std::vector<float>> ReferenceForward(const ModelGraph& graph, int batch,
                                                    const std::vector<float>& input,
                                                    const std::vector<std::vector<float>>& weights);
// Same, with MakeWeights(graph, seed).
absl::StatusOr<std::vector<float>> ReferenceForward(const ModelGraph& graph, int batch,
                                                    const std::vector<float>& input, uint64_t seed);

// The activation as the reference (and the GPU) computes it; GELU is the tanh form.
float ApplyActivation(Activation act, float x);

}  // namespace tessera::serving

#endif  // TESSERA_SERVING_REFERENCE_H_
