// tessera/base/status.h — the error vocabulary shared by every component.
//
// Recoverable errors are absl::Status / absl::StatusOr<T>. Which code to use:
//   InvalidArgument     a malformed input: a bad file, field or flag (the message names where, and
//   what to do) NotFound            a named thing does not exist (a GPU model, a file, a profile)
//   FailedPrecondition  the system is not in a state that allows the call (e.g. "MIG disabled")
//   Unavailable         a transient or environmental failure (no NVIDIA driver, NVML busy)
//   Internal            a bug in tessera; report it
// Broken invariants are not errors: they are checked with TESSERA_CHECK and crash.
//
// Example:
//   absl::StatusOr<Catalog> LoadCatalog(const std::string& dir) {
//     ASSIGN_OR_RETURN(std::vector<std::string> files, ListYamlFiles(dir));
//     for (const auto& f : files) RETURN_IF_ERROR(LoadOne(f));
//     ...
//   }
#ifndef TESSERA_BASE_STATUS_H_
#define TESSERA_BASE_STATUS_H_

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TESSERA_STATUS_CONCAT_INNER_(a, b) a##b
#define TESSERA_STATUS_CONCAT_(a, b) TESSERA_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status tessera_status_ = (expr);           \
    if (!tessera_status_.ok()) return tessera_status_; \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (a StatusOr); on error returns its status,
// otherwise moves the value into `lhs`, which may be a declaration (`auto x`, `int y`) or an
// existing variable.
#define ASSIGN_OR_RETURN(lhs, expr) \
  TESSERA_ASSIGN_OR_RETURN_IMPL_(TESSERA_STATUS_CONCAT_(tessera_statusor_, __LINE__), lhs, expr)

#define TESSERA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

// Crashes with a message when an internal invariant does not hold. Not for user input.
#define TESSERA_CHECK(cond)                                                                      \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "%s:%d: internal invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (false)

#endif  // TESSERA_BASE_STATUS_H_
