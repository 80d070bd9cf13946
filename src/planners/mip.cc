// Mixed-integer programs solved with COIN-OR CBC (internal/mip.h).
#include "internal/mip.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "coin/Cbc_C_Interface.h"
#include "tessera/base/status.h"

namespace tessera::planners::internal {

int Program::AddRow(double lower, double upper_bound) {
  row_lower.push_back(lower);
  row_upper.push_back(upper_bound);
  return rows() - 1;
}

int Program::AddColumn(double c, double ub, const std::vector<std::pair<int, double>>& entries,
                       bool is_integer) {
  for (const auto& [row, v] : entries) {
    TESSERA_CHECK(row >= 0 && row < rows());
    index.push_back(row);
    value.push_back(v);
  }
  start.push_back(static_cast<int>(index.size()));
  cost.push_back(c);
  upper.push_back(ub);
  integer.push_back(is_integer ? 1 : 0);
  return columns() - 1;
}

Solution Solve(const Program& p, const SolveOptions& options) {
  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model*)> model(Cbc_newModel(), Cbc_deleteModel);
  const int columns = p.columns();
  std::vector<double> lower(columns, 0.0);
  Cbc_loadProblem(model.get(), columns, p.rows(), p.start.data(), p.index.data(), p.value.data(),
                  lower.data(), p.upper.data(), p.cost.data(), p.row_lower.data(),
                  p.row_upper.data());
  for (int c = 0; c < columns; ++c) {
    if (p.integer[c]) Cbc_setInteger(model.get(), c);
  }
  Cbc_setLogLevel(model.get(), 0);
  Cbc_setMaximumSeconds(model.get(), options.time_limit_s);
  for (const auto& [name, value] : options.parameters)
    Cbc_setParameter(model.get(), name.c_str(), value.c_str());
  Cbc_setAllowableGap(model.get(), options.gap);
  if (static_cast<int>(options.start.size()) == columns) {
    std::vector<int> integer_columns;
    std::vector<double> values;
    for (int c = 0; c < columns; ++c) {
      if (!p.integer[c]) continue;
      integer_columns.push_back(c);
      // A start outside a column's bounds makes Clp abort (an assertion); clamp it, and CBC
      // discards a start that is then infeasible.
      values.push_back(std::clamp(options.start[c], 0.0, p.upper[c]));
    }
    Cbc_setMIPStartI(model.get(), static_cast<int>(integer_columns.size()), integer_columns.data(),
                     values.data());
  }
  Cbc_solve(model.get());
  Solution s;
  s.optimal = Cbc_isProvenOptimal(model.get());
  s.infeasible = Cbc_isProvenInfeasible(model.get());
  s.found = !s.infeasible && Cbc_numberSavedSolutions(model.get()) > 0;
  if (s.found || s.optimal) {
    s.found = true;
    const double* x = Cbc_getColSolution(model.get());
    s.x.assign(x, x + columns);
    for (int c = 0; c < columns; ++c) {
      if (p.integer[c]) s.x[c] = std::round(s.x[c]);
    }
    s.objective = Cbc_getObjValue(model.get());
    s.bound = Cbc_getBestPossibleObjValue(model.get());
  }
  return s;
}

std::vector<hw::Multiset> MaximalMultisets(const hw::LayoutSpace& space) {
  std::vector<hw::Multiset> cuts;
  for (const hw::Multiset& m : space.Multisets()) {
    if (space.IsMaximal(m)) cuts.push_back(m);
  }
  return cuts;
}

}  // namespace tessera::planners::internal
