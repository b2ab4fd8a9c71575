// The event outbox as the core writes it: which events each use case commits, with what
// cause, in what order (against a real SQLite file and a fake clock), and the EventsCore
// use cases (history, subscriptions, rules and their firing state).
#include "service/core/events_core.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/okr_core.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kEnd = kStart + absl::Hours(24 * 100);

absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
#define ASSERT_OK(expr)                                    \
  do {                                                     \
    const absl::Status _status = StatusOf(expr);           \
    ASSERT_TRUE(_status.ok()) << #expr << ": " << _status; \
  } while (0)

class EventsCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    core_ = std::make_unique<OkrCore>(*store_, clock_);
    events_ = std::make_unique<EventsCore>(*store_, clock_);
    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    team.projects[Tracker::kJira] = "OKRX";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kStart;
    cycle.end_time = kEnd;
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    Objective o;
    o.id = "o1";
    o.title = "Delight customers";
    o.team_id = "checkout";
    o.cycle_id = "q4";
    ASSERT_TRUE(core_->CreateObjective(o, "").ok());
    KeyResult metric;
    metric.objective_id = "o1";
    metric.id = "nps";
    metric.title = "Raise NPS";
    metric.type = KeyResultType::kMetric;
    metric.metric = {0, 100, 0, "pts"};
    ASSERT_TRUE(core_->CreateKeyResult(metric, "").ok());
    KeyResult items;
    items.objective_id = "o1";
    items.id = "epics";
    items.title = "Ship the epics";
    items.type = KeyResultType::kWorkItems;
    ASSERT_TRUE(core_->CreateKeyResult(items, "").ok());
    clock_.Set(kStart + absl::Hours(24 * 40));  // 40% into the cycle: expected 0.4
  }

  std::vector<Event> History(const std::string& objective, const std::string& kr = "") {
    EventParent parent;
    parent.objective_id = objective;
    parent.key_result_id = kr;
    PageRequest page;
    page.page_size = 1000;
    absl::StatusOr<ListResult<Event>> list = events_->ListEvents(parent, page);
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? list->items : std::vector<Event>{};
  }

  absl::StatusOr<CheckIn> CheckInValue(double value, std::optional<double> confidence = {}) {
    CheckIn c;
    c.objective_id = "o1";
    c.key_result_id = "nps";
    c.value = value;
    c.confidence = confidence;
    return core_->CreateCheckIn(c, "");
  }

  WorkItem Item(const std::string& key, bool done = false, double weight = 1) {
    WorkItem item;
    item.tracker = Tracker::kJira;
    item.key = key;
    item.title = "Issue " + key;
    item.done = done;
    item.weight = weight;
    return item;
  }

  static std::vector<EventType> Types(const std::vector<Event>& events) {
    std::vector<EventType> types;
    for (const Event& e : events) types.push_back(e.type);
    return types;
  }

  okr::testing::TempDir dir_;
  okr::testing::FakeClock clock_{kStart - absl::Hours(1)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<OkrCore> core_;
  std::unique_ptr<EventsCore> events_;
};

TEST_F(EventsCoreTest, CheckIn_CommitsKeyResultThenObjectiveEvents_WithTheCheckInAsCause) {
  absl::StatusOr<CheckIn> c = CheckInValue(30);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string check_in = "objectives/o1/keyResults/nps/checkIns/" + c->id;
  std::vector<Event> kr = History("o1", "nps");
  ASSERT_THAT(Types(kr), ElementsAre(EventType::kProgressChanged, EventType::kThresholdCrossed,
                                     EventType::kHealthChanged));
  EXPECT_DOUBLE_EQ(kr[0].old_progress, 0);
  EXPECT_DOUBLE_EQ(kr[0].new_progress, 0.3);
  EXPECT_EQ(kr[0].cause.kind, CauseKind::kCheckIn);
  EXPECT_EQ(kr[0].cause.ref, check_in);
  EXPECT_EQ(kr[0].team_id, "checkout");
  EXPECT_EQ(kr[0].cycle_id, "q4");
  EXPECT_DOUBLE_EQ(kr[1].threshold, 0.25);
  EXPECT_EQ(kr[2].old_health, Health::kOffTrack);
  EXPECT_EQ(kr[2].new_health, Health::kOnTrack);

  // The objective's events follow, rolled up via the key result.
  std::vector<Event> all = History("o1");
  ASSERT_GT(all.size(), kr.size());
  const Event& objective = all[kr.size()];
  EXPECT_EQ(objective.type, EventType::kProgressChanged);
  EXPECT_TRUE(objective.key_result_id.empty());
  EXPECT_DOUBLE_EQ(objective.new_progress, 0.15);  // mean of 0.3 and 0 (empty work items)
  EXPECT_EQ(objective.cause.ref, check_in);
  EXPECT_EQ(objective.cause.via, "objectives/o1/keyResults/nps");
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].sequence, all[i - 1].sequence);
}

