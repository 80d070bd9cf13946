#include "tessera/base/table.h"

#include <algorithm>

#include "tessera/base/status.h"

namespace tessera {

TextTable::TextTable(std::vector<std::string> header)
    : header_(std::move(header)), right_(header_.size(), false) {}

void TextTable::AddRow(std::vector<std::string> row) {
  TESSERA_CHECK(row.size() == header_.size());
  rows_.push_back(std::move(row));
}

void TextTable::SetRightAligned(size_t column) {
  TESSERA_CHECK(column < right_.size());
  right_[column] = true;
}

std::string TextTable::Render() const {
  std::vector<size_t> width(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) {
    width[c] = header_[c].size();
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  auto render_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      std::string pad(width[c] - row[c].size(), ' ');
      if (c > 0) line += "  ";
      line += right_[c] ? pad + row[c] : row[c] + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    return line + "\n";
  };
  std::string out = render_row(header_);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  out += render_row(rule);
  for (const auto& row : rows_) out += render_row(row);
  return out;
}

}  // namespace tessera
