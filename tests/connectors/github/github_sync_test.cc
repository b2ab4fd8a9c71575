#include "connectors/github/github_sync.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "connectors/github/github_issue_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/connectors/github/github_test_stack.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_github/fake_github_server.h"

namespace okr::connectors::github {
namespace {

using ::okr::connectors::github::testing::GitHubTestStack;
using ::okr::testing::FakeGitHubComment;
using ::okr::testing::FakeGitHubEndpoint;
using ::okr::testing::FakeGitHubIssue;
using ::okr::testing::FakeGitHubServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

sync::ServedKeyResult Served(const std::string& objective, const std::string& kr, double progress) {
  sync::ServedKeyResult s;
  s.key_result = absl::StrCat("objectives/", objective, "/keyResults/", kr);
  s.key_result_title = absl::StrCat("KR ", kr);
  s.objective = absl::StrCat("objectives/", objective);
  s.objective_title = "Objective";
  s.progress = progress;
  s.url = absl::StrCat("https://okr.example/objectives/", objective, "/keyResults/", kr);
  return s;
}

TEST(ServedLabelTest, PrefixObjectiveKeyResult_LongOnesShortenedDeterministically) {
  EXPECT_EQ(ServedLabel("OKR", Served("o1", "nps", 0)), "OKR:o1/nps");
  const std::string long_kr(60, 'k');
  const std::string a = ServedLabel("OKR", Served("o1", long_kr, 0));
  EXPECT_EQ(a.size(), kMaxLabelChars);
  EXPECT_EQ(a, ServedLabel("OKR", Served("o1", long_kr, 0)));
  EXPECT_NE(a, ServedLabel("OKR", Served("o1", long_kr + "x", 0)));
  EXPECT_TRUE(absl::StartsWith(a, "OKR:o1/kkk"));
}

TEST(CommentBodyTest, MarkerFirstLine) {
  EXPECT_TRUE(
      absl::StartsWith(ServedCommentBody({Served("o1", "nps", 0.5)}), "<!-- okr-service -->\n"));
  EXPECT_EQ(NoLongerServedCommentBody(),
            "<!-- okr-service -->\n**OKR:** this issue no longer serves a key result of "
            "okr-service.\n");
}

class GitHubSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okr::testing::FakeGitHubOptions options;
    options.clock = &clock_;
    auto fake = FakeGitHubServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddRepo("acme/app");
    fake_->AddRepo("acme/other");
    GitHubClientOptions client_options;
    client_options.per_page = 10;
    auto stack = GitHubTestStack::Create(*fake_, clock_, client_options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    source_ = std::make_unique<GitHubTrackerSource>(*stack_->client);
    writer_ = std::make_unique<GitHubTrackerWriter>(*stack_->client, "OKR");
  }

  FakeGitHubIssue Add(const std::string& repo, std::vector<std::string> labels = {},
                      bool pr = false) {
    FakeGitHubIssue issue;
    issue.title = "Issue";
    issue.labels = std::move(labels);
    issue.pull_request = pr;
    auto added = fake_->AddIssue(repo, issue);
    EXPECT_TRUE(added.ok()) << added.status();
    return *added;
  }

  static WorkItem Tracked(const FakeGitHubIssue& issue, const std::string& repo,
                          bool with_node_id = true) {
    WorkItem item;
    item.tracker = Tracker::kGitHub;
    item.key = WorkItemKey(repo, issue.number);
    if (with_node_id) item.external_id = issue.node_id;
    return item;
  }

  std::vector<std::string> Labels(int64_t number) {
    auto issue = fake_->GetIssue("acme/app", number);
    return issue.ok() ? issue->labels : std::vector<std::string>{};
  }

