#include "service/api/access_policy.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "service/auth/token_secret.h"

namespace okr::api {

Role MinimumRole(absl::string_view method) {
  static const auto* table = new absl::flat_hash_map<absl::string_view, Role>{
      // Reads: OKRs are transparent inside a company.
      {"GetTeam", Role::kViewer},
      {"ListTeams", Role::kViewer},
      {"GetCycle", Role::kViewer},
      {"ListCycles", Role::kViewer},
      {"GetObjective", Role::kViewer},
      {"ListObjectives", Role::kViewer},
      {"GetKeyResult", Role::kViewer},
      {"ListKeyResults", Role::kViewer},
      {"GetCheckIn", Role::kViewer},
      {"ListCheckIns", Role::kViewer},
      {"ListWorkItemLinks", Role::kViewer},
      {"FindWorkItemLinks", Role::kViewer},
      {"GetAlignmentTree", Role::kViewer},
      {"CheckAlignment", Role::kViewer},
      {"ListEvents", Role::kViewer},
      {"WatchEvents", Role::kViewer},
      {"GetRule", Role::kViewer},
      {"ListRules", Role::kViewer},
      // Writes to OKRs: the handler also checks the team (RequireTeamWrite).
      {"CreateObjective", Role::kEditor},
      {"UpdateObjective", Role::kEditor},
      {"DeleteObjective", Role::kEditor},
      {"CreateKeyResult", Role::kEditor},
      {"UpdateKeyResult", Role::kEditor},
      {"DeleteKeyResult", Role::kEditor},
      {"CreateCheckIn", Role::kEditor},
      {"LinkWorkItem", Role::kEditor},
      {"UnlinkWorkItem", Role::kEditor},
      {"UpdateWorkItem", Role::kEditor},
      {"SyncKeyResult", Role::kEditor},
      {"ProposeObjective", Role::kEditor},
      {"AgreeObjective", Role::kEditor},
      {"ReopenObjective", Role::kEditor},
      {"CloseObjective", Role::kEditor},
      {"CarryOverObjective", Role::kEditor},
      // Everything else (teams, cycles, subscriptions, rules, tokens) is ADMIN's.
  };
  auto it = table->find(method);
  return it == table->end() ? Role::kAdmin : it->second;
}

absl::StatusOr<std::string> BearerSecret(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) {
    return absl::UnauthenticatedError(
        "this server requires an API token: send metadata \"authorization: Bearer <secret>\"");
  }
  if (std::next(begin) != end) {
    return absl::UnauthenticatedError("authorization metadata is repeated");
  }
  return auth::BearerSecretFromHeader(
      absl::string_view(begin->second.data(), begin->second.size()));
}

}  // namespace okr::api
