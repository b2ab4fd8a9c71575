// The one place that maps absl::Status (used everywhere inside okr-service) to
// grpc::Status at the RPC edge. Codes map one to one; the message is kept; and every error
// carries a google.rpc.Status in its details (`grpc-status-details-bin`) that a program
// can act on:
//  - ErrorInfo on every error: `reason` (UPPER_SNAKE_CASE, stable: e.g. INVALID_FIELD,
//    RESOURCE_NOT_FOUND, ETAG_MISMATCH, PERMISSION_DENIED, TOKEN_INVALID,
//    ALIGNMENT_BLOCKS_AGREEMENT), `domain` "okr.v1", and metadata: `resource` (the first
//    resource name the error names), `field` (INVALID_ARGUMENT), `role`/`team` needed
//    (PERMISSION_DENIED);
//  - BadRequest.field_violations on INVALID_ARGUMENT (field path + description);
//  - PreconditionFailure on FAILED_PRECONDITION (one violation per resource involved);
//  - RetryInfo on UNAVAILABLE (retry after 1 s).
// The field, reason and violations come from service/okr/error_details.h payloads where the
// error was made, else from the message: our messages start with the field path at fault
// ("key_result.metric.target_value must differ from start_value").
#ifndef OKR_SERVICE_API_GRPC_STATUS_H_
#define OKR_SERVICE_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace okr::api {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The google.rpc.Status ToGrpcStatus sends for a non-OK status.
google::rpc::Status ToRpcStatus(const absl::Status& status);

}  // namespace okr::api

#endif  // OKR_SERVICE_API_GRPC_STATUS_H_
