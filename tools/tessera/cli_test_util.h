// Helpers for tests that run the tessera CLI in-process.
#ifndef TESSERA_TOOLS_CLI_TEST_UTIL_H_
#define TESSERA_TOOLS_CLI_TEST_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "gtest/gtest.h"
#include "tessera/base/paths.h"

namespace tessera::cli::testing {

struct Result {
  int code;
  std::string out;
  std::string err;
};

// Runs `tessera ARGS...` and captures its exit code and output.
inline Result Tessera(std::vector<std::string> args) {
  args.insert(args.begin(), "tessera");
  std::ostringstream out, err;
  int code = RunTessera(args, out, err);
  return {code, out.str(), err.str()};
}

// The path of a file in tessera's data folder.
inline std::string Data(const std::string& relative) {
  absl::StatusOr<std::string> dir = DataDir();
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir + "/" + relative : relative;
}

// Writes `text` to a file in the test's temporary folder and returns its path.
inline std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace tessera::cli::testing

#endif  // TESSERA_TOOLS_CLI_TEST_UTIL_H_
