#include "tessera/hw/layout.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"

namespace tessera::hw {
namespace {

uint32_t RangeMask(int start, int size) { return ((1u << size) - 1u) << start; }

// Running totals of a layout, so that candidates are checked in O(1).
struct Usage {
  uint32_t mask = 0;
  int compute = 0;
  std::vector<int> counts;
};

Usage UsageOf(const GpuModel& gpu, const PlacedLayout& layout) {
  Usage usage;
  usage.counts.assign(gpu.profiles.size(), 0);
  for (const Placement& p : layout.instances) {
    const MigProfile& profile = gpu.profiles[p.profile];
    usage.mask |= RangeMask(p.start, profile.memory_slices);
    usage.compute += profile.compute_slices;
    ++usage.counts[p.profile];
  }
  return usage;
}

bool StartAllowed(const MigProfile& profile, int start) {
  return std::find(profile.starts.begin(), profile.starts.end(), start) != profile.starts.end();
}

bool Fits(const GpuModel& gpu, const Usage& usage, int profile_index, int start) {
  const MigProfile& profile = gpu.profiles[profile_index];
  return StartAllowed(profile, start) &&
         (usage.mask & RangeMask(start, profile.memory_slices)) == 0 &&
         usage.compute + profile.compute_slices <= gpu.compute_slices &&
         usage.counts[profile_index] < profile.max_count;
}

void Apply(const GpuModel& gpu, Usage& usage, int profile_index, int start, int sign) {
  const MigProfile& profile = gpu.profiles[profile_index];
  usage.mask ^= RangeMask(start, profile.memory_slices);
  usage.compute += sign * profile.compute_slices;
  usage.counts[profile_index] += sign;
}

// Every (profile, start) pair of the considered profiles, in a fixed order.
std::vector<Placement> Candidates(const GpuModel& gpu, const std::vector<int>& profiles) {
  std::vector<Placement> candidates;
  for (int profile : profiles) {
    for (int start : gpu.profiles[profile].starts) candidates.push_back({profile, start});
  }
  return candidates;
}

// Calls `visit(added)` for every non-empty set of candidates (index > `from`) that can be added to
// `usage` together; `added` lists them in candidate order.
template <typename Visit>
void ForEachExtension(const GpuModel& gpu, const std::vector<Placement>& candidates, size_t from,
                      Usage& usage, std::vector<Placement>& added, const Visit& visit) {
  for (size_t i = from; i < candidates.size(); ++i) {
    const Placement& c = candidates[i];
    if (!Fits(gpu, usage, c.profile, c.start)) continue;
    Apply(gpu, usage, c.profile, c.start, +1);
    added.push_back(c);
    visit(added);
    ForEachExtension(gpu, candidates, i + 1, usage, added, visit);
    added.pop_back();
    Apply(gpu, usage, c.profile, c.start, -1);
  }
}

bool PlaceRecursive(const GpuModel& gpu, const std::vector<int>& pending, size_t next, Usage& usage,
                    PlacedLayout& layout) {
  if (next == pending.size()) return true;
  int profile = pending[next];
  for (int start : gpu.profiles[profile].starts) {
    if (!Fits(gpu, usage, profile, start)) continue;
    // Identical profiles are placed at increasing starts to avoid trying permutations.
    if (next > 0 && pending[next - 1] == profile && start < layout.instances.back().start) continue;
    Apply(gpu, usage, profile, start, +1);
    layout.instances.push_back({profile, start});
    if (PlaceRecursive(gpu, pending, next + 1, usage, layout)) return true;
    layout.instances.pop_back();
    Apply(gpu, usage, profile, start, -1);
  }
  return false;
}

int LongestFreeRun(const GpuModel& gpu, uint32_t mask) {
  int best = 0, run = 0;
  for (int slice = 0; slice < gpu.memory_slices; ++slice) {
    run = (mask & (1u << slice)) ? 0 : run + 1;
    best = std::max(best, run);
  }
  return best;
}

bool LayoutOrder(const PlacedLayout& a, const PlacedLayout& b) {
  auto key = [](const PlacedLayout& l) {
    std::vector<std::pair<int, int>> k;
    for (const Placement& p : l.instances) k.emplace_back(p.start, p.profile);
    return k;
  };
  return key(a) < key(b);
}

}  // namespace

void PlacedLayout::Add(Placement p) {
  auto at =
      std::lower_bound(instances.begin(), instances.end(), p, [](const auto& x, const auto& y) {
        return std::tie(x.start, x.profile) < std::tie(y.start, y.profile);
      });
  instances.insert(at, p);
}

absl::Status CheckLayout(const GpuModel& gpu, const PlacedLayout& layout) {
  Usage usage;
  usage.counts.assign(gpu.profiles.size(), 0);
  for (const Placement& p : layout.instances) {
    if (p.profile < 0 || p.profile >= static_cast<int>(gpu.profiles.size())) {
      return absl::InvalidArgumentError(
          fmt::format("profile index {} does not exist on {}", p.profile, gpu.name));
    }
    const MigProfile& profile = gpu.profiles[p.profile];
    std::string what = fmt::format("{} at start {}", profile.name, p.start);
    if (!StartAllowed(profile, p.start)) {
      return absl::InvalidArgumentError(fmt::format("{}: start not allowed; {} may start at {}",
                                                    what, profile.name,
                                                    fmt::join(profile.starts, ", ")));
    }
    if (usage.mask & RangeMask(p.start, profile.memory_slices)) {
      return absl::InvalidArgumentError(
          fmt::format("{}: overlaps another instance's memory slices", what));
    }
    if (usage.compute + profile.compute_slices > gpu.compute_slices) {
      return absl::InvalidArgumentError(
          fmt::format("{}: needs more than the GPU's {} compute slices", what, gpu.compute_slices));
    }
    if (usage.counts[p.profile] >= profile.max_count) {
      return absl::InvalidArgumentError(
          fmt::format("{}: more than {} instances of {}", what, profile.max_count, profile.name));
    }
    Apply(gpu, usage, p.profile, p.start, +1);
  }
  return absl::OkStatus();
}

uint32_t OccupiedMask(const GpuModel& gpu, const PlacedLayout& layout) {
  return UsageOf(gpu, layout).mask;
}

bool CanPlace(const GpuModel& gpu, const PlacedLayout& layout, int profile, int start) {
  return Fits(gpu, UsageOf(gpu, layout), profile, start);
}

std::vector<int> FreeStarts(const GpuModel& gpu, const PlacedLayout& layout, int profile) {
  Usage usage = UsageOf(gpu, layout);
  std::vector<int> starts;
  for (int start : gpu.profiles[profile].starts) {
    if (Fits(gpu, usage, profile, start)) starts.push_back(start);
  }
  return starts;
}

Multiset MultisetOf(const GpuModel& gpu, const PlacedLayout& layout) {
  return UsageOf(gpu, layout).counts;
}

std::optional<PlacedLayout> PlaceMultiset(const GpuModel& gpu, const Multiset& multiset) {
  TESSERA_CHECK(multiset.size() == gpu.profiles.size());
  std::vector<int> pending;
  for (size_t p = 0; p < multiset.size(); ++p) pending.insert(pending.end(), multiset[p], p);
  // Larger instances first: they have the fewest starts.
  std::stable_sort(pending.begin(), pending.end(), [&](int a, int b) {
    return gpu.profiles[a].memory_slices > gpu.profiles[b].memory_slices;
  });
  Usage usage = UsageOf(gpu, PlacedLayout());
  PlacedLayout layout;
  if (!PlaceRecursive(gpu, pending, 0, usage, layout)) return std::nullopt;
  PlacedLayout sorted;
  for (const Placement& p : layout.instances) sorted.Add(p);
  return sorted;
}

bool FitsNow(const GpuModel& gpu, const PlacedLayout& layout, int profile) {
  return !FreeStarts(gpu, layout, profile).empty();
}

bool FitsAfterReplacing(const GpuModel& gpu, const PlacedLayout& layout, int profile) {
  Multiset multiset = MultisetOf(gpu, layout);
  ++multiset[profile];
  return PlaceMultiset(gpu, multiset).has_value();
}

std::string DrawLayout(const GpuModel& gpu, const PlacedLayout& layout) {
  std::string picture;
  for (int slice = 0; slice < gpu.memory_slices;) {
    auto at = std::find_if(layout.instances.begin(), layout.instances.end(),
                           [&](const Placement& p) { return p.start == slice; });
    if (at == layout.instances.end()) {
      picture += "[ ]";
      ++slice;
      continue;
    }
    const MigProfile& profile = gpu.profiles[at->profile];
    picture += fmt::format("[{}{}]", profile.name, std::string(profile.memory_slices, '.'));
    slice += profile.memory_slices;
  }
  return picture;
}

std::string DescribeMultiset(const GpuModel& gpu, const Multiset& multiset) {
  std::vector<int> order;
  for (size_t p = 0; p < multiset.size(); ++p) {
    if (multiset[p] > 0) order.push_back(static_cast<int>(p));
  }
  if (order.empty()) return "empty";
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return std::tie(gpu.profiles[a].compute_slices, gpu.profiles[a].memory_slices) >
           std::tie(gpu.profiles[b].compute_slices, gpu.profiles[b].memory_slices);
  });
  std::vector<std::string> parts;
  for (int p : order) {
    parts.push_back(multiset[p] == 1 ? gpu.profiles[p].name
                                     : fmt::format("{}x{}", multiset[p], gpu.profiles[p].name));
  }
  return fmt::format("{}", fmt::join(parts, " + "));
}

