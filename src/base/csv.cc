#include "tessera/base/csv.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"

namespace tessera {
namespace {

absl::Status LineError(const std::string& source, int64_t line, std::string_view message) {
  return absl::InvalidArgumentError(fmt::format("{}:{}: {}", source, line, message));
}

}  // namespace

std::optional<size_t> CsvSchema::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == column) return i;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<std::string>> SplitCsvLine(std::string_view line, char delimiter) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  bool field_was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && fields.back().empty() && !field_was_quoted) {
      quoted = field_was_quoted = true;
    } else if (c == delimiter) {
      fields.emplace_back();
      field_was_quoted = false;
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return absl::InvalidArgumentError("unterminated quoted field");
  return fields;
}

absl::StatusOr<CsvReader> CsvReader::Open(const std::string& path, Options options) {
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) {
    return absl::NotFoundError(
        fmt::format("{}: cannot open file ({}); check the path", path, std::strerror(errno)));
  }
  CsvReader reader;
  reader.in_ = std::move(file);
  reader.schema_ = std::make_shared<CsvSchema>();
  reader.schema_->source_name = path;
  reader.options_ = options;
  RETURN_IF_ERROR(reader.ReadHeader());
  return reader;
}

absl::StatusOr<CsvReader> CsvReader::FromString(std::string text, std::string source_name,
                                                Options options) {
  CsvReader reader;
  reader.in_ = std::make_unique<std::istringstream>(std::move(text));
  reader.schema_ = std::make_shared<CsvSchema>();
  reader.schema_->source_name = std::move(source_name);
  reader.options_ = options;
  RETURN_IF_ERROR(reader.ReadHeader());
  return reader;
}

bool CsvReader::GetLine(std::string& line) {
  if (!std::getline(*in_, line)) return false;
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

absl::StatusOr<bool> CsvReader::ReadRecord(std::vector<std::string>& fields, int64_t& start_line) {
  std::string line;
  do {
    if (!GetLine(line)) return false;
  } while (line.find_first_not_of(" \t") == std::string::npos);
  start_line = line_number_;
  // A quoted field may span lines: keep appending until the quotes balance.
  while (std::count(line.begin(), line.end(), '"') % 2 != 0) {
    std::string more;
    if (!GetLine(more)) {
      return LineError(source_name(), start_line, "unterminated quoted field; close the quote");
    }
    line += '\n';
    line += more;
  }
  absl::StatusOr<std::vector<std::string>> split = SplitCsvLine(line, options_.delimiter);
  if (!split.ok())
    return LineError(source_name(), start_line, std::string(split.status().message()));
  fields = std::move(split).value();
  return true;
}

absl::Status CsvReader::ReadHeader() {
  if (!options_.has_header) return absl::OkStatus();
  std::vector<std::string> fields;
  int64_t line = 0;
  ASSIGN_OR_RETURN(bool found, ReadRecord(fields, line));
  if (!found) return LineError(source_name(), 1, "file is empty; expected a header line");
  if (!fields.empty() && fields[0].rfind("\xEF\xBB\xBF", 0) == 0) fields[0].erase(0, 3);
  for (size_t i = 0; i < fields.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (fields[i] == fields[j]) {
        return LineError(source_name(), line,
                         fmt::format("column '{}' appears twice in the header", fields[i]));
      }
    }
  }
  schema_->header = std::move(fields);
  return absl::OkStatus();
}

absl::StatusOr<bool> CsvReader::Next(CsvRow& row) {
  std::vector<std::string> fields;
  int64_t line = 0;
  ASSIGN_OR_RETURN(bool found, ReadRecord(fields, line));
  if (!found) return false;
  if (!options_.has_header && schema_->header.empty()) {
    for (size_t i = 0; i < fields.size(); ++i) schema_->header.push_back(std::to_string(i + 1));
  }
  if (fields.size() != schema_->header.size()) {
    return LineError(
        source_name(), line,
        fmt::format("expected {} fields as in the header ({}), found {}", schema_->header.size(),
                    fmt::join(schema_->header, ","), fields.size()));
  }
  row.schema_ = schema_;
  row.line_ = line;
  row.fields_ = std::move(fields);
  return true;
}

absl::Status CsvReader::RequireColumns(std::initializer_list<std::string_view> columns) const {
  for (std::string_view column : columns) {
    if (!ColumnIndex(column)) {
      return LineError(
          source_name(), 1,
          fmt::format("missing column '{}'; the header has: {}", column, fmt::join(header(), ",")));
    }
  }
  return absl::OkStatus();
}

absl::Status CsvRow::Error(std::string_view column, std::string_view message) const {
  return absl::InvalidArgumentError(
      fmt::format("{}:{}: column {}: {}", schema_->source_name, line_, column, message));
}

absl::StatusOr<std::string_view> CsvRow::Text(std::string_view column) const {
  std::optional<size_t> index = schema_->ColumnIndex(column);
  if (!index) return Error(column, "no such column in the header");
  return std::string_view(fields_[*index]);
}

absl::StatusOr<std::optional<double>> CsvRow::OptionalDouble(std::string_view column) const {
  if (!schema_->ColumnIndex(column)) return std::optional<double>();
  ASSIGN_OR_RETURN(std::string_view text, Text(column));
  if (text.empty()) return std::optional<double>();
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) {
    return Error(column, fmt::format("expected a number, found '{}'", text));
  }
  return std::optional<double>(value);
}

absl::StatusOr<std::optional<int64_t>> CsvRow::OptionalInt(std::string_view column) const {
  if (!schema_->ColumnIndex(column)) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(std::string_view text, Text(column));
  if (text.empty()) return std::optional<int64_t>();
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  long long value = std::strtoll(copy.c_str(), &end, 10);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) {
    return Error(column, fmt::format("expected an integer, found '{}'", text));
  }
  return std::optional<int64_t>(value);
}

absl::StatusOr<double> CsvRow::Double(std::string_view column) const {
  RETURN_IF_ERROR(Text(column).status());
  ASSIGN_OR_RETURN(std::optional<double> value, OptionalDouble(column));
  if (!value) return Error(column, "field is empty; a number is required");
  return *value;
}

absl::StatusOr<int64_t> CsvRow::Int(std::string_view column) const {
  RETURN_IF_ERROR(Text(column).status());
  ASSIGN_OR_RETURN(std::optional<int64_t> value, OptionalInt(column));
  if (!value) return Error(column, "field is empty; an integer is required");
  return *value;
}

}  // namespace tessera
