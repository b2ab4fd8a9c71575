// GitLabTrackerSource and GitLabTrackerWriter over the production client stack against
// FakeGitLabServer, and the pure helpers they share with the webhook handler.
#include "connectors/gitlab/gitlab_sync.h"

#include <algorithm>
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

TEST(ServedLabelTest, PrefixObjectiveAndKeyResultId_NotScoped) {
  EXPECT_EQ(ServedLabel("OKR", Served("o1", "nps", 0.5)), "OKR:o1/nps");
  EXPECT_EQ(ServedLabel("Goals", Served("growth-2026", "kr-1", 0.5)), "Goals:growth-2026/kr-1");
  // Two objectives with a key result "nps": two labels.
  EXPECT_NE(ServedLabel("OKR", Served("o1", "nps", 0.5)),
            ServedLabel("OKR", Served("o2", "nps", 0)));
  EXPECT_THAT(ServedLabel("OKR", Served("o1", "nps", 0.5)), Not(HasSubstr("::")));
}

TEST(ValidateLabelPrefixTest, RefusesPrefixesThatMakeScopedOrInvalidLabels) {
  EXPECT_TRUE(ValidateLabelPrefix("OKR").ok());
  EXPECT_TRUE(ValidateLabelPrefix("team goals").ok());
  for (const char* bad : {"", "OKR::", "a::b", "OKR:", "a,b", "tab\there"}) {
    const absl::Status status = ValidateLabelPrefix(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("label_prefix")) << bad;
  }
  EXPECT_THAT(ValidateLabelPrefix("OKR::").message(), HasSubstr("scoped label"));
  EXPECT_FALSE(ValidateLabelPrefix(std::string(101, 'x')).ok());
}

TEST(NoLongerServedNoteBodyTest, MarkerAndOneLine) {
  EXPECT_EQ(NoLongerServedNoteBody(),
            "<!-- okr-service -->\n"
            "**OKR:** this issue no longer serves a key result of okr-service.\n");
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
  const int64_t note = fake_->Notes(kProject, 7)[0].id;
  EXPECT_EQ(*ref, absl::StrCat("v2\n", note, "\nOKR:o1/nps\nOKR:o2/ship\nOKR:o3/nps"));
  EXPECT_EQ(fake_->Notes(kProject, 7)[0].body, ServedNoteBody(served));
  absl::StatusOr<FakeGitLabIssue> issue = fake_->GetIssue(kProject, 7);
  ASSERT_TRUE(issue.ok());
  EXPECT_THAT(issue->labels, UnorderedElementsAre("OKR:o1/nps", "OKR:o2/ship", "OKR:o3/nps"));

  // Later writes edit the same note, and remove the labels of key results no longer served
  // in the same request that adds the others.
  fake_->ResetObservations();
  absl::StatusOr<std::string> again = writer_->Write(Item(7), {Served("o1", "nps", 1)}, *ref);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, absl::StrCat("v2\n", note, "\nOKR:o1/nps"));
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 0);  // since ResetObservations
  EXPECT_EQ(fake_->NoteUpdates(kProject, 7), 1);
  EXPECT_EQ(fake_->RequestCount(FakeGitLabEndpoint::kEditIssue), 1);
  EXPECT_THAT(fake_->Notes(kProject, 7), SizeIs(1));
  EXPECT_THAT(fake_->Notes(kProject, 7)[0].body, HasSubstr("100%, achieved"));
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels, ElementsAre("OKR:o1/nps"));
}

TEST_F(GitLabSyncTest, Write_NothingServed_RemovesOurLabelsOnlyAndNoteSaysSo) {
  AddIssue(7, {"bug", "workflow::review"});
  absl::StatusOr<std::string> ref =
      writer_->Write(Item(7), {Served("o1", "nps", 0.5), Served("o2", "nps", 0.5)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels,
              UnorderedElementsAre("OKR:o1/nps", "OKR:o2/nps", "bug", "workflow::review"));

  absl::StatusOr<std::string> removed = writer_->Write(Item(7), {}, *ref);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, "");
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels,
              UnorderedElementsAre("bug", "workflow::review"));
  ASSERT_THAT(fake_->Notes(kProject, 7), SizeIs(1));  // edited, not deleted, no new note
  EXPECT_EQ(fake_->Notes(kProject, 7)[0].body, NoLongerServedNoteBody());
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 1);

  // Repeated (a retry after the state could not be stored): nothing breaks, nothing new.
  removed = writer_->Write(Item(7), {}, *ref);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 1);
  // The note deleted meanwhile: as good as rewritten.
  ASSERT_TRUE(fake_->DeleteNote(kProject, 7, fake_->Notes(kProject, 7)[0].id).ok());
  EXPECT_TRUE(writer_->Write(Item(7), {}, *ref).ok());
  EXPECT_THAT(fake_->Notes(kProject, 7), IsEmpty());
}

