// tessera/planners/common.h — pieces every planner uses: rate inflation, the configurations a model
// can run in on one partition under an SLO rule, and packing MIG instances onto GPUs with exact
// placements.
//
// Example:
//   double provision = InflatedRate(1000, options);                  // Poisson p99 over 1 s: ~1074
//   std::vector<Configuration> c = Configurations(inputs, gpu, "resnet50", 224,
//       [&](double latency_ms, int batch) { return 2 * latency_ms <= slo_ms; });
//   ASSIGN_OR_RETURN(std::vector<hw::PlacedLayout> gpus, PackMigInstances(space, instances));
#ifndef TESSERA_PLANNERS_COMMON_H_
#define TESSERA_PLANNERS_COMMON_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/hw/catalog.h"
#include "tessera/hw/layout.h"
#include "tessera/hw/partition.h"
#include "tessera/planners/planner.h"

namespace tessera::planners {

// The rate to provision for a mean of `rate_rps`: the `options.rate_quantile` quantile of a Poisson
// count over `options.window_s` seconds, divided by the window (the mean itself for quantile 0).
double InflatedRate(double rate_rps, const PlannerOptions& options);

// The q-quantile of a Poisson distribution with mean `mean` (smallest k with P(X <= k) >= q).
int64_t PoissonQuantile(double mean, double q);

// One way to run a model on one partition: the measured (or interpolated) batch latency, and the
// throughput it sustains with `procs` copies (procs x batch / latency).
struct Configuration {
  hw::Partition partition;
  int input = 0;
  int batch = 1;
  int procs = 1;
  double latency_ms = 0;
  double capacity_rps = 0;
};

// An SLO rule: may a batch of `batch` taking `latency_ms` serve this model?
using SloRule = std::function<bool(double latency_ms, int batch)>;

// Every measured (gpu, partition, model, input, batch, procs) row of the profiles that `rule`
// accepts, sorted by partition, then batch, then procs. Interpolated rows are not invented.
std::vector<Configuration> Configurations(const perf::ProfileTable& profiles,
                                          const std::string& gpu, const std::string& model,
                                          int input, const SloRule& rule);

// Packs MIG instances (profile indices of space.gpu()) onto as few GPUs as possible, with legal
// placements, keeping the better of two heuristics: first-fit decreasing (each instance onto the
// first GPU where it fits, placed with hw::ChooseStart, re-placing a GPU's instances when it fits
// only that way) and fullest-multiset-first (fill each new GPU with the placeable multiset of the
// remaining instances that uses the most compute slices). Neither is optimal in general; the
// fullest-first packing finds 3g+2g+2g | 3g+2g+1g+1g where first-fit pairs the two 3g. Returns one
// placed layout per GPU. InvalidArgument for a profile outside the space. One-shot form of
// MigPacker::Pack.
absl::StatusOr<std::vector<hw::PlacedLayout>> PackMigInstances(const hw::LayoutSpace& space,
                                                               std::vector<int> instances);

// GPUs with identical layouts, in packing order: `gpus` GPUs each laid out as `layout`.
struct LayoutRun {
  hw::PlacedLayout layout;
  int64_t gpus = 0;
};

// A packing of MIG instances: runs of identical GPUs (the GPU count is the sum of their sizes).
struct MigPacking {
  std::vector<LayoutRun> runs;
  int64_t gpus = 0;
  // One placed layout per GPU, in packing order.
  std::vector<hw::PlacedLayout> Expand() const;
};

// The packer behind PackMigInstances, for planners that pack many times over one space (a local
// search): it works on instance counts per profile, on runs of identical GPUs, and remembers every
// placement decision per (layout, profile), so a packing costs about the number of distinct
// layouts it produces, not the number of instances. The instances are taken largest first (memory
// slices, then compute slices, then profile index), so a packing depends on the counts alone.
// Not thread-safe (the memo); the space must outlive the packer.
class MigPacker {
 public:
  explicit MigPacker(const hw::LayoutSpace& space);

  const hw::LayoutSpace& space() const { return *space_; }

  // The better (fewer GPUs; first-fit on ties) of first-fit decreasing and fullest-multiset-first
  // for `counts[p]` instances of profile p (size = the GPU's profile count). InvalidArgument for a
  // wrong size, a negative count, or a count for a profile outside the space.
  absl::StatusOr<MigPacking> Pack(const hw::Multiset& counts);

  // The two heuristics on their own. REQUIRES: `counts` valid for Pack. First-fit decreasing gives
  // exactly the layouts of placing the instances one by one (largest first) onto the first GPU
  // that takes them.
  MigPacking FirstFitDecreasing(const hw::Multiset& counts);
  MigPacking FullestFirst(const hw::Multiset& counts);

 private:
  static constexpr int kUnknown = -2;  // memo entry not computed yet
  static constexpr int kNone = -1;     // the profile does not fit

  int IdOf(const hw::PlacedLayout& layout) const;
  // The layout (id) after adding `profile` to layout `id`: at hw::ChooseStart's start, else by
  // re-placing every instance; kNone when it fits neither way.
  int Add(int id, int profile);

  const hw::LayoutSpace* space_;
  std::vector<hw::PlacedLayout> layouts_;  // id -> layout; id 0 is the empty GPU
  std::map<hw::PlacedLayout, int> ids_;
  std::vector<int> added_;  // memo of Add, indexed id * profile count + profile
};

// A MIG instance to place: the model it serves and how.
struct MigInstance {
  std::string model;
  Configuration config;
};

// The plan for `instances` packed as `layouts` (PackMigInstances over their profiles): one PlanGpu
// per layout, each placement taking the next instance of its profile, one assignment per instance.
// REQUIRES: the layouts hold exactly the instances' profiles.
plan::Plan PlanFromLayouts(const hw::GpuModel& gpu, const std::vector<hw::PlacedLayout>& layouts,
                           const std::vector<MigInstance>& instances, const std::string& name,
                           const std::string& planner);

// The MIG profiles a planner may use on `gpu`: options.mig_profiles, or every profile without
// `+me`.
absl::StatusOr<hw::LayoutSpace> MigSpace(const hw::GpuModel& gpu, const PlannerOptions& options);

// `result` marked infeasible for `reason` (no plan: its GPUs are cleared).
PlanResult MarkInfeasible(PlanResult result, std::string reason);

}  // namespace tessera::planners

#endif  // TESSERA_PLANNERS_COMMON_H_
