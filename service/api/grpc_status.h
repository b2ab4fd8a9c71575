// The one place that maps absl::Status (used everywhere inside okr-service) to
// grpc::Status at the RPC edge. Codes map one to one; the message is kept.
#ifndef OKR_SERVICE_API_GRPC_STATUS_H_
#define OKR_SERVICE_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace okr::api {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace okr::api

#endif  // OKR_SERVICE_API_GRPC_STATUS_H_
