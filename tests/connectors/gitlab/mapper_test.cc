#include "connectors/gitlab/mapper.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::connectors::gitlab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// GET /projects/:id/issues/:iid as documented (shortened): labels are strings, timestamps
// ISO-8601 with milliseconds.
constexpr char kRestIssue[] = R"json({
  "id": 76, "iid": 6, "project_id": 8, "title": "Consequatur vero maxime deserunt laboriosam est voluptas dolorem.",
  "description": "Ratione dolores corrupti mollitia soluta quia.", "state": "opened",
  "created_at": "2016-01-04T15:31:51.081Z", "updated_at": "2016-01-04T15:31:51.081Z",
  "closed_at": null, "closed_by": null, "labels": ["OKR::abc", "bug"], "milestone": null,
  "assignees": [], "author": {"id": 1, "username": "root"}, "type": "ISSUE",
  "issue_type": "issue", "user_notes_count": 1, "merge_requests_count": 0, "upvotes": 0,
  "downvotes": 0, "due_date": null, "confidential": false, "discussion_locked": false,
  "web_url": "http://gitlab.example.com/my-group/my-project/issues/6",
  "time_stats": {"time_estimate": 0, "total_time_spent": 0}, "weight": 4,
  "has_tasks": false,
  "_links": {"self": "http://gitlab.example.com/api/v4/projects/8/issues/6",
             "notes": "http://gitlab.example.com/api/v4/projects/8/issues/6/notes",
             "award_emoji": "http://gitlab.example.com/api/v4/projects/8/issues/6/award_emoji",
             "project": "http://gitlab.example.com/api/v4/projects/8",
             "closed_as_duplicate_of": null},
  "references": {"short": "#6", "relative": "my-group/my-project#6", "full": "my-group/my-project#6"},
  "severity": "UNKNOWN", "subscribed": false, "moved_to_id": null, "service_desk_reply_to": null
})json";

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(IssueFromRestJsonTest, DocumentedIssue_MapsEveryField) {
  absl::StatusOr<GitLabIssue> issue =
      IssueFromRestJson(nlohmann::json::parse(kRestIssue), "my-group/my-project");
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->project_path, "my-group/my-project");
  EXPECT_EQ(issue->project_id, 8);
  EXPECT_EQ(issue->iid, 6);
  EXPECT_EQ(issue->id, 76);
  EXPECT_EQ(issue->title, "Consequatur vero maxime deserunt laboriosam est voluptas dolorem.");
  EXPECT_EQ(issue->state, "opened");
  EXPECT_FALSE(issue->done);
  EXPECT_EQ(issue->weight, 4.0);
  EXPECT_THAT(issue->labels, ElementsAre("OKR::abc", "bug"));
  EXPECT_EQ(issue->url, "http://gitlab.example.com/my-group/my-project/issues/6");
  EXPECT_EQ(issue->updated_at, Utc(2016, 1, 4, 15, 31, 51) + absl::Milliseconds(81));
}

TEST(IssueFromRestJsonTest, DoneOnlyWhenClosed) {
  const struct {
    const char* state;
    bool done;
  } kCases[] = {{"closed", true}, {"opened", false}, {"locked", false}, {"Closed", false}};
  for (const auto& c : kCases) {
    nlohmann::json json = nlohmann::json::parse(kRestIssue);
    json["state"] = c.state;
    absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p");
    ASSERT_TRUE(issue.ok()) << issue.status();
    EXPECT_EQ(issue->done, c.done) << c.state;
  }
}

// A per-project rule (GitLabDoneMapping) replaces "state == closed" for that project only,
// in REST issues and in hooks alike.
TEST(IssueFromRestJsonTest, ProjectDoneRule_StateOrLabelDecides) {
  GitLabDoneMapping mapping;
  mapping.by_project["g/p"] = GitLabDoneRule{{}, {"workflow::deployed"}};
  mapping.by_project["g/q"] = GitLabDoneRule{{"closed"}, {"workflow::deployed"}};
  const struct {
    const char* project;
    const char* state;
    std::vector<std::string> labels;
    bool done;
  } kCases[] = {
      {"g/p", "opened", {"bug", "workflow::deployed"}, true},
      {"g/p", "closed", {"bug"}, false},                 // closed alone no longer counts here
      {"g/p", "opened", {"workflow::Deployed"}, false},  // labels match exactly
      {"g/q", "closed", {}, true},
      {"g/q", "opened", {"workflow::deployed"}, true},
      {"g/q", "opened", {}, false},
      {"g/other", "closed", {}, true},  // no rule: closed decides
      {"g/other", "opened", {"workflow::deployed"}, false},
  };
  for (const auto& c : kCases) {
    nlohmann::json json = nlohmann::json::parse(kRestIssue);
    json["state"] = c.state;
    json["labels"] = c.labels;
    absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, c.project, "issue", mapping);
    ASSERT_TRUE(issue.ok()) << issue.status();
    EXPECT_EQ(issue->done, c.done) << c.project << " " << c.state;
    EXPECT_EQ(IsDone(*issue, mapping), c.done);
    EXPECT_EQ(IsDone(*issue, {}), std::string(c.state) == "closed");
  }
}

