// tessera/base/table.h — plain-text tables for the CLI's readable output.
//
// Example:
//   TextTable table({"profile", "id", "SMs"});
//   table.AddRow({"1g.10gb", "19", "16"});
//   std::cout << table.Render();
//   // profile  id  SMs
//   // -------  --  ---
//   // 1g.10gb  19  16
// Columns whose header is right-aligned in spirit (numbers) can be marked with SetRightAligned.
#ifndef TESSERA_BASE_TABLE_H_
#define TESSERA_BASE_TABLE_H_

#include <string>
#include <vector>

namespace tessera {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  // REQUIRES: row.size() == header size.
  void AddRow(std::vector<std::string> row);
  void SetRightAligned(size_t column);
  // The table with a dashed rule under the header; columns separated by two spaces; no trailing
  // spaces; ends with a newline.
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

}  // namespace tessera

#endif  // TESSERA_BASE_TABLE_H_
