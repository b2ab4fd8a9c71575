// Rules as triggers, end to end in one process: OkrCore + EventsCore on a real SQLite file,
// a fake clock that the test moves, and the production issue openers talking HTTP to the
// fake Jira / fake GitLab servers. A key result that turns AT_RISK as time passes opens
// exactly one issue per firing -- not again on re-evaluation, not again after a restart.
#include "service/events/rule_engine.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "connectors/gitlab/gitlab_issue_opener.h"
#include "connectors/jira/jira_issue_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/log/log.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/connectors/gitlab/gitlab_test_stack.h"
#include "tests/connectors/jira/jira_test_stack.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_gitlab/fake_gitlab_server.h"
#include "tests/testing/fake_jira/fake_jira_server.h"
#include "tests/testing/temp_dir.h"

namespace okr::events {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kEnd = kStart + absl::Hours(24 * 100);
constexpr char kPublicUrl[] = "https://okr.example";

class RuleEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    core_ = std::make_unique<core::OkrCore>(*store_, clock_);
    events_ = std::make_unique<core::EventsCore>(*store_, clock_);

    auto jira = okr::testing::FakeJiraServer::Start();
    ASSERT_TRUE(jira.ok()) << jira.status();
    jira_ = std::move(*jira);
    jira_->AddProject("OKRX", "Checkout");
    auto jira_stack = connectors::jira::testing::JiraTestStack::Create(*jira_);
    ASSERT_TRUE(jira_stack.ok()) << jira_stack.status();
    jira_stack_ = std::move(*jira_stack);
    jira_opener_ = std::make_unique<connectors::jira::JiraIssueOpener>(*jira_stack_->client,
                                                                       jira_->base_url());
    okr::testing::FakeGitLabOptions gitlab_options;
    gitlab_options.clock = &clock_;
    auto gitlab = okr::testing::FakeGitLabServer::Start(gitlab_options);
    ASSERT_TRUE(gitlab.ok()) << gitlab.status();
    gitlab_ = std::move(*gitlab);
    gitlab_->AddProject("acme/checkout");
    auto gitlab_stack = connectors::gitlab::testing::GitLabTestStack::Create(*gitlab_, clock_);
    ASSERT_TRUE(gitlab_stack.ok()) << gitlab_stack.status();
    gitlab_stack_ = std::move(*gitlab_stack);
    gitlab_opener_ =
        std::make_unique<connectors::gitlab::GitLabIssueOpener>(*gitlab_stack_->client);

    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    team.projects[Tracker::kJira] = "OKRX";
    team.projects[Tracker::kGitLab] = "acme/checkout";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kStart;
    cycle.end_time = kEnd;
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    Objective o;
    o.id = "o1";
    o.title = "Delight customers at checkout";
    o.team_id = "checkout";
    o.cycle_id = "q4";
    ASSERT_TRUE(core_->CreateObjective(o, "").ok());
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = "nps";
    kr.title = "Raise NPS from 30 to 50";
    kr.type = KeyResultType::kMetric;
    kr.metric = {30, 50, 30, "pts"};
    ASSERT_TRUE(core_->CreateKeyResult(kr, "").ok());
    // 5% into the cycle at progress 0: on track.
    clock_.Set(kStart + absl::Hours(24 * 5));
  }

  std::unique_ptr<RuleEngine> Engine() {
    RuleEngineOptions options;
    options.public_url = kPublicUrl;
    std::map<Tracker, sync::TrackerIssueOpener*> openers = {
        {Tracker::kJira, jira_opener_.get()}, {Tracker::kGitLab, gitlab_opener_.get()}};
    return std::make_unique<RuleEngine>(*events_, *core_, clock_, openers, options);
  }

  absl::StatusOr<Rule> AtRiskRule(Tracker tracker, const std::string& id) {
    Rule rule;
    rule.id = id;
    rule.team_id = "checkout";
    rule.condition = RuleConditionType::kHealthAtRisk;
    rule.action = RuleActionType::kOpenIssue;
    rule.tracker = tracker;
    return events_->CreateRule(rule);
  }

  okr::testing::TempDir dir_;
  okr::testing::FakeClock clock_{kStart - absl::Hours(1)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<core::EventsCore> events_;
  std::unique_ptr<okr::testing::FakeJiraServer> jira_;
  std::unique_ptr<connectors::jira::testing::JiraTestStack> jira_stack_;
  std::unique_ptr<connectors::jira::JiraIssueOpener> jira_opener_;
  std::unique_ptr<okr::testing::FakeGitLabServer> gitlab_;
  std::unique_ptr<connectors::gitlab::testing::GitLabTestStack> gitlab_stack_;
  std::unique_ptr<connectors::gitlab::GitLabIssueOpener> gitlab_opener_;
};

