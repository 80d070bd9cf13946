// Arrival generators (Poisson, Gamma renewal), the input-size sampler, and MakeArrivalSources,
// which builds one source per generated model and one per trace in use.
#include "tessera/workload/arrivals.h"

#include <cmath>
#include <utility>

#include "fmt/core.h"
#include "internal/sources.h"
#include "tessera/base/status.h"

namespace tessera::workload {
namespace {

// Inter-arrival gaps drawn independently: exponential (Poisson) or Gamma with shape 1/cv² and
// mean 1/rate.
class RenewalSource : public ArrivalSource {
 public:
  RenewalSource(internal::ModelTarget target, uint64_t seed, double duration_s)
      : target_(std::move(target)),
        rng_(seed, static_cast<uint64_t>(target_.model)),
        poisson_(target_.demand.kind == Demand::Kind::kPoisson),
        rate_(target_.demand.rate_rps),
        shape_(1.0 / (target_.demand.cv * target_.demand.cv)),
        duration_s_(duration_s) {}

  bool Next(Arrival& arrival) override {
    if (done_) return false;
    t_s_ += poisson_ ? rng_.Exponential(rate_) : rng_.Gamma(shape_, 1.0 / (shape_ * rate_));
    if (t_s_ >= duration_s_) {
      done_ = true;
      return false;
    }
    arrival = {internal::SecondsToNs(t_s_), target_.model, target_.Input(std::nullopt)};
    return true;
  }

