// Reads workload files (documented in docs/formats.md, "Workload") into Workload values and checks
// them: every error names the file, line, column and field, and says what to fix.
#include "tessera/workload/workload.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "internal/tenants.h"
#include "internal/trace_summary.h"
#include "tessera/base/csv.h"
#include "tessera/base/status.h"
#include "tessera/base/yaml.h"

namespace tessera::workload {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMinFunctionKey = 8;

// A parsed trace with the place that declared it and whether a model uses it.
struct TraceEntry {
  TraceSpec spec;
  YamlView view;
  bool used = false;
};

// The one key of a mapping that must hold exactly one of `choices`.
absl::StatusOr<std::string> ReadChoice(const YamlView& view,
                                       std::initializer_list<std::string_view> choices) {
  RETURN_IF_ERROR(view.CheckKeys(choices));
  ASSIGN_OR_RETURN(std::vector<std::string> keys, view.Keys());
  if (keys.size() != 1) {
    return view.Error(
        fmt::format("give exactly one of {}, found {}", fmt::join(choices, ", "),
                    keys.empty() ? "none" : fmt::format("{}", fmt::join(keys, ", "))));
  }
  return keys[0];
}

// ---- traces

absl::StatusOr<TraceSpec::Format> ReadFormat(const YamlView& view) {
  ASSIGN_OR_RETURN(std::string name, view.String());
  for (auto format : {TraceSpec::Format::kAzureFunctions, TraceSpec::Format::kAzureLlm,
                      TraceSpec::Format::kCsv}) {
    if (name == TraceFormatName(format)) return format;
  }
  return view.Error(
      fmt::format("unknown trace format '{}'; use azure-functions, azure-llm or csv", name));
}

absl::StatusOr<std::string> ReadTracePath(const YamlView& view, const std::string& base_dir) {
  ASSIGN_OR_RETURN(std::string text, view.NonEmptyString("the trace file's path"));
  fs::path path(text);
  if (path.is_relative() && !base_dir.empty()) path = fs::path(base_dir) / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return view.Error(fmt::format(
        "trace file '{}' not found (looked for {}); paths are relative to the workload file's "
        "folder",
        text, path.string()));
  }
  return path.string();
}

// A key that only some formats take is an error elsewhere.
absl::Status CheckFormatKey(const YamlView& item, std::string_view key, bool allowed,
                            std::string_view formats) {
  if (allowed || !item.Has(key)) return absl::OkStatus();
  return item.Get(key).Error(fmt::format("applies to {} traces only; remove it", formats));
}

absl::Status ReadMinutes(const YamlView& view, TraceSpec& trace) {
  ASSIGN_OR_RETURN(std::vector<YamlView> items, view.Items());
  if (items.size() != 2) {
    return view.Error(
        fmt::format("expected [first, last] (minutes of the day, 1..1440), found {} "
                    "values",
                    items.size()));
  }
  int minutes[2];
  for (size_t i = 0; i < 2; ++i) {
    ASSIGN_OR_RETURN(int64_t minute, items[i].Int());
    if (minute < 1 || minute > 1440) {
      return items[i].Error(
          fmt::format("minute {} is outside the day; use a minute in 1..1440", minute));
    }
    minutes[i] = static_cast<int>(minute);
  }
  if (minutes[0] > minutes[1]) {
    return view.Error(fmt::format("first minute {} is after last minute {}; write [first, last]",
                                  minutes[0], minutes[1]));
  }
  trace.first_minute = minutes[0];
  trace.last_minute = minutes[1];
  return absl::OkStatus();
}

absl::Status ReadFormatOptions(const YamlView& item, TraceSpec& trace) {
  const bool functions = trace.format == TraceSpec::Format::kAzureFunctions;
  const bool llm = trace.format == TraceSpec::Format::kAzureLlm;
  RETURN_IF_ERROR(CheckFormatKey(item, "minutes", functions, "azure-functions"));
  RETURN_IF_ERROR(CheckFormatKey(item, "within_minute_cv", functions, "azure-functions"));
  RETURN_IF_ERROR(CheckFormatKey(item, "tokens_per_input", llm, "azure-llm"));
  if (item.Has("minutes")) RETURN_IF_ERROR(ReadMinutes(item.Get("minutes"), trace));
  if (item.Has("within_minute_cv")) {
    ASSIGN_OR_RETURN(trace.within_minute_cv, item.Get("within_minute_cv").PositiveDouble());
  }
  if (item.Has("tokens_per_input")) {
    ASSIGN_OR_RETURN(trace.tokens_per_input, item.Get("tokens_per_input").PositiveDouble());
  }
  return absl::OkStatus();
}