  okr::testing::FakeClock clock_{absl::FromUnixSeconds(1767323045)};
  std::unique_ptr<FakeGitHubServer> fake_;
  std::unique_ptr<GitHubTestStack> stack_;
  std::unique_ptr<GitHubTrackerSource> source_;
  std::unique_ptr<GitHubTrackerWriter> writer_;
};

TEST_F(GitHubSyncTest, FetchItems_250ItemsTakeThreeGraphQLRequestsOfAtMost100Ids) {
  std::vector<WorkItem> tracked;
  for (int i = 0; i < 250; ++i) tracked.push_back(Tracked(Add("acme/app"), "acme/app"));
  fake_->ResetObservations();
  absl::StatusOr<std::vector<WorkItem>> items = source_->FetchItems(tracked);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(items->size(), 250u);
  EXPECT_THAT(fake_->GraphQLIdsRequested(), ElementsAre(100, 100, 50));
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kGetIssue), 0);
  EXPECT_EQ((*items)[0].external_id, tracked[0].external_id);
}

TEST_F(GitHubSyncTest, DeletedIssueIsAbsent_ConfirmDeletedTrueOn410FalseWhileItExists) {
  const FakeGitHubIssue kept = Add("acme/app");
  const FakeGitHubIssue gone = Add("acme/app");
  ASSERT_TRUE(fake_->DeleteIssue("acme/app", gone.number).ok());
  absl::StatusOr<std::vector<WorkItem>> items =
      source_->FetchItems({Tracked(kept, "acme/app"), Tracked(gone, "acme/app")});
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].key, WorkItemKey("acme/app", kept.number));
  EXPECT_EQ(source_->ConfirmDeleted(Tracked(gone, "acme/app")).value_or(false), true);
  EXPECT_EQ(source_->ConfirmDeleted(Tracked(kept, "acme/app")).value_or(true), false);
  ASSERT_TRUE(fake_->RemoveRepoAccess("acme/app").ok());
  EXPECT_EQ(source_->ConfirmDeleted(Tracked(kept, "acme/app")).value_or(false), true);  // 404
}

TEST_F(GitHubSyncTest, TransferredIssueComesBackUnderItsNewKeyWithTheSameExternalId) {
  const FakeGitHubIssue issue = Add("acme/app");
  auto number = fake_->TransferIssue("acme/app", issue.number, "acme/other");
  ASSERT_TRUE(number.ok());
  absl::StatusOr<std::vector<WorkItem>> items = source_->FetchItems({Tracked(issue, "acme/app")});
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].key, WorkItemKey("acme/other", *number));
  EXPECT_EQ((*items)[0].external_id, issue.node_id);
  // Linked by key only: the REST read follows the 301 and learns the node id.
  items = source_->FetchItems({Tracked(issue, "acme/app", false)});
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].key, WorkItemKey("acme/other", *number));
  EXPECT_EQ((*items)[0].external_id, issue.node_id);
  EXPECT_EQ(source_->ConfirmDeleted(Tracked(issue, "acme/app")).value_or(true), false);  // 301
}

TEST_F(GitHubSyncTest, ScopeMatches_FollowsLinkOverThreePages_SkipsPullRequests) {
  for (int i = 0; i < 25; ++i) Add("acme/app", {"okr", "team-a"});
  for (int i = 0; i < 3; ++i) Add("acme/app", {"okr", "team-a"}, /*pr=*/true);
  Add("acme/app", {"okr"});
  KeyResult kr;
  kr.objective_id = "o1";
  kr.id = "nps";
  kr.scopes[Tracker::kGitHub].project = "acme/app";
  kr.scopes[Tracker::kGitHub].labels = {"okr", "team-a"};
  fake_->ResetObservations();
  auto matches = source_->ScopeMatches(kr);
  ASSERT_TRUE(matches.ok()) << matches.status();
  ASSERT_TRUE(matches->has_value());
  EXPECT_EQ((*matches)->size(), 25u);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kListIssues), 3);
  kr.scopes[Tracker::kGitHub].labels.clear();
  EXPECT_EQ(source_->ScopeMatches(kr).status().code(), absl::StatusCode::kInvalidArgument);
  KeyResult none;
  EXPECT_FALSE(source_->ScopeMatches(none)->has_value());
}

