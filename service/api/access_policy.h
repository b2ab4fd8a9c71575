// AccessPolicy: the gRPC edge of access control. Which role each OkrService method needs
// at least (reads: VIEWER; writes to OKRs: EDITOR, narrowed to teams by the handler;
// teams, cycles, tokens, subscriptions, rules: ADMIN; a method missing from the table
// needs ADMIN), how a bearer secret is read from the call's metadata, and the Caller a
// handler receives. The rules themselves are the domain's (service/okr/access.h).
//
//   absl::StatusOr<std::string> secret = BearerSecret(ctx->client_metadata());
//   OKR_RETURN_IF_ERROR(RequireRole(caller.principal, MinimumRole("DeleteObjective")));
#ifndef OKR_SERVICE_API_ACCESS_POLICY_H_
#define OKR_SERVICE_API_ACCESS_POLICY_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/string_ref.h"
#include "service/okr/access.h"

namespace okr::api {

// Who is calling which method. With --auth=none `enforced` is false and the principal is
// an anonymous ADMIN, so every check passes and request fields such as a check-in's
// author are kept as sent.
struct Caller {
  std::string method;
  bool enforced = false;
  Principal principal;
};

// The least role `method` (e.g. "GetObjective") needs; ADMIN for unknown methods.
Role MinimumRole(absl::string_view method);

// The secret of the call's `authorization: Bearer <secret>` metadata
// (auth::BearerSecretFromHeader). UNAUTHENTICATED when it is missing, repeated or not a
// Bearer credential.
absl::StatusOr<std::string> BearerSecret(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata);

}  // namespace okr::api

#endif  // OKR_SERVICE_API_ACCESS_POLICY_H_