TEST_F(EventsCoreTest, WorkItemClosedAndReopened_AreTheCauses_AndScopeGrowthIsExplained) {
  ASSERT_OK(core_->LinkWorkItem("o1", "epics", Item("OKRX-1", /*done=*/true), ""));
  std::vector<Event> linked = History("o1", "epics");
  ASSERT_FALSE(linked.empty());
  EXPECT_EQ(linked.back().cause.kind, CauseKind::kWorkItemAdded);
  const int64_t after_link = linked.back().sequence;

  // A second item: the denominator grows, progress falls 100% -> 50%, nothing undone.
  ASSERT_OK(core_->LinkWorkItem("o1", "epics", Item("OKRX-2"), ""));
  std::vector<Event> grown = History("o1", "epics");
  std::vector<Event> fresh;
  for (const Event& e : grown) {
    if (e.sequence > after_link) fresh.push_back(e);
  }
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(fresh[0].type, EventType::kScopeChanged);
  EXPECT_DOUBLE_EQ(fresh[0].old_total_weight, 1);
  EXPECT_DOUBLE_EQ(fresh[0].new_total_weight, 2);
  EXPECT_THAT(fresh[0].message, HasSubstr("without any work being undone"));
  EXPECT_EQ(fresh[0].cause.ref, "JIRA OKRX-2");

  WorkItem closed = Item("OKRX-2", true);
  ASSERT_OK(core_->UpdateWorkItem(closed, {"done"}));
  Event last_progress;
  for (const Event& e : History("o1", "epics")) {
    if (e.type == EventType::kProgressChanged) last_progress = e;
  }
  EXPECT_EQ(last_progress.cause.kind, CauseKind::kWorkItemClosed);
  EXPECT_EQ(last_progress.cause.ref, "JIRA OKRX-2");
  EXPECT_DOUBLE_EQ(last_progress.old_progress, 0.5);
  EXPECT_DOUBLE_EQ(last_progress.new_progress, 1);

  WorkItem reopened = Item("OKRX-2", false);
  reopened.source_updated = clock_.Now();
  absl::StatusOr<SyncOutcome> applied = core_->ApplyTrackerUpdate(reopened, "delivery-1");
  ASSERT_TRUE(applied.ok()) << applied.status();
  for (const Event& e : History("o1", "epics")) {
    if (e.type == EventType::kProgressChanged) last_progress = e;
  }
  EXPECT_EQ(last_progress.cause.kind, CauseKind::kWorkItemReopened);
  EXPECT_DOUBLE_EQ(last_progress.new_progress, 0.5);
}

