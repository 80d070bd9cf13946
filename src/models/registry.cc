// Reads model files (data/models/*.yaml, documented in docs/formats.md) into ModelInfo values and
// checks them: every error names the file, line, column and field, and says what to fix.
#include "tessera/models/registry.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <system_error>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/paths.h"
#include "tessera/base/status.h"
#include "tessera/base/yaml.h"

namespace tessera::models {
namespace {

constexpr std::string_view kFamilies[] = {"cnn", "transformer-encoder", "transformer-decoder"};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Canonical names are what files and plans store: lower case letters, digits and underscores.
absl::StatusOr<std::string> ReadCanonicalName(const YamlView& view) {
  ASSIGN_OR_RETURN(std::string name, view.NonEmptyString("the canonical model name"));
  bool ok = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!ok) {
    return view.Error(fmt::format(
        "'{}' must use only lower-case letters, digits and '_' (e.g. bert_base); put other "
        "spellings in aliases",
        name));
  }
  return name;
}

absl::StatusOr<int> ReadPositiveInt(const YamlView& view) {
  ASSIGN_OR_RETURN(int64_t value, view.Int());
  if (value <= 0 || value > 1'000'000) {
    return view.Error(fmt::format("must be a positive integer (at most 1000000), found {}", value));
  }
  return static_cast<int>(value);
}

absl::Status ParseNames(const YamlView& root, ModelInfo& model) {
  ASSIGN_OR_RETURN(model.name, ReadCanonicalName(root.Get("name")));
  ASSIGN_OR_RETURN(std::vector<YamlView> items, root.Get("aliases").Items());
  std::vector<std::string> seen = {Lower(model.name)};
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(std::string alias, item.NonEmptyString("a spelling found in some data"));
    if (std::find(seen.begin(), seen.end(), Lower(alias)) != seen.end()) {
      return item.Error(fmt::format(
          "'{}' repeats the name or another alias (names match case-insensitively); remove it",
          alias));
    }
    seen.push_back(Lower(alias));
    model.aliases.push_back(std::move(alias));
  }
  return absl::OkStatus();
}

absl::Status ParseFamily(const YamlView& view, ModelInfo& model) {
  ASSIGN_OR_RETURN(model.family, view.String());
  if (std::find(std::begin(kFamilies), std::end(kFamilies), model.family) == std::end(kFamilies)) {
    return view.Error(fmt::format("unknown family '{}'; use one of: {}", model.family,
                                  fmt::join(kFamilies, ", ")));
  }
  return absl::OkStatus();
}

absl::Status ParseInput(const YamlView& root, ModelInfo& model) {
  YamlView unit = root.Get("input_unit");
  ASSIGN_OR_RETURN(std::string text, unit.String());
  if (text == "tokens") {
    model.input_unit = InputUnit::kTokens;
  } else if (text == "pixels") {
    model.input_unit = InputUnit::kPixels;
  } else {
    return unit.Error(fmt::format(
        "unknown input unit '{}'; use tokens (sequence length) or pixels (image side)", text));
  }
  ASSIGN_OR_RETURN(model.reference_input, ReadPositiveInt(root.Get("reference_input")));
  YamlView max = root.Get("max_input");
  ASSIGN_OR_RETURN(model.max_input, ReadPositiveInt(max));
  if (model.reference_input > model.max_input) {
    return max.Error(fmt::format(
        "is {} but reference_input is {}; the reference input must be at most the maximum",
        model.max_input, model.reference_input));
  }
  return absl::OkStatus();
}

// The descriptors a file may leave out (input_flops_exponent, activation_mb_per_item, layers).
absl::Status ParseOptionalDescriptors(const YamlView& root, ModelInfo& model) {
  if (root.Has("input_flops_exponent")) {
    YamlView view = root.Get("input_flops_exponent");
    ASSIGN_OR_RETURN(model.input_flops_exponent, view.NullablePositiveDouble());
    if (model.input_flops_exponent.has_value() && *model.input_flops_exponent > 4) {
      return view.Error(fmt::format(
          "is {} but FLOPs grow at most as input^4 here (2 for images, about 1 for tokens)",
          *model.input_flops_exponent));
    }
  }
  if (root.Has("activation_mb_per_item")) {
    ASSIGN_OR_RETURN(model.activation_mb_per_item,
                     root.Get("activation_mb_per_item").NullablePositiveDouble());
  }
  if (!root.Has("layers")) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<YamlView> items, root.Get("layers").Items());
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(std::string layer, item.NonEmptyString("a layer kind such as conv or mlp"));
    model.layers.push_back(std::move(layer));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelInfo> ParseRoot(const YamlView& root) {
  if (root.IsNull()) {
    return root.Error(
        "the file is empty; a model file is a mapping with name, aliases, family, input_unit, "
        "reference_input, max_input, params_millions, gflops_per_item and source (see "
        "docs/formats.md)");
  }
  RETURN_IF_ERROR(root.CheckKeys(
      {"name", "aliases", "family", "input_unit", "reference_input", "max_input", "params_millions",
       "gflops_per_item", "input_flops_exponent", "activation_mb_per_item", "layers", "source"}));
  ModelInfo model;
  RETURN_IF_ERROR(ParseNames(root, model));
  RETURN_IF_ERROR(ParseFamily(root.Get("family"), model));
  RETURN_IF_ERROR(ParseInput(root, model));
  ASSIGN_OR_RETURN(model.params_millions, root.Get("params_millions").NullablePositiveDouble());
  ASSIGN_OR_RETURN(model.gflops_per_item, root.Get("gflops_per_item").NullablePositiveDouble());
  RETURN_IF_ERROR(ParseOptionalDescriptors(root, model));
  ASSIGN_OR_RETURN(model.source,
                   root.Get("source").NonEmptyString("where the descriptors come from"));
  return model;
}

