#include "tessera/planners/interference.h"

#include "fmt/core.h"
#include "tessera/base/status.h"

namespace tessera::planners {

ConstantInterference::ConstantInterference(double factor) : factor_(factor) {
  TESSERA_CHECK(factor >= 1);
}

std::string ConstantInterference::Describe() const {
  return fmt::format(
      "constant interference: every batch {:g}x its solo latency when other partitions share its "
      "GPU",
      factor_);
}

double ConstantInterference::BudgetSlowdown(const InterferenceJob&) const { return factor_; }

double ConstantInterference::Slowdown(const InterferenceJob&,
                                      const std::vector<InterferenceJob>& neighbours) const {
  return neighbours.empty() ? 1.0 : factor_;
}

}  // namespace tessera::planners
