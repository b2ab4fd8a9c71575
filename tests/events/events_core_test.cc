// The event outbox as the core writes it: which events each use case commits, with what
// cause, in what order (against a real SQLite file and a fake clock), and the EventsCore
// use cases (history, subscriptions, rules and their firing state).
#include "service/core/events_core.h"

#include <memory>
#include <string>
#include <vector>

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
    team.jira_project_key = "OKRX";
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

  absl::StatusOr<bool> first = events_->RecordVerdict(r, *kr, *o, holds, text);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<bool> again = events_->RecordVerdict(r, *kr, *o, holds, text);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(*again);
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
  absl::StatusOr<bool> cleared = events_->RecordVerdict(r, *kr, *o, clear, text);
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(*cleared);
  absl::StatusOr<bool> second = events_->RecordVerdict(r, *kr, *o, holds, text);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(*second);
  due = events_->DueIssueActions(clock_.Now(), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->size(), 1u);
}

}  // namespace
}  // namespace okr::core