// Credit per workflow state and cancelled work: a tracker state whose credit, status or
// exclusion changed is applied, moves the totals by the progress rule, and the event says
// why ("... closed as Won't Do: left the key result").
TEST_F(EventsCoreTest, TrackerCreditAndExclusion_MoveTotalsAndNameWhy) {
  ASSERT_OK(core_->LinkWorkItem("o1", "epics", Item("OKRX-1", false, 2), ""));
  ASSERT_OK(core_->LinkWorkItem("o1", "epics", Item("OKRX-2", false, 2), ""));
  auto last_progress = [this] {
    Event last;
    for (const Event& e : History("o1", "epics")) {
      if (e.type == EventType::kProgressChanged) last = e;
    }
    return last;
  };
  auto totals = [this] { return core_->GetKeyResult("o1", "epics")->totals; };

  // In Review earns half of OKRX-1's weight: 1 of 4.
  WorkItem review = Item("OKRX-1", false, 2);
  review.status = "In Review";
  review.partial_credit = 0.5;
  review.source_updated = clock_.Now();
  absl::StatusOr<SyncOutcome> applied = core_->ApplyTrackerUpdate(review, "d-1");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, SyncOutcome::kApplied);
  EXPECT_DOUBLE_EQ(totals().done_weight, 1);
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0.25);
  Event moved = last_progress();
  EXPECT_EQ(moved.cause.kind, CauseKind::kWorkItemChanged);
  EXPECT_EQ(moved.cause.detail, "moved to In Review (credit 50%)");
  EXPECT_THAT(moved.message, HasSubstr("work item JIRA OKRX-1 moved to In Review (credit 50%)"));

  // The same state again changes nothing.
  applied = core_->ApplyTrackerUpdate(review, "d-2");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, SyncOutcome::kUnchanged);

  // Closed as Won't Do: out of numerator and denominator.
  WorkItem cancelled = Item("OKRX-1", true, 2);
  cancelled.status = "Closed";
  cancelled.exclusion = "Won't Do";
  cancelled.source_updated = clock_.Now() + absl::Seconds(1);
  applied = core_->ApplyTrackerUpdate(cancelled, "d-3");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, SyncOutcome::kApplied);
  WorkItemTotals t = totals();
  EXPECT_EQ(t.item_count, 1);
  EXPECT_EQ(t.excluded_count, 1);
  EXPECT_DOUBLE_EQ(t.total_weight, 2);
  EXPECT_DOUBLE_EQ(t.done_weight, 0);
  Event left = last_progress();
  EXPECT_EQ(left.cause.kind, CauseKind::kWorkItemExcluded);
  EXPECT_EQ(left.cause.detail, "closed as Won't Do");
  EXPECT_THAT(left.message,
              HasSubstr("work item JIRA OKRX-1 closed as Won't Do: left the key result"));

  // OKRX-2 done: 2 of 2 (the excluded item does not hold progress back).
  WorkItem done = Item("OKRX-2", true, 2);
  done.source_updated = clock_.Now() + absl::Seconds(2);
  ASSERT_OK(core_->ApplyTrackerUpdate(done, "d-4"));
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 1);

  // Reopened: OKRX-1 counts again (0 credit in To Do): 2 of 4.
  WorkItem reopened = Item("OKRX-1", false, 2);
  reopened.status = "To Do";
  reopened.source_updated = clock_.Now() + absl::Seconds(3);
  ASSERT_OK(core_->ApplyTrackerUpdate(reopened, "d-5"));
  t = totals();
  EXPECT_EQ(t.item_count, 2);
  EXPECT_EQ(t.excluded_count, 0);
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0.5);
  Event back = last_progress();
  EXPECT_EQ(back.cause.kind, CauseKind::kWorkItemReopened);
  EXPECT_THAT(back.message, HasSubstr("work item JIRA OKRX-1 reopened: counts again"));

  // A status change alone is a change too, though progress stays.
  WorkItem doing = reopened;
  doing.status = "In Progress";
  doing.source_updated = clock_.Now() + absl::Seconds(4);
  applied = core_->ApplyTrackerUpdate(doing, "d-6");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, SyncOutcome::kApplied);
  std::optional<WorkItem> stored;
  ASSERT_OK(store_->RunReadOnly([&stored](storage::OkrTransaction& tx) -> absl::Status {
    absl::StatusOr<std::optional<WorkItem>> item = tx.GetWorkItem(Tracker::kJira, "OKRX-1");
    if (item.ok()) stored = *item;
    return item.status();
  }));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, "In Progress");

  // Open work labelled as cancelled (GitLab's wontfix) leaves too, in those words.
  WorkItem gitlab;
  gitlab.tracker = Tracker::kGitLab;
  gitlab.key = "acme/checkout#7";
  gitlab.title = "Retry payments";
  ASSERT_OK(core_->LinkWorkItem("o1", "epics", gitlab, ""));
  gitlab.status = "opened";
  gitlab.exclusion = "wontfix";
  gitlab.source_updated = clock_.Now();
  ASSERT_OK(core_->ApplyTrackerUpdate(gitlab, "g-1"));
  EXPECT_EQ(totals().excluded_count, 1);
  EXPECT_THAT(last_progress().message,
              HasSubstr("work item GITLAB acme/checkout#7 labelled wontfix: left the key result"));
}

TEST_F(EventsCoreTest, LifecycleProducesStateChanged) {
  ASSERT_OK(core_->ProposeObjective("o1", ""));
  std::vector<Event> all = History("o1");
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().type, EventType::kStateChanged);
  EXPECT_EQ(all.back().old_state, ObjectiveState::kDraft);
  EXPECT_EQ(all.back().new_state, ObjectiveState::kProposed);
  EXPECT_EQ(all.back().cause.kind, CauseKind::kLifecycle);
}

TEST_F(EventsCoreTest, FailedWrite_CommitsNoEvent) {
  KeyResult patch;
  patch.objective_id = "o1";
  patch.id = "nps";
  patch.metric.current_value = 50;
  EXPECT_FALSE(core_->UpdateKeyResult(patch, {"metric.current_value"}, "r999").ok());
  EXPECT_THAT(History("o1", "nps"), IsEmpty());
  absl::StatusOr<int64_t> last = events_->LastEventSequence();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 0);
}

