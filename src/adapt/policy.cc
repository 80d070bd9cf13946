#include "tessera/adapt/policy.h"

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "internal/policies.h"

namespace tessera::adapt {

std::vector<std::string> PolicyNames() {
  return {"migrator", "ekya", "fair", "paris", "gpulet-autoscale", "static-peak"};
}

absl::StatusOr<std::unique_ptr<Policy>> MakePolicy(std::string_view name,
                                                   const PolicyContext& context) {
  if (context.book == nullptr || context.space == nullptr || context.gpu == nullptr) {
    return absl::InvalidArgumentError("MakePolicy: the context is missing inputs");
  }
  if (name == "migrator") return MakeMigratorPolicy(context);
  if (name == "ekya") return internal::MakeEkyaPolicy(context);
  if (name == "fair") return internal::MakeFairPolicy(context);
  if (name == "paris") return internal::MakeParisPolicy(context);
  if (name == "gpulet-autoscale") return internal::MakePlannerPolicy(context, true);
  if (name == "static-peak") return internal::MakePlannerPolicy(context, false);
  return absl::InvalidArgumentError(
      fmt::format("unknown policy '{}'; use one of {}", name, fmt::join(PolicyNames(), ", ")));
}

}  // namespace tessera::adapt
