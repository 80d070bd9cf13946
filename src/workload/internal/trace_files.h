// Streaming readers of the trace formats a workload may name (docs/formats.md, "Workload"), shared
// by the workload loader (which checks and summarizes a trace once) and the arrival sources (which
// replay it). Each reader holds one row at a time. Errors name the trace file and line.
//
// Internal to tessera_workload.
#ifndef TESSERA_WORKLOAD_INTERNAL_TRACE_FILES_H_
#define TESSERA_WORKLOAD_INTERNAL_TRACE_FILES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tessera/base/csv.h"
#include "tessera/models/registry.h"
#include "tessera/workload/workload.h"

namespace tessera::workload::internal {

// ---- Azure Functions 2019: one row per function, one column per minute of the day.

// A function's invocation counts for the minutes [first, last] (counts[0] is minute `first`).
struct FunctionRow {
  std::string function;  // HashFunction
  std::vector<int64_t> counts;
  int functions = 1;  // how many functions' counts are summed (a split group's size)
};

// What drives one model: the function whose HashFunction starts with `key`, or (split_of > 0,
// `key` empty) group `split_index` of `split_of`: the file's functions sorted by HashFunction (ties
// in file order) and dealt round-robin, function j in that order to group j mod split_of.
struct FunctionSelector {
  std::string key;
  int split_of = 0;
  int split_index = 0;
};

// For each selector, result[i]: a key's matching rows (more than one when a prefix is ambiguous,
// none when unknown), or for a split exactly one row (`function` empty) whose counts are the sums
// over the group's functions, and whose `functions` says how many there are. A split costs one
// more pass over the file, reading only names (memory: the names, then one rank per function);
// otherwise memory holds the chosen minutes of each match. Detects the real10 and sampled100
// layouts from the header.
absl::StatusOr<std::vector<std::vector<FunctionRow>>> ReadFunctionSelections(
    const std::string& path, const std::vector<FunctionSelector>& selectors, int first_minute,
    int last_minute);
// ReadFunctionSelections with keys only.
absl::StatusOr<std::vector<std::vector<FunctionRow>>> ReadFunctionRows(
    const std::string& path, const std::vector<std::string>& keys, int first_minute,
    int last_minute);

// The one row among `matches` of `key`, or an error (unlocated: callers add the place) saying that
// no function or several match.
absl::StatusOr<const FunctionRow*> PickFunction(const std::vector<FunctionRow>& matches,
                                                std::string_view key, std::string_view path);

// ---- Azure LLM 2023: TIMESTAMP,ContextTokens,GeneratedTokens, one row per request.

struct LlmRow {
  int64_t time_ns = 0;  // from the first row's timestamp
  int64_t context_tokens = 0;
  int64_t line = 0;
};

class LlmTraceReader {
 public:
  static absl::StatusOr<LlmTraceReader> Open(const std::string& path);
  // The next row; false at the end. Rows out of time order are an error.
  absl::StatusOr<bool> Next(LlmRow& row);

 private:
  explicit LlmTraceReader(CsvReader csv) : csv_(std::move(csv)) {}
  CsvReader csv_;
  CsvRow row_;
  std::optional<int64_t> first_ns_;
  int64_t last_ns_ = 0;
};

// Whether row `row_index` (0-based, in file order) of an Azure LLM trace drives a model with
// `demand`: always without a split, else when row_index mod split_of is split_index.
bool InSplit(const Demand& demand, int64_t row_index);

// `2023-11-16 18:17:03.9799600` (up to 9 fractional digits) as nanoseconds since 1970-01-01.
absl::StatusOr<int64_t> ParseTimestampNs(std::string_view text);

// ceil(tokens / tokens_per_input), clamped to [1, max_input].
int TokensToInput(int64_t tokens, double tokens_per_input, int max_input);

// ---- tessera CSV: timestamp_s,model[,input_size], one row per request.

struct CsvTraceRow {
  int64_t time_ns = 0;                       // timestamp_s, from the start of the run
  const models::ModelInfo* model = nullptr;  // the registry's entry for the row's model
  std::optional<int> input;                  // input_size, where the file has it
  int64_t line = 0;
};

class CsvTraceReader {
 public:
  // `registry` must outlive the reader.
  static absl::StatusOr<CsvTraceReader> Open(const std::string& path,
                                             const models::ModelRegistry& registry);
  // The next row; false at the end. Unknown models, inputs outside [1, the model's maximum input]
  // and rows out of time order are errors.
  absl::StatusOr<bool> Next(CsvTraceRow& row);
  bool has_input_column() const { return csv_.ColumnIndex("input_size").has_value(); }

 private:
  CsvTraceReader(CsvReader csv, const models::ModelRegistry& registry)
      : csv_(std::move(csv)), registry_(&registry) {}
  absl::Status ParseRow(CsvTraceRow& row) const;
  CsvReader csv_;
  const models::ModelRegistry* registry_;
  CsvRow row_;
  int64_t last_ns_ = 0;
};

}  // namespace tessera::workload::internal

#endif  // TESSERA_WORKLOAD_INTERNAL_TRACE_FILES_H_
