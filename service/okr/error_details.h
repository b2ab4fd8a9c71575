// ErrorDetails: machine-readable facts attached to an absl::Status where an error is made,
// so the gRPC edge can send google.rpc error details (service/api/grpc_status.h) that a
// client acts on without parsing English: the request field at fault, a stable reason, and
// precondition violations (e.g. the contradiction that blocks an agreement, naming the key
// results involved). Stored as absl::Status payloads; Abseil only. Errors without them
// still get details: the edge derives the field from the message's leading field path.
//
//   return WithField(absl::InvalidArgumentError("cycle.end_time must be after start_time"),
//                    "cycle.end_time");
//   status = WithViolation(status, "CONTRADICTION", "objectives/a/keyResults/k", "...");
#ifndef OKR_SERVICE_OKR_ERROR_DETAILS_H_
#define OKR_SERVICE_OKR_ERROR_DETAILS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace okr {

struct Violation {
  std::string type;         // e.g. "CONTRADICTION"
  std::string subject;      // e.g. "objectives/a/keyResults/k"
  std::string description;  // one sentence
};

// The status with the request field at fault (an AIP-style path, "key_result.title").
absl::Status WithField(absl::Status status, absl::string_view field);
// The status with a stable UPPER_SNAKE_CASE reason (ErrorInfo.reason).
absl::Status WithReason(absl::Status status, absl::string_view reason);
// The status with one more precondition violation.
absl::Status WithViolation(absl::Status status, const Violation& violation);

std::optional<std::string> FieldOf(const absl::Status& status);
std::optional<std::string> ReasonOf(const absl::Status& status);
std::vector<Violation> ViolationsOf(const absl::Status& status);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_ERROR_DETAILS_H_
