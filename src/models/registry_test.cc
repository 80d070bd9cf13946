#include "tessera/models/registry.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "fmt/core.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"

namespace tessera::models {
namespace {

namespace fs = std::filesystem;

using ::tessera::testing::IsOkAndHolds;
using ::tessera::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

constexpr char kValid[] = R"(name: bert_base
aliases: [bert, bert-base]
family: transformer-encoder
input_unit: tokens
reference_input: 128
max_input: 512
params_millions: 110
gflops_per_item: null
source: test
)";

// kValid with the first occurrence of `from` replaced by `to`.
std::string ValidWith(std::string_view from, std::string_view to) {
  std::string text = kValid;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string FreshDir(std::string_view name) {
  fs::path dir = fs::path(::testing::TempDir()) / fmt::format("registry_test_{}", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

absl::Status ParseError(std::string_view text) { return ParseModelInfo(text, "m.yaml").status(); }

TEST(RegistryTest, ParsesEveryField) {
  ASSERT_OK_AND_ASSIGN(ModelInfo model, ParseModelInfo(kValid, "m.yaml"));
  EXPECT_EQ(model.name, "bert_base");
  EXPECT_THAT(model.aliases, ElementsAre("bert", "bert-base"));
  EXPECT_EQ(model.family, "transformer-encoder");
  EXPECT_EQ(model.input_unit, InputUnit::kTokens);
  EXPECT_EQ(model.reference_input, 128);
  EXPECT_EQ(model.max_input, 512);
  EXPECT_THAT(model.params_millions, Optional(110.0));
  EXPECT_EQ(model.gflops_per_item, std::nullopt);
  EXPECT_EQ(model.source, "test");
  EXPECT_STREQ(InputUnitName(model.input_unit), "tokens");
}

TEST(RegistryTest, RejectsUnknownKey) {
  EXPECT_THAT(ParseError(ValidWith("source: test", "source: test\nlayers: 12")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layers")));
}

TEST(RegistryTest, RejectsWrongType) {
  EXPECT_THAT(ParseError(ValidWith("max_input: 512", "max_input: lots")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("m.yaml:6:")));
  EXPECT_THAT(ParseError(ValidWith("aliases: [bert, bert-base]", "aliases: bert")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field aliases")));
}

TEST(RegistryTest, RejectsMissingField) {
  EXPECT_THAT(ParseError(ValidWith("source: test\n", "")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field source: missing required field")));
}

TEST(RegistryTest, RejectsReferenceAboveMax) {
  EXPECT_THAT(ParseError(ValidWith("max_input: 512", "max_input: 64")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field max_input: is 64 but reference_input is 128")));
}

TEST(RegistryTest, RejectsNonPositiveValues) {
  EXPECT_THAT(ParseError(ValidWith("reference_input: 128", "reference_input: 0")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field reference_input: must be a positive integer")));
  EXPECT_THAT(ParseError(ValidWith("params_millions: 110", "params_millions: -3")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field params_millions: must be positive")));
}

TEST(RegistryTest, RejectsBadNamesUnitsAndFamilies) {
  EXPECT_THAT(ParseError(ValidWith("name: bert_base", "name: BERT-base")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lower-case letters")));
  EXPECT_THAT(ParseError(ValidWith("input_unit: tokens", "input_unit: words")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown input unit")));
  EXPECT_THAT(ParseError(ValidWith("family: transformer-encoder", "family: rnn")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown family 'rnn'")));
  EXPECT_THAT(ParseError(ValidWith("[bert, bert-base]", "[bert, BERT]")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'BERT' repeats")));
  EXPECT_THAT(ParseError(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the file is empty")));
}

TEST(RegistryTest, DuplicateAliasAcrossFilesNamesBothPlaces) {
  std::string dir = FreshDir("duplicate");
  WriteFile(dir + "/a.yaml", kValid);
  std::string other = ValidWith("name: bert_base", "name: bert_large");
  other = other.replace(other.find("[bert, bert-base]"), 17, "[bert-large, Bert]");
  WriteFile(dir + "/b.yaml", other);
  EXPECT_THAT(LoadModelRegistryDir(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("b.yaml:2:"),
                             HasSubstr("'Bert' is already the name or an "
                                       "alias of bert_base at"),
                             HasSubstr("a.yaml:2:"))));
}

TEST(RegistryTest, EmptyOrMissingFolderIsAnError) {
  EXPECT_THAT(
      LoadModelRegistryDir(FreshDir("empty")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("no *.yaml files in this folder; point at a folder of model files")));
  EXPECT_THAT(LoadModelRegistryDir("/nonexistent/models"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not a folder")));
}

TEST(RegistryTest, FindIsCaseInsensitiveAndListsKnownNames) {
  ASSERT_OK_AND_ASSIGN(ModelInfo model, ParseModelInfo(kValid, "m.yaml"));
  ModelRegistry registry({model});
  ASSERT_OK_AND_ASSIGN(const ModelInfo* found, registry.Find("BERT-Base"));
  EXPECT_EQ(found->name, "bert_base");
  EXPECT_THAT(registry.Find("t5"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("unknown model 't5'; known "
                                                              "models: bert_base")));
}

TEST(RegistryTest, ResolvesClonesToTheirBaseModel) {
  ASSERT_OK_AND_ASSIGN(ModelInfo model, ParseModelInfo(kValid, "m.yaml"));
  ModelRegistry registry({model});
  ASSERT_OK_AND_ASSIGN(const ModelInfo* clone, registry.Find("BERT-Base~7"));
  EXPECT_EQ(clone->name, "bert_base~7");
  EXPECT_EQ(clone->name, CloneName("bert_base", 7));
  EXPECT_EQ(clone->clone_of, "bert_base");
  EXPECT_TRUE(clone->aliases.empty());
  EXPECT_EQ(clone->max_input, 512);
  EXPECT_EQ(clone->input_unit, InputUnit::kTokens);
  EXPECT_THAT(clone->source, HasSubstr("clone 7 of bert_base"));
  // One ModelInfo per clone, shared by copies of the registry; clones are not listed.
  EXPECT_THAT(registry.Find("bert_base~7"), IsOkAndHolds(clone));
  ModelRegistry copy = registry;
  EXPECT_THAT(copy.Find("bert~7"), IsOkAndHolds(clone));
  EXPECT_EQ(registry.models().size(), 1u);
  ASSERT_OK_AND_ASSIGN(const ModelInfo* zero, registry.Find("bert~0"));
  EXPECT_EQ(zero->name, "bert_base~0");
  EXPECT_EQ((*registry.Find("bert_base"))->clone_of, "");
}

TEST(RegistryTest, RejectsMalformedCloneNames) {
  ASSERT_OK_AND_ASSIGN(ModelInfo model, ParseModelInfo(kValid, "m.yaml"));
  ModelRegistry registry({model});
  for (const char* name : {"bert_base~", "bert_base~07", "bert_base~-1", "bert_base~x",
                           "bert_base~1234567890", "bert_base~1~2"}) {
    EXPECT_THAT(registry.Find(name),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("a clone is named MODEL~K")))
        << name;
  }
  EXPECT_THAT(registry.Find("t5~3"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unknown model 't5' in clone name 't5~3'; known models: "
                                 "bert_base")));
}

TEST(RegistryTest, BundledRegistryCoversEverySpellingInTheDatasets) {
  ASSERT_OK_AND_ASSIGN(ModelRegistry registry, LoadDefaultModelRegistry());
  EXPECT_EQ(registry.models().size(), 14u);
  struct Spelling {
    const char* text;
    const char* canonical;
  };
  const Spelling spellings[] = {// ParvaGPU prof_data file names.
                                {"bert", "bert_base"},
                                {"densenet121", "densenet121"},
                                {"densenet169", "densenet169"},
                                {"densenet201", "densenet201"},
                                {"inceptionv3", "inception_v3"},
                                {"mobilenetv2", "mobilenet_v2"},
                                {"resnet101", "resnet101"},
                                {"resnet152", "resnet152"},
                                {"resnet50", "resnet50"},
                                {"vgg16", "vgg16"},
                                {"vgg19", "vgg19"},
                                // MIGProfiler model_name.
                                {"bert-base", "bert_base"},
                                {"vision_transformer", "vit_b_16"},
                                // H100 profiles.csv and interference job names.
                                {"bert_base", "bert_base"},
                                {"gpt2", "gpt2"},
                                {"mobilenet_v2", "mobilenet_v2"},
                                {"vit_b_16", "vit_b_16"},
                                {"efficientnet_b0", "efficientnet_b0"}};
  for (const Spelling& s : spellings) {
    absl::StatusOr<const ModelInfo*> model = registry.Find(s.text);
    ASSERT_TRUE(model.ok()) << s.text << ": " << model.status();
    EXPECT_EQ((*model)->name, s.canonical) << s.text;
  }
}

TEST(RegistryTest, OptionalDescriptorsAreReadWhenPresent) {
  ASSERT_OK_AND_ASSIGN(ModelInfo without, ParseModelInfo(kValid, "m.yaml"));
  EXPECT_EQ(without.input_flops_exponent, std::nullopt);
  EXPECT_EQ(without.activation_mb_per_item, std::nullopt);
  EXPECT_TRUE(without.layers.empty());
  ASSERT_OK_AND_ASSIGN(ModelInfo with,
                       ParseModelInfo(ValidWith("source: test",
                                                "input_flops_exponent: 1.1\n"
                                                "activation_mb_per_item: 12.5\n"
                                                "layers: [embedding, attention, mlp]\n"
                                                "source: test"),
                                      "m.yaml"));
  EXPECT_THAT(with.input_flops_exponent, Optional(1.1));
  EXPECT_THAT(with.activation_mb_per_item, Optional(12.5));
  EXPECT_THAT(with.layers, ElementsAre("embedding", "attention", "mlp"));
}

TEST(RegistryTest, RejectsBadOptionalDescriptors) {
  EXPECT_THAT(
      ParseError(ValidWith("source: test", "input_flops_exponent: 0\nsource: test")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr("m.yaml:9:"),
                                HasSubstr("field input_flops_exponent: must be positive"))));
  EXPECT_THAT(
      ParseError(ValidWith("source: test", "input_flops_exponent: 7\nsource: test")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field input_flops_exponent: is 7")));
  EXPECT_THAT(ParseError(ValidWith("source: test", "activation_mb_per_item: -2\nsource: test")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field activation_mb_per_item: must be positive")));
  EXPECT_THAT(ParseError(ValidWith("source: test", "layers: [conv, \"\"]\nsource: test")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field layers[1]")));
}

TEST(RegistryTest, BundledInputsAndDescriptors) {
  ASSERT_OK_AND_ASSIGN(ModelRegistry registry, LoadDefaultModelRegistry());
  ASSERT_OK_AND_ASSIGN(const ModelInfo* bert, registry.Find("bert"));
  EXPECT_EQ(bert->input_unit, InputUnit::kTokens);
  EXPECT_EQ(bert->reference_input, 128);
  EXPECT_EQ(bert->max_input, 512);
  ASSERT_OK_AND_ASSIGN(const ModelInfo* gpt2, registry.Find("gpt2"));
  EXPECT_EQ(gpt2->max_input, 1024);
  ASSERT_OK_AND_ASSIGN(const ModelInfo* inception, registry.Find("inception_v3"));
  EXPECT_EQ(inception->input_unit, InputUnit::kPixels);
  EXPECT_EQ(inception->reference_input, 299);
  for (const ModelInfo& model : registry.models()) {
    EXPECT_TRUE(model.params_millions.has_value()) << model.name;
    EXPECT_TRUE(model.gflops_per_item.has_value()) << model.name;
    EXPECT_TRUE(model.input_flops_exponent.has_value()) << model.name;
    EXPECT_TRUE(model.activation_mb_per_item.has_value()) << model.name;
    EXPECT_FALSE(model.layers.empty()) << model.name;
    if (model.input_unit == InputUnit::kPixels && model.name != "inception_v3") {
      EXPECT_EQ(model.reference_input, 224) << model.name;
    }
  }
}

}  // namespace
}  // namespace tessera::models