TEST_F(GitLabSyncTest, Write_RefOfTheOldForm_RemovesTheOldScopedLabels) {
  // Written by the version whose labels were "OKR::<key result id>" and whose ref was the
  // bare note id.
  AddIssue(7, {"OKR::nps", "OKR::ship", "bug"});
  absl::StatusOr<int64_t> note = stack_->client->CreateNote(kProject, 7, "<!-- okr-service -->");
  ASSERT_TRUE(note.ok()) << note.status();

  absl::StatusOr<std::string> ref =
      writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, absl::StrCat(*note));
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(*ref, absl::StrCat("v2\n", *note, "\nOKR:o1/nps"));
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels, UnorderedElementsAre("OKR:o1/nps", "bug"));
  EXPECT_EQ(fake_->NoteCreates(kProject, 7), 1);  // the old note is edited in place
  EXPECT_EQ(fake_->Notes(kProject, 7)[0].body, ServedNoteBody({Served("o1", "nps", 0.5)}));

  // Nothing served any more, from the old form: the old labels go too.
  ASSERT_TRUE(
      fake_->UpdateIssue(kProject, 7,
                         [](FakeGitLabIssue& i) {
                           i.labels = {"OKR::nps", "bug"};
                         })
          .ok());
  ASSERT_TRUE(writer_->Write(Item(7), {}, absl::StrCat(*note)).ok());
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels, ElementsAre("bug"));
  EXPECT_EQ(fake_->Notes(kProject, 7)[0].body, NoLongerServedNoteBody());
}

TEST_F(GitLabSyncTest, Write_NothingServedAndIssueGone_NotFound) {
  AddIssue(7);
  absl::StatusOr<std::string> ref = writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_TRUE(fake_->DeleteIssue(kProject, 7).ok());
  EXPECT_EQ(writer_->Write(Item(7), {}, *ref).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GitLabSyncTest, Write_TrackerFails_ErrorAndTheSameRefWorksLater) {
  AddIssue(7);
  absl::StatusOr<std::string> ref =
      writer_->Write(Item(7), {Served("o1", "nps", 0.5), Served("o1", "ship", 0.5)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  fake_->FailNextRequests(5, 500);  // every attempt of the retrying client (max_attempts 5)
  absl::StatusOr<std::string> failed = writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, *ref);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels,
              UnorderedElementsAre("OKR:o1/nps", "OKR:o1/ship"));
  absl::StatusOr<std::string> later = writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, *ref);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_THAT(fake_->GetIssue(kProject, 7)->labels, ElementsAre("OKR:o1/nps"));
}

TEST_F(GitLabSyncTest, Write_ScopedLabelsExclusive_EveryServedKeyResultKeepsItsLabel) {
  // GitLab Premium/Ultimate: adding "a::b" drops "a::c". The served labels are not scoped,
  // so an issue serving two key results (of two objectives, both "nps") keeps both.
  okr::testing::FakeGitLabOptions options;
  options.clock = &clock_;
  options.scoped_labels_exclusive = true;
  absl::StatusOr<std::unique_ptr<FakeGitLabServer>> premium = FakeGitLabServer::Start(options);
  ASSERT_TRUE(premium.ok()) << premium.status();
  (*premium)->AddProject(kProject);
  FakeGitLabIssue issue;
  issue.iid = 7;
  issue.labels = {"workflow::review"};
  ASSERT_TRUE((*premium)->AddIssue(kProject, issue).ok());
  absl::StatusOr<std::unique_ptr<GitLabTestStack>> stack =
      GitLabTestStack::Create(**premium, clock_);
  ASSERT_TRUE(stack.ok()) << stack.status();
  GitLabTrackerWriter writer(*(*stack)->client, "OKR");

  ASSERT_TRUE(writer.Write(Item(7), {Served("o1", "nps", 0.5), Served("o2", "nps", 0.2)}, "").ok());
  EXPECT_THAT((*premium)->GetIssue(kProject, 7)->labels,
              UnorderedElementsAre("OKR:o1/nps", "OKR:o2/nps", "workflow::review"));

  // What the old scoped labels did on the same GitLab: only one survives.
  ASSERT_TRUE((*stack)->client->AddLabels(kProject, 7, {"OKR::nps", "OKR::ship"}).ok());
  const std::vector<std::string> labels = (*premium)->GetIssue(kProject, 7)->labels;
  EXPECT_EQ(std::count_if(labels.begin(), labels.end(),
                          [](const std::string& l) { return l.rfind("OKR::", 0) == 0; }),
            1);
}

TEST_F(GitLabSyncTest, Write_NoteDeletedOrRefUnusable_CreatesANewOne) {
  AddIssue(7);
  absl::StatusOr<std::string> ref = writer_->Write(Item(7), {Served("o1", "nps", 0.5)}, "");
  ASSERT_TRUE(ref.ok()) << ref.status();
  ASSERT_THAT(fake_->Notes(kProject, 7), SizeIs(1));
  const int64_t note_id = fake_->Notes(kProject, 7)[0].id;
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
