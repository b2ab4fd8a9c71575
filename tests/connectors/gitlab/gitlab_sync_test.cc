// GitLabTrackerSource and GitLabTrackerWriter over the production client stack against
// FakeGitLabServer, and the pure helpers they share with the webhook handler.
#include "connectors/gitlab/gitlab_sync.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
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
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kProject[] = "acme/checkout";

sync::ServedKeyResult Served(const std::string& objective, const std::string& kr, double progress) {
  sync::ServedKeyResult s;
  s.key_result = absl::StrCat("objectives/", objective, "/keyResults/", kr);
  s.key_result_title = "Raise NPS";
  s.objective = absl::StrCat("objectives/", objective);
  s.objective_title = "Delight customers";
  s.team_name = "Checkout";
  s.progress = progress;
  s.expected_progress = 0.5;
  s.health = Health::kOnTrack;
  s.achieved = progress >= 1;
  s.url = absl::StrCat("https://okr.example/objectives/", objective, "/keyResults/", kr);
  return s;
}

WorkItem Item(int64_t iid, const std::string& project = kProject) {
  WorkItem item;
  item.tracker = Tracker::kGitLab;
  item.key = WorkItemKey(project, iid);
  return item;
}

// ---- Pure helpers ----

TEST(TruncateToSecondTest, DropsTheFractionTowardsThePast) {
  EXPECT_EQ(TruncateToSecond(absl::FromUnixMillis(1749038587996)),
            absl::FromUnixSeconds(1749038587));
  EXPECT_EQ(TruncateToSecond(absl::FromUnixSeconds(1749038587)), absl::FromUnixSeconds(1749038587));
  EXPECT_EQ(TruncateToSecond(absl::FromUnixMillis(-1500)), absl::FromUnixSeconds(-2));
  EXPECT_EQ(TruncateToSecond(absl::InfinitePast()), absl::InfinitePast());
  EXPECT_EQ(TruncateToSecond(absl::InfiniteFuture()), absl::InfiniteFuture());
}

TEST(SyncedWorkItemTest, RestMillisecondsBecomeWholeSeconds) {
  GitLabIssue issue;
  issue.project_path = kProject;
  issue.iid = 7;
  issue.id = 50007;
  issue.state = "closed";
  issue.done = true;
  issue.weight = 0;
  issue.updated_at = absl::FromUnixMillis(1749038587996);
  const WorkItem item = SyncedWorkItem(issue);
  EXPECT_EQ(item.key, "acme/checkout#7");
  EXPECT_EQ(item.external_id, "50007");
  EXPECT_TRUE(item.done);
  EXPECT_EQ(item.weight, 0);  // an explicit 0 stays 0
  EXPECT_EQ(item.source_updated, absl::FromUnixSeconds(1749038587));
  EXPECT_EQ(item.update_time, absl::FromUnixSeconds(1749038587));
}

TEST(ServedLabelTest, PrefixScopeAndKeyResultId) {
  EXPECT_EQ(ServedLabel("OKR", Served("o1", "nps", 0.5)), "OKR::nps");
  EXPECT_EQ(ServedLabel("Goals", Served("growth-2026", "kr-1", 0.5)), "Goals::kr-1");
}

TEST(ServedNoteBodyTest, MarkerLinksAndProgressPerKeyResult) {
  const std::string body = ServedNoteBody({Served("o1", "nps", 0.45), Served("o2", "ship", 1)});
  EXPECT_EQ(body,
            "<!-- okr-service -->\n"
            "**OKR:** this issue serves these key results (kept up to date by okr-service):\n"
            "\n- key result [Raise NPS](https://okr.example/objectives/o1/keyResults/nps): "
            "45% (expected 50%), on track  \n"
            "  objective [Delight customers \\(Checkout\\)](https://okr.example/objectives/o1)"
            "\n- key result [Raise NPS](https://okr.example/objectives/o2/keyResults/ship): "
            "100%, achieved  \n"
            "  objective [Delight customers \\(Checkout\\)](https://okr.example/objectives/o2)"
            "\n");
}

TEST(ServedNoteBodyTest, TitlesCannotBreakTheMarkdownOrMentionAnyone) {
  sync::ServedKeyResult s = Served("o1", "nps", 0.5);
  s.key_result_title = "Fix #12 with @alice](https://evil.example) <img src=x>\n# heading";
  s.team_name = "";
  const std::string body = ServedNoteBody({s});
  EXPECT_THAT(body, HasSubstr("[Fix \\#12 with @alice\\]\\(https://evil.example\\) "
                              "\\<img src=x\\> \\# heading]("));
  EXPECT_THAT(body, HasSubstr("objective [Delight customers](https://okr.example/objectives/o1)"));

  // Without an absolute URL (no public URL configured) titles go into code spans.
  s.url = "/objectives/o1/keyResults/nps";
  const std::string relative = ServedNoteBody({s});
  EXPECT_THAT(relative, HasSubstr("key result `Fix #12 with @alice](https://evil.example) "
                                  "<img src=x>'# heading`"));
  EXPECT_THAT(relative, Not(HasSubstr("](/objectives")));
}

