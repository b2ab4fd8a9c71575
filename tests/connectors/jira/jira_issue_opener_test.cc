#include "connectors/jira/jira_issue_opener.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "connectors/jira/jira_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/connectors/jira/jira_test_stack.h"
#include "tests/testing/fake_jira/fake_jira_server.h"

namespace okr::connectors::jira {
namespace {

using ::okr::connectors::jira::testing::JiraTestStack;
using ::okr::testing::FakeJiraEndpoint;
using ::okr::testing::FakeJiraFailure;
using ::okr::testing::FakeJiraIssue;
using ::okr::testing::FakeJiraServer;
using ::okr::testing::MakeFakeIssues;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kKrUrl[] = "https://okr.example/objectives/o1/keyResults/nps";

sync::NewIssue AtRisk(std::string label = "okr-rule-3f9c2a") {
  sync::NewIssue issue;
  issue.project = "OKRX";
  issue.title = "Key result at risk: Checkout NPS >= 45";
  issue.description = absl::StrCat("Checkout NPS is at 20% (expected 50%).\n", kKrUrl);
  issue.url = kKrUrl;
  issue.dedupe_label = std::move(label);
  return issue;
}

// The opener over the production stack (curl, retries on a fake sleeper, basic auth)
// against the fake Jira, whose project OKRX already holds two issues.
class JiraIssueOpenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeJiraServer>> fake = FakeJiraServer::Start();
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->PutIssues(MakeFakeIssues(2));
    absl::StatusOr<std::unique_ptr<JiraTestStack>> stack = JiraTestStack::Create(*fake_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    opener_ = std::make_unique<JiraIssueOpener>(*stack_->client, fake_->base_url());
  }

  int64_t Requests() const {
    int64_t total = 0;
    for (FakeJiraEndpoint endpoint :
         {FakeJiraEndpoint::kGetProject, FakeJiraEndpoint::kSearchJql, FakeJiraEndpoint::kSearchV2,
          FakeJiraEndpoint::kCreateIssue}) {
      total += fake_->RequestCount(endpoint);
    }
    return total;
  }

  std::unique_ptr<FakeJiraServer> fake_;
  std::unique_ptr<JiraTestStack> stack_;
  std::unique_ptr<JiraIssueOpener> opener_;
};

TEST_F(JiraIssueOpenerTest, OpenIssue_CreatesLabelledTask_ReturnsWorkItem) {
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(opener_->tracker(), Tracker::kJira);
  EXPECT_EQ(item->tracker, Tracker::kJira);
  EXPECT_EQ(item->key, "OKRX-3");
  EXPECT_EQ(item->external_id, "10003");
  EXPECT_EQ(item->title, "Key result at risk: Checkout NPS >= 45");
  EXPECT_EQ(item->url, absl::StrCat(fake_->base_url(), "/browse/OKRX-3"));
  EXPECT_FALSE(item->done);

  std::optional<FakeJiraIssue> stored = fake_->GetIssue("OKRX-3");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->issue_type, "Task");
  EXPECT_THAT(stored->labels, ElementsAre("okr-rule-3f9c2a"));
  // Cloud: an ADF doc whose link mark points back at the key result.
  const nlohmann::json& paragraph = stored->description["content"][0]["content"];
  EXPECT_EQ(paragraph.back()["text"], kKrUrl);
  EXPECT_EQ(paragraph.back()["marks"][0]["attrs"]["href"], kKrUrl);
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

TEST_F(JiraIssueOpenerTest, OpenIssue_SameLabelAgainOrAfterRestart_ReturnsSameIssue_OneCreate) {
  absl::StatusOr<WorkItem> first = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<WorkItem> second = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(second.ok()) << second.status();
  JiraIssueOpener restarted(*stack_->client, fake_->base_url());
  absl::StatusOr<WorkItem> third = restarted.OpenIssue(AtRisk());
  ASSERT_TRUE(third.ok()) << third.status();

  for (const WorkItem& item : {*second, *third}) {
    EXPECT_EQ(item.key, first->key);
    EXPECT_EQ(item.external_id, first->external_id);
    EXPECT_EQ(item.title, first->title);
    EXPECT_EQ(item.url, first->url);
    EXPECT_FALSE(item.done);
  }
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 1);
}

TEST_F(JiraIssueOpenerTest, OpenIssue_AnotherFiring_OpensAnotherIssue) {
  absl::StatusOr<WorkItem> first = opener_->OpenIssue(AtRisk("okr-rule-1"));
  absl::StatusOr<WorkItem> second = opener_->OpenIssue(AtRisk("okr-rule-2"));
  ASSERT_TRUE(first.ok() && second.ok()) << first.status() << second.status();
  EXPECT_NE(first->key, second->key);
  EXPECT_EQ(fake_->IssuesCreated(), 2);
}

