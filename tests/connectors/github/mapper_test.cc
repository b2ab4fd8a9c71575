#include "connectors/github/mapper.h"

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::connectors::github {
namespace {

using ::testing::HasSubstr;

nlohmann::json RestIssue(const std::string& state, const nlohmann::json& reason,
                         const nlohmann::json& labels = nlohmann::json::array()) {
  return {{"id", 1},
          {"node_id", "I_kwDOabc"},
          {"number", 7},
          {"title", "Checkout"},
          {"state", state},
          {"state_reason", reason},
          {"labels", labels},
          {"updated_at", "2026-01-02T03:04:05Z"},
          {"html_url", "https://github.com/acme/app/issues/7"},
          {"repository_url", "https://api.github.com/repos/acme/app"}};
}

TEST(IssueFromRestJsonTest, MapsKeyNodeIdUrlAndWholeSeconds) {
  absl::StatusOr<GitHubIssue> issue = IssueFromRestJson(RestIssue("open", nullptr));
  ASSERT_TRUE(issue.ok()) << issue.status();
  const WorkItem item = ToWorkItem(*issue);
  EXPECT_EQ(item.tracker, Tracker::kGitHub);
  EXPECT_EQ(item.key, "acme/app#7");
  EXPECT_EQ(item.external_id, "I_kwDOabc");
  EXPECT_EQ(item.url, "https://github.com/acme/app/issues/7");
  EXPECT_EQ(item.title, "Checkout");
  EXPECT_FALSE(item.done);
  EXPECT_EQ(item.weight, 1.0);
  EXPECT_EQ(item.source_updated, absl::FromUnixSeconds(1767323045));
}

struct DoneCase {
  std::string state;
  nlohmann::json reason;
  bool done;
  std::string exclusion;
};

TEST(ApplyDoneRulesTest, StateAndStateReasonTable) {
  const DoneCase cases[] = {
      {"open", nullptr, false, ""},
      {"open", "reopened", false, ""},
      {"closed", "completed", true, ""},
      {"closed", nullptr, true, ""},
      {"closed", "not_planned", true, "not_planned"},
      {"closed", "duplicate", true, "duplicate"},
  };
  for (const DoneCase& c : cases) {
    absl::StatusOr<GitHubIssue> issue = IssueFromRestJson(RestIssue(c.state, c.reason));
    ASSERT_TRUE(issue.ok()) << issue.status();
    EXPECT_EQ(issue->done, c.done) << c.state << " " << c.reason;
    EXPECT_EQ(issue->exclusion, c.exclusion) << c.state << " " << c.reason;
  }
}

TEST(ApplyDoneRulesTest, ConfiguredStateReasonsAndLabelsCreditAndWeight) {
  GitHubDoneMapping mapping;
  GitHubDoneRule rule;
  rule.credit = {{"in-review", 0.5}};
  rule.excluded = GitHubExcludedRule{{"duplicate"}, {"obsolete"}};
  mapping.by_repo["acme/app"] = rule;
  mapping.weight_label_prefix = "size/";

  absl::StatusOr<GitHubIssue> not_planned =
      IssueFromRestJson(RestIssue("closed", "not_planned"), "", "issue", mapping);
  ASSERT_TRUE(not_planned.ok());
  EXPECT_TRUE(not_planned->done);  // not excluded under this rule: counts as closed
  EXPECT_EQ(not_planned->exclusion, "");

  absl::StatusOr<GitHubIssue> labelled =
      IssueFromRestJson(RestIssue("open", nullptr, {{{"name", "Obsolete"}}}), "", "issue", mapping);
  ASSERT_TRUE(labelled.ok());
  EXPECT_EQ(labelled->exclusion, "Obsolete");

  absl::StatusOr<GitHubIssue> review =
      IssueFromRestJson(RestIssue("open", nullptr, {{{"name", "in-review"}}, {{"name", "size/5"}}}),
                        "", "issue", mapping);
  ASSERT_TRUE(review.ok());
  EXPECT_EQ(review->partial_credit, 0.5);
  EXPECT_EQ(review->status, "in-review");
  EXPECT_EQ(ToWorkItem(*review).weight, 5.0);
}

TEST(ApplyDoneRulesTest, DefaultWeightPrefixAndDefaultExcludedLabels) {
  absl::StatusOr<GitHubIssue> issue = IssueFromRestJson(
      RestIssue("open", nullptr, {{{"name", "weight:3"}}, {{"name", "wontfix"}}}));
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(ToWorkItem(*issue).weight, 3.0);
  EXPECT_EQ(issue->exclusion, "wontfix");
  absl::StatusOr<GitHubIssue> bad_weight = IssueFromRestJson(
      RestIssue("open", nullptr, {{{"name", "weight:-2"}}, {{"name", "weight:x"}}}));
  ASSERT_TRUE(bad_weight.ok());
  EXPECT_EQ(ToWorkItem(*bad_weight).weight, 1.0);
}

TEST(IssueFromRestJsonTest, ErrorsNameTheField) {
  nlohmann::json no_number = RestIssue("open", nullptr);
  no_number.erase("number");
  EXPECT_THAT(IssueFromRestJson(no_number).status().message(), HasSubstr("issue.number"));
  nlohmann::json bad_time = RestIssue("open", nullptr);
  bad_time["updated_at"] = "yesterday";
  EXPECT_THAT(IssueFromRestJson(bad_time).status().message(), HasSubstr("issue.updated_at"));
  nlohmann::json no_state = RestIssue("open", nullptr);
  no_state.erase("state");
  EXPECT_EQ(IssueFromRestJson(no_state).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IssueFromGraphQLNodeTest, MapsTheSection35Shape) {
  const nlohmann::json node = {{"__typename", "Issue"},
                               {"id", "I_kwDOnode"},
                               {"number", 12},
                               {"state", "CLOSED"},
                               {"stateReason", "NOT_PLANNED"},
                               {"updatedAt", "2026-01-02T03:04:05Z"},
                               {"url", "https://github.com/acme/web/issues/12"},
                               {"labels", {{"totalCount", 1}, {"nodes", {{{"name", "weight:2"}}}}}},
                               {"repository", {{"nameWithOwner", "acme/web"}}}};
  absl::StatusOr<GitHubIssue> issue = IssueFromGraphQLNode(node);
  ASSERT_TRUE(issue.ok()) << issue.status();
  const WorkItem item = ToWorkItem(*issue);
  EXPECT_EQ(item.key, "acme/web#12");
  EXPECT_EQ(item.external_id, "I_kwDOnode");
  EXPECT_EQ(item.exclusion, "not_planned");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 2.0);

  nlohmann::json completed = node;
  completed["stateReason"] = "COMPLETED";
  EXPECT_TRUE(IssueFromGraphQLNode(completed)->done);
  EXPECT_EQ(IssueFromGraphQLNode(completed)->exclusion, "");

  nlohmann::json no_repo = node;
  no_repo.erase("repository");
  EXPECT_THAT(IssueFromGraphQLNode(no_repo, "nodes[3]").status().message(),
              HasSubstr("nodes[3].repository.nameWithOwner"));
}

TEST(WorkItemKeyTest, RoundTripAndRejects) {
  auto parsed = ParseWorkItemKey("acme/app#123");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "acme/app");
  EXPECT_EQ(parsed->second, 123);
  EXPECT_EQ(WorkItemKey("acme/app", 123), "acme/app#123");
  for (const char* bad : {"acme#1", "acme/app#01", "acme/app#", "a/b/c#1", "acme/app#-1"}) {
    EXPECT_FALSE(ParseWorkItemKey(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace okr::connectors::github
