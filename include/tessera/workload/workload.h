// tessera/workload/workload.h — what is asked of the GPUs: models with latency SLOs, the sizes of
// their inputs, and how requests arrive.
//
// A workload YAML file (docs/formats.md, "Workload") lists models and, per model, an SLO, an
// input-size distribution and a demand: Poisson arrivals at a rate, Gamma-renewal arrivals with a
// coefficient of variation, or a trace (declared once under `traces:` and referred to by name, with
// the mapping from the trace's entities to this model). A `tenants:` section declares
// continuous-learning tenants: each serves one of the models and retrains it every retraining
// window (tessera/adapt).
//
// Loading reads every trace in use once, streaming (memory does not grow with the trace): it checks
// the rows, resolves Azure Functions keys, fills each trace demand's mean rate and, where inputs
// come from the trace, the model's input distribution. So a planner sees one rate and one input
// distribution per model whatever the demand's kind.
//
// Example:
//   ASSIGN_OR_RETURN(Workload w, LoadWorkloadFile("data/examples/h100_mix.yaml", registry));
//   for (const WorkloadModel& m : w.models) fmt::print("{} {} ms\n", m.model, m.slo_ms);
//
// Values; paths inside are resolved relative to the workload file when loaded. Members have default
// initializers so that designated initializers (`Demand{.kind = ..., .rate_rps = 5}`) compile
// warning-free under -Wextra.
#ifndef TESSERA_WORKLOAD_WORKLOAD_H_
#define TESSERA_WORKLOAD_WORKLOAD_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/models/registry.h"

