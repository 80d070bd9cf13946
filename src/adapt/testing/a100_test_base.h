// src/adapt/testing/a100_test_base.h — the inputs adaptation tests share: the bundled catalog and
// model registry, the A100-80GB ParvaGPU profiles and the measured startup costs.
#ifndef TESSERA_SRC_ADAPT_TESTING_A100_TEST_BASE_H_
#define TESSERA_SRC_ADAPT_TESTING_A100_TEST_BASE_H_

#include <string>

#include "gtest/gtest.h"
#include "tessera/adapt/perf_book.h"
#include "tessera/base/paths.h"
#include "tessera/base/status_matchers.h"
#include "tessera/hw/catalog.h"
#include "tessera/models/registry.h"
#include "tessera/perf/profiles.h"

namespace tessera::adapt::testing {

// A fixture base: derived fixtures call A100TestBase::SetUp() first in their own SetUp.
class A100TestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(catalog_, hw::LoadDefaultCatalog());
    ASSERT_OK_AND_ASSIGN(registry_, models::LoadDefaultModelRegistry());
    ASSERT_OK_AND_ASSIGN(std::string dir, DataDir());
    ASSERT_OK_AND_ASSIGN(
        profiles_, perf::LoadProfileCsv(dir + "/profiles/a100-parvagpu.csv", catalog_, registry_));
    ASSERT_OK_AND_ASSIGN(gpu_, catalog_.Find("a100-80gb"));
    ASSERT_OK_AND_ASSIGN(startup_, StartupCosts::LoadDefault());
  }

  hw::Catalog catalog_;
  models::ModelRegistry registry_;
  perf::ProfileTable profiles_;
  const hw::GpuModel* gpu_ = nullptr;
  StartupCosts startup_;
};

}  // namespace tessera::adapt::testing

#endif  // TESSERA_SRC_ADAPT_TESTING_A100_TEST_BASE_H_
