// Resource names (AIP-122) of the OKR model: parsing and formatting in one place.
//
//   teams/{team}  cycles/{cycle}  objectives/{objective}
//   objectives/{objective}/keyResults/{key_result}
//   objectives/{objective}/keyResults/{key_result}/checkIns/{check_in}
//   objectives/{objective}/keyResults/{key_result}/workItemLinks/{link}
//
// Parse* return INVALID_ARGUMENT naming `field` when the name is malformed. Ids are
// 1-63 characters of [a-z0-9-] starting with a letter or digit (also what generated ids
// look like).
#ifndef OKR_SERVICE_OKR_NAMES_H_
#define OKR_SERVICE_OKR_NAMES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace okr::names {

struct KeyResultName {
  std::string objective_id;
  std::string key_result_id;
};

struct KeyResultChildName {
  std::string objective_id;
  std::string key_result_id;
  std::string child_id;
};

bool IsValidId(absl::string_view id);
// INVALID_ARGUMENT naming `field` unless IsValidId(id).
absl::Status ValidateId(absl::string_view id, absl::string_view field);
// A fresh random id (16 lowercase hex characters).
std::string GenerateId();

absl::StatusOr<std::string> ParseTeam(absl::string_view name, absl::string_view field);
absl::StatusOr<std::string> ParseCycle(absl::string_view name, absl::string_view field);
absl::StatusOr<std::string> ParseObjective(absl::string_view name, absl::string_view field);
absl::StatusOr<KeyResultName> ParseKeyResult(absl::string_view name, absl::string_view field);
absl::StatusOr<KeyResultChildName> ParseCheckIn(absl::string_view name, absl::string_view field);
absl::StatusOr<KeyResultChildName> ParseWorkItemLink(absl::string_view name,
                                                     absl::string_view field);

std::string Team(absl::string_view id);
std::string Cycle(absl::string_view id);
std::string Objective(absl::string_view id);
std::string KeyResult(absl::string_view objective_id, absl::string_view key_result_id);
std::string CheckIn(absl::string_view objective_id, absl::string_view key_result_id,
                    absl::string_view id);
std::string WorkItemLink(absl::string_view objective_id, absl::string_view key_result_id,
                         absl::string_view id);

}  // namespace okr::names

#endif  // OKR_SERVICE_OKR_NAMES_H_