LayoutSpace::LayoutSpace(const GpuModel& gpu, std::vector<int> profiles)
    : gpu_(&gpu), profiles_(std::move(profiles)) {
  Enumerate();
}

absl::StatusOr<LayoutSpace> LayoutSpace::Create(const GpuModel& gpu,
                                                const std::vector<std::string>& profile_names) {
  std::vector<int> profiles;
  for (const std::string& name : profile_names) {
    int index = gpu.ProfileIndex(name);
    if (index < 0) {
      std::vector<std::string> known;
      for (const MigProfile& p : gpu.profiles) known.push_back(p.name);
      return absl::InvalidArgumentError(fmt::format("{} has no MIG profile '{}'; it has: {}",
                                                    gpu.name, name, fmt::join(known, ", ")));
    }
    if (std::find(profiles.begin(), profiles.end(), index) == profiles.end()) {
      profiles.push_back(index);
    }
  }
  std::sort(profiles.begin(), profiles.end());
  return LayoutSpace(gpu, std::move(profiles));
}

LayoutSpace LayoutSpace::WithoutMediaExtensions(const GpuModel& gpu) {
  std::vector<int> profiles;
  for (size_t p = 0; p < gpu.profiles.size(); ++p) {
    if (!gpu.profiles[p].is_media_extension()) profiles.push_back(static_cast<int>(p));
  }
  return LayoutSpace(gpu, std::move(profiles));
}