TEST_F(EventsCoreTest, ListEvents_PagesAndKnowsMissingParents) {
  ASSERT_OK(CheckInValue(30));
  ASSERT_OK(CheckInValue(60));
  EventParent parent{"o1", "nps", ""};
  PageRequest page;
  page.page_size = 2;
  std::vector<int64_t> seen;
  for (int guard = 0; guard < 20; ++guard) {
    absl::StatusOr<ListResult<Event>> list = events_->ListEvents(parent, page);
    ASSERT_TRUE(list.ok()) << list.status();
    EXPECT_LE(list->items.size(), 2u);
    for (const Event& e : list->items) seen.push_back(e.sequence);
    if (list->next_page_token.empty()) break;
    page.page_token = list->next_page_token;
  }
  std::vector<int64_t> all;
  for (const Event& e : History("o1", "nps")) all.push_back(e.sequence);
  EXPECT_EQ(seen, all);
  EXPECT_GE(all.size(), 4u);
  EXPECT_TRUE(absl::IsNotFound(events_->ListEvents(EventParent{"nope", "", ""}, {}).status()));
  EXPECT_TRUE(absl::IsNotFound(events_->ListEvents(EventParent{"", "", "nope"}, {}).status()));
  absl::StatusOr<ListResult<Event>> team = events_->ListEvents(EventParent{"", "", "checkout"}, {});
  ASSERT_TRUE(team.ok());
  EXPECT_EQ(team->items.size(), std::min<size_t>(50, History("o1").size()));
}

TEST_F(EventsCoreTest, Subscriptions_ValidateAndStartAtTheCurrentEnd) {
  ASSERT_OK(CheckInValue(30));
  Subscription s;
  s.target_url = "http://127.0.0.1:9/hook";
  s.secret = "0123456789abcdef";
  s.filter.objective_id = "missing";
  EXPECT_THAT(std::string(events_->CreateSubscription(s).status().message()),
              HasSubstr("subscription.filter.objective"));
  s.filter.objective_id = "o1";
  absl::StatusOr<Subscription> created = events_->CreateSubscription(s);
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<int64_t> last = events_->LastEventSequence();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(created->delivered_sequence, *last);
  absl::StatusOr<Subscription> got = events_->GetSubscription(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, SubscriptionState::kActive);
  EXPECT_EQ(got->filter.objective_id, "o1");
  ASSERT_OK(events_->DeleteSubscription(created->id));
  EXPECT_TRUE(absl::IsNotFound(events_->GetSubscription(created->id).status()));
  EXPECT_TRUE(absl::IsNotFound(events_->DeleteSubscription(created->id)));
}

TEST_F(EventsCoreTest, Rules_ValidateReferencesAndTeamProjects) {
  Rule r;
  r.objective_id = "missing";
  EXPECT_THAT(std::string(events_->CreateRule(r).status().message()), HasSubstr("rule.parent"));
  r.objective_id = "o1";
  r.action = RuleActionType::kOpenIssue;
  r.tracker = Tracker::kGitLab;  // the team has a Jira project only
  EXPECT_THAT(std::string(events_->CreateRule(r).status().message()), HasSubstr("gitlab_project"));
  r.tracker = Tracker::kJira;
  ASSERT_OK(events_->CreateRule(r));
  r.id = "";
  r.action = RuleActionType::kCallSubscription;
  r.subscription_id = "nope";
  EXPECT_THAT(std::string(events_->CreateRule(r).status().message()),
              HasSubstr("rule.action.subscription"));
}

