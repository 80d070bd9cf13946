#include "internal/trace_summary.h"

#include <cstdint>
#include <map>
#include <string>

#include "fmt/core.h"
#include "internal/trace_files.h"
#include "tessera/base/status.h"

namespace tessera::workload::internal {
namespace {

// Counts of each input size (at most the model's maximum input of them).
using Histogram = std::map<int, int64_t>;

InputDistribution Empirical(const Histogram& histogram) {
  InputDistribution input;
  input.kind = InputDistribution::Kind::kEmpirical;
  int64_t total = 0;
  for (const auto& [size, count] : histogram) total += count;
  for (const auto& [size, count] : histogram) {
    input.sizes.push_back(size);
    input.weights.push_back(static_cast<double>(count) / static_cast<double>(total));
  }
  return input;
}

// A trace file's error, with the place in the workload file that names the trace.
absl::Status InTrace(const absl::Status& status, const TraceSpec& trace, const YamlView& place) {
  return absl::Status(status.code(),
                      fmt::format("{} (trace '{}', declared at {})", std::string(status.message()),
                                  trace.name, place.Location()));
}

// The models (indices) whose demand replays `trace`.
std::vector<size_t> ModelsOf(const Workload& workload, const TraceSpec& trace) {
  std::vector<size_t> out;
  for (size_t i = 0; i < workload.models.size(); ++i) {
    const Demand& d = workload.models[i].demand;
    if (d.kind == Demand::Kind::kTrace && d.trace == trace.name) out.push_back(i);
  }
  return out;
}

double MeanRate(int64_t requests, int64_t span_ns, double scale) {
  if (span_ns <= 0) return 0;
  return static_cast<double>(requests) * scale / (static_cast<double>(span_ns) / 1e9);
}

absl::Status SetInputsFromTrace(WorkloadModel& model, const Histogram& histogram,
                                const TraceSpec& trace, const YamlView& demand) {
  if (histogram.empty()) {
    return demand.Get("trace")
        .Get("inputs_from_trace")
        .Error(fmt::format("trace '{}' has no request for model {}, so it gives no input sizes; "
                           "set inputs_from_trace: false and give input",
                           trace.name, model.model));
  }
  model.input = Empirical(histogram);
  return absl::OkStatus();
}

// A split group with no function (more groups than the file has functions) is an error.
absl::Status CheckGroupNotEmpty(const FunctionRow& group, const Demand& demand,
                                const TraceSpec& trace, const YamlView& demand_place) {
  if (demand.split_of <= 0 || group.functions > 0) return absl::OkStatus();
  return demand_place.Get("trace").Get("split").Error(fmt::format(
      "group {} of {} holds no function: {} has fewer than {} functions; split it into fewer "
      "groups",
      demand.split_index, demand.split_of, trace.path, demand.split_of));
}

// Sets the mean rate over the replayed part and, for `mean_rps`, the scale that gives it.
absl::Status SetFunctionsRate(const FunctionRow& row, double seconds, const TraceSpec& trace,
                              const YamlView& demand_place, Demand& demand) {
  int64_t total = 0;
  for (int64_t count : row.counts) total += count;
  if (!(demand.mean_rps > 0)) {
    demand.rate_rps = static_cast<double>(total) * demand.scale / seconds;
    return absl::OkStatus();
  }
  if (total == 0) {
    return demand_place.Get("trace")
        .Get("mean_rps")
        .Error(fmt::format(
            "the trace gives this model no request in minutes {}..{}, so no scale reaches {} "
            "requests/s; pick other minutes, another function or group, or a poisson demand",
            trace.first_minute, trace.last_minute, demand.mean_rps));
  }
  demand.scale = demand.mean_rps * seconds / static_cast<double>(total);
  demand.rate_rps = demand.mean_rps;
  return absl::OkStatus();
}

absl::Status SummarizeFunctions(Workload& workload, const TraceSpec& trace, const YamlView& place,
                                const WorkloadPlaces& places, const std::vector<size_t>& models) {
  std::vector<FunctionSelector> selectors;
  for (size_t m : models) {
    const Demand& d = workload.models[m].demand;
    selectors.push_back({d.trace_key, d.split_of, d.split_index});
  }
  auto matches =
      ReadFunctionSelections(trace.path, selectors, trace.first_minute, trace.last_minute);
  if (!matches.ok()) return InTrace(matches.status(), trace, place);
  const double seconds = 60.0 * (trace.last_minute - trace.first_minute + 1);
  for (size_t k = 0; k < models.size(); ++k) {
    Demand& demand = workload.models[models[k]].demand;
    const YamlView& demand_place = places.demands[models[k]];
    absl::StatusOr<const FunctionRow*> row =
        PickFunction((*matches)[k], selectors[k].key, trace.path);
    if (!row.ok()) {
      return demand_place.Get("trace").Get("function").Error(std::string(row.status().message()));
    }
    RETURN_IF_ERROR(CheckGroupNotEmpty(**row, demand, trace, demand_place));
    if (demand.split_of <= 0) demand.trace_key = (*row)->function;
    RETURN_IF_ERROR(SetFunctionsRate(**row, seconds, trace, demand_place, demand));
  }
  return absl::OkStatus();
}

// What the pass gathers for the models of a trace with one row per request.
struct Tally {
  std::vector<size_t> models;     // workload model indices
  std::vector<int> max_inputs;    // per model
  std::vector<int64_t> requests;  // per model
  std::vector<Histogram> inputs;  // per model that takes its inputs from the trace
  int64_t span_ns = 0;            // the last request's time
};

absl::StatusOr<Tally> StartTally(const Workload& workload, const TraceSpec& trace,
                                 const models::ModelRegistry& registry) {
  Tally tally;
  tally.models = ModelsOf(workload, trace);
  for (size_t m : tally.models) {
    ASSIGN_OR_RETURN(const models::ModelInfo* info, registry.Find(workload.models[m].model));
    tally.max_inputs.push_back(info->max_input);
  }
  tally.requests.assign(tally.models.size(), 0);
  tally.inputs.resize(tally.models.size());
  return tally;
}

absl::Status ReadLlm(const Workload& workload, const TraceSpec& trace, Tally& tally) {
  ASSIGN_OR_RETURN(LlmTraceReader reader, LlmTraceReader::Open(trace.path));
  LlmRow row;
  for (int64_t row_index = 0;; ++row_index) {
    ASSIGN_OR_RETURN(bool more, reader.Next(row));
    if (!more) return absl::OkStatus();
    tally.span_ns = row.time_ns;
    for (size_t k = 0; k < tally.models.size(); ++k) {
      if (!InSplit(workload.models[tally.models[k]].demand, row_index)) continue;
      ++tally.requests[k];
      if (!workload.models[tally.models[k]].demand.inputs_from_trace) continue;
      ++tally.inputs[k][TokensToInput(row.context_tokens, trace.tokens_per_input,
                                      tally.max_inputs[k])];
    }
  }
}

absl::Status ReadCsv(const Workload& workload, const TraceSpec& trace,
                     const models::ModelRegistry& registry, Tally& tally) {
  ASSIGN_OR_RETURN(CsvTraceReader reader, CsvTraceReader::Open(trace.path, registry));
  CsvTraceRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(row));
    if (!more) return absl::OkStatus();
    tally.span_ns = row.time_ns;
    for (size_t k = 0; k < tally.models.size(); ++k) {
      const Demand& demand = workload.models[tally.models[k]].demand;
      if (demand.trace_key != row.model->name) continue;
      ++tally.requests[k];
      if (!demand.inputs_from_trace) continue;
      if (!row.input) {
        return absl::InvalidArgumentError(fmt::format(
            "{}:{}: column input_size: is empty, but model {} takes its inputs from the trace; "
            "fill it in",
            trace.path, row.line, workload.models[tally.models[k]].model));
      }
      ++tally.inputs[k][*row.input];
    }
  }
}

