#include "tessera/driver/apply_transition.h"

#include <algorithm>
#include <string>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::driver {
namespace {

int ProfileOf(const hw::GpuModel& model, const GpuInstanceInfo& instance) {
  if (!instance.profile_name.empty()) return model.ProfileIndex(instance.profile_name);
  int found = -1;
  for (int p = 0; p < static_cast<int>(model.profiles.size()); ++p) {
    const hw::MigProfile& profile = model.profiles[p];
    if (profile.nvml_id != instance.profile_id) continue;
    if (profile.memory_slices != instance.placement.size) continue;
    if (found >= 0) return -1;  // ambiguous
    found = p;
  }
  return found;
}

absl::StatusOr<std::vector<GpuInstanceInfo>> ReadInstances(GpuDriver& driver, int gpu_index,
                                                           int attempts) {
  absl::StatusOr<std::vector<GpuInstanceInfo>> read;
  for (int i = 0; i < std::max(attempts, 1); ++i) {
    read = driver.GetGpuInstances(gpu_index);
    if (read.ok()) break;
  }
  return read;
}

std::string Describe(const hw::GpuModel& model, const hw::TransitionStep& step) {
  return fmt::format("{} {}@{}", hw::TransitionStepKindName(step.kind),
                     model.profiles[step.instance.profile].name, step.instance.start);
}

absl::Status Annotate(const absl::Status& status, const std::string& context) {
  return absl::Status(status.code(), fmt::format("{}: {}", context, std::string(status.message())));
}

// Performs one step; `instances` tracks what the driver confirmed.
absl::Status RunStep(GpuDriver& driver, int gpu_index, const hw::GpuModel& model,
                     const hw::TransitionStep& step, const RerouteFn& reroute,
                     std::vector<GpuInstanceInfo>& instances) {
  const hw::MigProfile& profile = model.profiles[step.instance.profile];
  auto at = std::find_if(instances.begin(), instances.end(), [&](const GpuInstanceInfo& i) {
    return i.placement.start == step.instance.start && ProfileOf(model, i) == step.instance.profile;
  });
  if (step.kind == hw::TransitionStep::Kind::kCreate) {
    ASSIGN_OR_RETURN(int id,
                     driver.CreateGpuInstance(gpu_index, profile.name, step.instance.start));
    GpuInstanceInfo created;  // what the steps after this one need to know of it
    created.id = id;
    created.placement = {step.instance.start, profile.memory_slices};
    created.profile_name = profile.name;
    instances.push_back(std::move(created));
    return absl::OkStatus();
  }
  if (at == instances.end()) {
    return absl::InternalError("the GPU has no such instance; re-read the GPU and re-plan");
  }
  if (step.kind == hw::TransitionStep::Kind::kDrain) return reroute(gpu_index, *at);
  RETURN_IF_ERROR(driver.DestroyGpuInstance(gpu_index, at->id));
  instances.erase(at);
  return absl::OkStatus();
}

// Re-reads the GPU into `result`; returns the read error, if any.
absl::Status Reread(GpuDriver& driver, int gpu_index, const hw::GpuModel& model,
                    const ApplyOptions& options, ApplyResult& result) {
  absl::StatusOr<std::vector<GpuInstanceInfo>> read =
      ReadInstances(driver, gpu_index, options.read_attempts);
  if (!read.ok()) return read.status();
  absl::StatusOr<hw::PlacedLayout> layout = ToPlacedLayout(model, *read);
  if (!layout.ok()) return layout.status();
  result.instances = *std::move(read);
  result.state = *std::move(layout);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<hw::PlacedLayout> ToPlacedLayout(const hw::GpuModel& model,
                                                const std::vector<GpuInstanceInfo>& instances) {
  hw::PlacedLayout layout;
  for (const GpuInstanceInfo& instance : instances) {
    int profile = ProfileOf(model, instance);
    if (profile < 0) {
      return absl::FailedPreconditionError(fmt::format(
          "GPU instance {} (profile '{}', id {}, {} memory slices) matches no profile of a {}; "
          "check that the catalog model is the GPU's",
          instance.id, instance.profile_name, instance.profile_id, instance.placement.size,
          model.name));
    }
    layout.Add({profile, instance.placement.start});
  }
  return layout;
}

absl::StatusOr<hw::PlacedLayout> ReadPlacedLayout(GpuDriver& driver, int gpu_index,
                                                  const hw::GpuModel& model) {
  ASSIGN_OR_RETURN(std::vector<GpuInstanceInfo> instances, driver.GetGpuInstances(gpu_index));
  return ToPlacedLayout(model, instances);
}

ApplyResult ApplyTransition(GpuDriver& driver, int gpu_index, const hw::GpuModel& model,
                            const hw::TransitionPlan& plan, const RerouteFn& reroute,
                            const ApplyOptions& options) {
  ApplyResult result;
  if (absl::Status read = Reread(driver, gpu_index, model, options, result); !read.ok()) {
    result.status = Annotate(read, "reading the GPU before the transition");
    return result;
  }
  if (*result.state != plan.current) {
    result.status = absl::FailedPreconditionError(fmt::format(
        "GPU {} shows {} but the plan starts from {}; re-plan from what the GPU shows", gpu_index,
        hw::DrawLayout(model, *result.state), hw::DrawLayout(model, plan.current)));
    return result;
  }
  std::vector<GpuInstanceInfo> instances = *result.instances;
  for (const hw::TransitionStep& step : plan.steps) {
    absl::Status status = RunStep(driver, gpu_index, model, step, reroute, instances);
    if (!status.ok()) {
      result.status = Annotate(
          status, fmt::format("step {} ({})", result.steps_done + 1, Describe(model, step)));
      break;
    }
    ++result.steps_done;
  }
  result.instances.reset();
  result.state.reset();
  if (absl::Status read = Reread(driver, gpu_index, model, options, result); !read.ok()) {
    absl::Status why =
        Annotate(read, "re-reading the GPU after the transition; its state is unknown");
    if (result.status.ok())
      result.status = why;
    else
      result.status = Annotate(result.status, std::string(why.message()));
    return result;
  }
  if (result.status.ok() && *result.state != plan.target) {
    result.status = absl::InternalError(
        fmt::format("after the transition GPU {} shows {} instead of {}", gpu_index,
                    hw::DrawLayout(model, *result.state), hw::DrawLayout(model, plan.target)));
  }
  return result;
}

}  // namespace tessera::driver