TEST_F(GitHubSyncTest, WriteBack_LabelsAndOneCommentEditedInPlace_UnlinkCleansUp) {
  const FakeGitHubIssue issue = Add("acme/app", {"bug"});
  const WorkItem item = Tracked(issue, "acme/app");
  absl::StatusOr<std::string> ref =
      writer_->Write(item, {Served("o1", "nps", 0.5), Served("o2", "nps", 0.25)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_THAT(Labels(issue.number), UnorderedElementsAre("bug", "OKR:o1/nps", "OKR:o2/nps"));
  std::vector<FakeGitHubComment> comments = fake_->Comments("acme/app", issue.number);
  ASSERT_EQ(comments.size(), 1u);
  const int64_t comment_id = comments[0].id;
  EXPECT_TRUE(absl::StartsWith(comments[0].body, "<!-- okr-service -->"));

  // Unlink one: its label goes, the comment is edited in place.
  fake_->ResetObservations();
  ref = writer_->Write(item, {Served("o1", "nps", 0.75)}, *ref);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_THAT(Labels(issue.number), UnorderedElementsAre("bug", "OKR:o1/nps"));
  comments = fake_->Comments("acme/app", issue.number);
  ASSERT_EQ(comments.size(), 1u);
  EXPECT_EQ(comments[0].id, comment_id);
  EXPECT_THAT(comments[0].body, HasSubstr("75"));
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kUpdateComment), 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kCreateComment), 0);

  // Unlink all: labels gone, the comment says so.
  ref = writer_->Write(item, {}, *ref);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_THAT(Labels(issue.number), ElementsAre("bug"));
  comments = fake_->Comments("acme/app", issue.number);
  ASSERT_EQ(comments.size(), 1u);
  EXPECT_EQ(comments[0].body, NoLongerServedCommentBody());
}

TEST_F(GitHubSyncTest, WriteBack_CommentDeletedByAUserIsRecreated_MissingLabelCountsAsRemoved) {
  const FakeGitHubIssue issue = Add("acme/app");
  const WorkItem item = Tracked(issue, "acme/app");
  absl::StatusOr<std::string> ref =
      writer_->Write(item, {Served("o1", "nps", 0.5), Served("o2", "x", 0)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  std::vector<FakeGitHubComment> comments = fake_->Comments("acme/app", issue.number);
  ASSERT_EQ(comments.size(), 1u);
  ASSERT_TRUE(fake_->DeleteComment("acme/app", comments[0].id).ok());
  // A user also removed one of our labels by hand.
  ASSERT_TRUE(fake_
                  ->UpdateIssue("acme/app", issue.number,
                                [](FakeGitHubIssue& i) { i.labels = {"OKR:o1/nps"}; })
                  .ok());
  ref = writer_->Write(item, {Served("o1", "nps", 0.5)}, *ref);
  ASSERT_TRUE(ref.ok()) << ref.status();
  comments = fake_->Comments("acme/app", issue.number);
  ASSERT_EQ(comments.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(comments[0].body, "<!-- okr-service -->"));
  EXPECT_THAT(*ref, HasSubstr(absl::StrCat(comments[0].id)));
}

TEST_F(GitHubSyncTest, WriteBack_IssueGoneIsNotFound) {
  const FakeGitHubIssue issue = Add("acme/app");
  ASSERT_TRUE(fake_->DeleteIssue("acme/app", issue.number).ok());
  EXPECT_EQ(
      writer_->Write(Tracked(issue, "acme/app"), {Served("o1", "nps", 0)}, "").status().code(),
      absl::StatusCode::kNotFound);
}

TEST_F(GitHubSyncTest, IssueOpener_CreatesOnce_ThenFindsTheDedupeLabel) {
  GitHubIssueOpener opener(*stack_->client);
  sync::NewIssue request;
  request.project = "acme/app";
  request.title = "Key result at risk: NPS";
  request.description = "NPS is behind.";
  request.url = "https://okr.example/objectives/o1/keyResults/nps";
  request.dedupe_label = "okr-rule-3f9c2a";
  absl::StatusOr<WorkItem> first = opener.OpenIssue(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(absl::StartsWith(first->key, "acme/app#"));
  EXPECT_FALSE(first->external_id.empty());
  absl::StatusOr<WorkItem> second = opener.OpenIssue(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->key, first->key);
  EXPECT_EQ(fake_->RequestCount(FakeGitHubEndpoint::kCreateIssue), 1);
  request.project = "acme";
  EXPECT_EQ(opener.OpenIssue(request).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace okr::connectors::github
