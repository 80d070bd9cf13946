// paris: PARIS's static heterogeneous MIG partition (sized once from the profiles) with ELSA-style
// pooled routing; instances left over after inference is covered retrain.
#include <algorithm>
#include <optional>

#include "internal/policies.h"
#include "tessera/planners/common.h"

namespace tessera::adapt::internal {
namespace {

class ParisPolicy : public Policy {
 public:
  explicit ParisPolicy(const PolicyContext& context) : context_(context) {}
  std::string name() const override { return "paris"; }

  absl::StatusOr<Allocation> Decide(const Observation& obs) override {
    if (!fixed_) fixed_ = Size(obs);
    return *fixed_;
  }

 private:
  // One instance kind per tenant and role, chosen by PARIS's rule (the profile with the most
  // throughput per compute slice, the knee of the throughput curve): inference sized for the
  // Poisson p99 of the mean rate, retraining for a job finished in 80% of its window. The counts
  // are packed (MigPacker); while they need more GPUs than the run has, one instance is taken from
  // the kind with the most capacity against its need (never the last of a kind), and when every
  // kind is down to one, the kind on the largest profile moves to a smaller one, and when no kind
  // can shrink further, retraining kinds (then inference kinds with the least need) are dropped;
  // free slices left on the GPUs get the largest instance that fits, for retraining, in turn.
  // Fixed for the run.
  Allocation Size(const Observation& obs) const {
    const PerfBook& book = *context_.book;
    const hw::GpuModel& gpu = *context_.gpu;
    const hw::LayoutSpace& space = *context_.space;
    planners::PlannerOptions rate_rule;
    rate_rule.gpu = gpu.name;
    struct Kind {
      int tenant = 0;
      Role role = Role::kInference;
      int profile = -1;
      double need = 0;  // requests/s or samples/s
      int count = 0;
      double Each(const PerfBook& b) const {
        return role == Role::kInference ? b.InferenceRps(tenant, profile)
                                        : b.RetrainSamplesPerS(tenant, profile);
      }
    };
    std::vector<Kind> kinds;
    for (int t = 0; t < book.tenant_count(); ++t) {
      const TenantInfo& info = book.tenants()[t];
      for (Role role : {Role::kInference, Role::kRetraining}) {
        if (role == Role::kRetraining && !info.retrains) continue;
        Kind kind{.tenant = t, .role = role};
        double best = 0;  // the most throughput per compute slice; the first profile on ties
        int best_profile = -1;
        for (int p : space.profiles()) {
          kind.profile = p;
          const double per_slice = kind.Each(book) / gpu.profiles[p].compute_slices;
          if (per_slice > best) {
            best = per_slice;
            best_profile = p;
          }
        }
        if (best_profile < 0) continue;  // no profile serves (or trains) it
        kind.profile = best_profile;
        kind.need = role == Role::kInference
                        ? planners::InflatedRate(obs.tenants[t].mean_rps, rate_rule)
                        : info.spec.retraining_samples / (0.8 * info.spec.retraining_window_s);
        kind.count = std::max(1, static_cast<int>(std::ceil(kind.need / kind.Each(book) - 1e-9)));
        kinds.push_back(kind);
      }
    }
    hw::Multiset counts(gpu.profiles.size(), 0);
    for (const Kind& k : kinds) counts[k.profile] += k.count;
    planners::MigPacker packer(space);
    absl::StatusOr<planners::MigPacking> packing = packer.Pack(counts);
    while (packing.ok() && packing->gpus > context_.gpus) {
      Kind* cut = nullptr;
      double most = 0;
      for (Kind& k : kinds) {
        if (k.count <= 1) continue;
        const double ratio = k.count * k.Each(book) / k.need;
        if (cut == nullptr || ratio > most) {
          cut = &k;
          most = ratio;
        }
      }
      if (cut != nullptr) {
        --cut->count;
        --counts[cut->profile];
      } else {
        // One instance of each kind is still too much: the kind on the largest profile moves to
        // the next smaller profile that still serves (or trains) it.
        Kind* largest = nullptr;
        int smaller = -1;
        for (Kind& k : kinds) {
          int next = -1;
          for (int p : space.profiles()) {
            Kind trial = k;
            trial.profile = p;
            if (gpu.profiles[p].compute_slices < gpu.profiles[k.profile].compute_slices &&
                trial.Each(book) > 0 &&
                (next < 0 || gpu.profiles[p].compute_slices > gpu.profiles[next].compute_slices)) {
              next = p;
            }
          }
          if (next >= 0 &&
              (largest == nullptr || gpu.profiles[k.profile].compute_slices >
                                         gpu.profiles[largest->profile].compute_slices)) {
            largest = &k;
            smaller = next;
          }
        }
        if (largest == nullptr) {
          // Even the smallest instances do not fit: drop a kind, retraining before inference and
          // the least need first.
          auto drop = kinds.end();
          for (auto k = kinds.begin(); k != kinds.end(); ++k) {
            if (drop == kinds.end() ||
                (k->role == Role::kRetraining) > (drop->role == Role::kRetraining) ||
                ((k->role == drop->role) && k->need < drop->need)) {
              drop = k;
            }
          }
          if (drop == kinds.end()) break;
          counts[drop->profile] -= drop->count;
          kinds.erase(drop);
          packing = packer.Pack(counts);
          continue;
        }
        --counts[largest->profile];
        ++counts[smaller];
        largest->profile = smaller;
      }
      packing = packer.Pack(counts);
    }
    std::vector<hw::PlacedLayout> layouts;
    if (packing.ok() && packing->gpus <= context_.gpus) layouts = packing->Expand();
    layouts.resize(context_.gpus);  // GPUs the packing leaves empty are filled below
    std::vector<int> retrainers;
    for (const Kind& k : kinds) {
      if (k.role == Role::kRetraining) retrainers.push_back(k.tenant);
    }
    size_t next_retrainer = 0;
    Allocation allocation;
    auto slot_for = [&](int tenant, Role role, int profile) {
      Slot slot;
      slot.profile = profile;
      slot.tenant = tenant;
      slot.role = role;
      if (role == Role::kInference) slot.rps = book.InferenceRps(tenant, profile);
      if (role == Role::kRetraining) slot.samples_per_s = book.RetrainSamplesPerS(tenant, profile);
      return slot;
    };
    for (hw::PlacedLayout& layout : layouts) {
      GpuAllocation g{.mig = true, .slots = {}};
      for (const hw::Placement& at : layout.instances) {
        Slot slot;
        slot.profile = at.profile;
        for (Kind& k : kinds) {
          if (k.profile == at.profile && k.count > 0) {
            --k.count;
            slot = slot_for(k.tenant, k.role, at.profile);
            break;
          }
        }
        g.slots.push_back(slot);
      }
      while (true) {                              // the largest free instance first
        std::optional<std::pair<int, int>> best;  // (profile, start)
        for (int p : space.profiles()) {
          std::optional<int> start = hw::ChooseStart(space, layout, p);
          if (start && (!best || gpu.profiles[p].compute_slices >
                                     gpu.profiles[best->first].compute_slices)) {
            best = {p, *start};
          }
        }
        if (!best) break;
        layout.Add({best->first, best->second});
        Slot slot;
        slot.profile = best->first;
        if (!retrainers.empty()) {
          slot = slot_for(retrainers[next_retrainer++ % retrainers.size()], Role::kRetraining,
                          best->first);
        }
        g.slots.push_back(slot);
      }
      allocation.gpus.push_back(std::move(g));
    }
    return allocation;
  }

  PolicyContext context_;
  std::optional<Allocation> fixed_;
};

}  // namespace

std::unique_ptr<Policy> MakeParisPolicy(const PolicyContext& context) {
  return std::make_unique<ParisPolicy>(context);
}

}  // namespace tessera::adapt::internal
