// Tests of the access rules (service/okr/access.h): roles, team scopes, token validation.
#include "service/okr/access.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr {
namespace {

using ::testing::HasSubstr;

Principal Token(Role role, std::vector<std::string> teams = {}) {
  return Principal{"ada", "Ada", role, std::move(teams)};
}

TEST(RequireRoleTest, EveryRoleIncludesTheOnesBelow) {
  struct Case {
    Role held;
    Role needed;
    bool allowed;
  };
  const Case cases[] = {
      {Role::kViewer, Role::kViewer, true},  {Role::kViewer, Role::kEditor, false},
      {Role::kViewer, Role::kAdmin, false},  {Role::kEditor, Role::kViewer, true},
      {Role::kEditor, Role::kEditor, true},  {Role::kEditor, Role::kAdmin, false},
      {Role::kAdmin, Role::kViewer, true},   {Role::kAdmin, Role::kEditor, true},
      {Role::kAdmin, Role::kAdmin, true},    {Role::kUnspecified, Role::kViewer, false},
  };
  for (const Case& c : cases) {
    absl::Status s = RequireRole(Token(c.held), c.needed);
    EXPECT_EQ(s.ok(), c.allowed) << RoleName(c.held) << " for " << RoleName(c.needed);
    if (!c.allowed) {
      EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
      EXPECT_THAT(s.message(), HasSubstr(absl::StrCat(RoleName(c.needed), " needed")));
      EXPECT_THAT(s.message(), HasSubstr("apiTokens/ada"));
    }
  }
}

TEST(RequireTeamWriteTest, EditorWritesItsTeamsAndEveryTeamBelow) {
  const Principal editor = Token(Role::kEditor, {"payments"});
  EXPECT_TRUE(RequireTeamWrite(editor, {"payments"}).ok());
  EXPECT_TRUE(RequireTeamWrite(editor, {"checkout", "payments", "company"}).ok());
  absl::Status s = RequireTeamWrite(editor, {"search", "company"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("EDITOR on teams/search needed"));
  EXPECT_THAT(s.message(), HasSubstr("EDITOR of teams/payments"));
  // A team above the scope is not below it.
  EXPECT_FALSE(RequireTeamWrite(editor, {"company"}).ok());
}

TEST(RequireTeamWriteTest, UnscopedEditorAndAdminWriteEveryTeam_ViewerNone) {
  EXPECT_TRUE(RequireTeamWrite(Token(Role::kEditor), {"search"}).ok());
  EXPECT_TRUE(RequireTeamWrite(Token(Role::kAdmin), {"search"}).ok());
  absl::Status s = RequireTeamWrite(Token(Role::kViewer), {"search"});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("is VIEWER"));
}

TEST(ValidateApiTokenTest, NamesTheFieldAtFault) {
  ApiToken ok{"t", "Planning bot", Role::kEditor, {"payments"}, "", {}};
  EXPECT_TRUE(ValidateApiToken(ok).ok());
  struct Case {
    ApiToken token;
    std::string fragment;
  };
  const Case cases[] = {
      {{"t", "", Role::kViewer, {}, "", {}}, "api_token.display_name is required"},
      {{"t", std::string(201, 'x'), Role::kViewer, {}, "", {}}, "api_token.display_name"},
      {{"t", "a\nb", Role::kViewer, {}, "", {}}, "control character"},
      {{"t", "Bot", Role::kUnspecified, {}, "", {}}, "api_token.role is required"},
      {{"t", "Bot", Role::kViewer, {"payments"}, "", {}}, "api_token.teams is only for EDITOR"},
      {{"t", "Bot", Role::kAdmin, {"payments"}, "", {}}, "api_token.teams is only for EDITOR"},
      {{"t", "Bot", Role::kEditor, {"Bad Id"}, "", {}}, "api_token.teams"},
      {{"t", "Bot", Role::kEditor, {"a", "a"}, "", {}}, "names teams/a twice"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateApiToken(c.token);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.fragment;
    EXPECT_THAT(s.message(), HasSubstr(c.fragment));
  }
}

TEST(PrincipalTest, DescribesTokensAndTheBootstrapAdmin) {
  EXPECT_EQ(Token(Role::kAdmin).Describe(), "apiTokens/ada");
  EXPECT_EQ((Principal{"", "admin", Role::kAdmin, {}}).Describe(), "bootstrap-admin");
}

}  // namespace
}  // namespace okr
