#include "connectors/gitlab/gitlab_issue_opener.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/connectors/gitlab/gitlab_test_stack.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"

namespace okr::connectors::gitlab {
namespace {

using ::okr::connectors::gitlab::testing::GitLabTestStack;
using ::okr::testing::FakeGitLabEndpoint;
using ::okr::testing::FakeGitLabIssue;
using ::okr::testing::FakeGitLabServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kProject[] = "acme/checkout";
constexpr char kKrUrl[] = "https://okr.example/objectives/o1/keyResults/nps";

sync::NewIssue AtRisk(std::string label = "okr-rule-3f9c2a") {
  sync::NewIssue issue;
  issue.project = kProject;
  issue.title = "Key result at risk: Checkout NPS >= 45";
  issue.description = "Checkout NPS is at 20% (expected 50%).";
  issue.url = kKrUrl;
  issue.dedupe_label = std::move(label);
  return issue;
}

// The opener over the production stack (curl, retries on the test's clock) against the
// fake GitLab, whose project acme/checkout already holds issues #1 and #2.
class GitLabIssueOpenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okr::testing::FakeGitLabOptions options;
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject(kProject);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(fake_->AddIssue(kProject, FakeGitLabIssue{}).ok());
    absl::StatusOr<std::unique_ptr<GitLabTestStack>> stack =
        GitLabTestStack::Create(*fake_, clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    opener_ = std::make_unique<GitLabIssueOpener>(*stack_->client);
  }

  okr::testing::FakeClock clock_{absl::FromUnixSeconds(1749038587)};
  std::unique_ptr<FakeGitLabServer> fake_;
  std::unique_ptr<GitLabTestStack> stack_;
  std::unique_ptr<GitLabIssueOpener> opener_;
};

TEST_F(GitLabIssueOpenerTest, OpenIssue_CreatesLabelledIssue_ReturnsWorkItem) {
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  absl::StatusOr<FakeGitLabIssue> stored = fake_->GetIssue(kProject, 3);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(opener_->tracker(), Tracker::kGitLab);
  EXPECT_EQ(item->tracker, Tracker::kGitLab);
  EXPECT_EQ(item->key, "acme/checkout#3");
  EXPECT_EQ(item->external_id, absl::StrCat(stored->id));
  EXPECT_EQ(item->title, "Key result at risk: Checkout NPS >= 45");
  EXPECT_EQ(item->url, stored->web_url);
  EXPECT_FALSE(item->done);
  EXPECT_THAT(stored->labels, ElementsAre("okr-rule-3f9c2a"));
  // The description links back to the key result.
  EXPECT_EQ(stored->description,
            absl::StrCat("Checkout NPS is at 20% (expected 50%).\n\n", kKrUrl));
  EXPECT_EQ(fake_->IssueCreates(), 1);
}

TEST_F(GitLabIssueOpenerTest, OpenIssue_SameLabelAgainOrAfterRestart_ReturnsSameIssue_OneCreate) {
  absl::StatusOr<WorkItem> first = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<WorkItem> second = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(second.ok()) << second.status();
  GitLabIssueOpener restarted(*stack_->client);
  absl::StatusOr<WorkItem> third = restarted.OpenIssue(AtRisk());
  ASSERT_TRUE(third.ok()) << third.status();
  for (const WorkItem& item : {*second, *third}) {
    EXPECT_EQ(item.key, first->key);
    EXPECT_EQ(item.external_id, first->external_id);
    EXPECT_EQ(item.url, first->url);
    EXPECT_EQ(item.title, first->title);
  }
  EXPECT_EQ(fake_->IssueCreates(), 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 1);
}

TEST_F(GitLabIssueOpenerTest, OpenIssue_AnotherFiring_OpensAnotherIssue) {
  absl::StatusOr<WorkItem> first = opener_->OpenIssue(AtRisk("okr-rule-1"));
  absl::StatusOr<WorkItem> second = opener_->OpenIssue(AtRisk("okr-rule-2"));
  ASSERT_TRUE(first.ok() && second.ok()) << first.status() << second.status();
  EXPECT_EQ(first->key, "acme/checkout#3");
  EXPECT_EQ(second->key, "acme/checkout#4");
  EXPECT_EQ(fake_->IssueCreates(), 2);
}

TEST_F(GitLabIssueOpenerTest, OpenIssue_ClosedIssueWithLabel_IsReturnedNotReopenedOrDuplicated) {
  FakeGitLabIssue closed;
  closed.title = "Opened by hand";
  closed.state = "closed";
  closed.labels = {"okr-rule-3f9c2a", "team::checkout"};
  ASSERT_TRUE(fake_->AddIssue(kProject, closed).ok());
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->key, "acme/checkout#3");
  EXPECT_EQ(item->title, "Opened by hand");
  EXPECT_TRUE(item->done);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 0);
}

TEST_F(GitLabIssueOpenerTest, OpenIssue_UnknownProject_IsNotFound_NothingCreated) {
  sync::NewIssue issue = AtRisk();
  issue.project = "acme/nope";
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  EXPECT_EQ(item.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(item.status().message(), HasSubstr("404 Project Not Found"));
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 0);
}

TEST_F(GitLabIssueOpenerTest, CreateAnswers500AfterCreating_NotReplayed_CallerRetryFindsIt) {
  fake_->FailNextCreates(1, 500, /*after_create=*/true);
  absl::StatusOr<WorkItem> lost = opener_->OpenIssue(AtRisk());
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 1);  // Not replayed.

  absl::StatusOr<WorkItem> retried = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->key, "acme/checkout#3");
  EXPECT_EQ(fake_->IssueCreates(), 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 1);
}

TEST_F(GitLabIssueOpenerTest, CreateAnswers500BeforeCreating_CallerRetryCreatesOnce) {
  fake_->FailNextCreates(1, 500);
  EXPECT_EQ(opener_->OpenIssue(AtRisk()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_->IssueCreates(), 0);
  absl::StatusOr<WorkItem> retried = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(fake_->IssueCreates(), 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 2);
}

TEST_F(GitLabIssueOpenerTest, CreateRateLimited_RetriedByTheHttpLayer_OneIssue) {
  fake_->FailNextCreates(2, 429);
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateIssue), 3);
  EXPECT_EQ(fake_->IssueCreates(), 1);
}

TEST_F(GitLabIssueOpenerTest, MissingOrUnusableFields_InvalidArgumentWithoutAnyRequest) {
  std::vector<sync::NewIssue> bad(6, AtRisk());
  bad[0].project = "";
  bad[1].title = " \n ";
  bad[2].dedupe_label = "";
  bad[3].dedupe_label = "okr-rule,x";  // GitLab's labels= filter splits on commas.
  bad[4].project = "no-namespace";
  bad[5].project = "acme/../secret";
  for (const sync::NewIssue& issue : bad) {
    absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
    EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument)
        << issue.project << "|" << issue.title << "|" << issue.dedupe_label;
  }
  EXPECT_TRUE(fake_->Requests().empty());
}

TEST_F(GitLabIssueOpenerTest, LongMultiLineTitle_BecomesOneLineOf255Characters) {
  sync::NewIssue issue = AtRisk();
  issue.title = absl::StrCat("Key result at risk:\n", std::string(300, 'x'));
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->title.find('\n'), std::string::npos);
  EXPECT_EQ(item->title.size(), 254u + 3u);  // 254 characters and a 3-byte "…".
}

}  // namespace
}  // namespace okr::connectors::gitlab
