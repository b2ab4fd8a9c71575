// Retention (service/core/retention.h) and the limits on counts (service/core/limits.h)
// against a real SQLite file and a fake clock: moving the clock past each retention
// shrinks that table while every younger row stays; events a subscription has not
// delivered stay; a round takes at most max_batches_per_round batches.
#include "service/core/retention.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/core/tokens_core.h"
#include "service/okr/error_details.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'790'000'000);
constexpr absl::Duration kDay = absl::Hours(24);

#define ASSERT_OK(expr)                                    \
  do {                                                     \
    const absl::Status _status = (expr);                   \
    ASSERT_TRUE(_status.ok()) << #expr << ": " << _status; \
  } while (0)

// What is left in each table.
struct Left {
  std::vector<int64_t> events;  // sequences
  int deliveries = 0;           // of the ids d0..d9 (Jira)
  int requests = 0;             // of the ids r0..r9
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    events_ = std::make_unique<EventsCore>(*store_, clock_);
  }

  // One event, one webhook delivery (Jira "d<i>") and one request id ("r<i>") at `at`.
  int64_t AddRows(int i, absl::Time at) {
    int64_t seq = 0;
    absl::Status s = store_->RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
      Event e;
      e.type = EventType::kProgressChanged;
      e.time = at;
      e.objective_id = "o";
      e.key_result_id = "k";
      e.team_id = "t";
      e.cycle_id = "c";
      if (absl::Status st = tx.AppendEvent(e); !st.ok()) return st;
      seq = e.sequence;
      if (absl::Status st = tx.RecordDelivery(Tracker::kJira, absl::StrCat("d", i), at); !st.ok()) {
        return st;
      }
      return tx.PutRequestRecord(absl::StrCat("CreateTeam/r", i), "teams/t", at);
    });
    EXPECT_TRUE(s.ok()) << s;
    return seq;
  }

  Left WhatIsLeft() {
    Left left;
    absl::Status s = store_->RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
      absl::StatusOr<std::vector<Event>> all =
          tx.ListEvents(storage::OkrTransaction::EventQuery{0, 1000, "", "", ""});
      if (!all.ok()) return all.status();
      for (const Event& e : *all) left.events.push_back(e.sequence);
      for (int i = 0; i < 10; ++i) {
        absl::StatusOr<std::optional<std::string>> r =
            tx.GetRequestRecord(absl::StrCat("CreateTeam/r", i));
        if (!r.ok()) return r.status();
        if (r->has_value()) ++left.requests;
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    for (int i = 0; i < 10; ++i) {
      // Recording a remembered delivery again fails ALREADY_EXISTS; the probe rolls back.
      absl::Status probe = store_->RunInTransaction([&](storage::OkrTransaction& tx) {
        absl::Status st = tx.RecordDelivery(Tracker::kJira, absl::StrCat("d", i), kT0);
        return st.ok() ? absl::FailedPreconditionError("probe") : st;
      });
      if (absl::IsAlreadyExists(probe)) ++left.deliveries;
    }
    return left;
  }

  RetentionOptions Options() {
    RetentionOptions o;
    o.event_retention = 90 * kDay;
    o.webhook_dedupe_retention = 7 * kDay;
    o.request_id_retention = 3 * kDay;
    o.batch_size = 2;  // several batches per table
    return o;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kT0};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<EventsCore> events_;
};