// Remembers which file claimed each name and alias, so that a second claim names both.
class Claims {
 public:
  absl::Status Add(const YamlView& root, const ModelInfo& model) {
    RETURN_IF_ERROR(Claim(root.Get("name"), model.name, model));
    ASSIGN_OR_RETURN(std::vector<YamlView> aliases, root.Get("aliases").Items());
    for (size_t i = 0; i < aliases.size(); ++i) {
      RETURN_IF_ERROR(Claim(aliases[i], model.aliases[i], model));
    }
    return absl::OkStatus();
  }

 private:
  struct Owner {
    std::string model;
    std::string location;
  };

  absl::Status Claim(const YamlView& at, const std::string& name, const ModelInfo& model) {
    auto [it, inserted] = owners_.try_emplace(Lower(name), Owner{model.name, at.Location()});
    if (inserted) return absl::OkStatus();
    return at.Error(fmt::format(
        "'{}' is already the name or an alias of {} at {}; a name belongs to one model, remove "
        "it from one of the two places",
        name, it->second.model, it->second.location));
  }

  std::map<std::string, Owner> owners_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string KnownNames(const std::vector<ModelInfo>& models) {
  std::vector<std::string> names;
  for (const ModelInfo& model : models) names.push_back(model.name);
  return fmt::format("known models: {} (or one of their aliases in data/models)",
                     fmt::join(names, ", "));
}

// A clone number: 1 to 9 decimal digits without a leading zero, so each clone has one name.
bool IsCloneNumber(std::string_view digits) {
  return !digits.empty() && digits.size() <= 9 &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         (digits.size() == 1 || digits[0] != '0');
}

}  // namespace

const char* InputUnitName(InputUnit unit) {
  return unit == InputUnit::kTokens ? "tokens" : "pixels";
}

std::string CloneName(std::string_view base, int k) { return fmt::format("{}~{}", base, k); }

const std::vector<std::string_view>& ModelFamilies() {
  static const std::vector<std::string_view>* const kList =
      new std::vector<std::string_view>(std::begin(kFamilies), std::end(kFamilies));
  return *kList;
}

// The clones resolved so far, by canonical clone name; entries are never removed, so the pointers
// handed out stay valid while the registry (or a copy sharing this) lives.
class ModelRegistry::Clones {
 public:
  const ModelInfo* Get(const ModelInfo& base, int k) {
    std::string name = CloneName(base.name, k);
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<ModelInfo>& clone = by_name_[name];
    if (clone == nullptr) {
      clone = std::make_unique<ModelInfo>(base);
      clone->name = std::move(name);
      clone->aliases.clear();
      clone->clone_of = base.name;
      clone->source = fmt::format("clone {} of {}: {}", k, base.name, base.source);
    }
    return clone.get();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<ModelInfo>> by_name_;  // guarded by mu_
};

ModelRegistry::ModelRegistry() : ModelRegistry(std::vector<ModelInfo>{}) {}

ModelRegistry::ModelRegistry(std::vector<ModelInfo> models)
    : models_(std::move(models)), clones_(std::make_shared<Clones>()) {}

const ModelInfo* ModelRegistry::FindLoaded(std::string_view name) const {
  for (const ModelInfo& model : models_) {
    if (EqualsIgnoreCase(model.name, name)) return &model;
    for (const std::string& alias : model.aliases) {
      if (EqualsIgnoreCase(alias, name)) return &model;
    }
  }
  return nullptr;
}

absl::StatusOr<const ModelInfo*> ModelRegistry::Find(std::string_view name) const {
  if (const ModelInfo* model = FindLoaded(name)) return model;
  size_t tilde = name.find('~');
  if (tilde != std::string_view::npos) return FindClone(name, tilde);
  return absl::NotFoundError(fmt::format("unknown model '{}'; {}", name, KnownNames(models_)));
}

absl::StatusOr<const ModelInfo*> ModelRegistry::FindClone(std::string_view name,
                                                          size_t tilde) const {
  std::string_view base = name.substr(0, tilde), digits = name.substr(tilde + 1);
  if (!IsCloneNumber(digits)) {
    return absl::NotFoundError(fmt::format(
        "unknown model '{}': a clone is named MODEL~K with K a non-negative integer without "
        "leading zeros (e.g. resnet50~3)",
        name));
  }
  const ModelInfo* model = FindLoaded(base);
  if (model == nullptr) {
    return absl::NotFoundError(
        fmt::format("unknown model '{}' in clone name '{}'; {}", base, name, KnownNames(models_)));
  }
  return clones_->Get(*model, std::stoi(std::string(digits)));
}

absl::StatusOr<ModelInfo> ParseModelInfo(std::string_view yaml_text,
                                         const std::string& source_name) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadString(yaml_text, source_name));
  return ParseRoot(root);
}

absl::StatusOr<ModelRegistry> LoadModelRegistryDir(const std::string& dir) {
  ASSIGN_OR_RETURN(
      std::vector<std::string> files,
      ListYamlFiles(
          dir,
          "a folder of model files, one per model (tessera's data/models; see docs/formats.md)"));
  std::vector<ModelInfo> models;
  Claims claims;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(YamlView root, YamlView::LoadFile(file));
    ASSIGN_OR_RETURN(ModelInfo model, ParseRoot(root));
    RETURN_IF_ERROR(claims.Add(root, model));
    models.push_back(std::move(model));
  }
  return ModelRegistry(std::move(models));
}

absl::StatusOr<ModelRegistry> LoadDefaultModelRegistry() {
  ASSIGN_OR_RETURN(std::string dir, DataDir());
  return LoadModelRegistryDir(dir + "/models");
}

}  // namespace tessera::models