absl::StatusOr<TraceSpec> ParseTrace(const YamlView& item, const std::string& base_dir) {
  RETURN_IF_ERROR(item.CheckKeys(
      {"name", "format", "path", "minutes", "within_minute_cv", "tokens_per_input"}));
  TraceSpec trace;
  ASSIGN_OR_RETURN(trace.name, item.Get("name").NonEmptyString("a name models refer to"));
  ASSIGN_OR_RETURN(trace.format, ReadFormat(item.Get("format")));
  ASSIGN_OR_RETURN(trace.path, ReadTracePath(item.Get("path"), base_dir));
  RETURN_IF_ERROR(ReadFormatOptions(item, trace));
  return trace;
}

absl::StatusOr<std::vector<TraceEntry>> ParseTraces(const YamlView& root,
                                                    const std::string& base_dir) {
  std::vector<TraceEntry> traces;
  if (root.Get("traces").IsNull()) return traces;
  ASSIGN_OR_RETURN(std::vector<YamlView> items, root.Get("traces").Items());
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(TraceSpec spec, ParseTrace(item, base_dir));
    for (const TraceEntry& other : traces) {
      if (other.spec.name == spec.name) {
        return item.Get("name").Error(
            fmt::format("trace '{}' is already defined at {}; give each trace its own name",
                        spec.name, other.view.Location()));
      }
    }
    traces.push_back({std::move(spec), item});
  }
  return traces;
}

// ---- models

absl::StatusOr<int> ReadSize(const YamlView& view, const models::ModelInfo& info) {
  ASSIGN_OR_RETURN(int64_t size, view.Int());
  if (size < 1 || size > info.max_input) {
    return view.Error(fmt::format("input size {} is outside 1..{} ({}'s maximum input, in {})",
                                  size, info.max_input, info.name,
                                  models::InputUnitName(info.input_unit)));
  }
  return static_cast<int>(size);
}

absl::Status ReadEmpirical(const YamlView& view, const models::ModelInfo& info,
                           InputDistribution& input) {
  RETURN_IF_ERROR(view.CheckKeys({"sizes", "weights"}));
  ASSIGN_OR_RETURN(std::vector<YamlView> sizes, view.Get("sizes").Items());
  ASSIGN_OR_RETURN(std::vector<YamlView> weights, view.Get("weights").Items());
  if (sizes.empty()) return view.Get("sizes").Error("needs at least one input size");
  if (weights.size() != sizes.size()) {
    return view.Get("weights").Error(fmt::format(
        "has {} weights for {} sizes; give one weight per size", weights.size(), sizes.size()));
  }
  std::map<int, double> by_size;
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSIGN_OR_RETURN(int size, ReadSize(sizes[i], info));
    ASSIGN_OR_RETURN(double weight, weights[i].PositiveDouble());
    if (!by_size.emplace(size, weight).second) {
      return sizes[i].Error(fmt::format("size {} appears twice; list each size once", size));
    }
  }
  double total = 0;
  for (const auto& [size, weight] : by_size) total += weight;
  for (const auto& [size, weight] : by_size) {
    input.sizes.push_back(size);
    input.weights.push_back(weight / total);
  }
  return absl::OkStatus();
}

absl::StatusOr<InputDistribution> ParseInput(const YamlView& model, const models::ModelInfo& info) {
  InputDistribution input;
  if (!model.Has("input")) {
    input.fixed = info.reference_input;
    if (input.fixed < 1) return model.Get("input").Error("missing; give the input sizes");
    return input;
  }
  const YamlView view = model.Get("input");
  ASSIGN_OR_RETURN(std::string kind, ReadChoice(view, {"fixed", "empirical", "uniform"}));
  if (kind == "fixed") {
    ASSIGN_OR_RETURN(input.fixed, ReadSize(view.Get("fixed"), info));
  } else if (kind == "empirical") {
    input.kind = InputDistribution::Kind::kEmpirical;
    RETURN_IF_ERROR(ReadEmpirical(view.Get("empirical"), info, input));
  } else {
    input.kind = InputDistribution::Kind::kUniform;
    const YamlView uniform = view.Get("uniform");
    RETURN_IF_ERROR(uniform.CheckKeys({"min", "max"}));
    ASSIGN_OR_RETURN(input.min, ReadSize(uniform.Get("min"), info));
    ASSIGN_OR_RETURN(input.max, ReadSize(uniform.Get("max"), info));
    if (input.min > input.max) {
      return uniform.Get("max").Error(
          fmt::format("max {} is below min {}; write min <= max", input.max, input.min));
    }
  }
  return input;
}