// ---- credit per label/state and cancelled work -----------------------------------------------

GitLabDoneMapping CreditMapping() {
  GitLabDoneMapping mapping;
  GitLabDoneRule rule;
  rule.credit = {{"workflow::review", 0.5}, {"workflow::doing", 0.25}, {"opened", 0.1}};
  mapping.by_project["g/p"] = rule;
  return mapping;
}

TEST(GitLabCreditTest, LargestShareOfLabelOrState_WithWhatGaveIt) {
  const struct {
    const char* state;
    std::vector<std::string> labels;
    double credit;
    const char* status;
    bool done;
  } kCases[] = {
      {"opened", {"workflow::doing", "workflow::review"}, 0.5, "workflow::review", false},
      {"opened", {"workflow::doing"}, 0.25, "workflow::doing", false},
      {"opened", {"bug"}, 0.1, "opened", false},               // the state's own share
      {"opened", {"Workflow::Review"}, 0.1, "opened", false},  // labels match exactly
      {"closed", {"workflow::review"}, 0, "closed", true},     // done counts whole
  };
  for (const auto& c : kCases) {
    nlohmann::json json = nlohmann::json::parse(kRestIssue);
    json["state"] = c.state;
    json["labels"] = c.labels;
    absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p", "issue", CreditMapping());
    ASSERT_TRUE(issue.ok()) << issue.status();
    EXPECT_DOUBLE_EQ(issue->partial_credit, c.credit) << c.state;
    EXPECT_EQ(issue->status, c.status);
    EXPECT_EQ(issue->done, c.done);
    okr::WorkItem item = ToWorkItem(*issue);
    EXPECT_DOUBLE_EQ(item.partial_credit, c.credit);
    EXPECT_EQ(item.status, c.status);
    EXPECT_FALSE(item.excluded());
  }
  // Without a rule: no credit, the state as status.
  absl::StatusOr<GitLabIssue> plain = IssueFromRestJson(nlohmann::json::parse(kRestIssue), "g/x");
  ASSERT_TRUE(plain.ok());
  EXPECT_DOUBLE_EQ(plain->partial_credit, 0);
  EXPECT_EQ(plain->status, "opened");
}

TEST(GitLabExclusionTest, ClosedAsDuplicate_RestAndHook) {
  nlohmann::json json = nlohmann::json::parse(kRestIssue);
  json["state"] = "closed";
  json["_links"]["closed_as_duplicate_of"] = "http://gitlab.example.com/api/v4/projects/8/issues/5";
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p");
  ASSERT_TRUE(issue.ok());
  EXPECT_TRUE(issue->closed_as_duplicate);
  EXPECT_EQ(issue->exclusion, "duplicate");
  EXPECT_TRUE(issue->done);
  EXPECT_EQ(ToWorkItem(*issue).exclusion, "duplicate");

  // Reopened: the link may linger, but open work is not a closed duplicate.
  json["state"] = "opened";
  issue = IssueFromRestJson(json, "g/p");
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(issue->exclusion, "");

  nlohmann::json hook = {{"object_kind", "issue"},
                         {"project", {{"id", 8}, {"path_with_namespace", "g/p"}}},
                         {"object_attributes",
                          {{"iid", 6},
                           {"id", 76},
                           {"state", "closed"},
                           {"updated_at", "2025-06-04 12:03:07 UTC"},
                           {"duplicated_to_id", 75},
                           {"labels", nlohmann::json::array()}}}};
  absl::StatusOr<GitLabIssue> from_hook = IssueFromHookJson(hook);
  ASSERT_TRUE(from_hook.ok()) << from_hook.status();
  EXPECT_EQ(from_hook->exclusion, "duplicate");
  hook["object_attributes"]["duplicated_to_id"] = nullptr;
  from_hook = IssueFromHookJson(hook);
  ASSERT_TRUE(from_hook.ok());
  EXPECT_EQ(from_hook->exclusion, "");
  EXPECT_TRUE(from_hook->done);
}

TEST(GitLabExclusionTest, DefaultLabels_CaseInsensitive_AsSpelt) {
  for (const auto& [label, state] : std::vector<std::pair<std::string, std::string>>{
           {"wontfix", "opened"}, {"WontFix", "closed"}, {"Duplicate", "opened"}}) {
    nlohmann::json json = nlohmann::json::parse(kRestIssue);
    json["state"] = state;
    json["labels"] = {"bug", label};
    absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/x");
    ASSERT_TRUE(issue.ok());
    EXPECT_EQ(issue->exclusion, label);
    EXPECT_EQ(issue->done, state == "closed");
    EXPECT_TRUE(ToWorkItem(*issue).excluded());
  }
}

