// Workload values: input distributions, trace format names, lookups and DebugString.
#include <algorithm>
#include <numeric>

#include "fmt/core.h"
#include "tessera/workload/workload.h"

namespace tessera::workload {
namespace {

std::string InputString(const InputDistribution& input) {
  switch (input.kind) {
    case InputDistribution::Kind::kFixed:
      return fmt::format("fixed {}", input.fixed);
    case InputDistribution::Kind::kUniform:
      return fmt::format("uniform {}..{}", input.min, input.max);
    case InputDistribution::Kind::kEmpirical:
      return fmt::format("empirical {} sizes {}..{} mean {:.1f}", input.sizes.size(),
                         input.sizes.front(), input.sizes.back(), input.Mean());
  }
  return "";
}

std::string DemandString(const Demand& demand) {
  switch (demand.kind) {
    case Demand::Kind::kPoisson:
      return fmt::format("poisson {:g} rps", demand.rate_rps);
    case Demand::Kind::kGamma:
      return fmt::format("gamma {:g} rps cv {:g}", demand.rate_rps, demand.cv);
    case Demand::Kind::kTrace:
      return fmt::format(
          "trace {}{}{}{} scale {:g} (mean {:g} rps)", demand.trace,
          demand.trace_key.empty() ? "" : ":", std::string_view(demand.trace_key).substr(0, 8),
          demand.split_of > 0 ? fmt::format(" split {}/{}", demand.split_index, demand.split_of)
                              : "",
          demand.scale, demand.rate_rps);
  }
  return "";
}

}  // namespace

int InputDistribution::MaxSize() const {
  switch (kind) {
    case Kind::kFixed:
      return fixed;
    case Kind::kUniform:
      return max;
    case Kind::kEmpirical:
      return sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  }
  return 0;
}

double InputDistribution::Mean() const {
  switch (kind) {
    case Kind::kFixed:
      return fixed;
    case Kind::kUniform:
      return 0.5 * (min + max);
    case Kind::kEmpirical: {
      const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
      double sum = 0;
      for (size_t i = 0; i < sizes.size() && i < weights.size(); ++i) sum += sizes[i] * weights[i];
      return total > 0 ? sum / total : 0;
    }
  }
  return 0;
}

const char* TraceFormatName(TraceSpec::Format format) {
  switch (format) {
    case TraceSpec::Format::kAzureFunctions:
      return "azure-functions";
    case TraceSpec::Format::kAzureLlm:
      return "azure-llm";
    case TraceSpec::Format::kCsv:
      return "csv";
  }
  return "unknown";
}

int Workload::ModelIndex(std::string_view model) const {
  for (size_t i = 0; i < models.size(); ++i) {
    if (models[i].model == model) return static_cast<int>(i);
  }
  return -1;
}

const TraceSpec* Workload::FindTrace(std::string_view trace) const {
  for (const TraceSpec& spec : traces) {
    if (spec.name == trace) return &spec;
  }
  return nullptr;
}

std::string Workload::DebugString() const {
  std::string out = fmt::format("workload {}\n", name);
  for (const WorkloadModel& m : models) {
    out += fmt::format("  {} slo {:g} ms, input {}, demand {}\n", m.model, m.slo_ms,
                       InputString(m.input), DemandString(m.demand));
  }
  for (const Tenant& t : tenants) {
    out += fmt::format(
        "  tenant {}: {}, retrain every {:g} s on {:g} samples (cost x{:g}, batch {}), accuracy "
        "{:g} - {:g}/window -> {:g}\n",
        t.name, t.model, t.retraining_window_s, t.retraining_samples, t.training_cost_factor,
        t.retraining_batch, t.initial_accuracy, t.drift_per_window, t.accuracy_after_retraining);
  }
  return out;
}

}  // namespace tessera::workload
