// Mixed-integer programs in column-major form, their solution with COIN-OR CBC, and the GPU cuts
// they choose among; shared by the ilp planner and the migrator adaptation policy (internal).
//
// Example:
//   Program p;
//   int row = p.AddRow(-kInfinity, 10);                                  // 2a + 3b <= 10
//   int a = p.AddColumn(-1, kInfinity, {{row, 2}});                      // integer a >= 0
//   int b = p.AddColumn(-1, 1.5, {{row, 3}}, /*is_integer=*/false);      // 0 <= b <= 1.5
//   Solution s = Solve(p, {.time_limit_s = 1});                          // min -a - b
//
// Solving uses one search thread and is deterministic when it stops on optimality (a run cut short
// by the time limit depends on the machine's speed). Thread-safe: no shared state.
#ifndef TESSERA_SRC_PLANNERS_INTERNAL_MIP_H_
#define TESSERA_SRC_PLANNERS_INTERNAL_MIP_H_

#include <string>
#include <utility>
#include <vector>

#include "tessera/hw/layout.h"

namespace tessera::planners::internal {

inline constexpr double kInfinity = 1e30;

// min cost'x subject to row_lower <= A x <= row_upper and 0 <= x <= upper; a column is integer
// unless added with is_integer = false.
struct Program {
  std::vector<int> start = {0};  // column c's entries are [start[c], start[c + 1])
  std::vector<int> index;        // their rows
  std::vector<double> value, cost, upper, row_lower, row_upper;
  std::vector<char> integer;  // per column

  int rows() const { return static_cast<int>(row_lower.size()); }
  int columns() const { return static_cast<int>(cost.size()); }
  int AddRow(double lower, double upper_bound);
  // REQUIRES: every entry's row exists.
  int AddColumn(double c, double ub, const std::vector<std::pair<int, double>>& entries,
                bool is_integer = true);
};

struct SolveOptions {
  double time_limit_s = 1.0;
  // Stop once the best solution's objective is within this much (absolute) of the best bound.
  double gap = 0;
  // A point to start from (one value per column), or empty: CBC fixes the integer columns at these
  // values and solves for the continuous ones; a start that is not feasible is ignored.
  std::vector<double> start{};
  // CBC parameters by their command-line names, set in order. "threads" "1" runs the search in one
  // worker thread besides the main one; "0" runs it in the main thread alone.
  // "DivingC" "off": CBC's DiveCoefficient heuristic can hand Clp crossed bounds, which the Debian
  // build of Clp aborts on (see src/adapt/migrator_solve.cc).
  std::vector<std::pair<std::string, std::string>> parameters = {{"threads", "1"},
                                                                 {"DivingC", "off"}};
};

struct Solution {
  bool found = false;       // x holds a feasible point
  bool optimal = false;     // proven optimal (within the gap)
  bool infeasible = false;  // proven infeasible
  double objective = 0;
  double bound = 0;       // the best possible objective when stopped
  std::vector<double> x;  // integer columns rounded to the nearest integer
};

Solution Solve(const Program& p, const SolveOptions& options);

// The GPU cuts both programs choose among: the maximal placeable multisets of the space's profiles,
// in the space's order (a sub-multiset of a placeable one is placeable, so unused instances of a
// cut can be left idle or dropped).
std::vector<hw::Multiset> MaximalMultisets(const hw::LayoutSpace& space);

}  // namespace tessera::planners::internal

#endif  // TESSERA_SRC_PLANNERS_INTERNAL_MIP_H_
