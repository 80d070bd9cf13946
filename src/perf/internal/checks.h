// Checks shared by the profile CSV reader and the importers. Internal to tessera_perf.
#ifndef TESSERA_SRC_PERF_INTERNAL_CHECKS_H_
#define TESSERA_SRC_PERF_INTERNAL_CHECKS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/partition.h"
#include "tessera/models/registry.h"

namespace tessera::perf::internal {

// An input size in 1..model.max_input; the message names the model and its unit.
absl::Status CheckInput(const models::ModelInfo& model, int64_t input);

// `value` rounded to `decimals` places after the point (converted values stay short and stable).
double Round(double value, int decimals);

}  // namespace tessera::perf::internal

#endif  // TESSERA_SRC_PERF_INTERNAL_CHECKS_H_
