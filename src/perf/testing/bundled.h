// Test helpers of tessera_perf: the bundled catalog and model registry, loaded once per test
// binary.
#ifndef TESSERA_SRC_PERF_TESTING_BUNDLED_H_
#define TESSERA_SRC_PERF_TESTING_BUNDLED_H_

#include <string>

#include "gtest/gtest.h"
#include "tessera/base/paths.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"

namespace tessera::perf::testing {

inline const hw::Catalog& BundledCatalog() {
  static const hw::Catalog* catalog = [] {
    absl::StatusOr<hw::Catalog> loaded = hw::LoadDefaultCatalog();
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new hw::Catalog(loaded.ok() ? *std::move(loaded) : hw::Catalog());
  }();
  return *catalog;
}

inline const models::ModelRegistry& BundledRegistry() {
  static const models::ModelRegistry* registry = [] {
    absl::StatusOr<models::ModelRegistry> loaded = models::LoadDefaultModelRegistry();
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new models::ModelRegistry(loaded.ok() ? *std::move(loaded) : models::ModelRegistry());
  }();
  return *registry;
}

// tessera's data folder (TESSERA_DATA_DIR under ctest, else the source tree's).
inline std::string DataPath(const std::string& relative) {
  absl::StatusOr<std::string> dir = DataDir();
  EXPECT_TRUE(dir.ok()) << dir.status();
  return (dir.ok() ? *dir : std::string(".")) + "/" + relative;
}

}  // namespace tessera::perf::testing

#endif  // TESSERA_SRC_PERF_TESTING_BUNDLED_H_
