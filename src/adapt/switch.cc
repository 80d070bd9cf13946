#include "internal/switch.h"

#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "tessera/base/status.h"
#include "tessera/hw/transition.h"

namespace tessera::adapt::internal {
namespace {

bool SameWork(const Slot& a, const Slot& b) { return a.tenant == b.tenant && a.role == b.role; }

double StartupOf(const Slot& slot, const PerfBook& book) {
  return slot.role == Role::kIdle ? 0.0 : book.StartupS(slot.tenant);
}

// Every old slot stops at `when` (a GPU given back, or switching MIG mode).
void StopAll(const RunningGpu& old, double when, SwitchResult& result) {
  for (const TimedSlot& s : old.slots) {
    if (s.slot.role == Role::kIdle) continue;
    TimedSlot stopped = s;
    stopped.stop_s = std::min(s.stop_s, when);
    result.stopped.push_back(stopped);
  }
}

// A MIG GPU (old may be empty, or a shared GPU switching mode).
absl::StatusOr<RunningGpu> SwitchMig(const RunningGpu* old, const GpuAllocation& target,
                                     double start_s, const hw::GpuModel& gpu, const PerfBook& book,
                                     const TransitionCosts& costs, SwitchResult& result) {
  double clock = start_s;
  hw::PlacedLayout current;
  std::vector<TimedSlot> old_slots;
  if (old != nullptr && old->mig) {
    current = old->layout;
    old_slots = old->slots;
    clock = std::max(clock, old->ops_free_s);
  } else if (old != nullptr) {
    StopAll(*old, start_s, result);
    clock += costs.mig_mode_change_s;
    result.changed = true;
  }
  // Pre-initialization can make an instance ahead only while nothing has to happen first: no
  // operation of an earlier switch still queued, no mode change, no destroy before its create.
  bool must_wait = clock > start_s;
  hw::Multiset multiset(gpu.profiles.size(), 0);
  for (const Slot& s : target.slots) ++multiset[s.profile];
  std::vector<hw::Placement> busy;
  for (const TimedSlot& s : old_slots) {
    if (s.slot.role != Role::kIdle) busy.push_back(s.placement);
  }
  ASSIGN_OR_RETURN(hw::TransitionPlan plan,
                   hw::PlanTransitionToMultiset(gpu, current, multiset, busy));
  // Run the steps: when each instance is destroyed (stops) and created (exists).
  std::map<hw::Placement, double> destroyed_at, created_at;
  for (const hw::TransitionStep& step : plan.steps) {
    switch (step.kind) {
      case hw::TransitionStep::Kind::kDrain:
        break;
      case hw::TransitionStep::Kind::kDestroy:
        destroyed_at[step.instance] = clock;
        clock += costs.mig_destroy_s;
        must_wait = true;
        ++result.mig_operations;
        break;
      case hw::TransitionStep::Kind::kCreate:
        clock += costs.mig_create_s;
        created_at[step.instance] = must_wait || !costs.pre_initialize ? clock : start_s;
        ++result.mig_operations;
        break;
    }
  }
  if (plan.operations() > 0) result.changed = true;

  // Assign target slots to the reached placements: first keep (placement, tenant, role), then any
  // placement of the slot's profile.
  RunningGpu next;
  next.mig = true;
  next.layout = plan.target;
  next.ops_free_s = clock;
  next.slots.resize(plan.target.instances.size());
  std::vector<bool> placed(target.slots.size(), false), taken(plan.target.instances.size(), false);
  std::map<hw::Placement, const TimedSlot*> old_at;
  for (const TimedSlot& s : old_slots) old_at[s.placement] = &s;
  std::vector<bool> old_kept(old_slots.size(), false);
  for (size_t i = 0; i < target.slots.size(); ++i) {
    for (size_t k = 0; k < plan.target.instances.size(); ++k) {
      const hw::Placement& at = plan.target.instances[k];
      if (taken[k] || at.profile != target.slots[i].profile || created_at.count(at)) continue;
      auto it = old_at.find(at);
      if (it == old_at.end() || !SameWork(it->second->slot, target.slots[i])) continue;
      TimedSlot kept = *it->second;
      kept.slot = target.slots[i];
      next.slots[k] = kept;
      taken[k] = placed[i] = true;
      old_kept[it->second - old_slots.data()] = true;
      break;
    }
  }
  // Then the other slots, busy ones first, each on the free instance of its profile that exists
  // earliest (kept instances before created ones).
  auto exists_at = [&](const hw::Placement& at) {
    auto created = created_at.find(at);
    if (created != created_at.end()) return created->second;
    auto kept = old_at.find(at);  // an instance an earlier switch may still be creating
    return kept == old_at.end() ? start_s : std::max(start_s, kept->second->exists_s);
  };
  for (bool busy_pass : {true, false}) {
    for (size_t i = 0; i < target.slots.size(); ++i) {
      if (placed[i] || (target.slots[i].role != Role::kIdle) != busy_pass) continue;
      int best = -1;
      for (size_t k = 0; k < plan.target.instances.size(); ++k) {
        const hw::Placement& at = plan.target.instances[k];
        if (taken[k] || at.profile != target.slots[i].profile) continue;
        if (best < 0 || exists_at(at) < exists_at(plan.target.instances[best])) {
          best = static_cast<int>(k);
        }
      }
      if (best < 0) {
        return absl::InternalError(fmt::format("no placement left for a {} slot",
                                               gpu.profiles[target.slots[i].profile].name));
      }
      const hw::Placement& at = plan.target.instances[best];
      TimedSlot fresh;
      fresh.slot = target.slots[i];
      fresh.placement = at;
      const double exists_s = exists_at(at);
      fresh.exists_s = exists_s;
      const bool hidden = costs.pre_initialize && exists_s <= start_s;
      fresh.ready_s = hidden ? start_s : exists_s + StartupOf(fresh.slot, book);
      if (fresh.slot.role != Role::kIdle) {
        ++result.restarts;
        result.downtime_s += fresh.ready_s - start_s;
        result.changed = true;
      }
      next.slots[best] = fresh;
      taken[best] = placed[i] = true;
    }
  }
  // Old slots not kept stop: at their destroy, else at the start (their instance was reassigned).
  for (size_t k = 0; k < old_slots.size(); ++k) {
    if (old_kept[k] || old_slots[k].slot.role == Role::kIdle) continue;
    TimedSlot stopped = old_slots[k];
    auto destroyed = destroyed_at.find(stopped.placement);
    stopped.stop_s = destroyed != destroyed_at.end() ? destroyed->second : start_s;
    result.stopped.push_back(stopped);
    result.changed = true;
  }
  return next;
}

// A shared (non-MIG) GPU.
RunningGpu SwitchShared(const RunningGpu* old, const GpuAllocation& target, double start_s,
                        const PerfBook& book, const TransitionCosts& costs, SwitchResult& result) {
  double clock = start_s;
  std::vector<TimedSlot> old_slots;
  if (old != nullptr && !old->mig) {
    old_slots = old->slots;
  } else if (old != nullptr) {
    StopAll(*old, start_s, result);
    clock += costs.mig_mode_change_s;
    result.changed = true;
  }
  RunningGpu next;
  next.mig = false;
  next.slots.resize(target.slots.size());
  std::vector<bool> done(target.slots.size(), false), old_used(old_slots.size(), false);
  // Pass 1: same label, tenant and role keep their process; pass 2: same tenant and role, another
  // label (an SM partition resized).
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < target.slots.size(); ++i) {
      if (done[i]) continue;
      for (size_t k = 0; k < old_slots.size(); ++k) {
        const Slot& was = old_slots[k].slot;
        if (old_used[k] || !SameWork(was, target.slots[i])) continue;
        if (pass == 0 && was.label != target.slots[i].label) continue;
        TimedSlot kept = old_slots[k];
        kept.slot = target.slots[i];
        if (pass == 1) {
          kept.ready_s = std::max(kept.ready_s, clock + costs.sm_resize_s);
          result.downtime_s += costs.sm_resize_s;
          result.changed = true;
        }
        next.slots[i] = kept;
        done[i] = old_used[k] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < target.slots.size(); ++i) {
    if (done[i]) continue;
    TimedSlot fresh;
    fresh.slot = target.slots[i];
    const bool hidden = costs.pre_initialize && clock <= start_s;
    fresh.ready_s = hidden ? start_s : clock + StartupOf(fresh.slot, book);
    if (fresh.slot.role != Role::kIdle) {
      ++result.restarts;
      result.downtime_s += fresh.ready_s - start_s;
    }
    result.changed = true;
    next.slots[i] = fresh;
  }
  for (size_t k = 0; k < old_slots.size(); ++k) {
    if (old_used[k] || old_slots[k].slot.role == Role::kIdle) continue;
    TimedSlot stopped = old_slots[k];
    stopped.stop_s = start_s;
    result.stopped.push_back(stopped);
    result.changed = true;
  }
  return next;
}

}  // namespace

absl::StatusOr<SwitchResult> Switch(const std::vector<RunningGpu>& running,
                                    const Allocation& target, double start_s,
                                    const hw::GpuModel& gpu, const PerfBook& book,
                                    const TransitionCosts& costs) {
  SwitchResult result;
  for (size_t g = 0; g < target.gpus.size(); ++g) {
    const RunningGpu* old = g < running.size() ? &running[g] : nullptr;
    if (old == nullptr) result.changed = true;
    if (target.gpus[g].mig) {
      absl::StatusOr<RunningGpu> next =
          SwitchMig(old, target.gpus[g], start_s, gpu, book, costs, result);
      if (!next.ok()) {
        return absl::InternalError(
            fmt::format("gpu{}: {}", g, std::string(next.status().message())));
      }
      result.gpus.push_back(*std::move(next));
    } else {
      result.gpus.push_back(SwitchShared(old, target.gpus[g], start_s, book, costs, result));
    }
  }
  for (size_t g = target.gpus.size(); g < running.size(); ++g) {
    StopAll(running[g], start_s, result);  // given back: drained at the start
    result.changed = true;
  }
  return result;
}

absl::Status ValidateAllocation(const Allocation& target, const hw::LayoutSpace& space,
                                const PerfBook& book, int max_gpus) {
  if (static_cast<int>(target.gpus.size()) > max_gpus) {
    return absl::InvalidArgumentError(
        fmt::format("the allocation uses {} GPUs; the run has {}", target.gpus.size(), max_gpus));
  }
  const hw::GpuModel& gpu = space.gpu();
  for (size_t g = 0; g < target.gpus.size(); ++g) {
    const GpuAllocation& a = target.gpus[g];
    hw::Multiset multiset(gpu.profiles.size(), 0);
    std::map<std::string, double> share_of_label;
    for (size_t i = 0; i < a.slots.size(); ++i) {
      const Slot& s = a.slots[i];
      auto bad = [&](std::string_view what) {
        return absl::InvalidArgumentError(fmt::format("gpu{} slot {}: {}", g, i, what));
      };
      if (s.role != Role::kIdle && (s.tenant < 0 || s.tenant >= book.tenant_count())) {
        return bad(fmt::format("tenant {} does not exist", s.tenant));
      }
      if (s.role == Role::kRetraining && !book.tenants()[s.tenant].retrains) {
        return bad(fmt::format("{} does not retrain", book.tenants()[s.tenant].name));
      }
      if (!(s.share > 0 && s.share <= 1)) return bad("share must be in (0, 1]");
      if (!(s.rps >= 0) || !(s.samples_per_s >= 0)) return bad("throughput must be >= 0");
      // Throughput the PerfBook can vouch for must not exceed it (SM partitions from a planner's
      // plan carry the planner's own figures).
      double rps_limit = 1e300, samples_limit = 1e300;
      if (s.role != Role::kIdle && a.mig && s.profile >= 0 &&
          s.profile < static_cast<int>(gpu.profiles.size())) {
        rps_limit = book.InferenceRps(s.tenant, s.profile);
        samples_limit = book.RetrainSamplesPerS(s.tenant, s.profile);
      } else if (s.role != Role::kIdle && !a.mig && s.label == "whole") {
        rps_limit = book.SharedInferenceRps(s.tenant, s.share);
        samples_limit = book.SharedRetrainSamplesPerS(s.tenant, s.share);
      }
      if (s.rps > rps_limit * (1 + 1e-9) + 1e-9 ||
          s.samples_per_s > samples_limit * (1 + 1e-9) + 1e-9) {
        return bad("states more throughput than the profiles give its partition");
      }
      if (a.mig) {
        const std::vector<int>& allowed = space.profiles();
        if (std::find(allowed.begin(), allowed.end(), s.profile) == allowed.end()) {
          return bad(fmt::format("profile {} is not one the run may use", s.profile));
        }
        ++multiset[s.profile];
      } else {
        share_of_label[s.label] += s.share;
      }
    }
    if (a.mig && !a.slots.empty() && !space.IsPlaceable(multiset)) {
      return absl::InvalidArgumentError(
          fmt::format("gpu{}: the instances have no legal placement together", g));
    }
    for (const auto& [label, share] : share_of_label) {
      if (share > 1 + 1e-9) {
        return absl::InvalidArgumentError(fmt::format(
            "gpu{}: the shares of partition {} sum to {:.3f}, above 1", g, label, share));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::adapt::internal
