#include "tessera/base/yaml.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/core.h"
#include "fmt/ranges.h"
#include "tessera/base/status.h"

namespace tessera {
namespace {

std::string MarkString(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

std::string ChildPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return fmt::format("scalar '{}'", node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

}  // namespace

YamlView::YamlView(YAML::Node node, std::string file, std::string path, YAML::Mark mark,
                   bool present)
    : node_(std::move(node)),
      file_(std::move(file)),
      path_(std::move(path)),
      mark_(mark),
      present_(present) {}

absl::StatusOr<YamlView> YamlView::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        fmt::format("{}: cannot open file ({}); check the path", path, std::strerror(errno)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadString(buffer.str(), path);
}

absl::StatusOr<YamlView> YamlView::LoadString(std::string_view text, std::string source_name) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YAML::Mark mark = root.Mark();
    return YamlView(root, std::move(source_name), "", mark, root.IsDefined());
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        fmt::format("{}: YAML syntax error: {}", MarkString(source_name, e.mark), e.msg));
  }
}

YamlView YamlView::Get(std::string_view key) const {
  YAML::Node child;
  bool found = false;
  if (present_ && node_.IsMap()) {
    for (const auto& kv : node_) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        child = kv.second;
        found = true;
        break;
      }
    }
  }
  YAML::Mark mark = found ? child.Mark() : mark_;
  if (found && mark.is_null()) mark = mark_;
  return YamlView(child, file_, ChildPath(path_, key), mark, found);
}

bool YamlView::Has(std::string_view key) const { return Get(key).present_; }

bool YamlView::IsNull() const { return !present_ || node_.IsNull(); }

std::string YamlView::Location() const { return MarkString(file_, mark_); }

absl::Status YamlView::Error(std::string_view message) const {
  std::string where = path_.empty() ? "document" : fmt::format("field {}", path_);
  return absl::InvalidArgumentError(fmt::format("{}: {}: {}", Location(), where, message));
}

absl::Status YamlView::RequirePresent() const {
  if (!present_) return Error("missing required field; add it");
  return absl::OkStatus();
}

absl::Status YamlView::RequireScalar(std::string_view expected) const {
  RETURN_IF_ERROR(RequirePresent());
  if (!node_.IsScalar()) {
    return Error(fmt::format("expected {}, found {}", expected, KindName(node_)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> YamlView::String() const {
  RETURN_IF_ERROR(RequireScalar("a string"));
  return node_.Scalar();
}

absl::StatusOr<int64_t> YamlView::Int() const {
  RETURN_IF_ERROR(RequireScalar("an integer"));
  const std::string& text = node_.Scalar();
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 0);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    return Error(fmt::format("expected an integer, found '{}'", text));
  }
  return static_cast<int64_t>(value);
}

absl::StatusOr<double> YamlView::Double() const {
  RETURN_IF_ERROR(RequireScalar("a number"));
  const std::string& text = node_.Scalar();
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
    return Error(fmt::format("expected a number, found '{}'", text));
  }
  return value;
}

absl::StatusOr<bool> YamlView::Bool() const {
  RETURN_IF_ERROR(RequireScalar("true or false"));
  const std::string& text = node_.Scalar();
  if (text == "true") return true;
  if (text == "false") return false;
  return Error(fmt::format("expected true or false, found '{}'", text));
}

absl::StatusOr<std::optional<int64_t>> YamlView::NullableInt() const {
  RETURN_IF_ERROR(RequirePresent());
  if (node_.IsNull()) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t value, Int());
  return std::optional<int64_t>(value);
}

absl::StatusOr<std::optional<double>> YamlView::NullableDouble() const {
  RETURN_IF_ERROR(RequirePresent());
  if (node_.IsNull()) return std::optional<double>();
  ASSIGN_OR_RETURN(double value, Double());
  return std::optional<double>(value);
}

absl::StatusOr<std::string> YamlView::NonEmptyString(std::string_view what) const {
  ASSIGN_OR_RETURN(std::string value, String());
  if (value.find_first_not_of(" \t") == std::string::npos) {
    return Error(fmt::format("must not be empty; write {}", what));
  }
  return value;
}

absl::StatusOr<double> YamlView::PositiveDouble() const {
  ASSIGN_OR_RETURN(double value, Double());
  if (value <= 0) return Error(fmt::format("must be positive, found {}", value));
  return value;
}

absl::StatusOr<std::optional<double>> YamlView::NullablePositiveDouble() const {
  ASSIGN_OR_RETURN(std::optional<double> value, NullableDouble());
  if (value && *value <= 0) {
    return Error(fmt::format("must be positive (or null if unknown), found {}", *value));
  }
  return value;
}

absl::StatusOr<std::vector<YamlView>> YamlView::Items() const {
  RETURN_IF_ERROR(RequirePresent());
  if (!node_.IsSequence()) return Error(fmt::format("expected a list, found {}", KindName(node_)));
  std::vector<YamlView> items;
  for (size_t i = 0; i < node_.size(); ++i) {
    YAML::Node child = node_[i];
    YAML::Mark mark = child.Mark().is_null() ? mark_ : child.Mark();
    items.push_back(YamlView(child, file_, fmt::format("{}[{}]", path_, i), mark, true));
  }
  return items;
}

absl::StatusOr<std::vector<int64_t>> YamlView::IntList() const {
  ASSIGN_OR_RETURN(std::vector<YamlView> items, Items());
  std::vector<int64_t> values;
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(int64_t value, item.Int());
    values.push_back(value);
  }
  return values;
}

absl::StatusOr<std::vector<std::string>> YamlView::StringList() const {
  ASSIGN_OR_RETURN(std::vector<YamlView> items, Items());
  std::vector<std::string> values;
  for (const YamlView& item : items) {
    ASSIGN_OR_RETURN(std::string value, item.String());
    values.push_back(std::move(value));
  }
  return values;
}

absl::StatusOr<std::vector<std::string>> YamlView::Keys() const {
  RETURN_IF_ERROR(RequirePresent());
  if (!node_.IsMap()) return Error(fmt::format("expected a mapping, found {}", KindName(node_)));
  std::vector<std::string> keys;
  for (const auto& kv : node_) keys.push_back(kv.first.Scalar());
  return keys;
}

absl::Status YamlView::CheckKeys(std::initializer_list<std::string_view> allowed) const {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, Keys());
  std::vector<std::string> seen;
  for (const auto& kv : node_) {
    const std::string& key = kv.first.Scalar();
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    YamlView at(kv.first, file_, ChildPath(path_, key), kv.first.Mark(), true);
    if (!known) {
      return at.Error(
          fmt::format("unknown key '{}'; expected one of: {}", key, fmt::join(allowed, ", ")));
    }
    for (const std::string& s : seen) {
      if (s == key) return at.Error(fmt::format("key '{}' appears twice; keep one", key));
    }
    seen.push_back(key);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListYamlFiles(const std::string& dir,
                                                       std::string_view expected) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(fmt::format("{}: not a folder; point at {}", dir, expected));
  }
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return absl::UnavailableError(fmt::format("{}: cannot list: {}", dir, ec.message()));
  if (files.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("{}: no *.yaml files in this folder; point at {}", dir, expected));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace tessera