TEST_F(EventsCoreTest, OpenIssueAction_CarriesTheTeamsIssueTypeAtFiring_AndKeepsItOnRetry) {
  Team patch;
  patch.id = "checkout";
  patch.issue_types[Tracker::kJira] = "Bug";
  ASSERT_TRUE(core_->UpdateTeam(patch, {"jira_issue_type"}, "").ok());
  Rule r;
  r.id = "typed";
  r.objective_id = "o1";
  r.action = RuleActionType::kOpenIssue;
  ASSERT_OK(events_->CreateRule(r));
  absl::StatusOr<KeyResult> kr = core_->GetKeyResult("o1", "nps");
  absl::StatusOr<Objective> o = core_->GetObjective("o1");
  ASSERT_TRUE(kr.ok() && o.ok());
  IssueText text{"Key result at risk: Raise NPS", "details",
                 "http://okr/objectives/o1/keyResults/nps"};
  ASSERT_TRUE(events_->RecordVerdict(r, *kr, *o, {true, "health is OFF_TRACK"}, text).ok());
  absl::StatusOr<std::vector<IssueAction>> due = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].project, "OKRX");
  EXPECT_EQ((*due)[0].issue_type, "Bug");
  ASSERT_OK(events_->DeferIssueAction((*due)[0], "HTTP 500", clock_.Now()));
  due = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].issue_type, "Bug");

  // Clearing the team's type: the next firing's issue takes the connector's default.
  patch.issue_types.clear();
  ASSERT_TRUE(core_->UpdateTeam(patch, {"jira_issue_type"}, "").ok());
  ASSERT_OK(events_->CompleteIssueAction((*due)[0], "OKRX-1"));
  ASSERT_TRUE(events_->RecordVerdict(r, *kr, *o, {false, "health is ON_TRACK"}, text).ok());
  ASSERT_TRUE(events_->RecordVerdict(r, *kr, *o, {true, "health is OFF_TRACK"}, text).ok());
  due = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].issue_type, "");
}

TEST_F(EventsCoreTest, RecordVerdict_FiresOncePerStreak_AndQueuesOneIssue) {
  Rule r;
  r.id = "at-risk";
  r.objective_id = "o1";
  r.action = RuleActionType::kOpenIssue;
  ASSERT_OK(events_->CreateRule(r));
  absl::StatusOr<KeyResult> kr = core_->GetKeyResult("o1", "nps");
  absl::StatusOr<Objective> o = core_->GetObjective("o1");
  ASSERT_TRUE(kr.ok() && o.ok());
  IssueText text{"Key result at risk: Raise NPS", "details",
                 "http://okr/objectives/o1/keyResults/nps"};
  RuleVerdict holds{true, "health is OFF_TRACK"};
  RuleVerdict clear{false, "health is ON_TRACK"};

  absl::StatusOr<VerdictRecord> first = events_->RecordVerdict(r, *kr, *o, holds, text);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->fired);
  EXPECT_TRUE(first->issue_queued);
  EXPECT_FALSE(first->issue_capped);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<VerdictRecord> again = events_->RecordVerdict(r, *kr, *o, holds, text);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->fired);
    EXPECT_FALSE(again->issue_queued);
  }
  absl::StatusOr<std::vector<IssueAction>> due = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].project, "OKRX");
  EXPECT_EQ((*due)[0].title, "Key result at risk: Raise NPS");
  std::vector<Event> fired;
  for (const Event& e : History("o1", "nps")) {
    if (e.type == EventType::kRuleFired) fired.push_back(e);
  }
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].rule_id, "at-risk");
  EXPECT_THAT(fired[0].message, HasSubstr("health is OFF_TRACK"));

  // A failed attempt is retried later, then completed once.
  ASSERT_OK(events_->DeferIssueAction((*due)[0], "HTTP 500", clock_.Now() + absl::Minutes(1)));
  absl::StatusOr<std::vector<IssueAction>> later = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
  clock_.Advance(absl::Minutes(2));
  later = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].attempts, 1);
  ASSERT_OK(events_->CompleteIssueAction((*later)[0], "OKRX-7"));
  later = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());

  // The condition clears (re-arms), then holds again: a second firing.
  absl::StatusOr<VerdictRecord> cleared = events_->RecordVerdict(r, *kr, *o, clear, text);
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(cleared->fired);
  absl::StatusOr<VerdictRecord> second = events_->RecordVerdict(r, *kr, *o, holds, text);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->fired);
  due = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->size(), 1u);
}

// ---- The OPEN_ISSUE cap and cancelling on delete ----

class RuleIssuesTest : public EventsCoreTest {
 protected:
  void SetUp() override {
    EventsCoreTest::SetUp();
    EventsCoreOptions options;
    options.max_issues_per_rule_per_day = 2;
    capped_ = std::make_unique<EventsCore>(*store_, clock_, options);
  }

  absl::StatusOr<Rule> IssueRule(const std::string& id) {
    Rule r;
    r.id = id;
    r.objective_id = "o1";
    r.condition = RuleConditionType::kLowConfidence;
    r.threshold = 0.5;
    r.action = RuleActionType::kOpenIssue;
    return capped_->CreateRule(r);
  }

