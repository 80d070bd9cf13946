// The tessera command-line tool: parse flags, call the library, print.
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return tessera::cli::RunTessera(args, std::cout, std::cerr);
}