TEST_F(RetentionTest, MovingTheClock_ShrinksEachTable_YoungerRowsUntouched) {
  // Three rows per table at t0, two at t0 + 2 days.
  std::vector<int64_t> seq;
  for (int i = 0; i < 3; ++i) seq.push_back(AddRows(i, kT0));
  for (int i = 3; i < 5; ++i) seq.push_back(AddRows(i, kT0 + 2 * kDay));
  Retention retention(*store_, *events_, clock_, Options());

  // Nothing is old yet.
  clock_.Set(kT0 + 2 * kDay + absl::Hours(1));
  absl::StatusOr<PruneReport> r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->total(), 0);
  Left left = WhatIsLeft();
  EXPECT_EQ(left.events, seq);
  EXPECT_EQ(left.deliveries, 5);
  EXPECT_EQ(left.requests, 5);

  // t0 + 4 days: the t0 request ids are older than 3 days (in two batches of 2 and 1).
  clock_.Set(kT0 + 4 * kDay);
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request_records, 3);
  EXPECT_EQ(r->webhook_deliveries, 0);
  EXPECT_EQ(r->events, 0);
  left = WhatIsLeft();
  EXPECT_EQ(left.requests, 2);
  EXPECT_EQ(left.deliveries, 5);
  EXPECT_EQ(left.events, seq);

  // t0 + 8 days: the t0 deliveries are older than 7 days; the younger request ids too.
  clock_.Set(kT0 + 8 * kDay);
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->webhook_deliveries, 3);
  EXPECT_EQ(r->request_records, 2);
  EXPECT_EQ(r->events, 0);
  left = WhatIsLeft();
  EXPECT_EQ(left.deliveries, 2);
  EXPECT_EQ(left.requests, 0);
  EXPECT_EQ(left.events, seq);

  // t0 + 91 days: the t0 events are older than 90 days; the t0 + 2 days ones stay.
  clock_.Set(kT0 + 91 * kDay);
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 3);
  EXPECT_EQ(r->webhook_deliveries, 2);
  left = WhatIsLeft();
  EXPECT_EQ(left.events, (std::vector<int64_t>{seq[3], seq[4]}));
  EXPECT_EQ(left.deliveries, 0);

  // A new event still gets a higher sequence.
  const int64_t next = AddRows(9, clock_.Now());
  EXPECT_GT(next, seq.back());
}

TEST_F(RetentionTest, EventsASubscriptionHasNotDelivered_AreKept) {
  const int64_t old_seq = AddRows(0, kT0);
  Subscription s;
  s.target_url = "http://127.0.0.1:9/hook";
  s.secret = "0123456789abcdef";
  absl::StatusOr<Subscription> sub = events_->CreateSubscription(s);
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_EQ(sub->delivered_sequence, old_seq);  // created after the first event
  const int64_t undelivered1 = AddRows(1, kT0 + absl::Hours(1));
  const int64_t undelivered2 = AddRows(2, kT0 + absl::Hours(2));
  Retention retention(*store_, *events_, clock_, Options());
  clock_.Set(kT0 + 100 * kDay);
  absl::StatusOr<PruneReport> r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 1);  // delivered (it predates the subscription)
  EXPECT_EQ(WhatIsLeft().events, (std::vector<int64_t>{undelivered1, undelivered2}));

  // Once delivered, they go.
  DeliveryState state;
  state.delivered_sequence = undelivered1;
  ASSERT_OK(events_->SaveDeliveryState(sub->id, state));
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 1);
  EXPECT_EQ(WhatIsLeft().events, (std::vector<int64_t>{undelivered2}));
  ASSERT_OK(events_->DeleteSubscription(sub->id));
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->events, 1);
  EXPECT_TRUE(WhatIsLeft().events.empty());
}

TEST_F(RetentionTest, ARound_TakesAtMostMaxBatches_TheNextRoundTheRest) {
  for (int i = 0; i < 5; ++i) AddRows(i, kT0);
  RetentionOptions options = Options();
  options.batch_size = 2;
  options.max_batches_per_round = 1;
  Retention retention(*store_, *events_, clock_, options);
  clock_.Set(kT0 + 100 * kDay);
  int64_t events = 0;
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<PruneReport> r = retention.RunOnce();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LE(r->events, 2);
    EXPECT_LE(r->webhook_deliveries, 2);
    EXPECT_LE(r->request_records, 2);
    events += r->events;
  }
  EXPECT_EQ(events, 5);
  Left left = WhatIsLeft();
  EXPECT_TRUE(left.events.empty());
  EXPECT_EQ(left.deliveries, 0);
  EXPECT_EQ(left.requests, 0);
}

// ---- Limits on counts ----

