// The arithmetic of SM splits (tessera/runtime_cuda/green_context.h): no device needed.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "fmt/core.h"
#include "fmt/format.h"
#include "tessera/runtime_cuda/green_context.h"

namespace tessera::runtime_cuda {
namespace {

std::string RuleText(const SmGranularity& g) {
  return fmt::format("{} SMs, partitions of at least {} SMs in multiples of {}", g.sm_count,
                     g.min_sms, g.alignment);
}

std::string Requests(const std::vector<int>& requested) {
  std::vector<std::string> parts;
  for (int r : requested) parts.push_back(fmt::format("sm:{}", r));
  return fmt::format("{}", fmt::join(parts, " + "));
}

// The largest divisor of `gcd` that is a legal partition size, or 0.
int LegalUnit(const SmGranularity& g, int gcd) {
  for (int d = gcd; d >= 1; --d) {
    if (gcd % d == 0 && d >= g.min_sms && d % std::max(g.alignment, 1) == 0) return d;
  }
  return 0;
}

}  // namespace

int GrantedSms(const SmGranularity& g, int requested) {
  int align = std::max(g.alignment, 1);
  int rounded = (requested + align - 1) / align * align;
  return std::max(rounded, g.min_sms);
}

absl::StatusOr<SmSplitPlan> PlanSmSplit(const SmGranularity& g, const std::vector<int>& requested) {
  if (requested.empty()) return absl::InvalidArgumentError("no SM partitions requested");
  SmSplitPlan plan;
  int gcd = 0;
  for (int r : requested) {
    if (r < 1) return absl::InvalidArgumentError(fmt::format("sm:{}: SM count must be >= 1", r));
    plan.granted.push_back(GrantedSms(g, r));
    gcd = std::gcd(gcd, plan.granted.back());
  }
  plan.unit = LegalUnit(g, gcd);
  if (plan.unit == 0) {
    return absl::FailedPreconditionError(fmt::format(
        "the SM partitions {} cannot be made from one split of a GPU with {}: their sizes share "
        "no legal group size; use SM counts that are multiples of {}",
        Requests(requested), RuleText(g), std::max(g.min_sms, g.alignment)));
  }
  for (int granted : plan.granted) {
    plan.first_unit.push_back(plan.units_total);
    plan.units_total += granted / plan.unit;
  }
  int capacity = g.sm_count / plan.unit;
  if (plan.units_total > capacity) {
    return absl::FailedPreconditionError(fmt::format(
        "the SM partitions {} (granted {} SMs) cannot be realised on a GPU with {}: one "
        "green-context split hands out at most {} SMs in groups of {}; make the partitions "
        "smaller or fewer",
        Requests(requested), plan.units_total * plan.unit, RuleText(g), capacity * plan.unit,
        plan.unit));
  }
  return plan;
}

std::string FormatUuid(const unsigned char b[16], bool mig) {
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    hex += fmt::format("{:02x}", b[i]);
  }
  return (mig ? "MIG-" : "GPU-") + hex;
}

}  // namespace tessera::runtime_cuda