// REQUIRES: `name` is defined.
const TraceSpec& FindTraceSpec(const std::vector<TraceEntry>& traces, std::string_view name) {
  for (const TraceEntry& entry : traces) {
    if (entry.spec.name == name) return entry.spec;
  }
  TESSERA_CHECK(false);
}

absl::StatusOr<TraceEntry*> FindTraceEntry(const YamlView& view, std::vector<TraceEntry>& traces) {
  ASSIGN_OR_RETURN(std::string name, view.String());
  std::vector<std::string> names;
  for (TraceEntry& entry : traces) {
    if (entry.spec.name == name) return &entry;
    names.push_back(entry.spec.name);
  }
  return view.Error(
      fmt::format("trace '{}' is not defined; define it under traces: (defined: {})", name,
                  names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
}

absl::Status ReadTraceKey(const YamlView& view, const TraceSpec& trace,
                          const models::ModelRegistry& registry, Demand& demand) {
  const bool functions = trace.format == TraceSpec::Format::kAzureFunctions;
  const bool csv = trace.format == TraceSpec::Format::kCsv;
  RETURN_IF_ERROR(CheckFormatKey(view, "function", functions, "azure-functions"));
  RETURN_IF_ERROR(CheckFormatKey(view, "model", csv, "csv"));
  RETURN_IF_ERROR(CheckFormatKey(view, "inputs_from_trace", !functions, "azure-llm and csv"));
  if (functions && view.Has("split")) {
    if (!view.Has("function")) return absl::OkStatus();
    return view.Get("function")
        .Error(
            "a split model replays a group of the trace's functions; give function or split, not "
            "both");
  }
  if (functions) {
    ASSIGN_OR_RETURN(demand.trace_key, view.Get("function").String());
    if (demand.trace_key.size() < kMinFunctionKey) {
      return view.Get("function")
          .Error(fmt::format(
              "'{}' is too short; give the HashFunction or at least its first {} characters",
              demand.trace_key, kMinFunctionKey));
    }
  }
  if (csv && view.Has("model")) {
    ASSIGN_OR_RETURN(std::string name, view.Get("model").String());
    absl::StatusOr<const models::ModelInfo*> key = registry.Find(name);
    if (!key.ok()) return view.Get("model").Error(std::string(key.status().message()));
    demand.trace_key = (*key)->name;
  }
  return absl::OkStatus();
}

// `split: {of, index}`, for azure-functions and azure-llm traces.
absl::Status ReadSplit(const YamlView& view, Demand& demand) {
  RETURN_IF_ERROR(view.CheckKeys({"of", "index"}));
  ASSIGN_OR_RETURN(int64_t of, view.Get("of").Int());
  if (of < 1 || of > 1'000'000) {
    return view.Get("of").Error(
        fmt::format("{} groups: give the number of groups, an integer >= 1", of));
  }
  ASSIGN_OR_RETURN(int64_t index, view.Get("index").Int());
  if (index < 0 || index >= of) {
    return view.Get("index").Error(fmt::format(
        "group {} does not exist; groups are numbered 0..{} (0 <= index < of)", index, of - 1));
  }
  demand.split_of = static_cast<int>(of);
  demand.split_index = static_cast<int>(index);
  return absl::OkStatus();
}

// `scale` or `mean_rps` (azure-functions and azure-llm; a CSV trace's scale compresses the time
// all of its models share, and its rows are not repeated).
absl::Status ReadScale(const YamlView& view, TraceSpec::Format format, Demand& demand) {
  if (view.Has("mean_rps") && format == TraceSpec::Format::kCsv) {
    return view.Get("mean_rps")
        .Error(
            "applies to azure-functions and azure-llm traces only: the scale of a csv trace "
            "compresses its time and is shared by all its models; give scale instead");
  }
  if (view.Has("mean_rps") && view.Has("scale")) {
    return view.Get("mean_rps")
        .Error(
            "give scale or mean_rps, not both: mean_rps sets the scale that gives this mean rate");
  }
  if (view.Has("scale")) {
    ASSIGN_OR_RETURN(demand.scale, view.Get("scale").PositiveDouble());
  }
  if (view.Has("mean_rps")) {
    ASSIGN_OR_RETURN(demand.mean_rps, view.Get("mean_rps").PositiveDouble());
  }
  return absl::OkStatus();
}

absl::Status ReadTraceDemand(const YamlView& view, std::vector<TraceEntry>& traces,
                             const models::ModelRegistry& registry, Demand& demand) {
  RETURN_IF_ERROR(view.CheckKeys(
      {"name", "function", "model", "scale", "mean_rps", "split", "inputs_from_trace"}));
  demand.kind = Demand::Kind::kTrace;
  ASSIGN_OR_RETURN(TraceEntry * entry, FindTraceEntry(view.Get("name"), traces));
  entry->used = true;
  demand.trace = entry->spec.name;
  const TraceSpec::Format format = entry->spec.format;
  RETURN_IF_ERROR(CheckFormatKey(view, "split", format != TraceSpec::Format::kCsv,
                                 "azure-functions and azure-llm"));
  if (view.Has("split")) RETURN_IF_ERROR(ReadSplit(view.Get("split"), demand));
  RETURN_IF_ERROR(ReadTraceKey(view, entry->spec, registry, demand));
  RETURN_IF_ERROR(ReadScale(view, format, demand));
  if (view.Has("inputs_from_trace")) {
    ASSIGN_OR_RETURN(demand.inputs_from_trace, view.Get("inputs_from_trace").Bool());
  }
  return absl::OkStatus();
}

absl::StatusOr<Demand> ParseDemand(const YamlView& view, std::vector<TraceEntry>& traces,
                                   const models::ModelRegistry& registry) {
  Demand demand;
  ASSIGN_OR_RETURN(std::string kind, ReadChoice(view, {"poisson", "gamma", "trace"}));
  const YamlView body = view.Get(kind);
  if (kind == "trace") {
    RETURN_IF_ERROR(ReadTraceDemand(body, traces, registry, demand));
    return demand;
  }
  demand.kind = kind == "poisson" ? Demand::Kind::kPoisson : Demand::Kind::kGamma;
  if (kind == "poisson") {
    RETURN_IF_ERROR(body.CheckKeys({"rate_rps"}));
  } else {
    RETURN_IF_ERROR(body.CheckKeys({"rate_rps", "cv"}));
    ASSIGN_OR_RETURN(demand.cv, body.Get("cv").PositiveDouble());
  }
  ASSIGN_OR_RETURN(demand.rate_rps, body.Get("rate_rps").PositiveDouble());
  return demand;
}

absl::StatusOr<WorkloadModel> ParseModel(const YamlView& item, std::vector<TraceEntry>& traces,
                                         const models::ModelRegistry& registry) {
  RETURN_IF_ERROR(item.CheckKeys({"model", "slo_ms", "input", "demand"}));
  WorkloadModel model;
  ASSIGN_OR_RETURN(std::string name, item.Get("model").String());
  absl::StatusOr<const models::ModelInfo*> info = registry.Find(name);
  if (!info.ok()) return item.Get("model").Error(std::string(info.status().message()));
  model.model = (*info)->name;
  ASSIGN_OR_RETURN(model.slo_ms, item.Get("slo_ms").PositiveDouble());
  ASSIGN_OR_RETURN(model.demand, ParseDemand(item.Get("demand"), traces, registry));
  if (model.demand.kind == Demand::Kind::kTrace && model.demand.trace_key.empty() &&
      FindTraceSpec(traces, model.demand.trace).format == TraceSpec::Format::kCsv) {
    model.demand.trace_key = model.model;
  }
  if (model.demand.inputs_from_trace && item.Has("input")) {
    return item.Get("input").Error(fmt::format(
        "remove it: the input sizes of {} come from trace '{}' (inputs_from_trace: true)",
        model.model, model.demand.trace));
  }
  if (!model.demand.inputs_from_trace) {
    ASSIGN_OR_RETURN(model.input, ParseInput(item, **info));
  }
  return model;
}

// A model listed twice is an error naming both places.
absl::Status CheckListedOnce(const std::vector<WorkloadModel>& models,
                             const std::vector<YamlView>& items) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < models.size(); ++i) {
    auto [it, inserted] = seen.emplace(models[i].model, i);
    if (inserted) continue;
    return items[i].Get("model").Error(
        fmt::format("model {} is already listed at models[{}] ({}); list each model once",
                    models[i].model, it->second, items[it->second].Location()));
  }
  return absl::OkStatus();
}

