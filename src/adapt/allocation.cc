// Allocation helpers shared by the engine and the policies.
#include "fmt/format.h"
#include "tessera/adapt/policy.h"

namespace tessera::adapt {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kIdle:
      return "idle";
    case Role::kInference:
      return "inf";
    case Role::kRetraining:
      return "ret";
  }
  return "?";
}

std::string Allocation::DebugString(const hw::GpuModel& gpu, const PerfBook& book) const {
  std::string out;
  for (size_t g = 0; g < gpus.size(); ++g) {
    const GpuAllocation& a = gpus[g];
    out += fmt::format("gpu{} {}:", g, a.mig ? "mig" : "shared");
    const char* separator = " ";
    for (const Slot& slot : a.slots) {
      std::string where = slot.profile >= 0 && slot.profile < static_cast<int>(gpu.profiles.size())
                              ? gpu.profiles[slot.profile].name
                              : slot.label;
      if (slot.share < 1) where += fmt::format("x{:.2f}", slot.share);
      std::string who =
          slot.role == Role::kIdle || slot.tenant < 0 || slot.tenant >= book.tenant_count()
              ? std::string("idle")
              : fmt::format("{}/{}", book.tenants()[slot.tenant].name, RoleName(slot.role));
      out += fmt::format("{}{} {}", separator, where, who);
      separator = ", ";
    }
    out += "\n";
  }
  return out;
}

}  // namespace tessera::adapt
