// Event filters by objective subtree never take a database error for "not in the
// subtree": SubtreeIndex returns the error instead of caching it, and the subscription
// deliverer stops before the event and delivers it once the tree can be read again
// (against a real SQLite file whose reads fail on demand).
#include "service/events/subtree.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/events/subscription_deliverer.h"
#include "service/outbound/http_client.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::events {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

// Reads fail with UNAVAILABLE while `fail_reads` is set (a database that went away).
class FlakyReadStore final : public storage::OkrStore {
 public:
  explicit FlakyReadStore(storage::OkrStore& inner) : inner_(inner) {}
  absl::Status RunInTransaction(
      absl::FunctionRef<absl::Status(storage::OkrTransaction&)> fn) override {
    return inner_.RunInTransaction(fn);
  }
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(storage::OkrTransaction&)> fn) override {
    if (fail_reads) return absl::UnavailableError("database is not answering");
    return inner_.RunReadOnly(fn);
  }
  absl::Status Ping() override { return inner_.Ping(); }
  std::atomic<bool> fail_reads{false};

 private:
  storage::OkrStore& inner_;
};

// Answers 200 to every request and keeps the event ids it saw.
class RecordingHttp final : public outbound::HttpClient {
 public:
  absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, value] : request.headers) {
      if (name == "X-OKR-Event-Id") ids_.push_back(value);
    }
    outbound::HttpResponse response;
    response.status = 200;
    return response;
  }
  std::vector<std::string> ids() {
    absl::MutexLock lock(&mu_);
    return ids_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> ids_;
};

class SubtreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    sqlite_ = std::move(*store);
    flaky_ = std::make_unique<FlakyReadStore>(*sqlite_);
    core_ = std::make_unique<core::OkrCore>(*sqlite_, clock_);
    flaky_core_ = std::make_unique<core::OkrCore>(*flaky_, clock_);
    events_ = std::make_unique<core::EventsCore>(*sqlite_, clock_);

    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Team web;
    web.id = "web";
    web.display_name = "Web";
    web.parent_id = "checkout";
    ASSERT_TRUE(core_->CreateTeam(web, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kStart;
    cycle.end_time = kStart + absl::Hours(24 * 90);
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    for (const char* id : {"parent", "child"}) {
      Objective o;
      o.id = id;
      o.title = absl::StrCat("Objective ", id);
      o.cycle_id = "q4";
      o.team_id = "checkout";
      if (std::string(id) == "child") {
        o.team_id = "web";  // aligned to the enclosing team's objective
        o.parent_id = "parent";
      }
      absl::StatusOr<Objective> created = core_->CreateObjective(o, "");
      ASSERT_TRUE(created.ok()) << created.status();
    }
    KeyResult kr;
    kr.id = "conversion";
    kr.objective_id = "child";
    kr.title = "Conversion from 2% to 4%";
    kr.type = KeyResultType::kMetric;
    kr.metric = {2, 4, 2, "%"};
    absl::StatusOr<KeyResult> created = core_->CreateKeyResult(kr, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void CheckIn(double value) {
    okr::CheckIn c;
    c.objective_id = "child";
    c.key_result_id = "conversion";
    c.value = value;
    absl::StatusOr<okr::CheckIn> created = core_->CreateCheckIn(c, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + absl::Hours(1)};
  std::unique_ptr<storage::OkrStore> sqlite_;
  std::unique_ptr<FlakyReadStore> flaky_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<core::OkrCore> flaky_core_;
  std::unique_ptr<core::EventsCore> events_;
};

TEST_F(SubtreeTest, ReadErrorIsReturnedAndNotCachedAsNoParent) {
  SubtreeIndex index(*flaky_core_, clock_);
  flaky_->fail_reads = true;
  absl::StatusOr<bool> during = index.InSubtree("parent", "child");
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable) << during.status();
  flaky_->fail_reads = false;
  absl::StatusOr<bool> after = index.InSubtree("parent", "child");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(*after);  // not the cached "no parent" of the failed read
  EXPECT_FALSE(*index.InSubtree("child", "parent"));
  EXPECT_FALSE(*index.InSubtree("parent", "deleted-objective"));  // missing: a root
}

TEST_F(SubtreeTest, DeliveryWaitsOutAReadErrorInsteadOfSkippingTheEvent) {
  Subscription sub;
  sub.target_url = "https://receiver.example/hook";
  sub.secret = "0123456789abcdef0123456789abcdef";
  sub.filter.objective_id = "parent";
  absl::StatusOr<Subscription> created = events_->CreateSubscription(sub);
  ASSERT_TRUE(created.ok()) << created.status();
  CheckIn(3);  // events about the child objective: inside the parent's subtree

  RecordingHttp http;
  DelivererOptions options;
  SubscriptionDeliverer deliverer(
      *events_, *flaky_core_, http, clock_, [](const Event& e) { return absl::StrCat(e.sequence); },
      options);
  flaky_->fail_reads = true;  // only the objective tree's reads go through the flaky store
  deliverer.RunOnce();
  EXPECT_THAT(http.ids(), ::testing::IsEmpty());
  absl::StatusOr<core::DeliveryState> state = events_->GetDeliveryState(created->id);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->delivered_sequence, 0);  // nothing skipped

  flaky_->fail_reads = false;
  deliverer.RunOnce();
  EXPECT_THAT(http.ids(), ::testing::Not(::testing::IsEmpty()));
  state = events_->GetDeliveryState(created->id);
  ASSERT_TRUE(state.ok());
  EXPECT_GT(state->delivered_sequence, 0);
}

}  // namespace
}  // namespace okr::events
