// Reads the `tenants:` section of a workload file into Tenant values.
#include "internal/tenants.h"

#include <map>
#include <string>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::workload::internal {
namespace {

// An accuracy or a drift: a fraction in (0, 1], or in [0, 1] when `zero_allowed`.
absl::StatusOr<double> ReadFraction(const YamlView& view, bool zero_allowed) {
  ASSIGN_OR_RETURN(double value, view.Double());
  const bool ok = zero_allowed ? value >= 0 && value <= 1 : value > 0 && value <= 1;
  if (!ok) {
    return view.Error(fmt::format("{} is outside {}; write a fraction (0.8 for 80%)", value,
                                  zero_allowed ? "[0, 1]" : "(0, 1]"));
  }
  return value;
}

absl::Status ReadRetraining(const YamlView& view, Tenant& tenant) {
  RETURN_IF_ERROR(view.CheckKeys({"window_s", "samples", "cost_factor", "batch"}));
  ASSIGN_OR_RETURN(tenant.retraining_window_s, view.Get("window_s").PositiveDouble());
  ASSIGN_OR_RETURN(tenant.retraining_samples, view.Get("samples").PositiveDouble());
  if (view.Has("cost_factor")) {
    ASSIGN_OR_RETURN(tenant.training_cost_factor, view.Get("cost_factor").PositiveDouble());
  }
  if (view.Has("batch")) {
    ASSIGN_OR_RETURN(int64_t batch, view.Get("batch").Int());
    if (batch < 1 || batch > 1'000'000) {
      return view.Get("batch").Error(
          fmt::format("batch {} is not a batch size; give an integer >= 1", batch));
    }
    tenant.retraining_batch = static_cast<int>(batch);
  }
  return absl::OkStatus();
}

absl::Status ReadAccuracy(const YamlView& view, Tenant& tenant) {
  RETURN_IF_ERROR(view.CheckKeys({"initial", "drift_per_window", "after_retraining"}));
  ASSIGN_OR_RETURN(tenant.initial_accuracy, ReadFraction(view.Get("initial"), false));
  ASSIGN_OR_RETURN(tenant.drift_per_window, ReadFraction(view.Get("drift_per_window"), true));
  ASSIGN_OR_RETURN(tenant.accuracy_after_retraining,
                   ReadFraction(view.Get("after_retraining"), false));
  return absl::OkStatus();
}

// The tenant's model: known to the registry and listed under models:.
absl::StatusOr<std::string> ReadTenantModel(const YamlView& view, const Workload& workload,
                                            const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(std::string name, view.String());
  absl::StatusOr<const models::ModelInfo*> info = registry.Find(name);
  if (!info.ok()) return view.Error(std::string(info.status().message()));
  if (workload.ModelIndex((*info)->name) < 0) {
    return view.Error(fmt::format(
        "model {} is not listed under models:; a tenant serves one of the workload's models, so "
        "add it there (with its SLO and demand) or pick a listed one",
        (*info)->name));
  }
  return (*info)->name;
}

absl::StatusOr<Tenant> ParseTenant(const YamlView& item, const Workload& workload,
                                   const models::ModelRegistry& registry) {
  RETURN_IF_ERROR(item.CheckKeys({"name", "model", "retraining", "accuracy"}));
  Tenant tenant;
  ASSIGN_OR_RETURN(tenant.name, item.Get("name").NonEmptyString("the tenant's name"));
  ASSIGN_OR_RETURN(tenant.model, ReadTenantModel(item.Get("model"), workload, registry));
  RETURN_IF_ERROR(ReadRetraining(item.Get("retraining"), tenant));
  RETURN_IF_ERROR(ReadAccuracy(item.Get("accuracy"), tenant));
  return tenant;
}

// A name or model given twice is an error naming both places.
absl::Status CheckUnique(std::map<std::string, YamlView>& seen, const std::string& value,
                         const YamlView& place, std::string_view what) {
  auto [it, inserted] = seen.emplace(value, place);
  if (inserted) return absl::OkStatus();
  return place.Error(fmt::format("{} {} is already given at {}; {}", what, value,
                                 it->second.Location(),
                                 what == "name" ? "give each tenant its own name"
                                                : "one tenant per model: merge them or drop one"));
}

}  // namespace

absl::StatusOr<std::vector<Tenant>> ParseTenants(const YamlView& view, const Workload& workload,
                                                 const models::ModelRegistry& registry) {
  std::vector<Tenant> tenants;
  if (view.IsNull()) return tenants;
  ASSIGN_OR_RETURN(std::vector<YamlView> items, view.Items());
  std::map<std::string, YamlView> names, models;
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(Tenant tenant, ParseTenant(item, workload, registry));
    RETURN_IF_ERROR(CheckUnique(names, tenant.name, item.Get("name"), "name"));
    RETURN_IF_ERROR(CheckUnique(models, tenant.model, item.Get("model"), "model"));
    tenants.push_back(std::move(tenant));
  }
  return tenants;
}

}  // namespace tessera::workload::internal