TEST(GitLabExclusionTest, ExplicitRule_ReplacesDefaults) {
  GitLabDoneMapping mapping;
  GitLabDoneRule rule;
  rule.excluded = GitLabExcludedRule{false, {"obsolete"}};
  mapping.by_project["g/p"] = rule;
  nlohmann::json json = nlohmann::json::parse(kRestIssue);
  json["state"] = "closed";
  json["labels"] = {"wontfix"};
  json["_links"]["closed_as_duplicate_of"] = "http://gitlab.example.com/api/v4/projects/8/issues/5";
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p", "issue", mapping);
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(issue->exclusion, "");
  EXPECT_TRUE(issue->done);
  json["labels"] = {"Obsolete"};
  issue = IssueFromRestJson(json, "g/p", "issue", mapping);
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(issue->exclusion, "Obsolete");
}

TEST(IssueFromRestJsonTest, LabelDetailsObjectsAlsoAccepted) {
  nlohmann::json json = nlohmann::json::parse(kRestIssue);
  json["labels"] = nlohmann::json::array({{{"id", 1}, {"name", "x"}, {"title", "OKR::abc"}}});
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p");
  ASSERT_TRUE(issue.ok());
  EXPECT_THAT(issue->labels, ElementsAre("OKR::abc"));
}

TEST(IssueFromRestJsonTest, MissingRequiredFields_InvalidArgumentWithPrefix) {
  for (const char* field : {"iid", "state", "updated_at"}) {
    nlohmann::json json = nlohmann::json::parse(kRestIssue);
    json.erase(field);
    absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p", "issues[3]");
    EXPECT_EQ(issue.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(issue.status().message(), HasSubstr(std::string("issues[3].") + field));
  }
  EXPECT_EQ(IssueFromRestJson(nlohmann::json::array(), "g/p").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IssueFromRestJsonTest, OptionalFieldsOfWrongType_Defaulted) {
  nlohmann::json json = nlohmann::json::parse(kRestIssue);
  json["title"] = 5;
  json["web_url"] = nullptr;
  json["id"] = "76";
  json["labels"] = "OKR::abc";
  json["weight"] = "heavy";
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, "g/p");
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_EQ(issue->title, "");
  EXPECT_EQ(issue->url, "");
  EXPECT_EQ(issue->id, 0);
  EXPECT_THAT(issue->labels, IsEmpty());
  EXPECT_EQ(issue->weight, std::nullopt);
}

TEST(ToWorkItemTest, MapsToDomain) {
  GitLabIssue issue;
  issue.project_path = "acme/sub/checkout";
  issue.iid = 7;
  issue.title = "Ship";
  issue.url = "https://gitlab.example.com/acme/sub/checkout/-/issues/7";
  issue.done = true;
  issue.updated_at = Utc(2025, 6, 4, 12, 3, 7);
  okr::WorkItem item = ToWorkItem(issue);
  EXPECT_EQ(item.tracker, okr::Tracker::kGitLab);
  EXPECT_EQ(item.key, "acme/sub/checkout#7");
  EXPECT_EQ(item.title, "Ship");
  EXPECT_EQ(item.url, "https://gitlab.example.com/acme/sub/checkout/-/issues/7");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 1.0);
  EXPECT_EQ(item.update_time, Utc(2025, 6, 4, 12, 3, 7));
  EXPECT_EQ(item.source_updated, Utc(2025, 6, 4, 12, 3, 7));
  EXPECT_EQ(item.external_id, "");  // id unknown.
  issue.id = 50123;
  EXPECT_EQ(ToWorkItem(issue).external_id, "50123");
  issue.weight = 2.5;
  EXPECT_EQ(ToWorkItem(issue).weight, 2.5);
}

TEST(ValidateProjectPathTest, Table) {
  const struct {
    const char* path;
    bool ok;
  } kCases[] = {
      {"group/project", true},    {"acme/sub/checkout", true},
      {"a.b/c-d_e", true},        {"", false},
      {"project", false},         {"/group/project", false},
      {"group/project/", false},  {"group//project", false},
      {"group/./project", false}, {"group/../project", false},
      {"group/pro ject", false},  {"group%2Fproject", false},
      {"group/project#1", false}, {"gr\xc3\xbcn/project", false},
  };
  for (const auto& c : kCases) {
    absl::Status status = ValidateProjectPath(c.path, "path");
    EXPECT_EQ(status.ok(), c.ok) << c.path << ": " << status;
    if (!c.ok) {
      EXPECT_THAT(status.message(), HasSubstr("path"));
    }
  }
}

TEST(FormatGitLabTimeTest, IsoUtcWithMillisAndRoundTrips) {
  const absl::Time t = Utc(2016, 1, 4, 15, 31, 39) + absl::Milliseconds(996);
  EXPECT_EQ(FormatGitLabTime(t), "2016-01-04T15:31:39.996Z");
  EXPECT_EQ(*ParseGitLabTime(FormatGitLabTime(t)), t);
}

}  // namespace
}  // namespace okr::connectors::gitlab
