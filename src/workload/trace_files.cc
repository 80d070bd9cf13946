#include "internal/trace_files.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"

namespace tessera::workload::internal {
namespace {

constexpr int kMinutesPerDay = 1440;
constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr double kMaxSeconds = 9e9;  // int64 nanoseconds reach 9.2e9 s

// Where a layout's columns are: the HashFunction column and the column of minute 1.
struct FunctionsLayout {
  size_t function_column = 0;
  size_t first_minute_column = 0;
};

absl::StatusOr<FunctionsLayout> DetectFunctionsLayout(const CsvReader& csv) {
  const std::vector<std::string>& header = csv.header();
  FunctionsLayout layout;
  std::optional<size_t> function = csv.ColumnIndex("HashFunction");
  std::string prefix = "";
  std::optional<size_t> first = csv.ColumnIndex("1");
  if (!first) {
    prefix = "minute_";
    first = csv.ColumnIndex("minute_1");
  }
  const size_t last = first ? *first + kMinutesPerDay - 1 : 0;
  if (!function || !first || last >= header.size() ||
      header[last] != fmt::format("{}{}", prefix, kMinutesPerDay)) {
    return absl::InvalidArgumentError(fmt::format(
        "{}:1: not an Azure Functions invocations file: expected the header "
        "HashOwner,HashApp,HashFunction,Trigger,1,...,1440 (real10) or "
        "HashFunction,HashApp,HashOwner,minute_1,...,minute_1440 (sampled100); check the trace's "
        "path and format",
        csv.source_name()));
  }
  layout.function_column = *function;
  layout.first_minute_column = *first;
  return layout;
}

absl::StatusOr<int64_t> ParseCount(const CsvRow& row, const std::string& column,
                                   const std::string& text) {
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || value < 0) {
    return row.Error(
        column, fmt::format("expected a count of invocations (an integer >= 0), found '{}'", text));
  }
  return static_cast<int64_t>(value);
}

absl::StatusOr<FunctionRow> ParseFunctionRow(const CsvRow& row, const FunctionsLayout& layout,
                                             const std::vector<std::string>& header, int first,
                                             int last) {
  FunctionRow out;
  out.function = row.fields()[layout.function_column];
  for (int minute = first; minute <= last; ++minute) {
    const size_t column = layout.first_minute_column + static_cast<size_t>(minute - 1);
    ASSIGN_OR_RETURN(int64_t count, ParseCount(row, header[column], row.fields()[column]));
    out.counts.push_back(count);
  }
  return out;
}

// The place of each row (in file order) in the file's functions sorted by HashFunction, ties in
// file order.
absl::StatusOr<std::vector<size_t>> FunctionRanks(const std::string& path) {
  ASSIGN_OR_RETURN(CsvReader csv, CsvReader::Open(path));
  ASSIGN_OR_RETURN(FunctionsLayout layout, DetectFunctionsLayout(csv));
  std::vector<std::string> names;
  CsvRow row;
  while (true) {
    ASSIGN_OR_RETURN(bool more, csv.Next(row));
    if (!more) break;
    names.push_back(row.fields()[layout.function_column]);
  }
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&names](size_t a, size_t b) { return names[a] < names[b]; });
  std::vector<size_t> ranks(names.size());
  for (size_t j = 0; j < order.size(); ++j) ranks[order[j]] = j;
  return ranks;
}

bool Selects(const FunctionSelector& selector, const std::string& function, size_t rank) {
  if (selector.split_of > 0) {
    return rank % static_cast<size_t>(selector.split_of) ==
           static_cast<size_t>(selector.split_index);
  }
  return function.rfind(selector.key, 0) == 0;
}

absl::Status TimestampError(std::string_view text) {
  return absl::InvalidArgumentError(
      fmt::format("expected a timestamp like 2023-11-16 18:17:03.9799600, found '{}'", text));
}

