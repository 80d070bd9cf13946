// The `tenants:` section of a workload file (docs/formats.md, "Workload"): continuous-learning
// tenants, each serving one of the workload's models.
//
// Internal to tessera_workload.
#ifndef TESSERA_WORKLOAD_INTERNAL_TENANTS_H_
#define TESSERA_WORKLOAD_INTERNAL_TENANTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/yaml.h"
#include "tessera/models/registry.h"
#include "tessera/workload/workload.h"

namespace tessera::workload::internal {

// The tenants listed at `view` (absent or null: none). Each names a model of `workload.models`
// (registry aliases allowed; stored canonical); names and models are unique. Errors name the
// file, line, column and field, and say what to fix.
// REQUIRES: `workload.models` parsed.
absl::StatusOr<std::vector<Tenant>> ParseTenants(const YamlView& view, const Workload& workload,
                                                 const models::ModelRegistry& registry);

}  // namespace tessera::workload::internal

#endif  // TESSERA_WORKLOAD_INTERNAL_TENANTS_H_
