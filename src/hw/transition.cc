#include "tessera/hw/transition.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::hw {
namespace {

bool Contains(const std::vector<Placement>& list, const Placement& p) {
  return std::find(list.begin(), list.end(), p) != list.end();
}

std::vector<Placement> Minus(const PlacedLayout& a, const PlacedLayout& b) {
  std::vector<Placement> out;
  for (const Placement& p : a.instances) {
    if (!Contains(b.instances, p)) out.push_back(p);
  }
  return out;
}

void Remove(PlacedLayout& layout, const Placement& p) {
  layout.instances.erase(std::find(layout.instances.begin(), layout.instances.end(), p));
}

absl::Status CheckBusy(const GpuModel& gpu, const PlacedLayout& current,
                       const std::vector<Placement>& busy) {
  for (const Placement& p : busy) {
    if (!Contains(current.instances, p)) {
      std::string name = p.profile >= 0 && p.profile < static_cast<int>(gpu.profiles.size())
                             ? gpu.profiles[p.profile].name
                             : fmt::format("profile #{}", p.profile);
      return absl::InvalidArgumentError(
          fmt::format("busy instance {}@{} is not in the current layout; list only current "
                      "instances as busy",
                      name, p.start));
    }
  }
  return absl::OkStatus();
}

// The index in `pending` of the next instance to destroy: idle before busy, then one whose removal
// lets a pending create fit, then the first.
size_t NextDestroy(const GpuModel& gpu, const PlacedLayout& layout,
                   const std::vector<Placement>& pending, const std::vector<Placement>& creates,
                   const std::vector<Placement>& busy) {
  size_t best = 0;
  std::tuple<bool, bool> best_key{true, true};
  for (size_t i = 0; i < pending.size(); ++i) {
    PlacedLayout without = layout;
    Remove(without, pending[i]);
    bool unblocks = std::any_of(creates.begin(), creates.end(), [&](const Placement& c) {
      return CanPlace(gpu, without, c.profile, c.start);
    });
    std::tuple<bool, bool> key{Contains(busy, pending[i]), !unblocks};
    if (key < best_key) best = i, best_key = key;
  }
  return best;
}

// Orders the destroys and creates (see the header); REQUIRES a legal current and target.
TransitionPlan Order(const GpuModel& gpu, const PlacedLayout& current, const PlacedLayout& target,
                     const std::vector<Placement>& busy) {
  TransitionPlan plan;
  plan.current = current;
  plan.target = target;
  std::vector<Placement> destroys = Minus(current, target);
  std::vector<Placement> creates = Minus(target, current);
  // Larger instances first: they have the fewest starts and free the most room when destroyed.
  auto larger = [&](const Placement& a, const Placement& b) {
    return gpu.profiles[a.profile].memory_slices > gpu.profiles[b.profile].memory_slices;
  };
  std::stable_sort(creates.begin(), creates.end(), larger);
  PlacedLayout layout = current;
  while (!destroys.empty() || !creates.empty()) {
    auto fits = std::find_if(creates.begin(), creates.end(), [&](const Placement& c) {
      return CanPlace(gpu, layout, c.profile, c.start);
    });
    if (fits != creates.end()) {
      plan.steps.push_back({TransitionStep::Kind::kCreate, *fits});
      layout.Add(*fits);
      creates.erase(fits);
      ++plan.creates;
      continue;
    }
    // Every create fits once all destroys are done (the layout is then a subset of `target`).
    TESSERA_CHECK(!destroys.empty());
    size_t next = NextDestroy(gpu, layout, destroys, creates, busy);
    Placement victim = destroys[next];
    if (Contains(busy, victim)) {
      plan.steps.push_back({TransitionStep::Kind::kDrain, victim});
      ++plan.drains;
    }
    plan.steps.push_back({TransitionStep::Kind::kDestroy, victim});
    Remove(layout, victim);
    destroys.erase(destroys.begin() + static_cast<std::ptrdiff_t>(next));
    ++plan.destroys;
  }
  return plan;
}

void PlaceAll(const GpuModel& gpu, const std::vector<int>& pending, size_t next, int min_start,
              PlacedLayout& layout, std::vector<PlacedLayout>& out) {
  if (next == pending.size()) {
    out.push_back(layout);
    return;
  }
  int profile = pending[next];
  // Instances of one profile are placed at increasing starts so each layout is produced once.
  bool same_as_previous = next > 0 && pending[next - 1] == profile;
  for (int start : gpu.profiles[profile].starts) {
    if (same_as_previous && start <= min_start) continue;
    if (!CanPlace(gpu, layout, profile, start)) continue;
    Placement p{profile, start};
    layout.Add(p);
    PlaceAll(gpu, pending, next + 1, start, layout, out);
    Remove(layout, p);
  }
}

absl::Status CheckMultiset(const GpuModel& gpu, const Multiset& target) {
  if (target.size() != gpu.profiles.size()) {
    return absl::InvalidArgumentError(
        fmt::format("target multiset has {} counts but a {} has {} profiles; give one count per "
                    "profile in catalog order",
                    target.size(), gpu.name, gpu.profiles.size()));
  }
  for (size_t p = 0; p < target.size(); ++p) {
    if (target[p] < 0) {
      return absl::InvalidArgumentError(
          fmt::format("target multiset has {} instances of {}", target[p], gpu.profiles[p].name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* TransitionStepKindName(TransitionStep::Kind kind) {
  switch (kind) {
    case TransitionStep::Kind::kDrain:
      return "drain";
    case TransitionStep::Kind::kDestroy:
      return "destroy";
    case TransitionStep::Kind::kCreate:
      return "create";
  }
  return "?";
}

std::string TransitionPlan::DebugString(const GpuModel& gpu) const {
  if (steps.empty()) return "no change\n";
  std::string out;
  for (const TransitionStep& step : steps) {
    out += fmt::format("{} {}@{}\n", TransitionStepKindName(step.kind),
                       gpu.profiles[step.instance.profile].name, step.instance.start);
  }
  return out;
}

std::vector<PlacedLayout> AllPlacementsOf(const GpuModel& gpu, const Multiset& multiset) {
  TESSERA_CHECK(multiset.size() == gpu.profiles.size());
  std::vector<int> pending;
  for (size_t p = 0; p < multiset.size(); ++p) {
    TESSERA_CHECK(multiset[p] >= 0);
    pending.insert(pending.end(), multiset[p], static_cast<int>(p));
  }
  // Larger instances first (fewest starts); equal profiles stay adjacent.
  std::stable_sort(pending.begin(), pending.end(), [&](int a, int b) {
    return gpu.profiles[a].memory_slices > gpu.profiles[b].memory_slices;
  });
  std::vector<PlacedLayout> out;
  PlacedLayout layout;
  PlaceAll(gpu, pending, 0, -1, layout, out);
  std::sort(out.begin(), out.end(), [](const PlacedLayout& a, const PlacedLayout& b) {
    auto key = [](const PlacedLayout& l) {
      std::vector<std::pair<int, int>> k;
      for (const Placement& p : l.instances) k.emplace_back(p.start, p.profile);
      return k;
    };
    return key(a) < key(b);
  });
  return out;
}

absl::StatusOr<TransitionPlan> PlanTransition(const GpuModel& gpu, const PlacedLayout& current,
                                              const PlacedLayout& target,
                                              const std::vector<Placement>& busy) {
  if (absl::Status s = CheckLayout(gpu, current); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("current layout: {}", std::string(s.message())));
  }
  if (absl::Status s = CheckLayout(gpu, target); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("target layout: {}", std::string(s.message())));
  }
  RETURN_IF_ERROR(CheckBusy(gpu, current, busy));
  return Order(gpu, current, target, busy);
}

absl::StatusOr<TransitionPlan> PlanTransitionToMultiset(const GpuModel& gpu,
                                                        const PlacedLayout& current,
                                                        const Multiset& target,
                                                        const std::vector<Placement>& busy) {
  if (absl::Status s = CheckLayout(gpu, current); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("current layout: {}", std::string(s.message())));
  }
  RETURN_IF_ERROR(CheckBusy(gpu, current, busy));
  RETURN_IF_ERROR(CheckMultiset(gpu, target));
  std::vector<PlacedLayout> candidates = AllPlacementsOf(gpu, target);
  if (candidates.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("target {} has no legal placement on a {}; choose a placeable multiset",
                    DescribeMultiset(gpu, target), gpu.name));
  }
  const PlacedLayout* best = nullptr;
  std::pair<size_t, size_t> best_key;
  for (const PlacedLayout& candidate : candidates) {
    std::vector<Placement> destroys = Minus(current, candidate);
    size_t busy_destroyed = std::count_if(destroys.begin(), destroys.end(),
                                          [&](const Placement& p) { return Contains(busy, p); });
    std::pair<size_t, size_t> key{destroys.size(), busy_destroyed};
    // |current Δ candidate| = 2 |current \ candidate| + |candidate| - |current|, and |candidate|
    // is the same for every candidate, so fewest destroys means fewest operations.
    if (best == nullptr || key < best_key) best = &candidate, best_key = key;
  }
  return Order(gpu, current, *best, busy);
}

}  // namespace tessera::hw
