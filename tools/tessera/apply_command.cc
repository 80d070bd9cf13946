// `tessera apply --plan P [--execute]`: take each GPU of the machine from its current MIG layout to
// the plan's, with the fewest destroy and create operations (hw/transition.h).
//
// Plan GPUs are matched to the machine's GPUs by UUID when the plan gives one, else by index, and
// the machine GPU's catalog model (found by PCI device id) must be the plan's. Without --execute it
// prints the steps per GPU and changes nothing. With --execute it enables MIG where needed and
// applies the steps (driver/apply_transition.h); after a failure it prints the GPU's state as
// re-read from the driver and stops (exit 1); running apply again continues from there.
//
// tessera does not yet know which instances hold requests (no runtime is attached), so it plans
// no drains: the driver refuses to destroy an instance in use, and apply then stops and reports.
// GPUs whose plan has SM or MPS partitions are left alone (MIG transitions do not apply to them).
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/driver/apply_transition.h"
#include "tessera/driver/gpu_driver.h"
#include "tessera/driver/nvml_driver.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"
#include "tessera/hw/transition.h"
#include "tessera/plan/plan.h"

namespace tessera::cli {

void AddApplyCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

namespace {

struct ApplyOptions {
  std::string plan;
  std::string catalog_dir;  // empty: the bundled data/gpus
  bool execute = false;
};

absl::StatusOr<const driver::GpuInfo*> MatchGpu(const plan::PlanGpu& want, size_t position,
                                                const std::vector<driver::GpuInfo>& gpus) {
  for (const driver::GpuInfo& g : gpus) {
    if (want.uuid.empty() ? g.index == want.index : g.uuid == want.uuid) return &g;
  }
  std::string what = want.uuid.empty() ? fmt::format("index {}", want.index) : want.uuid;
  return absl::NotFoundError(
      fmt::format("plan gpus[{}] names GPU {}, which this machine does not have ({} GPU(s); "
                  "see `tessera gpus`)",
                  position, what, gpus.size()));
}

// The plan GPU's MIG instances as a placed layout; nullopt when it uses SM/MPS partitions.
absl::StatusOr<std::optional<hw::PlacedLayout>> TargetLayout(const plan::PlanGpu& want,
                                                             size_t position,
                                                             const hw::GpuModel& model) {
  hw::PlacedLayout layout;
  for (size_t i = 0; i < want.partitions.size(); ++i) {
    const plan::PlanPartition& p = want.partitions[i];
    if (p.partition.kind != hw::PartitionKind::kMig) return std::nullopt;
    int profile = model.ProfileIndex(p.partition.mig_profile);
    if (profile < 0 || !p.start) {
      return absl::InvalidArgumentError(
          fmt::format("plan gpus[{}].partitions[{}]: {} is not a placed MIG instance of a {}; run "
                      "`tessera validate --plan` first",
                      position, i, p.partition.mig_profile, model.name));
    }
    layout.instances.push_back({profile, *p.start});
  }
  hw::PlacedLayout sorted;
  for (const hw::Placement& p : layout.instances) sorted.Add(p);
  return sorted;
}

absl::Status ReroutingUnavailable(int gpu_index, const driver::GpuInstanceInfo& instance) {
  return absl::FailedPreconditionError(fmt::format(
      "GPU instance {} on GPU {} holds requests and tessera has no runtime to reroute them; stop "
      "its server first",
      instance.id, gpu_index));
}

// Plans (and with --execute applies) one GPU. Returns a failure of the execution as an error.
absl::Status ApplyGpu(driver::GpuDriver& driver, const driver::GpuInfo& g,
                      const hw::GpuModel& model, const hw::PlacedLayout& target, bool execute,
                      std::ostream& out) {
  bool enable_mig = g.mig_current != driver::MigMode::kEnabled;
  if (enable_mig && g.mig_current == driver::MigMode::kUnsupported) {
    return absl::FailedPreconditionError(
        fmt::format("GPU {} ({}) does not support MIG", g.index, g.name));
  }
  hw::PlacedLayout current;
  if (!enable_mig) {
    ASSIGN_OR_RETURN(current, driver::ReadPlacedLayout(driver, g.index, model));
  }
  ASSIGN_OR_RETURN(hw::TransitionPlan plan, hw::PlanTransition(model, current, target, {}));
  out << fmt::format("  now:    {}\n  target: {}\n", hw::DrawLayout(model, current),
                     hw::DrawLayout(model, target));
  out << fmt::format("  {} destroy(s), {} create(s){}:\n", plan.destroys, plan.creates,
                     enable_mig ? ", after enabling MIG" : "");
  if (enable_mig) out << "    enable MIG\n";
  std::string steps = plan.DebugString(model);
  for (size_t at = 0; at < steps.size();) {
    size_t end = steps.find('\n', at);
    out << "    " << steps.substr(at, end - at) << "\n";
    at = end + 1;
  }
  if (!execute) return absl::OkStatus();
  if (enable_mig) RETURN_IF_ERROR(driver.SetMigMode(g.index, true));
  driver::ApplyResult result =
      driver::ApplyTransition(driver, g.index, model, plan, ReroutingUnavailable);
  if (result.state)
    out << fmt::format("  GPU now shows: {}\n", hw::DrawLayout(model, *result.state));
  if (!result.status.ok()) return result.status;
  out << fmt::format("  done: {} step(s)\n", result.steps_done);
  return absl::OkStatus();
}

absl::Status RunApply(const ApplyOptions& options, std::ostream& out) {
  ASSIGN_OR_RETURN(plan::Plan plan, plan::LoadPlanFile(options.plan));
  ASSIGN_OR_RETURN(hw::Catalog catalog, options.catalog_dir.empty()
                                            ? hw::LoadDefaultCatalog()
                                            : hw::LoadCatalogDir(options.catalog_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<driver::GpuDriver> driver, driver::OpenNvmlDriver());
  ASSIGN_OR_RETURN(std::vector<driver::GpuInfo> gpus, driver->ListGpus());
  for (size_t i = 0; i < plan.gpus.size(); ++i) {
    const plan::PlanGpu& want = plan.gpus[i];
    ASSIGN_OR_RETURN(const driver::GpuInfo* g, MatchGpu(want, i, gpus));
    const hw::GpuModel* model = catalog.FindByPciDeviceId(g->pci_device_id);
    if (model == nullptr || model->name != want.gpu) {
      return absl::FailedPreconditionError(fmt::format(
          "plan gpus[{}] wants a {} but GPU {} is a {} ({}); fix the plan's gpu or uuid", i,
          want.gpu, g->index, g->name, model ? model->name : "not in the catalog"));
    }
    out << fmt::format("plan gpus[{}] -> GPU {} ({}, {}):\n", i, g->index, g->name, g->uuid);
    ASSIGN_OR_RETURN(std::optional<hw::PlacedLayout> target, TargetLayout(want, i, *model));
    if (!target) {
      out << "  SM/MPS partitions: no MIG transition, left as is\n";
      continue;
    }
    RETURN_IF_ERROR(ApplyGpu(*driver, *g, *model, *target, options.execute, out));
  }
  if (!options.execute) out << "dry run: nothing changed; pass --execute to perform these steps\n";
  return absl::OkStatus();
}

}  // namespace

void AddApplyCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto options = std::make_shared<ApplyOptions>();
  CLI::App* apply = app.add_subcommand(
      "apply",
      "Show (and with --execute perform) the fewest MIG destroy/create steps taking each GPU "
      "from its current layout to the plan's.");
  apply->add_option("--plan", options->plan, "the plan file (YAML or JSON)")->required();
  apply->add_option("--catalog", options->catalog_dir,
                    "a folder of GPU model files (default: the bundled catalog)");
  apply->add_flag("--execute", options->execute, "perform the steps (default: only print them)");
  apply->callback([options, &out, &err, &exit_code] {
    absl::Status status = RunApply(*options, out);
    exit_code = status.ok() ? 0 : ReportError(status, err);
  });
}

}  // namespace tessera::cli
