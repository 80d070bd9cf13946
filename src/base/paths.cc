#include "tessera/base/paths.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "fmt/core.h"

namespace tessera {
namespace fs = std::filesystem;

std::string ExecutablePath() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

absl::StatusOr<std::string> DataDir() {
  if (const char* env = std::getenv("TESSERA_DATA_DIR"); env != nullptr && *env != '\0') {
    if (fs::is_directory(env)) return std::string(env);
    return absl::NotFoundError(fmt::format(
        "TESSERA_DATA_DIR={} is not a folder; point it at tessera's data/ folder or unset it",
        env));
  }
  std::string exe = ExecutablePath();
  std::string installed;
  if (!exe.empty()) {
    installed = (fs::path(exe).parent_path() / ".." / "share" / "tessera" / "data").string();
    if (fs::is_directory(installed)) return fs::path(installed).lexically_normal().string();
  }
  if (fs::is_directory(TESSERA_SOURCE_DATA_DIR)) return std::string(TESSERA_SOURCE_DATA_DIR);
  return absl::NotFoundError(
      fmt::format("tessera's data folder was not found (tried {} and {}); set TESSERA_DATA_DIR",
                  installed, TESSERA_SOURCE_DATA_DIR));
}

}  // namespace tessera