 private:
  internal::ModelTarget target_;
  RngStream rng_;
  bool poisson_;
  double rate_;
  double shape_;
  double duration_s_;
  double t_s_ = 0;
  bool done_ = false;
};

absl::StatusOr<internal::ModelTarget> MakeTarget(const Workload& workload, int model,
                                                 const models::ModelRegistry& registry,
                                                 uint64_t seed) {
  ASSIGN_OR_RETURN(const models::ModelInfo* info,
                   registry.Find(workload.models[static_cast<size_t>(model)].model));
  return internal::ModelTarget(workload, model, *info, seed);
}

bool UsesRowTimes(TraceSpec::Format format) { return format != TraceSpec::Format::kAzureFunctions; }

// The models whose demand replays `trace`, as targets; for traces whose time is compressed by the
// scale, they must agree on it.
absl::StatusOr<std::vector<internal::ModelTarget>> TraceTargets(
    const Workload& workload, const TraceSpec& trace, const models::ModelRegistry& registry,
    uint64_t seed) {
  std::vector<internal::ModelTarget> targets;
  for (size_t i = 0; i < workload.models.size(); ++i) {
    const Demand& demand = workload.models[i].demand;
    if (demand.kind != Demand::Kind::kTrace || demand.trace != trace.name) continue;
    if (UsesRowTimes(trace.format) && !targets.empty() &&
        targets.front().demand.scale != demand.scale) {
      return absl::InvalidArgumentError(fmt::format(
          "models {} and {} replay {} trace '{}' with different scales ({} and {}); the scale "
          "compresses the trace's time, so give them one",
          targets.front().name, workload.models[i].model, TraceFormatName(trace.format), trace.name,
          targets.front().demand.scale, demand.scale));
    }
    ASSIGN_OR_RETURN(internal::ModelTarget target,
                     MakeTarget(workload, static_cast<int>(i), registry, seed));
    targets.push_back(std::move(target));
  }
  return targets;
}

absl::StatusOr<std::unique_ptr<ArrivalSource>> MakeTraceSource(
    const TraceSpec& trace, std::vector<internal::ModelTarget> targets,
    const models::ModelRegistry& registry, const ArrivalOptions& options) {
  switch (trace.format) {
    case TraceSpec::Format::kAzureFunctions:
      return internal::MakeFunctionsSource(trace, std::move(targets), options);
    case TraceSpec::Format::kAzureLlm:
      return internal::MakeLlmSource(trace, std::move(targets), options);
    case TraceSpec::Format::kCsv:
      return internal::MakeCsvTraceSource(trace, std::move(targets), registry, options);
  }
  return absl::InternalError("unknown trace format");
}

// A split names a group that exists, of an Azure Functions (without a key) or Azure LLM trace.
absl::Status CheckSplit(const WorkloadModel& m, const TraceSpec& trace) {
  const Demand& d = m.demand;
  if (d.split_of == 0) return absl::OkStatus();
  const bool format_ok =
      trace.format == TraceSpec::Format::kAzureLlm ||
      (trace.format == TraceSpec::Format::kAzureFunctions && d.trace_key.empty());
  if (d.split_of < 0 || d.split_index < 0 || d.split_index >= d.split_of || !format_ok) {
    return absl::InvalidArgumentError(fmt::format(
        "model {}: split {{of: {}, index: {}}} of {} trace '{}' needs of >= 1, 0 <= index < of, "
        "an azure-functions or azure-llm trace and no function key",
        m.model, d.split_of, d.split_index, TraceFormatName(trace.format), trace.name));
  }
  return absl::OkStatus();
}

// What the loader guarantees and the generators rely on, for workloads built by hand.
absl::Status CheckDemands(const Workload& workload) {
  for (const WorkloadModel& m : workload.models) {
    const Demand& d = m.demand;
    const TraceSpec* trace = d.kind == Demand::Kind::kTrace ? workload.FindTrace(d.trace) : nullptr;
    if (d.kind == Demand::Kind::kTrace && trace == nullptr) {
      return absl::InvalidArgumentError(fmt::format(
          "model {} replays trace '{}', which the workload does not define", m.model, d.trace));
    }
    const bool positive =
        d.kind == Demand::Kind::kTrace
            ? d.scale > 0 && trace->within_minute_cv > 0 && trace->tokens_per_input > 0
            : d.rate_rps > 0 && d.cv > 0;
    if (!positive || !std::isfinite(d.rate_rps) || !std::isfinite(d.cv)) {
      return absl::InvalidArgumentError(fmt::format(
          "model {}: rates, cv, scale, within_minute_cv and tokens_per_input must be positive",
          m.model));
    }
    if (trace != nullptr) RETURN_IF_ERROR(CheckSplit(m, *trace));
  }
  return absl::OkStatus();
}

}  // namespace

namespace internal {

ModelTarget::ModelTarget(const Workload& workload, int model_index, const models::ModelInfo& model,
                         uint64_t seed)
    : model(model_index),
      name(model.name),
      max_input(model.max_input),
      demand(workload.models[static_cast<size_t>(model_index)].demand),
      sampler(workload.models[static_cast<size_t>(model_index)].input),
      input_rng(seed, kInputStreamBase + static_cast<uint64_t>(model_index)) {}

int ModelTarget::Input(std::optional<int> from_trace) {
  if (demand.inputs_from_trace && from_trace) return *from_trace;
  return sampler.Sample(input_rng);
}

}  // namespace internal

absl::Status ArrivalOptions::Validate() const {
  if (!(duration_s > 0) || !(duration_s <= 9e9)) {
    return absl::InvalidArgumentError(
        fmt::format("duration_s must be positive and at most 9e9 seconds, found {}", duration_s));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::unique_ptr<ArrivalSource>>> MakeArrivalSources(
    const Workload& workload, const models::ModelRegistry& registry,
    const ArrivalOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(CheckDemands(workload));
  std::vector<std::unique_ptr<ArrivalSource>> sources;
  for (size_t i = 0; i < workload.models.size(); ++i) {
    if (workload.models[i].demand.kind == Demand::Kind::kTrace) continue;
    ASSIGN_OR_RETURN(internal::ModelTarget target,
                     MakeTarget(workload, static_cast<int>(i), registry, options.seed));
    sources.push_back(
        std::make_unique<RenewalSource>(std::move(target), options.seed, options.duration_s));
  }
  for (const TraceSpec& trace : workload.traces) {
    ASSIGN_OR_RETURN(std::vector<internal::ModelTarget> targets,
                     TraceTargets(workload, trace, registry, options.seed));
    if (targets.empty()) continue;
    ASSIGN_OR_RETURN(std::unique_ptr<ArrivalSource> source,
                     MakeTraceSource(trace, std::move(targets), registry, options));
    sources.push_back(std::move(source));
  }
  return sources;
}

InputSampler::InputSampler(const InputDistribution& distribution)
    : kind_(distribution.kind),
      fixed_(distribution.fixed),
      min_(distribution.min),
      max_(distribution.max),
      sizes_(distribution.sizes) {
  if (kind_ != InputDistribution::Kind::kEmpirical) return;
  TESSERA_CHECK(!sizes_.empty() && distribution.weights.size() == sizes_.size());
  // Vose's alias method: split each column's excess mass onto the columns below 1.
  const size_t n = sizes_.size();
  double total = 0;
  for (double w : distribution.weights) total += w;
  std::vector<double> scaled(n);
  std::vector<size_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = distribution.weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  probability_.assign(n, 1.0);
  alias_.resize(n);
  for (size_t i = 0; i < n; ++i) alias_[i] = static_cast<int>(i);
  while (!small.empty() && !large.empty()) {
    const size_t s = small.back(), l = large.back();
    small.pop_back();
    probability_[s] = scaled[s];
    alias_[s] = static_cast<int>(l);
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
}

int InputSampler::Sample(RngStream& rng) const {
  switch (kind_) {
    case InputDistribution::Kind::kFixed:
      return fixed_;
    case InputDistribution::Kind::kUniform:
      return min_ + static_cast<int>(rng.Below(static_cast<uint64_t>(max_ - min_) + 1));
    case InputDistribution::Kind::kEmpirical: {
      const size_t column = rng.Below(sizes_.size());
      return rng.Uniform() < probability_[column] ? sizes_[column]
                                                  : sizes_[static_cast<size_t>(alias_[column])];
    }
  }
  return fixed_;
}

}  // namespace tessera::workload
