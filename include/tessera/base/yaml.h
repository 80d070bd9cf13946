// tessera/base/yaml.h — reading YAML with errors that say file, line, column and field.
//
// A YamlView is a node of a parsed document plus where it came from: the file name and the field
// path from the root (`mig_profiles[2].starts`). Every accessor returns an InvalidArgument status
// whose message starts with `file:line:column: field <path>:` and says what was expected, so a
// user can go straight to the spot. Views are cheap to copy (yaml-cpp nodes share their document).
//
// Example:
//   ASSIGN_OR_RETURN(YamlView root, YamlView::LoadFile("data/gpus/h100.yaml"));
//   RETURN_IF_ERROR(root.CheckKeys({"name", "sms", "mig_profiles"}));
//   ASSIGN_OR_RETURN(std::string name, root.Get("name").String());   // missing key -> error
//   ASSIGN_OR_RETURN(std::optional<int64_t> sms, root.Get("sms").NullableInt());
//   ASSIGN_OR_RETURN(std::vector<YamlView> items, root.Get("mig_profiles").Items());
//
// Thread safety: a view is immutable; distinct views may be used from distinct threads.
#ifndef TESSERA_BASE_YAML_H_
#define TESSERA_BASE_YAML_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace tessera {

class YamlView {
 public:
  // Parses a whole file. A syntax error reports the file, line and column of the problem.
  static absl::StatusOr<YamlView> LoadFile(const std::string& path);
  // Parses `text`, naming it `source_name` in errors.
  static absl::StatusOr<YamlView> LoadString(std::string_view text, std::string source_name);

  // The child at `key`. A missing key is not an error yet: the returned view is "absent" and any
  // value accessor on it reports "missing required field". Use Has() to test for optional keys.
  YamlView Get(std::string_view key) const;
  bool Has(std::string_view key) const;
  // True when the node is absent or an explicit null (`~`, `null`, empty value).
  bool IsNull() const;

  // Value accessors: each checks the node's kind and range and names the field on error.
  absl::StatusOr<std::string> String() const;
  absl::StatusOr<int64_t> Int() const;  // accepts decimal and 0x hexadecimal
  absl::StatusOr<double> Double() const;
  absl::StatusOr<bool> Bool() const;
  absl::StatusOr<std::optional<int64_t>> NullableInt() const;
  absl::StatusOr<std::optional<double>> NullableDouble() const;
  // Checked values: a string with some non-blank character (the error says "write <what>"), a
  // number > 0, or a number > 0 or null.
  absl::StatusOr<std::string> NonEmptyString(std::string_view what) const;
  absl::StatusOr<double> PositiveDouble() const;
  absl::StatusOr<std::optional<double>> NullablePositiveDouble() const;
  // Elements of a sequence, each with its path `field[i]`.
  absl::StatusOr<std::vector<YamlView>> Items() const;
  absl::StatusOr<std::vector<int64_t>> IntList() const;
  absl::StatusOr<std::vector<std::string>> StringList() const;
  // Requires a mapping and rejects keys not in `allowed`, listing the allowed ones.
  absl::Status CheckKeys(std::initializer_list<std::string_view> allowed) const;
  // Requires a mapping; returns its keys in document order.
  absl::StatusOr<std::vector<std::string>> Keys() const;

  // An InvalidArgument status located at this node: "file:line:col: field path: message".
  absl::Status Error(std::string_view message) const;
  // "file:line:col" of this node (of its parent for an absent node).
  std::string Location() const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const YAML::Node& node() const { return node_; }

 private:
  YamlView(YAML::Node node, std::string file, std::string path, YAML::Mark mark, bool present);
  absl::Status RequirePresent() const;
  absl::Status RequireScalar(std::string_view expected) const;

  YAML::Node node_;
  std::string file_;
  std::string path_;
  YAML::Mark mark_;  // the node's own mark, or the parent's when absent
  bool present_;
};

// The *.yaml files of a folder, sorted by file name. NotFound when `dir` is not a folder and
// InvalidArgument when it holds no YAML file; both messages say what the folder should be, from
// `expected` (e.g. "the GPU catalog folder (tessera's data/gpus)").
absl::StatusOr<std::vector<std::string>> ListYamlFiles(const std::string& dir,
                                                       std::string_view expected);

}  // namespace tessera

#endif  // TESSERA_BASE_YAML_H_