namespace tessera::workload {

// Input sizes of a model's requests, in the model's input unit.
struct InputDistribution {
  enum class Kind { kFixed, kEmpirical, kUniform };
  Kind kind = Kind::kFixed;
  int fixed = 0;                  // kFixed
  std::vector<int> sizes{};       // kEmpirical: distinct sizes, ascending
  std::vector<double> weights{};  // kEmpirical: same length, positive, normalized to sum 1
  int min = 0, max = 0;           // kUniform: integers in [min, max]
  int MaxSize() const;
  double Mean() const;
  bool operator==(const InputDistribution&) const = default;
};

// A trace file declared once and referred to by name from models' demand.
struct TraceSpec {
  enum class Format { kAzureFunctions, kAzureLlm, kCsv };
  std::string name{};
  Format format = Format::kCsv;
  std::string path{};  // resolved (absolute, or relative to the working directory)
  // Azure Functions: which minutes of the day to replay, [first, last] 1-based inclusive; time 0 is
  // the start of `first_minute`. Arrivals inside a minute are a Poisson process conditioned on the
  // minute's count (cv = 1), or a Gamma renewal process with `within_minute_cv` at the minute's
  // rate.
  int first_minute = 1, last_minute = 1440;
  double within_minute_cv = 1.0;
  // Azure LLM: tokens per input unit (`ContextTokens / tokens_per_input`, rounded up, clamped to
  // [1, the model's maximum input]).
  double tokens_per_input = 1.0;
  bool operator==(const TraceSpec&) const = default;
};

// "azure-functions", "azure-llm", "csv": the names used in workload files.
const char* TraceFormatName(TraceSpec::Format format);

struct Demand {
  enum class Kind { kPoisson, kGamma, kTrace };
  Kind kind = Kind::kPoisson;
  // kPoisson, kGamma: the arrival rate. kTrace: the trace's mean rate for this model over the
  // replayed part (after `scale`), filled by the loader; 0 where the trace has no request for it.
  double rate_rps = 0;
  double cv = 1.0;      // kGamma: coefficient of variation of inter-arrival times
  std::string trace{};  // kTrace: the TraceSpec name
  // kTrace, Azure Functions: the HashFunction whose per-minute counts drive this model (the file
  // may give a unique prefix of at least 8 characters; the loader stores the full value); empty
  // with a split.
  // CSV: the canonical model name of the trace rows that drive this model (default: this model).
  // Azure LLM: empty (every request of the trace drives this model).
  std::string trace_key{};
  // kTrace: Azure Functions multiplies the per-minute counts by `scale` (fractional counts are
  // rounded stochastically); Azure LLM and CSV compress time (a request at t arrives at t / scale,
  // so the rate is multiplied by scale), which is why all models of one such trace share one scale.
  double scale = 1.0;
  // Azure LLM (ContextTokens) and CSV (input_size): take input sizes from the trace; the loader
  // then sets the model's `input` to the trace's empirical distribution.
  bool inputs_from_trace = false;
  // kTrace, Azure Functions or Azure LLM: drive this model with group `split_index` (0-based) of
  // `split_of` groups only (0 = no split). Azure Functions: the file's functions sorted by
  // HashFunction and dealt round-robin (function j in that order goes to group j mod split_of); the
  // model's per-minute counts are the sums over its group (then `scale` applies). Excludes
  // `trace_key`. Azure LLM: row j of the file (0-based, in file order) goes to group j mod
  // split_of; the group's rows keep their times (so the rate is that of the group's rows over the
  // whole trace's span). The groups of a split add up to the whole trace.
  int split_of = 0;
  int split_index = 0;
  // kTrace: when positive, the loader makes the mean rate over the replayed part this
  // (`rate_rps` = mean_rps; the file may not give both `scale` and `mean_rps`): Azure Functions
  // through `scale`; Azure LLM through `repeat`, leaving the trace's time as it is (its scale
  // compresses time and is shared by all of its models). Not for CSV traces.
  double mean_rps = 0;
  // kTrace, Azure LLM: every request of the trace that drives this model stands for `repeat`
  // requests (the fractional part by a coin flip per request), spread uniformly over the mean gap
  // between the model's requests (repeat / rate_rps seconds) after its time, each copy on its own
  // draw from the model's random streams. Set by the loader from `mean_rps`; 1 otherwise.
  double repeat = 1.0;
  bool operator==(const Demand&) const = default;
};

struct WorkloadModel {
  std::string model{};  // registry canonical name
  double slo_ms = 0;
  InputDistribution input{};
  Demand demand{};
  bool operator==(const WorkloadModel&) const = default;
};

// A continuous-learning tenant (MIGRator, Ekya): it serves `model` (one of the workload's models,
// with that model's SLO, inputs and demand) and, at time 0 and then every `retraining_window_s`
// seconds, gets a new retraining job (after time 0, on the data of the window just ended). Accuracy
// (of the served model) starts at `initial_accuracy`; at every window boundary data drift costs
// `drift_per_window` (floored at 0); a retraining job that finishes sets it to
// `accuracy_after_retraining` at the moment it finishes. A job not finished by the end of its
// window is abandoned (its data is stale). The job's work, an assumption stated in the file:
// `retraining_samples` samples, each costing `training_cost_factor` times the per-sample inference
// time at batch `retraining_batch` on the partition that runs it (forward + backward ~ 3x forward).
struct Tenant {
  std::string name{};
  std::string model{};  // canonical name of a model in Workload::models; one tenant per model
  double retraining_window_s = 0;
  double retraining_samples = 0;
  double training_cost_factor = 3.0;
  int retraining_batch = 32;
  double initial_accuracy = 0;           // in (0, 1]
  double drift_per_window = 0;           // in [0, 1]
  double accuracy_after_retraining = 0;  // in (0, 1]
  bool operator==(const Tenant&) const = default;
};

struct Workload {
  std::string name{};
  std::vector<WorkloadModel> models{};
  std::vector<TraceSpec> traces{};
  std::vector<Tenant> tenants{};  // empty: no continuous learning
  // Index of `model` in `models`, or -1.
  int ModelIndex(std::string_view model) const;
  const TraceSpec* FindTrace(std::string_view name) const;
  // One line per model (name, SLO, input, demand), then one per tenant.
  std::string DebugString() const;
  bool operator==(const Workload&) const = default;
};

// Parses and validates (known models; positive SLOs and rates; cv > 0; sizes within the model's
// maximum input; traces that exist, parse and are referred to; each model once), then reads the
// traces in use as described above. Errors name file, line, column and field (or, for a bad trace
// row, the trace file and line) and say what to fix.
absl::StatusOr<Workload> LoadWorkloadFile(const std::string& path,
                                          const models::ModelRegistry& registry);
// As LoadWorkloadFile for a text named `source_name` in errors; trace paths are relative to
// `base_dir`.
absl::StatusOr<Workload> ParseWorkload(std::string_view yaml_text, const std::string& source_name,
                                       const std::string& base_dir,
                                       const models::ModelRegistry& registry);

// The same models, SLOs and tenants with every model's demand replaced by a plain CSV trace
// (`timestamp_s,model[,input_size]`, rows matched by model name): input sizes come from its
// input_size column when it has one. The trace is read and checked as a workload's traces are;
// InvalidArgument names a model the trace has no rows for.
absl::StatusOr<Workload> WithCsvTrace(const Workload& workload, const std::string& csv_path,
                                      const models::ModelRegistry& registry);

}  // namespace tessera::workload

#endif  // TESSERA_WORKLOAD_WORKLOAD_H_
