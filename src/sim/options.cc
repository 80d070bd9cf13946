// SimOptions validation and router names.
#include <cmath>
#include <utility>

#include "fmt/core.h"
#include "tessera/sim/simulator.h"

namespace tessera::sim {

absl::StatusOr<RouterKind> ParseRouter(std::string_view name) {
  if (name == "round-robin") return RouterKind::kRoundRobin;
  if (name == "least-outstanding") return RouterKind::kLeastOutstanding;
  if (name == "shortest-expected-completion" || name == "sec" || name == "elsa") {
    return RouterKind::kShortestExpectedCompletion;
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown router '{}'; use round-robin, least-outstanding or shortest-expected-completion",
      name));
}

const char* RouterName(RouterKind kind) {
  switch (kind) {
    case RouterKind::kRoundRobin:
      return "round-robin";
    case RouterKind::kLeastOutstanding:
      return "least-outstanding";
    case RouterKind::kShortestExpectedCompletion:
      return "shortest-expected-completion";
  }
  return "?";
}

absl::Status SimOptions::Validate() const {
  auto bad = [](std::string_view field, std::string_view what) {
    return absl::InvalidArgumentError(fmt::format("simulation option {}: {}", field, what));
  };
  for (auto [field, value] : {std::pair<const char*, double>{"duration_s", duration_s},
                              {"warmup_s", warmup_s},
                              {"batch_timeout_ms", batch_timeout_ms},
                              {"noise_cv", noise_cv}}) {
    if (!std::isfinite(value)) return bad(field, "must be a finite number");
  }
  if (!(duration_s > 0) || duration_s > 1e9) {
    return bad("duration_s", "must be positive and at most 1e9 seconds");
  }
  if (warmup_s < 0 || warmup_s >= duration_s) {
    return bad("warmup_s", "must be at least 0 and shorter than the duration");
  }
  if (batch_timeout_ms > 1e9) return bad("batch_timeout_ms", "must be at most 1e9 ms");
  if (noise_cv < 0 || noise_cv > 10) return bad("noise_cv", "must be in [0, 10]");
  return absl::OkStatus();
}

}  // namespace tessera::sim
