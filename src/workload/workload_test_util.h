// Helpers shared by the workload tests: a hand-built model registry, temporary files, the bundled
// datasets and draining a source.
#ifndef TESSERA_WORKLOAD_WORKLOAD_TEST_UTIL_H_
#define TESSERA_WORKLOAD_WORKLOAD_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/models/registry.h"
#include "tessera/workload/arrivals.h"

namespace tessera::workload {

inline void PrintTo(const Arrival& a, std::ostream* os) {
  *os << "{" << a.time_ns << " ns, model " << a.model << ", input " << a.input << "}";
}

namespace testing {

inline models::ModelInfo TestModel(std::string name, std::vector<std::string> aliases,
                                   models::InputUnit unit, int reference, int max) {
  models::ModelInfo info;
  info.name = std::move(name);
  info.aliases = std::move(aliases);
  info.input_unit = unit;
  info.reference_input = reference;
  info.max_input = max;
  return info;
}

// resnet50 (pixels, 224, max 512), bert_base (tokens, 128, max 512), gpt2 (tokens, 256, max 1024).
inline models::ModelRegistry TestRegistry() {
  using models::InputUnit;
  return models::ModelRegistry({
      TestModel("resnet50", {"resnet-50"}, InputUnit::kPixels, 224, 512),
      TestModel("bert_base", {"bert", "bert-base"}, InputUnit::kTokens, 128, 512),
      TestModel("gpt2", {}, InputUnit::kTokens, 256, 1024),
  });
}

// A fresh folder for this test; files written with WriteFile land in it.
inline std::string TestDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "tessera_workload" /
                              fmt::format("{}.{}", info->test_suite_name(), info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string WriteFile(const std::string& dir, const std::string& name,
                             const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A file of the bundled datasets (data/datasets/...).
inline std::string DatasetPath(const std::string& relative) {
  absl::StatusOr<std::string> dir = DataDir();
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir + "/datasets/" + relative : relative;
}

inline const char* kReal10 = "azure-functions-2019-slice/real10/invocations.csv";
inline const char* kSampled100 = "azure-functions-2019-slice/sampled100/100_inv.csv";
inline const char* kLlmCode = "azure-llm-2023-code/AzureLLMInferenceTrace_code.csv";

// Every arrival of `source` (check source.status() after).
inline std::vector<Arrival> Drain(ArrivalSource& source) {
  std::vector<Arrival> out;
  Arrival a;
  while (source.Next(a)) out.push_back(a);
  return out;
}

}  // namespace testing
}  // namespace tessera::workload

#endif  // TESSERA_WORKLOAD_WORKLOAD_TEST_UTIL_H_
