#include "connectors/jira/jira_issue_opener.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "connectors/jira/jira_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/log/log.h"
#include "service/okr/clock.h"
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
using ::testing::IsEmpty;
using ::testing::SizeIs;

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
          FakeJiraEndpoint::kCreateIssue, FakeJiraEndpoint::kCreateMeta}) {
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
  JiraIssueOpenerOptions dc_options;
  dc_options.default_issue_type = "Bug";
  JiraIssueOpener opener(**dc, fake_->base_url(), dc_options);
  absl::StatusOr<WorkItem> item = opener.OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_TRUE(opener.OpenIssue(AtRisk()).ok());
  std::optional<FakeJiraIssue> stored = fake_->GetIssue(item->key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->issue_type, "Bug");
  EXPECT_EQ(stored->description, AtRisk().description);  // Already mentions the url.
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kSearchV2), 2);
  // Data Center's createmeta page shape (`values`, `isLast`) is read too.
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 1);
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

// ---- Issue type per team --------------------------------------------------------------

// Captures log lines in a temporary file for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : file_(std::tmpfile()) { log::SetOutput(file_); }
  ~LogCapture() {
    log::SetOutput(nullptr);
    std::fclose(file_);
  }
  std::vector<std::string> Lines() {
    std::fflush(file_);
    std::rewind(file_);
    std::string text;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0) text.append(buffer, n);
    return absl::StrSplit(text, '\n', absl::SkipEmpty());
  }

 private:
  std::FILE* file_;
};

class SteppingClock final : public Clock {
 public:
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1764000000);
};

JiraIssueType Type(std::string id, std::string name, bool subtask = false, int level = 0) {
  JiraIssueType type;
  type.id = std::move(id);
  type.name = std::move(name);
  type.subtask = subtask;
  type.hierarchy_level = level;
  return type;
}

TEST(ChooseIssueTypeTest, MatchesCaseInsensitively_ElseTaskStoryBug_ElseFirstStandard) {
  const std::vector<JiraIssueType> all = {Type("1", "Epic", false, 1), Type("2", "Bug"),
                                          Type("3", "Story"), Type("4", "Task"),
                                          Type("5", "Sub-task", true, -1)};
  EXPECT_EQ(ChooseIssueType(all, "bug")->id, "2");
  EXPECT_EQ(ChooseIssueType(all, "EPIC")->id, "1");  // A team may choose an epic type.
  EXPECT_EQ(ChooseIssueType(all, "Incident")->name, "Task");
  // A subtask needs a parent: never used, even when named.
  EXPECT_EQ(ChooseIssueType(all, "Sub-task")->name, "Task");
  EXPECT_EQ(ChooseIssueType({all[0], all[1], all[2]}, "Task")->name, "Story");
  EXPECT_EQ(ChooseIssueType({all[0], all[1]}, "Task")->name, "Bug");
  EXPECT_EQ(ChooseIssueType({all[0], Type("7", "Improvement"), Type("8", "Change")}, "Task")->name,
            "Improvement");
  EXPECT_FALSE(ChooseIssueType({all[0], all[4]}, "Task").has_value());
  EXPECT_FALSE(ChooseIssueType({}, "Task").has_value());
}

TEST_F(JiraIssueOpenerTest, ProjectWithTask_DefaultStillOpensTask_ByItsIdFromCreatemeta) {
  LogCapture capture;
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());  // No issue type: "Task".
  ASSERT_TRUE(item.ok()) << item.status();
  std::optional<FakeJiraIssue> stored = fake_->GetIssue(item->key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->issue_type, "Task");
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 1);
  EXPECT_THAT(capture.Lines(), IsEmpty());  // Nothing to say.
}

TEST_F(JiraIssueOpenerTest, TeamIssueType_MatchedCaseInsensitively) {
  sync::NewIssue issue = AtRisk();
  issue.issue_type = "bug";
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->GetIssue(item->key)->issue_type, "Bug");
}