absl::Status CheckTracesUsed(const std::vector<TraceEntry>& traces) {
  for (const TraceEntry& entry : traces) {
    if (entry.used) continue;
    return entry.view.Get("name").Error(fmt::format(
        "trace '{}' is not used by any model; remove it or replay it from a model's demand",
        entry.spec.name));
  }
  return absl::OkStatus();
}

// Models replaying one azure-llm or csv trace share its scale, which compresses the trace's time.
absl::Status CheckSharedScales(const std::vector<WorkloadModel>& models,
                               const std::vector<YamlView>& items,
                               const std::vector<TraceEntry>& traces) {
  std::map<std::string, size_t> first_of_trace;
  for (size_t i = 0; i < models.size(); ++i) {
    const Demand& demand = models[i].demand;
    if (demand.kind != Demand::Kind::kTrace ||
        FindTraceSpec(traces, demand.trace).format == TraceSpec::Format::kAzureFunctions) {
      continue;
    }
    auto [it, inserted] = first_of_trace.emplace(demand.trace, i);
    const Demand& first = models[it->second].demand;
    if (inserted || first.scale == demand.scale) continue;
    return items[i].Get("demand").Get("trace").Error(fmt::format(
        "scale {} differs from {} given by {} for the same trace '{}'; the scale of an {} trace "
        "compresses its time, so all its models share one",
        demand.scale, first.scale, models[it->second].model, demand.trace,
        TraceFormatName(FindTraceSpec(traces, demand.trace).format)));
  }
  return absl::OkStatus();
}

