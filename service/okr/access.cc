#include "service/okr/access.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/okr/names.h"

namespace okr {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxTeams = 100;

std::string Held(const Principal& who) {
  std::string held = absl::StrCat(who.Describe(), " is ", RoleName(who.role));
  if (who.role == Role::kEditor) {
    if (who.team_ids.empty()) {
      absl::StrAppend(&held, " of all teams");
    } else {
      absl::StrAppend(&held, " of ",
                      absl::StrJoin(who.team_ids, ", ", [](std::string* out, const std::string& t) {
                        absl::StrAppend(out, names::Team(t));
                      }));
    }
  }
  return held;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "VIEWER";
    case Role::kEditor:
      return "EDITOR";
    case Role::kAdmin:
      return "ADMIN";
    case Role::kUnspecified:
      break;
  }
  return "ROLE_UNSPECIFIED";
}

std::string Principal::Describe() const {
  return token_id.empty() ? std::string("bootstrap-admin") : absl::StrCat("apiTokens/", token_id);
}

absl::Status ValidateApiToken(const ApiToken& token) {
  if (token.display_name.empty()) {
    return absl::InvalidArgumentError("api_token.display_name is required");
  }
  if (token.display_name.size() > kMaxDisplayName) {
    return absl::InvalidArgumentError(
        absl::StrCat("api_token.display_name is longer than ", kMaxDisplayName, " bytes"));
  }
  for (char c : token.display_name) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return absl::InvalidArgumentError("api_token.display_name has a control character");
    }
  }
  if (token.role != Role::kViewer && token.role != Role::kEditor && token.role != Role::kAdmin) {
    return absl::InvalidArgumentError("api_token.role is required: VIEWER, EDITOR or ADMIN");
  }
  if (!token.team_ids.empty() && token.role != Role::kEditor) {
    return absl::InvalidArgumentError(
        "api_token.teams is only for EDITOR tokens (VIEWER reads every team, ADMIN writes every "
        "team)");
  }
  if (token.team_ids.size() > kMaxTeams) {
    return absl::InvalidArgumentError(
        absl::StrCat("api_token.teams has more than ", kMaxTeams, " entries"));
  }
  std::set<std::string> seen;
  for (const std::string& team : token.team_ids) {
    if (absl::Status s = names::ValidateId(team, "api_token.teams"); !s.ok()) return s;
    if (!seen.insert(team).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("api_token.teams names ", names::Team(team), " twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status RequireRole(const Principal& who, Role needed) {
  if (static_cast<int>(who.role) >= static_cast<int>(needed)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(RoleName(needed), " needed (", Held(who), ")"));
}

absl::Status RequireTeamWrite(const Principal& who,
                              absl::Span<const std::string> team_and_ancestors) {
  if (who.role == Role::kAdmin) return absl::OkStatus();
  if (who.role == Role::kEditor) {
    if (who.team_ids.empty()) return absl::OkStatus();
    for (const std::string& team : team_and_ancestors) {
      for (const std::string& scope : who.team_ids) {
        if (team == scope) return absl::OkStatus();
      }
    }
  }
  const std::string team = team_and_ancestors.empty() ? "" : team_and_ancestors.front();
  return absl::PermissionDeniedError(
      absl::StrCat("EDITOR on ", names::Team(team), " needed (", Held(who), ")"));
}

}  // namespace okr
