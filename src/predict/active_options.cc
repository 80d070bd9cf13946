// Active profiling's options: measurement cost, budget parsing, phase names and option checks
// (predict/active.h).
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "fmt/core.h"
#include "tessera/base/status.h"
#include "tessera/predict/active.h"

namespace tessera::predict {

absl::Status MeasurementCost::Validate() const {
  if (warmup_iterations < 0) return absl::InvalidArgumentError("cost.warmup_iterations < 0");
  if (timed_iterations < 1) return absl::InvalidArgumentError("cost.timed_iterations < 1");
  if (!(setup_s >= 0)) return absl::InvalidArgumentError("cost.setup_s < 0");
  return absl::OkStatus();
}

double MeasurementSeconds(double latency_ms, const MeasurementCost& cost) {
  return cost.setup_s + (cost.warmup_iterations + cost.timed_iterations) * latency_ms / 1000;
}

std::string MeasurementBudget::ToString() const {
  if (kind == Kind::kGridShare) return fmt::format("{:g}%", value * 100);
  return fmt::format("{:g} GPU-s", value);
}

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// A whole-string number; nullopt for anything else ("", "1e", "abc", "nan").
std::optional<double> ParseNumber(std::string_view text) {
  std::string s(Trim(text));
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<MeasurementBudget> ParseMeasurementBudget(std::string_view text) {
  std::string_view t = Trim(text);
  auto bad = [&] {
    return absl::InvalidArgumentError(fmt::format(
        "budget '{}': expected a share of the grid (15%, in (0, 100]) or GPU time (3600s, 90m, "
        "2h)",
        text));
  };
  if (t.empty()) return bad();
  const std::map<char, double> units = {{'%', 0}, {'s', 1}, {'m', 60}, {'h', 3600}};
  auto unit = units.find(static_cast<char>(std::tolower(static_cast<unsigned char>(t.back()))));
  if (unit == units.end()) return bad();
  std::optional<double> number = ParseNumber(t.substr(0, t.size() - 1));
  if (!number || *number <= 0) return bad();
  MeasurementBudget budget;
  if (unit->first == '%') {
    if (*number > 100) return bad();
    budget.kind = MeasurementBudget::Kind::kGridShare;
    budget.value = *number / 100;
  } else {
    budget.kind = MeasurementBudget::Kind::kGpuSeconds;
    budget.value = *number * unit->second;
  }
  return budget;
}

const char* SelectionPhaseName(SelectionPhase phase) {
  switch (phase) {
    case SelectionPhase::kSpaceFilling:
      return "space-filling";
    case SelectionPhase::kUncertainty:
      return "uncertainty";
    case SelectionPhase::kDisagreement:
      return "disagreement";
    case SelectionPhase::kUnpredictable:
      return "unpredictable";
  }
  return "?";
}

absl::Status ActiveOptions::Validate() const {
  RETURN_IF_ERROR(cost.Validate());
  if (!(budget.value > 0) ||
      (budget.kind == MeasurementBudget::Kind::kGridShare && budget.value > 1)) {
    return absl::InvalidArgumentError(fmt::format(
        "budget.value {}: a grid share must be in (0, 1], GPU-seconds above 0", budget.value));
  }
  if (!(space_filling_share >= 0 && space_filling_share <= 1)) {
    return absl::InvalidArgumentError("space_filling_share must be in [0, 1]");
  }
  if (rounds < 1) return absl::InvalidArgumentError("rounds must be at least 1");
  if (predictor.empty()) return absl::InvalidArgumentError("predictor is empty");
  if (reference_predictor == predictor) {
    return absl::InvalidArgumentError(fmt::format(
        "reference_predictor '{}' is the predictor itself; leave it empty or name another",
        reference_predictor));
  }
  return absl::OkStatus();
}

}  // namespace tessera::predict
