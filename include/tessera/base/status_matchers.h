// tessera/base/status_matchers.h — GoogleTest matchers for absl::Status and absl::StatusOr
// (Debian's abseil ships none). For tests only; link tessera_testing.
//
// Example:
//   EXPECT_THAT(LoadCatalog("bad.yaml"), StatusIs(absl::StatusCode::kInvalidArgument,
//                                                HasSubstr("bad.yaml:3:5")));
//   ASSERT_OK_AND_ASSIGN(Catalog catalog, LoadCatalog(dir));
//   EXPECT_OK(status);
//   EXPECT_THAT(ParseInt("7"), IsOkAndHolds(7));
#ifndef TESSERA_BASE_STATUS_MATCHERS_H_
#define TESSERA_BASE_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tessera/base/status.h"

namespace tessera::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Matches a Status or StatusOr whose code equals `code` and whose message matches
// `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + ::testing::PrintToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher, negation)) {
  const absl::Status& status = ::tessera::testing::GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

// Matches a Status or StatusOr whose code equals `code`, whatever its message.
inline auto StatusIs(absl::StatusCode code) { return StatusIs(code, ::testing::_); }

// Matches an OK Status or StatusOr.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = ::tessera::testing::GetStatus(arg);
  *result_listener << "whose status is " << status;
  return status.ok();
}

// Matches an OK StatusOr whose value matches `value_matcher`.
MATCHER_P(IsOkAndHolds, value_matcher,
          std::string(negation ? "isn't" : "is") + " OK with a value matching " +
              ::testing::PrintToString(value_matcher)) {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

}  // namespace tessera::testing

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::tessera::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::tessera::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(lhs, expr): fails the test unless `expr` is OK, then assigns its value.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                                        \
  TESSERA_ASSERT_OK_AND_ASSIGN_IMPL_(TESSERA_STATUS_CONCAT_(tessera_test_statusor_, __LINE__), \
                                     lhs, expr)
#define TESSERA_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                       \
  ASSERT_TRUE(statusor.ok()) << statusor.status();              \
  lhs = std::move(statusor).value()

#endif  // TESSERA_BASE_STATUS_MATCHERS_H_