  // The condition clears, then holds again on `kr_id`: one new firing.
  absl::StatusOr<VerdictRecord> Fire(const Rule& rule, const std::string& kr_id = "nps") {
    absl::StatusOr<KeyResult> kr = core_->GetKeyResult("o1", kr_id);
    absl::StatusOr<Objective> o = core_->GetObjective("o1");
    if (!kr.ok()) return kr.status();
    if (!o.ok()) return o.status();
    IssueText text{"Low confidence in key result", "details", "http://okr/x"};
    absl::StatusOr<VerdictRecord> cleared =
        capped_->RecordVerdict(rule, *kr, *o, RuleVerdict{false, "confident"}, text);
    if (!cleared.ok()) return cleared.status();
    return capped_->RecordVerdict(rule, *kr, *o, RuleVerdict{true, "confidence 0.2"}, text);
  }

  // Queued issue actions, by rule id.
  std::vector<std::string> QueuedRules() {
    absl::StatusOr<std::vector<IssueAction>> due =
        capped_->DueIssueActions(absl::InfiniteFuture(), 100);
    EXPECT_TRUE(due.ok()) << due.status();
    std::vector<std::string> rules;
    if (due.ok()) {
      for (const IssueAction& a : *due) rules.push_back(a.rule_id);
    }
    return rules;
  }

  int RuleFiredEvents() {
    int n = 0;
    for (const Event& e : History("o1")) n += e.type == EventType::kRuleFired ? 1 : 0;
    return n;
  }

  std::unique_ptr<EventsCore> capped_;
};

TEST_F(RuleIssuesTest, FiringsOverTheDailyCap_EmitRuleFired_ButQueueNoIssue) {
  absl::StatusOr<Rule> rule = IssueRule("low");
  ASSERT_OK(rule);
  const absl::Time t0 = clock_.Now();

  std::vector<VerdictRecord> records;
  for (int i = 0; i < 3; ++i) {
    clock_.Set(t0 + absl::Hours(i));
    absl::StatusOr<VerdictRecord> fired = Fire(*rule);
    ASSERT_OK(fired);
    records.push_back(*fired);
  }

  EXPECT_TRUE(records[0].fired && records[0].issue_queued && !records[0].issue_capped);
  EXPECT_TRUE(records[1].fired && records[1].issue_queued && !records[1].issue_capped);
  EXPECT_TRUE(records[2].fired);
  EXPECT_FALSE(records[2].issue_queued);
  EXPECT_TRUE(records[2].issue_capped);
  EXPECT_EQ(RuleFiredEvents(), 3);
  EXPECT_THAT(QueuedRules(), ElementsAre("low", "low"));
  // Completing the queued issues does not lift the cap: it counts issues queued.
  absl::StatusOr<std::vector<IssueAction>> due = capped_->DueIssueActions(clock_.Now(), 10);
  ASSERT_OK(due);
  for (const IssueAction& a : *due) ASSERT_OK(capped_->CompleteIssueAction(a, "OKRX-1"));
  clock_.Set(t0 + absl::Hours(23));
  absl::StatusOr<VerdictRecord> still = Fire(*rule);
  ASSERT_OK(still);
  EXPECT_TRUE(still->issue_capped);
  EXPECT_THAT(QueuedRules(), IsEmpty());
}

TEST_F(RuleIssuesTest, TheCapIsASliding24HourWindow) {
  absl::StatusOr<Rule> rule = IssueRule("low");
  ASSERT_OK(rule);
  const absl::Time t0 = clock_.Now();
  auto fire_at = [&](absl::Duration offset) {
    clock_.Set(t0 + offset);
    absl::StatusOr<VerdictRecord> fired = Fire(*rule);
    EXPECT_TRUE(fired.ok() && fired->fired) << fired.status();
    return fired.ok() && fired->issue_queued;
  };
  EXPECT_TRUE(fire_at(absl::ZeroDuration()));
  EXPECT_TRUE(fire_at(absl::Hours(10)));
  EXPECT_FALSE(fire_at(absl::Hours(20)));
  EXPECT_FALSE(fire_at(absl::Hours(24) - absl::Seconds(1)));  // t0's issue still counts
  EXPECT_TRUE(fire_at(absl::Hours(24)));                      // t0's issue is 24 h old
  EXPECT_FALSE(fire_at(absl::Hours(30)));                     // 10 h and 24 h are within the window
  EXPECT_TRUE(fire_at(absl::Hours(34) + absl::Seconds(1)));
  EXPECT_EQ(RuleFiredEvents(), 7);
  EXPECT_EQ(QueuedRules().size(), 4u);
}