TEST_F(JiraIssueOpenerTest, ProjectWithoutTask_OpensStory_AndLogsOneLine) {
  fake_->SetProjectIssueTypes("OKRX", {"Epic", "Sub-task", "Bug", "Story"});
  LogCapture capture;
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(AtRisk());
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->GetIssue(item->key)->issue_type, "Story");
  std::vector<std::string> lines = capture.Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("WARN jira: project OKRX has no issue type \"Task\"; opened "
                                  "the issue as \"Story\" issue=OKRX-3"));
}

TEST_F(JiraIssueOpenerTest, ProjectWithoutTheTeamsType_FallsBackToTaskFirst) {
  sync::NewIssue issue = AtRisk();
  issue.issue_type = "Incident";
  LogCapture capture;
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->GetIssue(item->key)->issue_type, "Task");
  std::vector<std::string> lines = capture.Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("jira: project OKRX has no issue type \"Incident\"; opened the "
                                  "issue as \"Task\""));
}

TEST_F(JiraIssueOpenerTest, TeamTypeIsASubtaskType_OpensTask_AndTheLogSaysWhy) {
  fake_->SetProjectIssueTypes("OKRX", {"Epic", "Task", "Sub-task"});
  sync::NewIssue issue = AtRisk();
  issue.issue_type = "sub-task";
  LogCapture capture;
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->GetIssue(item->key)->issue_type, "Task");
  std::vector<std::string> lines = capture.Lines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("jira: issue type \"sub-task\" of project OKRX is a subtask "
                                  "type; opened the issue as \"Task\""));
}

TEST_F(JiraIssueOpenerTest, NoStandardType_FailedPreconditionNamingProjectAndType_NoCreate) {
  fake_->SetProjectIssueTypes("OKRX", {"Epic", "Sub-task"});
  sync::NewIssue issue = AtRisk();
  issue.issue_type = "Bug";
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  EXPECT_EQ(item.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(item.status().message(), HasSubstr("Jira project OKRX has no issue type \"Bug\""));
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateIssue), 0);
}

TEST_F(JiraIssueOpenerTest, ManyIssueTypes_AllPagesRead) {
  std::vector<std::string> types;
  for (int i = 0; i < 250; ++i) types.push_back(absl::StrCat("Kind", i));
  types.push_back("Bug");  // On the second page (200 per page).
  fake_->SetProjectIssueTypes("OKRX", types);
  absl::StatusOr<std::vector<JiraIssueType>> listed = stack_->client->ListCreateIssueTypes("OKRX");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_THAT(*listed, SizeIs(251));
  EXPECT_EQ(listed->back().name, "Bug");
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 2);

  sync::NewIssue issue = AtRisk();
  issue.issue_type = "Bug";
  absl::StatusOr<WorkItem> item = opener_->OpenIssue(issue);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(fake_->GetIssue(item->key)->issue_type, "Bug");
}

TEST_F(JiraIssueOpenerTest, IssueTypes_CachedPerProjectForTenMinutes) {
  SteppingClock clock;
  JiraIssueOpenerOptions options;
  options.clock = &clock;
  JiraIssueOpener opener(*stack_->client, fake_->base_url(), options);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(opener.OpenIssue(AtRisk(absl::StrCat("okr-rule-burst-", i))).ok());
  }
  EXPECT_EQ(fake_->IssuesCreated(), 3);
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 1);  // A burst: one read.
  clock.Advance(absl::Minutes(9));
  ASSERT_TRUE(opener.OpenIssue(AtRisk("okr-rule-later")).ok());
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 1);
  clock.Advance(absl::Minutes(2));
  ASSERT_TRUE(opener.OpenIssue(AtRisk("okr-rule-much-later")).ok());
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 2);
}

