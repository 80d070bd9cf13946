#include "internal/checks.h"

#include <cmath>

#include "fmt/core.h"

namespace tessera::perf::internal {

absl::Status CheckInput(const models::ModelInfo& model, int64_t input) {
  const char* unit = models::InputUnitName(model.input_unit);
  if (input < 1) {
    return absl::InvalidArgumentError(
        fmt::format("input {} must be at least 1 ({} of {})", input, unit, model.name));
  }
  if (input > model.max_input) {
    return absl::InvalidArgumentError(
        fmt::format("input {} is above {}'s maximum of {} {} (max_input in the model registry)",
                    input, model.name, model.max_input, unit));
  }
  return absl::OkStatus();
}

double Round(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace tessera::perf::internal
