// tessera/models/registry.h — the models tessera knows: names, aliases, input units and limits.
//
// One YAML file per model in data/models/ (format in docs/formats.md). Outside data names models in
// many ways (`bert`, `bert-base`, `bert_base`); the registry maps every alias to one canonical
// name, which is what profiles, workloads and plans store.
//
// Example:
//   ASSIGN_OR_RETURN(ModelRegistry registry, LoadDefaultModelRegistry());
//   ASSIGN_OR_RETURN(const ModelInfo* bert, registry.Find("bert-base"));   // -> "bert_base"
//   bert->input_unit == InputUnit::kTokens;  bert->max_input == 512;
//
// Clones: "m~k" (k a non-negative integer without leading zeros) names clone k of model m, as made
// by tessera's synthetic case generators. It resolves to a ModelInfo named "<m's canonical
// name>~k" with m's unit, limits and descriptors, no aliases, and `clone_of` set to m's canonical
// name, so profiles, workloads and plans that name clones load like any other.
//   ASSIGN_OR_RETURN(const ModelInfo* c, registry.Find("ResNet-50~7"));   // -> "resnet50~7"
//
// Immutable after loading (the clones resolved so far are kept behind a mutex); safe to share
// between threads.
#ifndef TESSERA_MODELS_REGISTRY_H_
#define TESSERA_MODELS_REGISTRY_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::models {

// What a model's input size counts: tokens per sequence, or the side of a square image in pixels.
enum class InputUnit { kTokens, kPixels };
const char* InputUnitName(InputUnit unit);  // "tokens", "pixels"

struct ModelInfo {
  std::string name;                  // canonical, e.g. "bert_base"
  std::vector<std::string> aliases;  // e.g. "bert", "bert-base"
  std::string family;                // "cnn", "transformer-encoder", "transformer-decoder"
  InputUnit input_unit = InputUnit::kPixels;
  int reference_input = 0;  // the input size of sources that do not say (224 px, 128 tokens)
  int max_input = 0;        // the largest input the model accepts (512 tokens for BERT-base)
  // Descriptors for analytic and learned predictors; null when unknown.
  std::optional<double> params_millions;
  std::optional<double> gflops_per_item;  // at reference_input
  // FLOPs per item scale as (input / reference_input)^input_flops_exponent: about 2 for CNNs whose
  // input is an image side, about 1 (a little more for attention) for transformers over tokens.
  std::optional<double> input_flops_exponent;
  // Activation memory traffic of one item at reference_input, MB (10^6 bytes, fp16); scales with
  // the input like the FLOPs.
  std::optional<double> activation_mb_per_item;
  // Layer kinds in order of first appearance, e.g. {"conv", "bn", "relu", "pool", "fc"}; empty
  // when unknown. Optional in the file.
  std::vector<std::string> layers;
  std::string source;      // where the descriptors come from
  std::string clone_of{};  // for a clone "m~k": m's canonical name; empty otherwise
  bool operator==(const ModelInfo&) const = default;
};

// The name of clone `k` of the model canonically named `base`: "base~k".
std::string CloneName(std::string_view base, int k);

// Every model family a model file may name (ModelInfo::family), in a fixed order.
const std::vector<std::string_view>& ModelFamilies();

class ModelRegistry {
 public:
  ModelRegistry();
  explicit ModelRegistry(std::vector<ModelInfo> models);
  // The loaded models (clones are not listed).
  const std::vector<ModelInfo>& models() const { return models_; }
  // By canonical name or alias, case-insensitive, or a clone "m~k" of one (see above); NotFound
  // lists the known names, or says how to write a clone name. A clone's ModelInfo lives as long as
  // this registry or any copy of it (copies share the clones resolved so far).
  absl::StatusOr<const ModelInfo*> Find(std::string_view name) const;

 private:
  class Clones;
  absl::StatusOr<const ModelInfo*> FindClone(std::string_view name, size_t tilde) const;
  const ModelInfo* FindLoaded(std::string_view name) const;

  std::vector<ModelInfo> models_;
  std::shared_ptr<Clones> clones_;
};

// Loads every *.yaml in `dir` (in file-name order). Errors are InvalidArgument and name file, line,
// column and field: unknown or missing keys, wrong types, a canonical name that is not lower-case
// letters, digits and '_', an unknown family or input unit, a non-positive number, a
// reference_input above max_input; a name or alias used twice (across files too, compared
// case-insensitively) is an error naming both places.
absl::StatusOr<ModelRegistry> LoadModelRegistryDir(const std::string& dir);
absl::StatusOr<ModelInfo> ParseModelInfo(std::string_view yaml_text,
                                         const std::string& source_name);
// data/models of tessera's data folder.
absl::StatusOr<ModelRegistry> LoadDefaultModelRegistry();

}  // namespace tessera::models

#endif  // TESSERA_MODELS_REGISTRY_H_