absl::Status SummarizeRows(Workload& workload, const TraceSpec& trace, const YamlView& place,
                           const WorkloadPlaces& places, const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(Tally tally, StartTally(workload, trace, registry));
  const absl::Status read = trace.format == TraceSpec::Format::kAzureLlm
                                ? ReadLlm(workload, trace, tally)
                                : ReadCsv(workload, trace, registry, tally);
  if (!read.ok()) return InTrace(read, trace, place);
  for (size_t k = 0; k < tally.models.size(); ++k) {
    WorkloadModel& model = workload.models[tally.models[k]];
    model.demand.rate_rps = MeanRate(tally.requests[k], tally.span_ns, model.demand.scale);
    if (model.demand.mean_rps > 0) {
      // Azure LLM: repeat every request so the mean rate is mean_rps (time is not compressed).
      if (!(model.demand.rate_rps > 0)) {
        return places.demands[tally.models[k]]
            .Get("trace")
            .Get("mean_rps")
            .Error(fmt::format("the trace gives this model no request, so no repetition reaches "
                               "{} requests/s; pick another group or a poisson demand",
                               model.demand.mean_rps));
      }
      model.demand.repeat = model.demand.mean_rps / model.demand.rate_rps;
      model.demand.rate_rps = model.demand.mean_rps;
    }
    if (model.demand.inputs_from_trace) {
      RETURN_IF_ERROR(
          SetInputsFromTrace(model, tally.inputs[k], trace, places.demands[tally.models[k]]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SummarizeTraces(Workload& workload, const WorkloadPlaces& places,
                             const models::ModelRegistry& registry) {
  for (size_t t = 0; t < workload.traces.size(); ++t) {
    const TraceSpec& trace = workload.traces[t];
    if (trace.format == TraceSpec::Format::kAzureFunctions) {
      RETURN_IF_ERROR(
          SummarizeFunctions(workload, trace, places.traces[t], places, ModelsOf(workload, trace)));
    } else {
      RETURN_IF_ERROR(SummarizeRows(workload, trace, places.traces[t], places, registry));
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::workload::internal
