// Input validation of the OKR model: what a well-formed team, cycle, objective, key
// result, check-in or work item looks like, independent of what is stored. Existence
// checks (does the parent team exist?) belong to the core, which sees the store.
// Every error is INVALID_ARGUMENT and names the offending field, e.g.
// "objective.title is required".
#ifndef OKR_SERVICE_OKR_VALIDATION_H_
#define OKR_SERVICE_OKR_VALIDATION_H_

#include "absl/status/status.h"
#include "service/okr/model.h"

namespace okr {

// Limits on free text, so a single request cannot bloat the database.
inline constexpr size_t kMaxTitleBytes = 512;
inline constexpr size_t kMaxTextBytes = 16 * 1024;
inline constexpr size_t kMaxWorkItemKeyBytes = 512;
inline constexpr size_t kMaxUrlBytes = 2048;
inline constexpr size_t kMaxMetricKeyBytes = 256;
inline constexpr size_t kMaxIssueTypeBytes = 255;  // a Jira issue type name

absl::Status ValidateTeam(const Team& team);
absl::Status ValidateCycle(const Cycle& cycle);
// Also checks weight (finite, >= 0) and progress_source; alignment references are
// alignment.h's (ValidateAlignmentOnWrite).
absl::Status ValidateObjective(const Objective& objective);
// Also checks metric_key (at most kMaxMetricKeyBytes, no control characters).
absl::Status ValidateKeyResult(const KeyResult& kr);
// An agreement as AgreeObjective receives it: "team" is required; "agreed_by" is at most
// kMaxTitleBytes without control characters (tabs, line breaks).
absl::Status ValidateAgreement(const Agreement& agreement);
// `type` is the key result's type: metric check-ins need a value, milestone values are 0
// or 1, work-item key results take no value.
absl::Status ValidateCheckIn(const CheckIn& check_in, KeyResultType type);
// Jira keys look like `OKRX-101`; GitLab keys like `group/sub/project#7`.
absl::Status ValidateWorkItem(const WorkItem& item);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_VALIDATION_H_
