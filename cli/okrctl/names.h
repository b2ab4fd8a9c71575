// Resource names from what a user types: a full name (`objectives/o1`) is kept as is, a
// short id (`o1`) gets its collection prefix. A key result is `objectives/O/keyResults/K`
// or the short `O/K`; a check-in `objectives/O/keyResults/K/checkIns/C` or `O/K/C`. Anything else
// is INVALID_ARGUMENT (a usage error); the server still validates the ids themselves.
#ifndef OKR_CLI_OKRCTL_NAMES_H_
#define OKR_CLI_OKRCTL_NAMES_H_

#include <string>

#include "absl/status/statusor.h"

namespace okr::cli {

// `collection` is e.g. "teams"; `arg` is "teams/x" or "x".
absl::StatusOr<std::string> NameIn(const std::string& collection, const std::string& arg);

absl::StatusOr<std::string> TeamName(const std::string& arg);
absl::StatusOr<std::string> CycleName(const std::string& arg);
absl::StatusOr<std::string> ObjectiveName(const std::string& arg);
absl::StatusOr<std::string> TokenName(const std::string& arg);
absl::StatusOr<std::string> SubscriptionName(const std::string& arg);
absl::StatusOr<std::string> RuleName(const std::string& arg);
absl::StatusOr<std::string> KeyResultName(const std::string& arg);
absl::StatusOr<std::string> CheckInName(const std::string& arg);

// The parent of ListEvents: a key result (full or `O/K`), `objectives/O`, `teams/T`, or a
// bare id, taken as an objective.
absl::StatusOr<std::string> EventParentName(const std::string& arg);

// The last segment of a resource name ("objectives/o1/keyResults/k1" -> "k1").
std::string ShortId(const std::string& name);

}  // namespace okr::cli

#endif  // OKR_CLI_OKRCTL_NAMES_H_