TEST_F(RuleEngineTest, KeyResultTurningAtRiskUnderAMovedClock_OpensOneJiraIssue) {
  ASSERT_TRUE(AtRiskRule(Tracker::kJira, "at-risk").ok());
  std::unique_ptr<RuleEngine> engine = Engine();
  RuleRoundStats on_track = engine->RunOnce();
  EXPECT_EQ(on_track.evaluated, 1);
  EXPECT_EQ(on_track.fired, 0);
  EXPECT_EQ(jira_->IssuesCreated(), 0);

  // Time passes without progress: expected 20%, progress 0 -> AT_RISK.
  clock_.Set(kStart + absl::Hours(24 * 20));
  RuleRoundStats at_risk = engine->RunOnce();
  EXPECT_EQ(at_risk.fired, 1);
  EXPECT_EQ(at_risk.issues_opened, 1);
  EXPECT_EQ(jira_->IssuesCreated(), 1);
  std::optional<okr::testing::FakeJiraIssue> issue = jira_->GetIssue("OKRX-1");
  ASSERT_TRUE(issue.has_value());
  EXPECT_THAT(issue->summary, HasSubstr("Raise NPS from 30 to 50"));
  EXPECT_THAT(issue->description.dump(),
              HasSubstr("https://okr.example/objectives/o1/keyResults/nps"));
  ASSERT_EQ(issue->labels.size(), 1u);
  EXPECT_THAT(issue->labels[0], HasSubstr("okr-rule-"));

  // Re-evaluation, and a restart (a new engine on the same database): no second issue.
  engine->RunOnce();
  clock_.Advance(absl::Hours(1));
  Engine()->RunOnce();
  EXPECT_EQ(jira_->IssuesCreated(), 1);

  // The RULE_FIRED event is in the key result's history.
  core::EventParent parent{"o1", "nps", ""};
  absl::StatusOr<core::ListResult<Event>> history = events_->ListEvents(parent, {});
  ASSERT_TRUE(history.ok());
  int fired = 0;
  for (const Event& e : history->items) fired += e.type == EventType::kRuleFired;
  EXPECT_EQ(fired, 1);
}

TEST_F(RuleEngineTest, GitLabIssue_RetriedAfterAFailure_IsOpenedOnce) {
  ASSERT_TRUE(AtRiskRule(Tracker::kGitLab, "at-risk-gitlab").ok());
  gitlab_->FailNextCreates(1, 500, /*after_create=*/true);  // created, answer lost
  clock_.Set(kStart + absl::Hours(24 * 20));
  std::unique_ptr<RuleEngine> engine = Engine();
  RuleRoundStats first = engine->RunOnce();
  EXPECT_EQ(first.fired, 1);
  EXPECT_EQ(first.issues_failed, 1);
  EXPECT_EQ(gitlab_->IssueCreates(), 1);
  // Not due yet: nothing happens.
  EXPECT_EQ(engine->RunOnce().issues_opened, 0);
  // Due: the retry finds the issue by its label instead of opening a second one.
  clock_.Advance(absl::Hours(1));
  RuleRoundStats retry = engine->RunOnce();
  EXPECT_EQ(retry.issues_opened, 1);
  EXPECT_EQ(gitlab_->IssueCreates(), 1);
  absl::StatusOr<okr::testing::FakeGitLabIssue> issue = gitlab_->GetIssue("acme/checkout", 1);
  ASSERT_TRUE(issue.ok()) << issue.status();
  EXPECT_THAT(issue->title, HasSubstr("Key result at risk: Raise NPS"));
}

