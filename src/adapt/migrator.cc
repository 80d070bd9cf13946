// The "migrator" adaptation policy (MIGRator, ASPLOS'24 style): every window, the integer program
// of internal/migrator_program.h chooses each GPU's MIG layout and who holds each instance.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fmt/core.h"
#include "internal/migrator_program.h"
#include "tessera/adapt/policy.h"

namespace tessera::adapt {
namespace {

using internal::GpuDecision;
using internal::kRoles;
using internal::WindowProgram;

Slot MakeSlot(const PerfBook& book, int profile, int tenant, int r) {
  Slot slot;
  slot.profile = profile;
  if (tenant < 0) return slot;
  slot.tenant = tenant;
  slot.role = r == 0 ? Role::kInference : Role::kRetraining;
  if (r == 0) {
    slot.rps = book.InferenceRps(tenant, profile);
  } else {
    slot.samples_per_s = book.RetrainSamplesPerS(tenant, profile);
  }
  return slot;
}

int SpaceIndex(const WindowProgram& program, int profile) {
  for (int k = 0; k < program.profiles(); ++k) {
    if (program.ProfileIndex(k) == profile) return k;
  }
  return -1;
}

// The GPU's slots for `decision`. The current slots come first, in their order: each keeps its
// (tenant, role) while the decision still has one of those on its profile, so nothing restarts
// needlessly; the layout's other instances follow by profile index, and every instance not kept
// takes the first (tenant, role) still unplaced on its profile, or idles.
GpuAllocation ToGpu(const WindowProgram& program, const PerfBook& book, const hw::Multiset& layout,
                    const GpuDecision& decision, const GpuAllocation* current) {
  hw::Multiset instances = layout;  // not yet given a slot
  std::vector<int> left = decision.assigned;
  GpuAllocation out;
  std::vector<size_t> open;  // slots still to fill
  for (const Slot& slot : current != nullptr ? current->slots : std::vector<Slot>{}) {
    if (slot.profile < 0 || slot.profile >= static_cast<int>(instances.size()) ||
        instances[slot.profile] == 0) {
      continue;
    }
    --instances[slot.profile];
    int k = SpaceIndex(program, slot.profile);
    if (k >= 0 && slot.role != Role::kIdle && slot.tenant >= 0 && slot.tenant < program.tenants()) {
      int r = slot.role == Role::kInference ? 0 : 1;
      int& n = left[program.AssignedIndex(k, slot.tenant, r)];
      if (n > 0) {
        --n;
        out.slots.push_back(MakeSlot(book, slot.profile, slot.tenant, r));
        continue;
      }
    }
    open.push_back(out.slots.size());
    out.slots.push_back(MakeSlot(book, slot.profile, -1, 0));
  }
  for (size_t p = 0; p < instances.size(); ++p) {
    for (int n = 0; n < instances[p]; ++n) {
      open.push_back(out.slots.size());
      out.slots.push_back(MakeSlot(book, static_cast<int>(p), -1, 0));
    }
  }
  for (size_t s : open) {
    const int profile = out.slots[s].profile, k = SpaceIndex(program, profile);
    for (int i = 0; k >= 0 && i < program.tenants() * kRoles; ++i) {
      int& n = left[program.AssignedIndex(k, i / kRoles, i % kRoles)];
      if (n == 0) continue;
      --n;
      out.slots[s] = MakeSlot(book, profile, i / kRoles, i % kRoles);
      break;
    }
  }
  return out;
}

Allocation ToAllocation(const WindowProgram& program, const PerfBook& book,
                        const std::vector<GpuDecision>& decisions, const Allocation* current) {
  Allocation out;
  for (int g = 0; g < program.gpus(); ++g) {
    const GpuAllocation* now =
        current != nullptr && g < static_cast<int>(current->gpus.size()) && current->gpus[g].mig
            ? &current->gpus[g]
            : nullptr;
    out.gpus.push_back(
        ToGpu(program, book, program.candidates(g)[decisions[g].candidate], decisions[g], now));
  }
  return out;
}

class MigratorPolicy : public Policy {
 public:
  explicit MigratorPolicy(const PolicyContext& context) : context_(context) {}
  std::string name() const override { return "migrator"; }

  absl::StatusOr<Allocation> Decide(const Observation& obs) override {
    const PerfBook& book = *context_.book;
    if (static_cast<int>(obs.tenants.size()) != book.tenant_count()) {
      return absl::InvalidArgumentError(
          fmt::format("migrator: the observation has {} tenants, the performance book {}",
                      obs.tenants.size(), book.tenant_count()));
    }
    WindowProgram program = WindowProgram::Build(context_, obs, transitions_);
    std::optional<std::vector<GpuDecision>> best =
        program.Solve(context_.ilp_time_limit_s, /*stats=*/nullptr);
    if (!best) best = program.Current();
    if (best) return ToAllocation(program, book, *best, obs.current);
    // No solution and a current layout outside the program: keep what runs, idle GPUs added.
    Allocation out = *obs.current;
    GpuDecision idle{0, std::vector<int>(program.profiles() * program.tenants() * kRoles, 0)};
    for (int g = static_cast<int>(out.gpus.size()); g < program.gpus(); ++g)
      out.gpus.push_back(ToGpu(program, book, program.candidates(g)[0], idle, nullptr));
    return out;
  }

 private:
  PolicyContext context_;
  internal::TransitionSeconds transitions_;  // grows with the layouts met; a few hundred at most
};

absl::Status Validate(const PolicyContext& c) {
  if (c.gpu == nullptr || c.space == nullptr || c.book == nullptr) {
    return absl::InvalidArgumentError(
        "migrator: context.gpu, context.space and context.book must "
        "be set");
  }
  if (c.gpus < 1) {
    return absl::InvalidArgumentError(
        fmt::format("migrator: context.gpus must be at least 1, not {}", c.gpus));
  }
  if (!(c.ilp_time_limit_s > 0)) {
    return absl::InvalidArgumentError(fmt::format(
        "migrator: context.ilp_time_limit_s must be positive, not {}", c.ilp_time_limit_s));
  }
  if (c.space->Multisets().empty()) {
    return absl::InvalidArgumentError(
        fmt::format("migrator: the layout space of {} has no MIG profile", c.gpu->name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Policy>> MakeMigratorPolicy(const PolicyContext& context) {
  absl::Status valid = Validate(context);
  if (!valid.ok()) return valid;
  return std::make_unique<MigratorPolicy>(context);
}

}  // namespace tessera::adapt
