// tessera/base/csv.h — a streaming, line-numbered CSV reader.
//
// Reads one record at a time (memory does not grow with the file), accepts LF and CRLF line ends
// and a missing final newline, RFC 4180 quoting ("a,b" and "" for a quote inside quotes), and skips
// blank lines. Errors name the file, the line and the column (by header name) and say what to fix.
//
// Example:
//   ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open("profiles.csv"));
//   RETURN_IF_ERROR(reader.RequireColumns({"gpu", "model", "latency_ms"}));
//   CsvRow row;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, reader.Next(row));
//     if (!more) break;
//     ASSIGN_OR_RETURN(double latency, row.Double("latency_ms"));   // error names file:line and
//     column
//   }
//
// Thread safety: a reader is used by one thread at a time.
#ifndef TESSERA_BASE_CSV_H_
#define TESSERA_BASE_CSV_H_

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tessera {

// The header and file name that the rows of one reader share.
struct CsvSchema {
  std::string source_name;
  std::vector<std::string> header;
  std::optional<size_t> ColumnIndex(std::string_view column) const;
};

// One record of a CSV file with its location; fields are looked up by header name.
class CsvRow {
 public:
  int64_t line() const { return line_; }
  const std::vector<std::string>& fields() const { return fields_; }
  // Raw text of a column; an error if the header has no such column.
  absl::StatusOr<std::string_view> Text(std::string_view column) const;
  // Parsed values; an empty field is an error for these ("field is empty").
  absl::StatusOr<int64_t> Int(std::string_view column) const;
  absl::StatusOr<double> Double(std::string_view column) const;
  // Empty field (or a column absent from the header) gives nullopt.
  absl::StatusOr<std::optional<double>> OptionalDouble(std::string_view column) const;
  absl::StatusOr<std::optional<int64_t>> OptionalInt(std::string_view column) const;
  // "file:line: column <name>: message" as an InvalidArgument status.
  absl::Status Error(std::string_view column, std::string_view message) const;

 private:
  friend class CsvReader;
  std::shared_ptr<const CsvSchema> schema_;
  int64_t line_ = 0;
  std::vector<std::string> fields_;
};

class CsvReader {
 public:
  struct Options {
    bool has_header = true;  // without one, columns are named "1", "2", ...
    char delimiter = ',';
  };
  static absl::StatusOr<CsvReader> Open(const std::string& path, Options options);
  static absl::StatusOr<CsvReader> Open(const std::string& path) { return Open(path, Options()); }
  // Reads from an in-memory text (tests, embedded data), named `source_name` in errors.
  static absl::StatusOr<CsvReader> FromString(std::string text, std::string source_name,
                                              Options options);
  static absl::StatusOr<CsvReader> FromString(std::string text, std::string source_name) {
    return FromString(std::move(text), std::move(source_name), Options());
  }

  // Reads the next record into `row`; returns false at the end of input. A record whose field count
  // differs from the header's is an error.
  absl::StatusOr<bool> Next(CsvRow& row);

  const std::vector<std::string>& header() const { return schema_->header; }
  const std::string& source_name() const { return schema_->source_name; }
  // Index of `column` in the header, or nullopt.
  std::optional<size_t> ColumnIndex(std::string_view column) const {
    return schema_->ColumnIndex(column);
  }
  // An error naming the file if any of `columns` is missing from the header.
  absl::Status RequireColumns(std::initializer_list<std::string_view> columns) const;

 private:
  CsvReader() = default;
  absl::Status ReadHeader();
  // Reads one physical-or-quoted record; false at end of input.
  absl::StatusOr<bool> ReadRecord(std::vector<std::string>& fields, int64_t& start_line);
  bool GetLine(std::string& line);

  std::unique_ptr<std::istream> in_;
  std::shared_ptr<CsvSchema> schema_;
  Options options_;
  int64_t line_number_ = 0;
};

// Splits one already-isolated CSV line (no embedded newlines) honouring quotes.
absl::StatusOr<std::vector<std::string>> SplitCsvLine(std::string_view line, char delimiter = ',');

}  // namespace tessera

#endif  // TESSERA_BASE_CSV_H_