TEST_F(JiraIssueOpenerTest, IssueTypeCache_IsBounded_OldestProjectLeavesFirst) {
  SteppingClock clock;
  JiraIssueOpenerOptions options;
  options.clock = &clock;
  options.max_cached_projects = 2;
  JiraIssueOpener opener(*stack_->client, fake_->base_url(), options);
  for (const char* project : {"OKRA", "OKRB", "OKRC"}) fake_->AddProject(project);
  auto open = [&](const char* project) {
    sync::NewIssue issue = AtRisk(absl::StrCat(
        "okr-rule-", project, "-", fake_->RequestCount(FakeJiraEndpoint::kCreateIssue)));
    issue.project = project;
    clock.Advance(absl::Seconds(1));
    return opener.OpenIssue(issue).status();
  };
  ASSERT_TRUE(open("OKRA").ok());
  ASSERT_TRUE(open("OKRB").ok());
  ASSERT_TRUE(open("OKRB").ok());
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 2);
  ASSERT_TRUE(open("OKRC").ok());  // Full: OKRA (read first) leaves.
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 3);
  ASSERT_TRUE(open("OKRB").ok());  // Still cached.
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 3);
  ASSERT_TRUE(open("OKRA").ok());  // Read again.
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 4);
}

TEST_F(JiraIssueOpenerTest, TypeRemovedWhileCached_CreateRefused_NextAttemptRereadsAndFallsBack) {
  sync::NewIssue issue = AtRisk("okr-rule-1");
  issue.issue_type = "Bug";
  ASSERT_TRUE(opener_->OpenIssue(issue).ok());  // Caches OKRX's types, Bug among them.
  fake_->SetProjectIssueTypes("OKRX", {"Epic", "Story"});
  issue.dedupe_label = "okr-rule-2";
  absl::StatusOr<WorkItem> refused = opener_->OpenIssue(issue);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("create issue"));
  absl::StatusOr<WorkItem> retried = opener_->OpenIssue(issue);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(fake_->GetIssue(retried->key)->issue_type, "Story");
  EXPECT_EQ(fake_->RequestCount(FakeJiraEndpoint::kCreateMeta), 2);
}

TEST_F(JiraIssueOpenerTest, FakeJira_RefusesATypeTheProjectLacks_WithJirasErrorBody) {
  fake_->SetProjectIssueTypes("OKRX", {"Story", "Bug"});
  NewJiraIssue create;
  create.project_key = "OKRX";
  create.summary = "Always Task";
  create.issue_type = "Task";  // What the opener sent before it read the project's types.
  absl::StatusOr<CreatedJiraIssue> by_name = stack_->client->CreateIssue(create);
  EXPECT_EQ(by_name.status().code(), absl::StatusCode::kInvalidArgument);
  create.issue_type_id = "10002";  // Task's id elsewhere.
  EXPECT_EQ(stack_->client->CreateIssue(create).status().code(),
            absl::StatusCode::kInvalidArgument);
  create.issue_type_id = "10001";  // Story.
  absl::StatusOr<CreatedJiraIssue> by_id = stack_->client->CreateIssue(create);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(fake_->GetIssue(by_id->key)->issue_type, "Story");
  EXPECT_EQ(fake_->IssuesCreated(), 1);
}

TEST_F(JiraIssueOpenerTest, ListCreateIssueTypes_ReportsSubtasksAndLevels) {
  fake_->SetProjectIssueTypes("OKRX", {"Epic", "Task", "Sub-task"});
  absl::StatusOr<std::vector<JiraIssueType>> types = stack_->client->ListCreateIssueTypes("OKRX");
  ASSERT_TRUE(types.ok()) << types.status();
  ASSERT_THAT(*types, SizeIs(3));
  EXPECT_EQ((*types)[0].name, "Epic");
  EXPECT_EQ((*types)[0].hierarchy_level, 1);
  EXPECT_EQ((*types)[1].id, "10002");
  EXPECT_FALSE((*types)[1].subtask);
  EXPECT_EQ((*types)[1].hierarchy_level, 0);
  EXPECT_TRUE((*types)[2].subtask);
  EXPECT_EQ((*types)[2].hierarchy_level, -1);
  EXPECT_EQ(stack_->client->ListCreateIssueTypes("bad key").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(stack_->client->ListCreateIssueTypes("NOPE").status().code(),
            absl::StatusCode::kInvalidArgument);  // Jira answers 400 for an unknown project.
}

}  // namespace
}  // namespace okr::connectors::jira
