// The `tenants:` section: a valid section read into Tenant values, defaults, and one test per
// malformed field checking the located message.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status_matchers.h"
#include "tessera/workload/workload.h"
#include "workload_test_util.h"

namespace tessera::workload {
namespace {

using ::tessera::testing::StatusIs;
using ::testing::HasSubstr;
using testing::TestRegistry;

absl::StatusOr<Workload> Parse(const std::string& text) {
  models::ModelRegistry registry = TestRegistry();
  return ParseWorkload(text, "w.yaml", "", registry);
}

constexpr char kModels[] = R"(name: w
models:
  - {model: resnet50, slo_ms: 100, demand: {poisson: {rate_rps: 50}}}
  - {model: bert_base, slo_ms: 100, demand: {poisson: {rate_rps: 20}}}
)";

TEST(ParseTenantsTest, ReadsTenantsWithDefaults) {
  ASSERT_OK_AND_ASSIGN(Workload w, Parse(std::string(kModels) + R"(tenants:
  - name: vision-a
    model: resnet-50          # an alias: stored as resnet50
    retraining: {window_s: 120, samples: 20000, cost_factor: 2.5, batch: 16}
    accuracy: {initial: 0.8, drift_per_window: 0.06, after_retraining: 0.9}
  - name: text-b
    model: bert
    retraining: {window_s: 60, samples: 500}
    accuracy: {initial: 1, drift_per_window: 0, after_retraining: 0.95}
)"));
  ASSERT_EQ(w.tenants.size(), 2u);
  EXPECT_EQ(w.tenants[0], (Tenant{.name = "vision-a",
                                  .model = "resnet50",
                                  .retraining_window_s = 120,
                                  .retraining_samples = 20000,
                                  .training_cost_factor = 2.5,
                                  .retraining_batch = 16,
                                  .initial_accuracy = 0.8,
                                  .drift_per_window = 0.06,
                                  .accuracy_after_retraining = 0.9}));
  EXPECT_EQ(w.tenants[1], (Tenant{.name = "text-b",
                                  .model = "bert_base",
                                  .retraining_window_s = 60,
                                  .retraining_samples = 500,
                                  .training_cost_factor = 3,
                                  .retraining_batch = 32,
                                  .initial_accuracy = 1,
                                  .drift_per_window = 0,
                                  .accuracy_after_retraining = 0.95}));
  EXPECT_THAT(w.DebugString(), HasSubstr("tenant vision-a: resnet50, retrain every 120 s"));
}

TEST(ParseTenantsTest, NoSectionOrAnEmptyOneMeansNoTenants) {
  ASSERT_OK_AND_ASSIGN(Workload none, Parse(kModels));
  EXPECT_TRUE(none.tenants.empty());
  ASSERT_OK_AND_ASSIGN(Workload empty, Parse(std::string(kModels) + "tenants: []\n"));
  EXPECT_TRUE(empty.tenants.empty());
}

// ---- one test per malformed field.

constexpr char kRetraining[] = "retraining: {window_s: 120, samples: 100}";
constexpr char kAccuracy[] =
    "accuracy: {initial: 0.8, drift_per_window: 0.05, after_retraining: 0.9}";

// A tenant as a flow mapping.
std::string TenantYaml(const std::string& name, const std::string& model,
                       const std::string& retraining = kRetraining,
                       const std::string& accuracy = kAccuracy) {
  return fmt::format("{{name: {}, model: {}, {}, {}}}", name, model, retraining, accuracy);
}

void ExpectError(const std::string& tenants, const std::string& message) {
  const std::string text = std::string(kModels) + "tenants:\n" + tenants;
  EXPECT_THAT(Parse(text), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
      << text;
}

TEST(ParseTenantsErrorsTest, UnknownModel) {
  ExpectError("  - " + TenantYaml("a", "alexnet") + "\n",
              "w.yaml:6:22: field tenants[0].model: unknown model 'alexnet'");
}

TEST(ParseTenantsErrorsTest, ModelNotListed) {
  ExpectError("  - " + TenantYaml("a", "gpt2") + "\n",
              "w.yaml:6:22: field tenants[0].model: model gpt2 is not listed under models:; a "
              "tenant serves one of the workload's models, so add it there");
}

TEST(ParseTenantsErrorsTest, DuplicateName) {
  ExpectError("  - " + TenantYaml("a", "resnet50") + "\n  - " + TenantYaml("a", "bert") + "\n",
              "w.yaml:7:12: field tenants[1].name: name a is already given at w.yaml:6:12; give "
              "each tenant its own name");
}

TEST(ParseTenantsErrorsTest, DuplicateModel) {
  ExpectError("  - " + TenantYaml("a", "resnet50") + "\n  - " + TenantYaml("b", "resnet-50") + "\n",
              "w.yaml:7:22: field tenants[1].model: model resnet50 is already given at "
              "w.yaml:6:22; one tenant per model");
}

TEST(ParseTenantsErrorsTest, AccuracyOutOfRange) {
  ExpectError(
      "  - " +
          TenantYaml("a", "resnet50", kRetraining,
                     "accuracy: {initial: 1.2, drift_per_window: 0, after_retraining: 0.9}") +
          "\n",
      "field tenants[0].accuracy.initial: 1.2 is outside (0, 1]; write a fraction");
  ExpectError(
      "  - " +
          TenantYaml("a", "resnet50", kRetraining,
                     "accuracy: {initial: 0.5, drift_per_window: -0.1, after_retraining: 1}") +
          "\n",
      "field tenants[0].accuracy.drift_per_window: -0.1 is outside [0, 1]");
  ExpectError("  - " +
                  TenantYaml("a", "resnet50", kRetraining,
                             "accuracy: {initial: 0.5, drift_per_window: 0, after_retraining: 0}") +
                  "\n",
              "field tenants[0].accuracy.after_retraining: 0 is outside (0, 1]");
}

TEST(ParseTenantsErrorsTest, NegativeSamples) {
  ExpectError(
      "  - " + TenantYaml("a", "resnet50", "retraining: {window_s: 120, samples: -5}") + "\n",
      "w.yaml:6:69: field tenants[0].retraining.samples: must be positive, found -5");
}

TEST(ParseTenantsErrorsTest, NonPositiveWindowAndBadBatch) {
  ExpectError("  - " + TenantYaml("a", "resnet50", "retraining: {window_s: 0, samples: 5}") + "\n",
              "field tenants[0].retraining.window_s: must be positive, found 0");
  ExpectError(
      "  - " + TenantYaml("a", "resnet50", "retraining: {window_s: 9, samples: 5, batch: 0}") +
          "\n",
      "field tenants[0].retraining.batch: batch 0 is not a batch size; give an integer >= 1");
}

TEST(ParseTenantsErrorsTest, UnknownKeyAndMissingField) {
  ExpectError("  - {name: a, model: resnet50, windows: 3}\n",
              "w.yaml:6:32: field tenants[0].windows: unknown key 'windows'; expected one of: "
              "name, model, retraining, accuracy");
  ExpectError("  - " + TenantYaml("a", "resnet50", "retraining: {samples: 5}") + "\n",
              "field tenants[0].retraining.window_s: missing required field");
}

}  // namespace
}  // namespace tessera::workload