// ---- Source and writer against the fake ----

class GitLabSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    okr::testing::FakeGitLabOptions options;
    options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<FakeGitLabServer>> fake = FakeGitLabServer::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    fake_->AddProject(kProject);
    absl::StatusOr<std::unique_ptr<GitLabTestStack>> stack =
        GitLabTestStack::Create(*fake_, clock_);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = *std::move(stack);
    source_ = std::make_unique<GitLabTrackerSource>(*stack_->client);
    writer_ = std::make_unique<GitLabTrackerWriter>(*stack_->client, "OKR");
  }

  FakeGitLabIssue AddIssue(int64_t iid, std::vector<std::string> labels = {},
                           const std::string& milestone = "",
                           const std::string& project = kProject) {
    FakeGitLabIssue issue;
    issue.iid = iid;
    issue.labels = std::move(labels);
    issue.milestone = milestone;
    absl::StatusOr<FakeGitLabIssue> added = fake_->AddIssue(project, issue);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : issue;
  }

  static std::vector<std::string> Keys(const std::vector<WorkItem>& items) {
    std::vector<std::string> keys;
    for (const WorkItem& item : items) keys.push_back(item.key);
    return keys;
  }

  okr::testing::FakeClock clock_{absl::FromUnixMillis(1749038587640)};
  std::unique_ptr<FakeGitLabServer> fake_;
  std::unique_ptr<GitLabTestStack> stack_;
  std::unique_ptr<GitLabTrackerSource> source_;
  std::unique_ptr<GitLabTrackerWriter> writer_;
};

TEST_F(GitLabSyncTest, FetchItems_OneListRequestPerProjectAndHundredIids) {
  fake_->AddProject("acme/web/cart");
  std::vector<WorkItem> tracked;
  for (int64_t iid = 1; iid <= 150; ++iid) {
    AddIssue(iid);
    tracked.push_back(Item(iid));
  }
  AddIssue(1, {}, "", "acme/web/cart");
  tracked.push_back(Item(1, "acme/web/cart"));
  tracked.push_back(Item(1));  // twice: asked for once
  WorkItem jira;
  jira.tracker = Tracker::kJira;
  jira.key = "OKRX-1";
  tracked.push_back(jira);       // not ours
  tracked.push_back(Item(999));  // deleted: simply absent

  absl::StatusOr<std::vector<WorkItem>> items = source_->FetchItems(tracked);
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(*items, SizeIs(151));
  EXPECT_THAT(Keys(*items), Contains("acme/web/cart#1"));
  EXPECT_THAT(Keys(*items), Not(Contains("acme/checkout#999")));
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 3);  // 100 + 51, then 1
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kGetIssue), 0);
  for (const WorkItem& item : *items) {
    EXPECT_EQ(item.source_updated, absl::FromUnixSeconds(1749038587)) << item.key;
    EXPECT_FALSE(item.external_id.empty());
  }
}

