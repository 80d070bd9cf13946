// tessera/hw/layout.h — exact MIG placement geometry: legal layouts, where a profile can go,
// enumeration, maximal multisets, stuck layouts and fragmentation-aware placement.
//
// A placed layout is a set of GPU instances, each a (profile, start memory slice). It is legal on a
// GPU model when every start is one the profile allows, the memory ranges [start, start + size) are
// disjoint, the compute slices fit, and no profile exceeds its max count. A multiset of profiles is
// placeable when some legal placed layout realizes it. The state space is small (722 placed layouts
// on an H100), so everything here is exact.
//
// Profiles are referred to by their index in GpuModel::profiles. A LayoutSpace fixes the GPU model
// and the set of profiles under consideration (e.g. the base profiles without `+me` variants) and
// answers the enumeration questions; "stuck" and "maximal" are relative to that set.
//
// Example:
//   ASSIGN_OR_RETURN(LayoutSpace space, LayoutSpace::Create(h100, {"1g.10gb", "2g.20gb", "3g.40gb",
//                                                                  "4g.40gb", "7g.80gb"}));
//   space.PlacedLayouts().size();                  // 297
//   PlacedLayout l = ...;                           // 3g@0 + 2g@4 + 1g@6
//   space.IsStuck(l);                               // true: 1g fits nowhere although 3g+2g+1g+1g
//   fits std::optional<int> start = ChooseStart(space, l_other, profile_index);
//
// Values are immutable; a LayoutSpace may be shared between threads once built.
#ifndef TESSERA_HW_LAYOUT_H_
#define TESSERA_HW_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"

namespace tessera::hw {

// One GPU instance: a profile (index into GpuModel::profiles) at a start memory slice.
struct Placement {
  int profile = 0;
  int start = 0;
  auto operator<=>(const Placement&) const = default;
};

// A set of GPU instances on one GPU, kept sorted by (start, profile).
struct PlacedLayout {
  std::vector<Placement> instances;
  auto operator<=>(const PlacedLayout&) const = default;
  // Adds an instance keeping the order. REQUIRES: the result is legal (check with CanPlace first).
  void Add(Placement p);
};

// Instance counts per profile index (size = the GPU's profile count).
using Multiset = std::vector<int>;

// Why `layout` is illegal on `gpu` (InvalidArgument naming the instance), or OK.
absl::Status CheckLayout(const GpuModel& gpu, const PlacedLayout& layout);
// Memory slices used by `layout` as a bit mask (bit i = memory slice i).
uint32_t OccupiedMask(const GpuModel& gpu, const PlacedLayout& layout);
// True when `profile` can be added at `start` to the legal `layout`.
bool CanPlace(const GpuModel& gpu, const PlacedLayout& layout, int profile, int start);
// Every start where `profile` can be added now, ascending.
std::vector<int> FreeStarts(const GpuModel& gpu, const PlacedLayout& layout, int profile);
// The multiset of profiles in `layout`.
Multiset MultisetOf(const GpuModel& gpu, const PlacedLayout& layout);
// Some legal placement of `multiset`, or nullopt when none exists.
std::optional<PlacedLayout> PlaceMultiset(const GpuModel& gpu, const Multiset& multiset);
// "Fits now": `profile` can be added without moving any instance.
bool FitsNow(const GpuModel& gpu, const PlacedLayout& layout, int profile);
// "Fits after re-placing": the layout's instances plus `profile` have some legal placement.
bool FitsAfterReplacing(const GpuModel& gpu, const PlacedLayout& layout, int profile);

// A picture of the layout, one cell per memory slice: `[3g.40gb....][2g.20gb..][1g.10gb.][ ]`
// (a name followed by one dot per memory slice it occupies; `[ ]` is a free slice).
std::string DrawLayout(const GpuModel& gpu, const PlacedLayout& layout);
// "3g.40gb + 2g.20gb + 2x1g.10gb" (larger profiles first); "empty" for no instances.
std::string DescribeMultiset(const GpuModel& gpu, const Multiset& multiset);

class LayoutSpace {
 public:
  // The profiles under consideration, by name. InvalidArgument for a name the GPU does not have.
  static absl::StatusOr<LayoutSpace> Create(const GpuModel& gpu,
                                            const std::vector<std::string>& profile_names);
  // The GPU's profiles without the `+me` media-extension variants (what a serving planner uses).
  static LayoutSpace WithoutMediaExtensions(const GpuModel& gpu);

  const GpuModel& gpu() const { return *gpu_; }
  const std::vector<int>& profiles() const { return profiles_; }

  // Every non-empty legal placed layout over the considered profiles, in a stable order (by the
  // sequence of (start, profile) pairs).
  const std::vector<PlacedLayout>& PlacedLayouts() const { return layouts_; }
  // Every non-empty placeable multiset, ordered by decreasing compute slices, then
  // lexicographically.
  const std::vector<Multiset>& Multisets() const { return multisets_; }
  // Stuck: no considered profile can be added at any free start.
  bool IsStuck(const PlacedLayout& layout) const;
  // Maximal: adding any considered profile makes the multiset unplaceable.
  bool IsMaximal(const Multiset& multiset) const;
  bool IsPlaceable(const Multiset& multiset) const;

 private:
  LayoutSpace(const GpuModel& gpu, std::vector<int> profiles);
  void Enumerate();

  const GpuModel* gpu_;  // not owned; must outlive the space
  std::vector<int> profiles_;
  std::vector<PlacedLayout> layouts_;
  std::vector<Multiset> multisets_;
};

// Fragmentation-aware choice of where to put `profile` into `layout`: among the free starts, the
// one that keeps the most room for later instances of the considered profiles. Ranks candidates by
// (1) the most compute slices that can still be added by some completion, (2) the number of
// distinct placeable multisets that can still be added without moving anything, (3) the longest run
// of contiguous free memory slices, (4) the highest start (NVIDIA fills from the top, keeping start
// 0 for the large profiles that can only start there). nullopt when the profile fits nowhere now.
std::optional<int> ChooseStart(const LayoutSpace& space, const PlacedLayout& layout, int profile);

}  // namespace tessera::hw

#endif  // TESSERA_HW_LAYOUT_H_