void LayoutSpace::Enumerate() {
  std::vector<Placement> candidates = Candidates(*gpu_, profiles_);
  Usage usage = UsageOf(*gpu_, PlacedLayout());
  std::vector<Placement> added;
  std::set<Multiset> multisets;
  ForEachExtension(*gpu_, candidates, 0, usage, added, [&](const std::vector<Placement>& set) {
    PlacedLayout layout;
    for (const Placement& p : set) layout.Add(p);
    multisets.insert(MultisetOf(*gpu_, layout));
    layouts_.push_back(std::move(layout));
  });
  std::sort(layouts_.begin(), layouts_.end(), LayoutOrder);
  multisets_.assign(multisets.begin(), multisets.end());
  auto compute = [&](const Multiset& m) {
    int total = 0;
    for (size_t p = 0; p < m.size(); ++p) total += m[p] * gpu_->profiles[p].compute_slices;
    return total;
  };
  std::stable_sort(multisets_.begin(), multisets_.end(), [&](const Multiset& a, const Multiset& b) {
    return std::make_pair(compute(a), a) > std::make_pair(compute(b), b);
  });
}

bool LayoutSpace::IsStuck(const PlacedLayout& layout) const {
  return std::none_of(profiles_.begin(), profiles_.end(),
                      [&](int p) { return FitsNow(*gpu_, layout, p); });
}

bool LayoutSpace::IsPlaceable(const Multiset& multiset) const {
  return PlaceMultiset(*gpu_, multiset).has_value();
}

bool LayoutSpace::IsMaximal(const Multiset& multiset) const {
  return std::none_of(profiles_.begin(), profiles_.end(), [&](int p) {
    Multiset more = multiset;
    ++more[p];
    return IsPlaceable(more);
  });
}

std::optional<int> ChooseStart(const LayoutSpace& space, const PlacedLayout& layout, int profile) {
  const GpuModel& gpu = space.gpu();
  std::vector<Placement> candidates = Candidates(gpu, space.profiles());
  std::optional<int> best_start;
  std::tuple<int, int, int, int> best_score{-1, -1, -1, -1};
  for (int start : FreeStarts(gpu, layout, profile)) {
    PlacedLayout next = layout;
    next.Add({profile, start});
    Usage usage = UsageOf(gpu, next);
    int most_compute = 0;
    std::set<Multiset> addable;
    std::vector<Placement> added;
    ForEachExtension(gpu, candidates, 0, usage, added, [&](const std::vector<Placement>& set) {
      Multiset m(gpu.profiles.size(), 0);
      int compute = 0;
      for (const Placement& p : set) {
        ++m[p.profile];
        compute += gpu.profiles[p.profile].compute_slices;
      }
      most_compute = std::max(most_compute, compute);
      addable.insert(std::move(m));
    });
    std::tuple<int, int, int, int> score{most_compute, static_cast<int>(addable.size()),
                                         LongestFreeRun(gpu, usage.mask), start};
    if (score > best_score) {
      best_score = score;
      best_start = start;
    }
  }
  return best_start;
}

}  // namespace tessera::hw