TEST_F(RuleIssuesTest, TheCapCountsPerRule_OverAllItsKeyResults) {
  absl::StatusOr<Rule> low = IssueRule("low");
  absl::StatusOr<Rule> other = IssueRule("other");
  ASSERT_OK(low);
  ASSERT_OK(other);

  absl::StatusOr<VerdictRecord> nps = Fire(*low, "nps");
  absl::StatusOr<VerdictRecord> epics = Fire(*low, "epics");
  absl::StatusOr<VerdictRecord> third = Fire(*low, "nps");
  absl::StatusOr<VerdictRecord> other_rule = Fire(*other, "nps");

  ASSERT_OK(nps);
  ASSERT_OK(epics);
  ASSERT_OK(third);
  ASSERT_OK(other_rule);
  EXPECT_TRUE(nps->issue_queued);
  EXPECT_TRUE(epics->issue_queued);
  EXPECT_TRUE(third->issue_capped);       // two issues of rule "low" already, on two KRs
  EXPECT_TRUE(other_rule->issue_queued);  // another rule has its own count
  EXPECT_THAT(QueuedRules(), ElementsAre("low", "low", "other"));
}

TEST_F(RuleIssuesTest, DeleteRule_CancelsItsQueuedIssues_AndNoOtherRules) {
  absl::StatusOr<Rule> low = IssueRule("low");
  absl::StatusOr<Rule> other = IssueRule("other");
  ASSERT_OK(low);
  ASSERT_OK(other);
  ASSERT_OK(Fire(*low, "nps"));
  ASSERT_OK(Fire(*low, "epics"));
  ASSERT_OK(Fire(*other, "nps"));
  ASSERT_THAT(QueuedRules(), ElementsAre("low", "low", "other"));

  ASSERT_OK(capped_->DeleteRule("low"));

  EXPECT_THAT(QueuedRules(), ElementsAre("other"));
  EXPECT_TRUE(absl::IsNotFound(capped_->DeleteRule("low")));
  // A firing recorded for the deleted rule (evaluated just before the delete) queues nothing.
  absl::StatusOr<VerdictRecord> late = Fire(*low, "nps");
  ASSERT_OK(late);
  EXPECT_FALSE(late->fired);
  EXPECT_THAT(QueuedRules(), ElementsAre("other"));
  // A new rule of the same id starts with a fresh count.
  absl::StatusOr<Rule> again = IssueRule("low");
  ASSERT_OK(again);
  absl::StatusOr<VerdictRecord> fresh = Fire(*again, "epics");
  ASSERT_OK(fresh);
  EXPECT_TRUE(fresh->issue_queued);
}

// ---- The injected target URL check ----

TEST_F(EventsCoreTest, CreateSubscription_RunsTheTargetUrlCheck_NamingTheField) {
  std::vector<std::string> checked;
  EventsCoreOptions options;
  options.target_url_check = [&checked](const std::string& url) {
    checked.push_back(url);
    if (absl::StrContains(url, "127.0.0.1")) {
      return absl::InvalidArgumentError("127.0.0.1 is a loopback address");
    }
    return absl::OkStatus();
  };
  EventsCore guarded(*store_, clock_, options);
  Subscription s;
  s.target_url = "http://127.0.0.1:9/hook";
  s.secret = "0123456789abcdef";

  absl::StatusOr<Subscription> refused = guarded.CreateSubscription(s);

  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "subscription.target_url: 127.0.0.1 is a loopback address");
  absl::StatusOr<std::vector<Subscription>> stored = guarded.AllSubscriptions();
  ASSERT_OK(stored);
  EXPECT_THAT(*stored, IsEmpty());
  // A URL that fails the syntax check never reaches the injected check.
  s.target_url = "ftp://example.com/";
  EXPECT_FALSE(guarded.CreateSubscription(s).ok());
  s.target_url = "https://hooks.example.com/okr";
  ASSERT_OK(guarded.CreateSubscription(s));
  EXPECT_THAT(checked, ElementsAre("http://127.0.0.1:9/hook", "https://hooks.example.com/okr"));
}

// ---- Updates of subscriptions and rules ----