// Reads `n` digits at `pos` into `out`.
bool ReadDigits(std::string_view text, size_t& pos, size_t n, int64_t& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i, ++pos) {
    const char c = text[pos];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool ReadSeparator(std::string_view text, size_t& pos, std::string_view allowed) {
  if (pos >= text.size() || allowed.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// The fractional part `.fffffff` (up to 9 digits) in nanoseconds; none is 0.
bool ReadFraction(std::string_view text, size_t& pos, int64_t& ns) {
  ns = 0;
  if (pos == text.size()) return true;
  if (text[pos] != '.') return false;
  const size_t digits = text.size() - pos - 1;
  if (digits == 0 || digits > 9) return false;
  ++pos;
  if (!ReadDigits(text, pos, digits, ns)) return false;
  for (size_t i = digits; i < 9; ++i) ns *= 10;
  return true;
}

}  // namespace

absl::StatusOr<std::vector<std::vector<FunctionRow>>> ReadFunctionSelections(
    const std::string& path, const std::vector<FunctionSelector>& selectors, int first_minute,
    int last_minute) {
  TESSERA_CHECK(1 <= first_minute && first_minute <= last_minute && last_minute <= kMinutesPerDay);
  std::vector<size_t> ranks;
  if (std::any_of(selectors.begin(), selectors.end(),
                  [](const FunctionSelector& s) { return s.split_of > 0; })) {
    ASSIGN_OR_RETURN(ranks, FunctionRanks(path));
  }
  ASSIGN_OR_RETURN(CsvReader csv, CsvReader::Open(path));
  ASSIGN_OR_RETURN(FunctionsLayout layout, DetectFunctionsLayout(csv));
  std::vector<std::vector<FunctionRow>> matches(selectors.size());
  for (size_t k = 0; k < selectors.size(); ++k) {
    if (selectors[k].split_of <= 0) continue;
    TESSERA_CHECK(0 <= selectors[k].split_index &&
                  selectors[k].split_index < selectors[k].split_of);
    matches[k].push_back({"", std::vector<int64_t>(last_minute - first_minute + 1, 0), 0});
  }
  CsvRow row;
  for (size_t r = 0;; ++r) {
    ASSIGN_OR_RETURN(bool more, csv.Next(row));
    if (!more) break;
    const std::string& function = row.fields()[layout.function_column];
    std::optional<FunctionRow> parsed;
    for (size_t k = 0; k < selectors.size(); ++k) {
      if (!Selects(selectors[k], function, ranks.empty() ? 0 : ranks[r])) continue;
      if (!parsed) {
        ASSIGN_OR_RETURN(parsed,
                         ParseFunctionRow(row, layout, csv.header(), first_minute, last_minute));
      }
      if (selectors[k].split_of <= 0) {
        matches[k].push_back(*parsed);
        continue;
      }
      FunctionRow& group = matches[k].front();
      for (size_t m = 0; m < group.counts.size(); ++m) group.counts[m] += parsed->counts[m];
      ++group.functions;
    }
  }
  return matches;
}

absl::StatusOr<std::vector<std::vector<FunctionRow>>> ReadFunctionRows(
    const std::string& path, const std::vector<std::string>& keys, int first_minute,
    int last_minute) {
  std::vector<FunctionSelector> selectors;
  for (const std::string& key : keys) selectors.push_back({.key = key});
  return ReadFunctionSelections(path, selectors, first_minute, last_minute);
}

absl::StatusOr<const FunctionRow*> PickFunction(const std::vector<FunctionRow>& matches,
                                                std::string_view key, std::string_view path) {
  if (matches.size() == 1) return &matches[0];
  if (matches.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "no function in {} has a HashFunction starting with '{}'; copy the value from the file's "
        "HashFunction column",
        path, key));
  }
  std::vector<std::string> names;
  for (const FunctionRow& row : matches) names.push_back(row.function);
  return absl::InvalidArgumentError(
      fmt::format("'{}' matches {} functions in {} ({}); give more characters of the HashFunction",
                  key, matches.size(), path, fmt::join(names, ", ")));
}

absl::StatusOr<int64_t> ParseTimestampNs(std::string_view text) {
  size_t pos = 0;
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ns = 0;
  const bool ok = ReadDigits(text, pos, 4, y) && ReadSeparator(text, pos, "-") &&
                  ReadDigits(text, pos, 2, mo) && ReadSeparator(text, pos, "-") &&
                  ReadDigits(text, pos, 2, d) && ReadSeparator(text, pos, " T") &&
                  ReadDigits(text, pos, 2, h) && ReadSeparator(text, pos, ":") &&
                  ReadDigits(text, pos, 2, mi) && ReadSeparator(text, pos, ":") &&
                  ReadDigits(text, pos, 2, s) && ReadFraction(text, pos, ns);
  if (!ok || h > 23 || mi > 59 || s > 59) return TimestampError(text);
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(y)),
                                         std::chrono::month(static_cast<unsigned>(mo)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return TimestampError(text);
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  return ((days * 24 + h) * 60 + mi) * 60 * kNsPerSecond + s * kNsPerSecond + ns;
}