TEST_F(JiraIssueOpenerTest, OpenIssue_ExistingIssueWithLabel_IsReturnedAsItIs) {
  FakeJiraIssue done = MakeFakeIssues(1, 20001)[0];
  done.key = "OKRX-77";
  done.summary = "Renamed by someone";
  done.status_category = "done";
  done.labels = {"okr-rule-3f9c2a", "other"};
  fake_->PutIssue(done);
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->key, "OKRX-77");
  EXPECT_EQ(item->external_id, "20001");
  EXPECT_EQ(item->title, "Renamed by someone");
  EXPECT_TRUE(item->done);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 0);
}

TEST_F(JiraIssueOpenerTest, OpenIssue_UnknownProject_IsNotFound_NothingCreated) {
  sync::NewIssue issue = AtRisk();
  issue.project = "NOPE";
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  EXPECT_EQ(item.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(item.status().message(), HasSubstr("get project"));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchJql), 0);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 0);
}

TEST_F(JiraIssueOpenerTest, CreateAnswers500AfterCreating_NotReplayed_CallerRetryFindsIt) {
  fake_->FailNextCreates(1, FakeJiraFailure{500, std::nullopt, std::nullopt},
                         /*after_create=*/true);
  absl::StatusOr<WorkItem> lost = opener_->OpenIssue(AtRisk());
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 1);  // Not replayed.

  absl::StatusOr<WorkItem> retried = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->key, "OKRX-3");
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 1);
}

TEST_F(JiraIssueOpenerTest, CreateAnswers500BeforeCreating_CallerRetryCreatesOnce) {
  fake_->FailNextCreates(1, FakeJiraFailure{500, std::nullopt, std::nullopt});
  EXPECT_EQ(opener_->OpenIssue(AtRisk()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->IssuesCreated(), 0);
  absl::StatusOr<WorkItem> retried = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 2);
}

TEST_F(JiraIssueOpenerTest, CreateRateLimited_RetriedByTheHttpLayer_OneIssue) {
  fake_->FailNextCreates(2, FakeJiraFailure{429, "1", std::nullopt});
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 3);
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

TEST_F(JiraIssueOpenerTest, MissingOrUnusableFields_InvalidArgumentWithoutAnyRequest) {
  std::vector<sync::NewIssue> bad(5, AtRisk());
  bad[0].project = "";
  bad[1].title = "  ";
  bad[2].dedupe_label = "";
  bad[3].dedupe_label = "okr rule";  // Jira labels cannot hold spaces.
  bad[4].project = "OKRX\" OR project = \"SECRET";
  for (const sync::NewIssue& issue : bad) {
    absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
    EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument)
        << issue.project << "|" << issue.title << "|" << issue.dedupe_label;
  }
  EXPECT_EQ(Requests(), 0);
}

TEST_F(JiraIssueOpenerTest, LongMultiLineTitle_BecomesOneLineOf255Characters) {
  sync::NewIssue issue = AtRisk();
  issue.title = absl::StrCat("Key result at risk:\n", std::string(300, 'x'));
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  ASSERT_TRUE(item.ok()) << item.status();
  std::optional<FakeJiraIssue> stored = fake_->GetIssue(item->key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->summary, item->title);
  EXPECT_EQ(item->title.find('\n'), std::string::npos);
  EXPECT_EQ(item->title.substr(0, 20), "Key result at risk: ");
  EXPECT_EQ(item->title.size(), 254u + 3u);  // 254 characters and a 3-byte "…".
}

TEST_F(JiraIssueOpenerTest, LabelWithQuotes_IsEscapedInJql_AndStillDeduplicates) {
  const std::string label = "okr-rule-\"7\"\\x";
  ASSERT_TRUE(opener_->OpenIssue(AtRisk(label)).ok());
  absl::StatusOr<WorkItem> again = opener_->OpenIssue(AtRisk(label));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(fake_->IssuesCreated(), 1);
  EXPECT_EQ(DedupeJql("OKRX", label),
            "project = \"OKRX\" AND labels = \"okr-rule-\\\"7\\\"\\\\x\" ORDER BY created ASC");
}

TEST_F(JiraIssueOpenerTest, DataCenter_SearchesV2_AndSendsPlainDescription) {
  JiraClientOptions options;
  options.site_base_url = fake_->base_url();
  options.deployment = JiraDeployment::kDataCenter;
  options.fields.story_points_field = fake_->options().story_points_field;
  absl::StatusOr<std::unique_ptr<JiraClient>> dc =
      JiraClient::Create(*stack_->authenticated, std::move(options));
  ASSERT_TRUE(dc.ok()) << dc.status();
  JiraIssueOpener opener(**dc, fake_->base_url(), "Bug");
  absl::StatusOr<WorkItem> item = opener.OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_TRUE(opener.OpenIssue(AtRisk()).ok());
  std::optional<FakeJiraIssue> stored = fake_->GetIssue(item->key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->issue_type, "Bug");
  EXPECT_EQ(stored->description, AtRisk().description);  // Already mentions the url.
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchV2), 2);
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

}  // namespace
}  // namespace okr::connectors::jira
