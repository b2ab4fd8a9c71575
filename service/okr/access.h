// Access: who may do what (the domain brief's "Who may do what"). A caller acts through an
// API token with a role; VIEWER reads everything, EDITOR also writes the OKRs of its teams
// and every team below them (no teams: all teams), ADMIN runs the service. Pure functions
// over plain structs, Abseil only: the gRPC edge authenticates and asks these questions.
//
//   Principal who = ...;                          // from the bearer token
//   OKR_RETURN_IF_ERROR(RequireRole(who, Role::kAdmin));
//   OKR_RETURN_IF_ERROR(RequireTeamWrite(who, {"checkout", "payments"}));  // team + ancestors
//
// Refusals are PERMISSION_DENIED with a message naming what is needed, e.g.
// "EDITOR on teams/search needed (apiTokens/ada is EDITOR of teams/payments)".
#ifndef OKR_SERVICE_OKR_ACCESS_H_
#define OKR_SERVICE_OKR_ACCESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "service/okr/model.h"

namespace okr {

// Ordered: every role includes the rights of the roles before it.
enum class Role { kUnspecified = 0, kViewer = 1, kEditor = 2, kAdmin = 3 };

// "VIEWER", "EDITOR", "ADMIN" ("ROLE_UNSPECIFIED" for kUnspecified).
absl::string_view RoleName(Role role);

// An API token as stored: the secret itself is never kept, only its hash.
struct ApiToken {
  std::string id;  // apiTokens/{id}
  std::string display_name;
  Role role = Role::kUnspecified;
  std::vector<std::string> team_ids;  // EDITOR scope; empty: all teams
  std::string secret_hash;            // hex SHA-256 of the secret
  EntityMeta meta;
};

// Who is calling. `token_id` is empty for the bootstrap admin of OKR_ADMIN_TOKEN.
struct Principal {
  std::string token_id;
  std::string display_name;
  Role role = Role::kUnspecified;
  std::vector<std::string> team_ids;

  // How the principal appears in audit lines: "apiTokens/{id}" or "bootstrap-admin".
  std::string Describe() const;
};

// INVALID_ARGUMENT naming `api_token.<field>` for a token that cannot be created: empty or
// over-long display name, no role, teams on a token that is not EDITOR, a malformed or
// repeated team id. (Whether the teams exist is the caller's check.)
absl::Status ValidateApiToken(const ApiToken& token);

// OK if `who` has at least `needed`; else PERMISSION_DENIED "<ROLE> needed ...".
absl::Status RequireRole(const Principal& who, Role needed);

// OK if `who` may write the OKRs of a team: ADMIN, or EDITOR with no team scope or with a
// scope team among `team_and_ancestors` (the team's id first, then its parent, ..., the
// root). Else PERMISSION_DENIED "EDITOR on teams/<team> needed ...".
absl::Status RequireTeamWrite(const Principal& who,
                              absl::Span<const std::string> team_and_ancestors);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_ACCESS_H_