TEST_F(RuleEngineTest, ProgressRecovers_RearmsTheRule_ThenFiresAgain) {
  ASSERT_TRUE(AtRiskRule(Tracker::kJira, "at-risk").ok());
  std::unique_ptr<RuleEngine> engine = Engine();
  clock_.Set(kStart + absl::Hours(24 * 20));
  EXPECT_EQ(engine->RunOnce().fired, 1);
  CheckIn c;
  c.objective_id = "o1";
  c.key_result_id = "nps";
  c.value = 36;  // 30% of the way: on track again
  ASSERT_TRUE(core_->CreateCheckIn(c, "").ok());
  EXPECT_EQ(engine->RunOnce().fired, 0);
  clock_.Set(kStart + absl::Hours(24 * 60));  // expected 60%: at risk again
  EXPECT_EQ(engine->RunOnce().fired, 1);
  EXPECT_EQ(jira_->IssuesCreated(), 2);
}

TEST_F(RuleEngineTest, NoOpenerForTheTracker_KeepsTheIssueQueued) {
  ASSERT_TRUE(AtRiskRule(Tracker::kGitLab, "at-risk-gitlab").ok());
  RuleEngineOptions options;
  RuleEngine jira_only(*events_, *core_, clock_, {{Tracker::kJira, jira_opener_.get()}}, options);
  clock_.Set(kStart + absl::Hours(24 * 20));
  RuleRoundStats stats = jira_only.RunOnce();
  EXPECT_EQ(stats.fired, 1);
  EXPECT_EQ(stats.issues_failed, 1);
  absl::StatusOr<std::vector<core::IssueAction>> queued =
      events_->DueIssueActions(clock_.Now() + absl::Hours(24), 10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_THAT((*queued)[0].last_error, HasSubstr("GitLab"));
}

TEST_F(RuleEngineTest, OpenIssueRuleOverItsDailyCap_StillFires_OpensNoIssue_AndWarns) {
  core::EventsCoreOptions capped_options;
  capped_options.max_issues_per_rule_per_day = 1;
  core::EventsCore capped(*store_, clock_, capped_options);
  Rule rule;
  rule.id = "low";
  rule.team_id = "checkout";
  rule.condition = RuleConditionType::kLowConfidence;
  rule.threshold = 0.5;
  rule.action = RuleActionType::kOpenIssue;
  rule.tracker = Tracker::kJira;
  ASSERT_TRUE(capped.CreateRule(rule).ok());
  RuleEngineOptions options;
  options.public_url = kPublicUrl;
  RuleEngine engine(capped, *core_, clock_, {{Tracker::kJira, jira_opener_.get()}}, options);
  std::FILE* log_file = std::tmpfile();
  ASSERT_NE(log_file, nullptr);
  log::SetOutput(log_file);

  RuleRoundStats total;
  for (double confidence : {0.2, 0.9, 0.2, 0.9, 0.2}) {  // fires three times
    CheckIn c;
    c.objective_id = "o1";
    c.key_result_id = "nps";
    c.value = 31;
    c.confidence = confidence;
    ASSERT_TRUE(core_->CreateCheckIn(c, "").ok());
    clock_.Advance(absl::Minutes(1));
    RuleRoundStats stats = engine.RunOnce();
    total.fired += stats.fired;
    total.issues_opened += stats.issues_opened;
    total.issues_capped += stats.issues_capped;
  }
  log::SetOutput(stderr);
  std::rewind(log_file);
  std::string logged;
  for (int ch = std::fgetc(log_file); ch != EOF; ch = std::fgetc(log_file)) logged.push_back(ch);
  std::fclose(log_file);

  EXPECT_EQ(total.fired, 3);
  EXPECT_EQ(total.issues_opened, 1);
  EXPECT_EQ(total.issues_capped, 2);
  EXPECT_EQ(jira_->IssuesCreated(), 1);
  int warnings = 0;
  for (absl::string_view line : absl::StrSplit(logged, '\n')) {
    if (!absl::StrContains(line, "limit of issues per 24 hours")) continue;
    ++warnings;
    EXPECT_THAT(std::string(line), HasSubstr("WARN"));
    EXPECT_THAT(std::string(line), HasSubstr("rules/low"));
  }
  EXPECT_EQ(warnings, 2) << logged;  // one line per capped firing

  // A day later the rule may open an issue again.
  clock_.Advance(absl::Hours(24));
  for (double confidence : {0.9, 0.2}) {
    CheckIn c;
    c.objective_id = "o1";
    c.key_result_id = "nps";
    c.value = 31;
    c.confidence = confidence;
    ASSERT_TRUE(core_->CreateCheckIn(c, "").ok());
    clock_.Advance(absl::Minutes(1));
    engine.RunOnce();
  }
  EXPECT_EQ(jira_->IssuesCreated(), 2);
}

TEST_F(RuleEngineTest, HealthMovedByTimeAlone_IsAHealthChangedEventWithTimeAsCause) {
  std::unique_ptr<RuleEngine> engine = Engine();
  EXPECT_EQ(engine->RunOnce().health_drifts, 0);  // first round: the watch starts here
  clock_.Set(kStart + absl::Hours(24 * 20));      // expected 20%, progress still 0
  RuleRoundStats moved = engine->RunOnce();
  EXPECT_EQ(moved.health_drifts, 2);  // the key result and its objective
  absl::StatusOr<core::ListResult<Event>> history =
      events_->ListEvents(core::EventParent{"o1", "", ""}, {});
  ASSERT_TRUE(history.ok()) << history.status();
  std::vector<Event> health;
  for (const Event& e : history->items) {
    if (e.type == EventType::kHealthChanged) health.push_back(e);
  }
  ASSERT_EQ(health.size(), 2u);
  EXPECT_EQ(health[0].key_result_id, "nps");
  EXPECT_EQ(health[0].old_health, Health::kOnTrack);
  EXPECT_EQ(health[0].new_health, Health::kAtRisk);
  EXPECT_EQ(health[0].cause.kind, CauseKind::kTimePassed);
  EXPECT_THAT(health[0].message, HasSubstr("time passing"));
  EXPECT_TRUE(health[1].key_result_id.empty());
  // Nothing moved since: no repeat.
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(engine->RunOnce().health_drifts, 0);
  // A check-in reports its own health change; time does not report it again.
  CheckIn c;
  c.objective_id = "o1";
  c.key_result_id = "nps";
  c.value = 36;
  ASSERT_TRUE(core_->CreateCheckIn(c, "").ok());
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(engine->RunOnce().health_drifts, 0);
}

TEST_F(RuleEngineTest, AlignmentFindings_BecomeEvents_WhenTheyAppearAndWhenResolved) {
  Objective o;
  o.id = "o2";
  o.title = "Cut checkout latency";
  o.team_id = "checkout";
  o.cycle_id = "q4";
  ASSERT_TRUE(core_->CreateObjective(o, "").ok());
  ASSERT_TRUE(core_->ProposeObjective("o2", "").ok());  // proposed without key results
  std::unique_ptr<RuleEngine> engine = Engine();
  RuleRoundStats first = engine->RunOnce();
  EXPECT_GE(first.findings_changed, 1);
  auto findings = [&](bool resolved) {
    std::vector<Event> out;
    absl::StatusOr<core::ListResult<Event>> history =
        events_->ListEvents(core::EventParent{"o2", "", ""}, {});
    EXPECT_TRUE(history.ok()) << history.status();
    for (const Event& e : history->items) {
      if (e.type == EventType::kAlignmentFinding && e.resolved == resolved &&
          e.finding_code == "NO_KEY_RESULTS") {
        out.push_back(e);
      }
    }
    return out;
  };
  ASSERT_EQ(findings(false).size(), 1u);
  EXPECT_EQ(findings(false)[0].cycle_id, "q4");
  EXPECT_EQ(findings(false)[0].team_id, "checkout");
  // Unchanged findings are not repeated.
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(engine->RunOnce().findings_changed, 0);
  KeyResult kr;
  kr.objective_id = "o2";
  kr.id = "p99";
  kr.title = "p99 below 300 ms";
  kr.type = KeyResultType::kMetric;
  kr.metric = {500, 300, 500, "ms"};
  ASSERT_TRUE(core_->CreateKeyResult(kr, "").ok());
  clock_.Advance(absl::Minutes(2));
  engine->RunOnce();
  EXPECT_EQ(findings(true).size(), 1u);
  EXPECT_EQ(findings(false).size(), 1u);
}

}  // namespace
}  // namespace okr::events