TEST_F(EventsCoreTest, UpdateSubscription_ChecksTheNewTargetLikeCreate_AndComparesEtags) {
  std::vector<std::string> checked;
  EventsCoreOptions options;
  options.target_url_check = [&checked](const std::string& url) {
    checked.push_back(url);
    if (absl::StrContains(url, "10.0.0.1")) {
      return absl::InvalidArgumentError("10.0.0.1 is a private address");
    }
    return absl::OkStatus();
  };
  EventsCore guarded(*store_, clock_, options);
  Subscription s;
  s.id = "hook";
  s.target_url = "https://hooks.example.com/okr";
  s.secret = "0123456789abcdef";
  absl::StatusOr<Subscription> created = guarded.CreateSubscription(s);
  ASSERT_OK(created);
  ASSERT_OK(CheckInValue(30));  // events after the subscription's start

  Subscription patch;
  patch.id = "hook";
  patch.target_url = "http://10.0.0.1/okr";
  absl::StatusOr<Subscription> refused = guarded.UpdateSubscription(patch, {"target_url"}, "");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "subscription.target_url: 10.0.0.1 is a private address");
  patch.target_url = "ftp://example.com/";  // the syntax check comes first
  EXPECT_FALSE(guarded.UpdateSubscription(patch, {"target_url"}, "").ok());
  patch.target_url = "https://other.example.com/okr";
  patch.filter.team_id = "checkout";
  absl::StatusOr<Subscription> updated = guarded.UpdateSubscription(
      patch, {"target_url", "filter"}, FormatEtag(created->meta.revision));
  ASSERT_OK(updated);
  EXPECT_EQ(updated->target_url, "https://other.example.com/okr");
  EXPECT_EQ(updated->filter.team_id, "checkout");
  EXPECT_EQ(updated->secret, "0123456789abcdef");                       // not in the mask
  EXPECT_EQ(updated->delivered_sequence, created->delivered_sequence);  // cursor kept
  EXPECT_EQ(updated->meta.revision, created->meta.revision + 1);
  EXPECT_THAT(checked, ElementsAre("https://hooks.example.com/okr", "http://10.0.0.1/okr",
                                   "https://other.example.com/okr"));
  // Stale etag, unknown path, missing subscription, missing filter team.
  EXPECT_EQ(guarded.UpdateSubscription(patch, {"filter"}, FormatEtag(created->meta.revision))
                .status()
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(guarded.UpdateSubscription(patch, {"state"}, "").status().message()),
              HasSubstr("update_mask"));
  patch.id = "nope";
  EXPECT_TRUE(absl::IsNotFound(guarded.UpdateSubscription(patch, {"filter"}, "").status()));
  patch.id = "hook";
  patch.filter.team_id = "ghost";
  EXPECT_THAT(std::string(guarded.UpdateSubscription(patch, {"filter"}, "").status().message()),
              HasSubstr("subscription.filter.team"));
}

TEST_F(EventsCoreTest, UpdateRule_ValidatedLikeCreate_KeepsTheParent_AndComparesEtags) {
  Rule r;
  r.id = "risk";
  r.objective_id = "o1";
  absl::StatusOr<Rule> created = events_->CreateRule(r);
  ASSERT_OK(created);
  Rule patch;
  patch.id = "risk";
  patch.team_id = "elsewhere";  // the parent is not updatable: ignored
  patch.condition = RuleConditionType::kBehindPace;
  patch.threshold = 0.2;
  absl::StatusOr<Rule> updated =
      events_->UpdateRule(patch, {"condition"}, FormatEtag(created->meta.revision));
  ASSERT_OK(updated);
  EXPECT_EQ(updated->condition, RuleConditionType::kBehindPace);
  EXPECT_DOUBLE_EQ(updated->threshold, 0.2);
  EXPECT_EQ(updated->objective_id, "o1");
  EXPECT_EQ(updated->action, RuleActionType::kEmitEvent);
  absl::StatusOr<Rule> got = events_->GetRule("risk");
  ASSERT_OK(got);
  EXPECT_EQ(got->meta.revision, created->meta.revision + 1);
  EXPECT_EQ(
      events_->UpdateRule(patch, {"condition"}, FormatEtag(created->meta.revision)).status().code(),
      absl::StatusCode::kAborted);
  patch.threshold = 3;
  EXPECT_THAT(std::string(events_->UpdateRule(patch, {"condition"}, "").status().message()),
              HasSubstr("rule.condition.threshold"));
  patch.action = RuleActionType::kCallSubscription;
  patch.subscription_id = "missing";
  EXPECT_THAT(std::string(events_->UpdateRule(patch, {"action"}, "").status().message()),
              HasSubstr("rule.action.subscription"));
  patch.action = RuleActionType::kOpenIssue;
  patch.tracker = Tracker::kGitLab;  // the team has a Jira project only
  EXPECT_THAT(std::string(events_->UpdateRule(patch, {"action"}, "").status().message()),
              HasSubstr("gitlab_project"));
  EXPECT_THAT(std::string(events_->UpdateRule(patch, {"parent"}, "").status().message()),
              HasSubstr("update_mask"));
}

}  // namespace
}  // namespace okr::core