TEST_F(GitLabSyncTest, FetchItems_UnknownProjectContributesNothing_AllUnknownOrOutageFails) {
  AddIssue(1);
  absl::StatusOr<std::vector<WorkItem>> items =
      source_->FetchItems({Item(1), Item(1, "acme/deleted"), Item(2, "acme/deleted")});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(Keys(*items), ElementsAre("acme/checkout#1"));

  // Every project unknown looks like a wrong base URL: an error, not "all missing".
  items = source_->FetchItems({Item(1, "acme/deleted"), Item(1, "acme/also-deleted")});
  EXPECT_EQ(items.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(items.status().message(), HasSubstr("acme/also-deleted, acme/deleted"));

  fake_->FailNextRequests(5, 503);
  items = source_->FetchItems({Item(1)});
  EXPECT_EQ(items.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(GitLabSyncTest, ConfirmDeleted_TrueOnlyOn404) {
  AddIssue(1);
  absl::StatusOr<bool> deleted = source_->ConfirmDeleted(Item(1));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);

  deleted = source_->ConfirmDeleted(Item(2));
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);

  fake_->FailNextRequests(5, 500);
  deleted = source_->ConfirmDeleted(Item(2));
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kUnavailable);
  fake_->FailNextRequests(1, 403);
  deleted = source_->ConfirmDeleted(Item(2));
  EXPECT_EQ(deleted.status().code(), absl::StatusCode::kPermissionDenied);

  WorkItem bad = Item(1);
  bad.key = "not-a-gitlab-key";
  EXPECT_EQ(source_->ConfirmDeleted(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GitLabSyncTest, ScopeMatches_LabelsAndMilestone) {
  AddIssue(1, {"nps", "q4"}, "2026-Q4");
  AddIssue(2, {"nps"}, "2026-Q3");
  AddIssue(3, {"q4"}, "2026-Q4");
  AddIssue(4, {"nps", "q4"});

  KeyResult kr;
  kr.objective_id = "o1";
  kr.id = "nps";
  absl::StatusOr<std::optional<std::vector<WorkItem>>> matches = source_->ScopeMatches(kr);
  ASSERT_TRUE(matches.ok()) << matches.status();
  EXPECT_FALSE(matches->has_value());  // no GitLab scope
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kListIssues), 0);

  kr.scopes[Tracker::kGitLab].project = kProject;
  kr.scopes[Tracker::kGitLab].labels = {"nps", "q4"};
  matches = source_->ScopeMatches(kr);
  ASSERT_TRUE(matches.ok()) << matches.status();
  ASSERT_TRUE(matches->has_value());
  EXPECT_THAT(Keys(**matches), UnorderedElementsAre("acme/checkout#1", "acme/checkout#4"));

  kr.scopes[Tracker::kGitLab].milestone = "2026-Q4";
  matches = source_->ScopeMatches(kr);
  ASSERT_TRUE(matches.ok()) << matches.status();
  EXPECT_THAT(Keys(**matches), ElementsAre("acme/checkout#1"));

  kr.scopes[Tracker::kGitLab].labels.clear();
  matches = source_->ScopeMatches(kr);
  EXPECT_EQ(matches.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(matches.status().message(), HasSubstr("gitlab_labels"));
}

TEST_F(GitLabSyncTest, Write_LabelsEveryKeyResultAndOneNote) {
  AddIssue(7);
  const std::vector<sync::ServedKeyResult> served = {
      Served("o1", "nps", 0.5), Served("o2", "ship", 0.25), Served("o3", "nps", 0.1)};
  absl::StatusOr<std::string> ref = writer_->Write(Item(7), served, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_THAT(fake_->Notes(kProject, 7), SizeIs(1));
  EXPECT_EQ(*ref, absl::StrCat(fake_->Notes(kProject, 7)[0].id));
  EXPECT_EQ(fake_->Notes(kProject, 7)[0].body, ServedNoteBody(served));
  absl::StatusOr<FakeGitLabIssue> issue = fake_->GetIssue(kProject, 7);
  ASSERT_TRUE(issue.ok());
  EXPECT_THAT(issue->labels, UnorderedElementsAre("OKR::nps", "OKR::ship"));

  // Later writes edit the same note.
  absl::StatusOr<std::string> again = writer_->Write(Item(7), {Served("o1", "nps", 1)}, *ref);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *ref);
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 1);
  EXPECT_EQ(fake_->NoteUpdates(kProject, 7), 1);
  EXPECT_THAT(fake_->Notes(kProject, 7)[0].body, HasSubstr("100%, achieved"));
}

TEST_F(GitLabSyncTest, Write_NoteDeletedOrRefUnusable_CreatesANewOne) {
  AddIssue(7);
  absl::StatusOr<std::string> ref = writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  int64_t note_id = 0;
  ASSERT_TRUE(absl::SimpleAtoi(*ref, &note_id));
  ASSERT_TRUE(fake_->DeleteNote(kProject, 7, note_id).ok());

  absl::StatusOr<std::string> recreated = writer_->Write(Item(7), {Served("o1", "nps", 0.6)}, *ref);
  ASSERT_TRUE(recreated.ok()) << recreated.status();
  EXPECT_NE(*recreated, *ref);
  EXPECT_THAT(fake_->Notes(kProject, 7), SizeIs(1));

  absl::StatusOr<std::string> from_garbage =
      writer_->Write(Item(7), {Served("o1", "nps", 0.7)}, "not-a-note-id");
  ASSERT_TRUE(from_garbage.ok()) << from_garbage.status();
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 3);
}

TEST_F(GitLabSyncTest, Write_IssueGone_NotFoundAndNoNote) {
  absl::StatusOr<std::string> ref = writer_->Write(Item(42), {Served("o1", "nps", 0.5)}, "");
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kNotFound);
  AddIssue(7);
  ref = writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_TRUE(fake_->DeleteIssue(kProject, 7).ok());
  ref = writer_->Write(Item(7), {Served("o1", "nps", 0.6)}, *ref);
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kCreateNote), 1);
}

}  // namespace
}  // namespace okr::connectors::gitlab