bool InSplit(const Demand& demand, int64_t row_index) {
  return demand.split_of <= 0 || row_index % demand.split_of == demand.split_index;
}

int TokensToInput(int64_t tokens, double tokens_per_input, int max_input) {
  const double units = std::ceil(static_cast<double>(tokens) / tokens_per_input);
  return static_cast<int>(std::clamp(units, 1.0, static_cast<double>(std::max(max_input, 1))));
}

absl::StatusOr<LlmTraceReader> LlmTraceReader::Open(const std::string& path) {
  ASSIGN_OR_RETURN(CsvReader csv, CsvReader::Open(path));
  RETURN_IF_ERROR(csv.RequireColumns({"TIMESTAMP", "ContextTokens"}));
  return LlmTraceReader(std::move(csv));
}

absl::StatusOr<bool> LlmTraceReader::Next(LlmRow& row) {
  ASSIGN_OR_RETURN(bool more, csv_.Next(row_));
  if (!more) return false;
  ASSIGN_OR_RETURN(std::string_view text, row_.Text("TIMESTAMP"));
  absl::StatusOr<int64_t> ns = ParseTimestampNs(text);
  if (!ns.ok()) return row_.Error("TIMESTAMP", std::string(ns.status().message()));
  if (first_ns_ && *ns < last_ns_) {
    return row_.Error("TIMESTAMP", fmt::format("{} is earlier than the previous row's time; sort "
                                               "the trace by TIMESTAMP",
                                               text));
  }
  if (!first_ns_) first_ns_ = *ns;
  last_ns_ = *ns;
  ASSIGN_OR_RETURN(row.context_tokens, row_.Int("ContextTokens"));
  if (row.context_tokens < 0) {
    return row_.Error("ContextTokens", fmt::format("must be >= 0, found {}", row.context_tokens));
  }
  row.time_ns = *ns - *first_ns_;
  row.line = row_.line();
  return true;
}

absl::StatusOr<CsvTraceReader> CsvTraceReader::Open(const std::string& path,
                                                    const models::ModelRegistry& registry) {
  ASSIGN_OR_RETURN(CsvReader csv, CsvReader::Open(path));
  RETURN_IF_ERROR(csv.RequireColumns({"timestamp_s", "model"}));
  return CsvTraceReader(std::move(csv), registry);
}

absl::Status CsvTraceReader::ParseRow(CsvTraceRow& row) const {
  ASSIGN_OR_RETURN(double seconds, row_.Double("timestamp_s"));
  if (seconds < 0 || seconds > kMaxSeconds) {
    return row_.Error("timestamp_s", fmt::format("must be between 0 and {:g} seconds from the "
                                                 "start of the run, found {}",
                                                 kMaxSeconds, seconds));
  }
  row.time_ns = std::llround(seconds * 1e9);
  ASSIGN_OR_RETURN(std::string_view name, row_.Text("model"));
  absl::StatusOr<const models::ModelInfo*> model = registry_->Find(name);
  if (!model.ok()) {
    return row_.Error("model", std::string(model.status().message()));
  }
  row.model = *model;
  ASSIGN_OR_RETURN(std::optional<int64_t> input, row_.OptionalInt("input_size"));
  if (input && (*input < 1 || *input > row.model->max_input)) {
    return row_.Error("input_size", fmt::format("must be between 1 and {}'s maximum input {}, "
                                                "found {}",
                                                row.model->name, row.model->max_input, *input));
  }
  row.input = input ? std::optional<int>(static_cast<int>(*input)) : std::nullopt;
  row.line = row_.line();
  return absl::OkStatus();
}

absl::StatusOr<bool> CsvTraceReader::Next(CsvTraceRow& row) {
  ASSIGN_OR_RETURN(bool more, csv_.Next(row_));
  if (!more) return false;
  RETURN_IF_ERROR(ParseRow(row));
  if (row.time_ns < last_ns_) {
    return row_.Error(
        "timestamp_s",
        fmt::format("{} s is earlier than the previous row's {} s; sort the trace by "
                    "timestamp_s",
                    static_cast<double>(row.time_ns) / 1e9, static_cast<double>(last_ns_) / 1e9));
  }
  last_ns_ = row.time_ns;
  return true;
}

}  // namespace tessera::workload::internal