absl::Status ParseModels(const YamlView& root, std::vector<TraceEntry>& traces,
                         const models::ModelRegistry& registry, Workload& workload,
                         internal::WorkloadPlaces& places) {
  const YamlView view = root.Get("models");
  ASSIGN_OR_RETURN(std::vector<YamlView> items, view.Items());
  if (items.empty()) return view.Error("lists no model; add at least one");
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(WorkloadModel model, ParseModel(item, traces, registry));
    workload.models.push_back(std::move(model));
    places.demands.push_back(item.Get("demand"));
  }
  RETURN_IF_ERROR(CheckListedOnce(workload.models, items));
  RETURN_IF_ERROR(CheckTracesUsed(traces));
  return CheckSharedScales(workload.models, items, traces);
}

absl::StatusOr<Workload> ParseRoot(const YamlView& root, const std::string& base_dir,
                                   const models::ModelRegistry& registry) {
  if (root.IsNull()) {
    return root.Error(
        "the file is empty; a workload is a mapping with name, models and optionally traces and "
        "tenants (see docs/formats.md)");
  }
  RETURN_IF_ERROR(root.CheckKeys({"name", "models", "traces", "tenants"}));
  Workload workload;
  internal::WorkloadPlaces places;
  ASSIGN_OR_RETURN(workload.name, root.Get("name").NonEmptyString("the workload's name"));
  ASSIGN_OR_RETURN(std::vector<TraceEntry> traces, ParseTraces(root, base_dir));
  RETURN_IF_ERROR(ParseModels(root, traces, registry, workload, places));
  ASSIGN_OR_RETURN(workload.tenants,
                   internal::ParseTenants(root.Get("tenants"), workload, registry));
  for (TraceEntry& entry : traces) {
    workload.traces.push_back(std::move(entry.spec));
    places.traces.push_back(entry.view);
  }
  RETURN_IF_ERROR(internal::SummarizeTraces(workload, places, registry));
  return workload;
}

}  // namespace

absl::StatusOr<Workload> ParseWorkload(std::string_view yaml_text, const std::string& source_name,
                                       const std::string& base_dir,
                                       const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadString(yaml_text, source_name));
  return ParseRoot(root, base_dir, registry);
}

absl::StatusOr<Workload> LoadWorkloadFile(const std::string& path,
                                          const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(YamlView root, YamlView::LoadFile(path));
  return ParseRoot(root, fs::path(path).parent_path().string(), registry);
}

}  // namespace tessera::workload