class LimitsTest : public RetentionTest {
 protected:
  void SetUp() override {
    RetentionTest::SetUp();
    OkrCore core(*store_, clock_);
    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    team.projects[Tracker::kJira] = "OKRX";
    ASSERT_TRUE(core.CreateTeam(team, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kT0;
    cycle.end_time = kT0 + 90 * kDay;
    ASSERT_TRUE(core.CreateCycle(cycle, "").ok());
    Objective o;
    o.id = "o1";
    o.title = "Delight customers";
    o.team_id = "checkout";
    o.cycle_id = "q4";
    ASSERT_TRUE(core.CreateObjective(o, "").ok());
    EventsCoreOptions options;
    options.max_subscriptions = 2;
    options.max_rules = 1;
    limited_ = std::make_unique<EventsCore>(*store_, clock_, options);
  }
  std::unique_ptr<EventsCore> limited_;
};

TEST_F(LimitsTest, Subscriptions_BeyondTheLimit_ResourceExhausted_UntilOneIsDeleted) {
  Subscription s;
  s.target_url = "http://127.0.0.1:9/hook";
  s.secret = "0123456789abcdef";
  absl::StatusOr<Subscription> first = limited_->CreateSubscription(s);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(limited_->CreateSubscription(s).ok());
  absl::StatusOr<Subscription> third = limited_->CreateSubscription(s);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(third.status().message()),
            "at most 2 subscriptions may exist (--max-subscriptions); delete unused ones or "
            "raise the limit");
  EXPECT_EQ(ReasonOf(third.status()).value_or(""), "SUBSCRIPTION_LIMIT_REACHED");
  ASSERT_OK(limited_->DeleteSubscription(first->id));
  EXPECT_TRUE(limited_->CreateSubscription(s).ok());
}

TEST_F(LimitsTest, Rules_BeyondTheLimit_ResourceExhausted) {
  Rule r;
  r.objective_id = "o1";
  r.action = RuleActionType::kOpenIssue;
  r.tracker = Tracker::kJira;
  absl::StatusOr<Rule> first = limited_->CreateRule(r);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Rule> second = limited_->CreateRule(r);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("at most 1 rules may exist (--max-rules)"));
  ASSERT_OK(limited_->DeleteRule(first->id));
  EXPECT_TRUE(limited_->CreateRule(r).ok());
}

TEST_F(LimitsTest, ApiTokens_BeyondTheLimit_ResourceExhausted) {
  TokensCore tokens(*store_, clock_);
  tokens.SetMaxApiTokens(1);
  ApiToken t;
  t.display_name = "Ada";
  t.role = Role::kViewer;
  absl::StatusOr<CreatedApiToken> first = tokens.CreateApiToken(t);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<CreatedApiToken> second = tokens.CreateApiToken(t);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("at most 1 API tokens may exist (--max-api-tokens)"));
  ASSERT_OK(tokens.DeleteApiToken(first->token.id));
  EXPECT_TRUE(tokens.CreateApiToken(t).ok());
}

TEST_F(LimitsTest, RuleFirings_ReArmedOrOfAGoneRule_ArePruned_HoldingOnesStay) {
  OkrCore core(*store_, clock_);
  for (const char* id : {"a", "b"}) {
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = id;
    kr.title = absl::StrCat("Ship ", id);
    kr.type = KeyResultType::kMetric;
    kr.metric = {0, 100, 0, "pts"};
    ASSERT_TRUE(core.CreateKeyResult(kr, "").ok());
  }
  absl::StatusOr<Objective> o = core.GetObjective("o1");
  absl::StatusOr<KeyResult> a = core.GetKeyResult("o1", "a");
  absl::StatusOr<KeyResult> b = core.GetKeyResult("o1", "b");
  ASSERT_TRUE(o.ok() && a.ok() && b.ok());
  Rule keep;
  keep.id = "keep";
  keep.objective_id = "o1";
  Rule gone = keep;
  gone.id = "gone";
  ASSERT_TRUE(events_->CreateRule(keep).ok());
  ASSERT_TRUE(events_->CreateRule(gone).ok());
  const IssueText text{"t", "d", "u"};
  auto verdict = [&](const Rule& r, const KeyResult& kr, bool holds) {
    absl::StatusOr<VerdictRecord> v = events_->RecordVerdict(r, kr, *o, {holds, ""}, text);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() && v->fired;
  };
  EXPECT_TRUE(verdict(keep, *a, true));
  EXPECT_FALSE(verdict(keep, *a, false));  // re-armed
  EXPECT_TRUE(verdict(keep, *b, true));    // holds: its record is state
  EXPECT_TRUE(verdict(gone, *b, true));
  ASSERT_OK(events_->DeleteRule("gone"));

  Retention retention(*store_, *events_, clock_, Options());
  clock_.Set(kT0 + 89 * kDay);  // not old enough yet
  absl::StatusOr<PruneReport> r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rule_firings, 0);
  clock_.Set(kT0 + 91 * kDay);
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rule_firings, 2);  // keep on a (re-armed) and gone on b
  r = retention.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rule_firings, 0);
  // The holding record stayed: the rule does not fire again for b while it holds.
  EXPECT_FALSE(verdict(keep, *b, true));
  // The re-armed one behaves as before: a new streak fires.
  EXPECT_TRUE(verdict(keep, *a, true));
}

}  // namespace
}  // namespace okr::core
