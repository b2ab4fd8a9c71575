// SourceStatusStore over a real SQLite store with a fake clock, and the recording
// decorators the server puts in front of each site's source and webhook sink.
#include "service/sync/source_status.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::sync {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

class SourceStatusStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::unique_ptr<SourceStatusStore> Make(absl::Duration read_cache = absl::ZeroDuration()) {
    SourceStatusStore::Options options;
    options.reconcile_interval = absl::Minutes(5);
    options.webhook_coalesce = absl::Seconds(5);
    options.read_cache = read_cache;
    return std::make_unique<SourceStatusStore>(
        *store_, clock_,
        std::vector<SourceStatusStore::SiteKey>{
            {Tracker::kJira, "default"}, {Tracker::kJira, "eu"}, {Tracker::kGitLab, "default"}},
        options);
  }

  SourceStatus Site(const SourceStatusStore& status, Tracker tracker, const std::string& site) {
    auto read = status.Read();
    EXPECT_TRUE(read.ok()) << read.status();
    for (const SourceStatus& s : *read) {
      if (s.tracker == tracker && s.site == site) return s;
    }
    ADD_FAILURE() << "no site " << site;
    return {};
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart};
  std::unique_ptr<storage::OkrStore> store_;
};

TEST_F(SourceStatusStoreTest, NothingStored_EverySiteNeverReconciled) {
  auto status = Make();
  auto read = status->Read();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  for (const SourceStatus& s : *read) {
    EXPECT_FALSE(s.last_success.has_value());
    EXPECT_FALSE(s.last_attempt.has_value());
    EXPECT_FALSE(s.last_webhook.has_value());
  }
  std::vector<TrackerFreshness> f = status->ForTrackers({Tracker::kJira, Tracker::kGitLab});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].tracker, Tracker::kJira);
  EXPECT_TRUE(f[0].stale);
  EXPECT_EQ(f[0].stale_reason, "never reconciled");
  EXPECT_EQ(f[1].tracker, Tracker::kGitLab);
  EXPECT_TRUE(status->ForTrackers({}).empty());
}

TEST_F(SourceStatusStoreTest, SuccessThenFailureThenAge) {
  auto status = Make();
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "default", absl::OkStatus()).ok());
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "eu", absl::OkStatus()).ok());
  SourceStatus s = Site(*status, Tracker::kJira, "default");
  EXPECT_EQ(s.last_success, kStart);
  EXPECT_EQ(s.last_attempt, kStart);
  EXPECT_EQ(s.last_error, "");
  std::vector<TrackerFreshness> f = status->ForTrackers({Tracker::kJira});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_FALSE(f[0].stale);
  EXPECT_EQ(f[0].confirm_time, kStart);

  // The next round fails on the default site: stale with the reason, the last success kept.
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(status
                  ->RecordReconciliation(Tracker::kJira, "default",
                                         absl::UnavailableError("Jira answered 500"))
                  .ok());
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "eu", absl::OkStatus()).ok());
  s = Site(*status, Tracker::kJira, "default");
  EXPECT_EQ(s.last_success, kStart);
  EXPECT_EQ(s.last_attempt, kStart + absl::Minutes(5));
  EXPECT_EQ(s.last_error, "UNAVAILABLE: Jira answered 500");
  f = status->ForTrackers({Tracker::kJira});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].site, "default");  // the stale one of the two sites
  EXPECT_TRUE(f[0].stale);
  EXPECT_EQ(f[0].stale_reason, "last reconciliation failed: UNAVAILABLE: Jira answered 500");
  EXPECT_EQ(f[0].confirm_time, kStart);

  // Healthy again.
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "default", absl::OkStatus()).ok());
  f = status->ForTrackers({Tracker::kJira});
  EXPECT_FALSE(f[0].stale);
  EXPECT_EQ(f[0].site, "eu");  // now the one confirmed least recently
  EXPECT_EQ(f[0].confirm_time, kStart + absl::Minutes(5));

  // No round for longer than two intervals: stale by age.
  clock_.Advance(absl::Minutes(11));
  f = status->ForTrackers({Tracker::kJira});
  EXPECT_TRUE(f[0].stale);
  EXPECT_EQ(f[0].stale_reason, "no successful reconciliation for 16m (reconciliation interval 5m)");
}

TEST_F(SourceStatusStoreTest, TheStatusIsSharedThroughTheDatabase) {
  auto reconciling = Make();
  auto other = Make();  // another replica over the same database
  ASSERT_TRUE(
      reconciling->RecordReconciliation(Tracker::kGitLab, "default", absl::OkStatus()).ok());
  EXPECT_EQ(Site(*other, Tracker::kGitLab, "default").last_success, kStart);
}

TEST_F(SourceStatusStoreTest, WebhooksAreCoalescedPerSite) {
  auto status = Make();
  status->RecordWebhook(Tracker::kJira, "default");  // written at once
  EXPECT_EQ(Site(*status, Tracker::kJira, "default").last_webhook, kStart);

  clock_.Advance(absl::Seconds(2));
  status->RecordWebhook(Tracker::kJira, "default");  // within the window: held back
  status->RecordWebhook(Tracker::kJira, "eu");       // another site: written
  EXPECT_EQ(Site(*status, Tracker::kJira, "default").last_webhook, kStart);
  EXPECT_EQ(Site(*status, Tracker::kJira, "eu").last_webhook, kStart + absl::Seconds(2));

  // The flush (each reconciliation round, shutdown) writes what was held back.
  ASSERT_TRUE(status->FlushWebhooks().ok());
  EXPECT_EQ(Site(*status, Tracker::kJira, "default").last_webhook, kStart + absl::Seconds(2));
  ASSERT_TRUE(status->FlushWebhooks().ok());  // nothing pending: no change

  // After the window the next webhook is written at once again.
  clock_.Advance(absl::Seconds(6));
  status->RecordWebhook(Tracker::kJira, "default");
  EXPECT_EQ(Site(*status, Tracker::kJira, "default").last_webhook, kStart + absl::Seconds(8));

  // A webhook after the last success moves the confirmation, not the staleness.
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "default", absl::OkStatus()).ok());
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "eu", absl::OkStatus()).ok());
  clock_.Advance(absl::Minutes(20));
  status->RecordWebhook(Tracker::kJira, "default");
  status->RecordWebhook(Tracker::kJira, "eu");
  std::vector<TrackerFreshness> f = status->ForTrackers({Tracker::kJira});
  EXPECT_TRUE(f[0].stale);
  EXPECT_THAT(f[0].stale_reason, HasSubstr("no successful reconciliation for 20m"));
  EXPECT_EQ(f[0].confirm_time, kStart + absl::Seconds(8) + absl::Minutes(20));
}

TEST_F(SourceStatusStoreTest, ReadsAreCachedBriefly) {
  auto status = Make(absl::Seconds(1));
  auto writer = Make();
  EXPECT_FALSE(Site(*status, Tracker::kJira, "default").last_success.has_value());
  ASSERT_TRUE(writer->RecordReconciliation(Tracker::kJira, "default", absl::OkStatus()).ok());
  EXPECT_FALSE(Site(*status, Tracker::kJira, "default").last_success.has_value());  // cached
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Site(*status, Tracker::kJira, "default").last_success, kStart);
  // Its own writes are seen at once.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(status->RecordReconciliation(Tracker::kJira, "default", absl::OkStatus()).ok());
  EXPECT_EQ(Site(*status, Tracker::kJira, "default").last_success, kStart + absl::Seconds(2));
}

TEST_F(SourceStatusStoreTest, LongErrorsAreBounded) {
  auto status = Make();
  ASSERT_TRUE(status
                  ->RecordReconciliation(Tracker::kJira, "default",
                                         absl::InternalError(std::string(5000, 'x')))
                  .ok());
  EXPECT_LE(Site(*status, Tracker::kJira, "default").last_error.size(), kMaxSourceErrorBytes);
}

// A source whose calls answer what the test says.
class ScriptedSource final : public TrackerSource {
 public:
  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<std::vector<WorkItem>> FetchItems(const std::vector<WorkItem>&) override {
    if (!fetch.ok()) return fetch;
    return std::vector<WorkItem>{};
  }
  absl::StatusOr<bool> ConfirmDeleted(const WorkItem&) override {
    if (!confirm.ok()) return confirm;
    return false;
  }
  absl::StatusOr<std::optional<std::vector<WorkItem>>> ScopeMatches(const KeyResult&) override {
    if (!scope.ok()) return scope;
    return std::nullopt;
  }
  absl::Status fetch, confirm, scope;
};

TEST(RecordingSourceTest, RemembersTheFirstErrorOfTheRound) {
  ScriptedSource inner;
  RecordingSource recording(inner);
  recording.BeginRound();
  EXPECT_TRUE(recording.FetchItems({}).ok());
  EXPECT_TRUE(recording.round_error().ok());

  inner.scope = absl::InvalidArgumentError("JQL names an unknown project");
  EXPECT_FALSE(recording.ScopeMatches(KeyResult{}).ok());
  EXPECT_TRUE(recording.round_error().ok());  // the key result's problem, not the site's

  inner.fetch = absl::UnavailableError("search answered 500");
  inner.confirm = absl::DeadlineExceededError("timeout");
  EXPECT_FALSE(recording.FetchItems({}).ok());
  EXPECT_FALSE(recording.ConfirmDeleted(WorkItem{}).ok());
  EXPECT_EQ(recording.round_error(), absl::UnavailableError("search answered 500"));

  recording.BeginRound();
  EXPECT_TRUE(recording.round_error().ok());
  inner.fetch = absl::OkStatus();
  inner.scope = absl::PermissionDeniedError("no access");
  EXPECT_FALSE(recording.ScopeMatches(KeyResult{}).ok());
  EXPECT_EQ(recording.round_error(), absl::PermissionDeniedError("no access"));
}

class CountingSink final : public TrackerSink {
 public:
  absl::StatusOr<SyncOutcome> ApplyItem(const WorkItem&, const std::string&) override {
    if (!fail.ok()) return fail;
    return outcome;
  }
  absl::StatusOr<TrackerDeletion> RemoveItem(Tracker, const std::string&, const std::string&,
                                             const std::string&) override {
    TrackerDeletion d;
    d.outcome = outcome;
    return d;
  }
  SyncOutcome outcome = SyncOutcome::kApplied;
  absl::Status fail;
};

TEST(RecordingSinkTest, OnlyDeliveriesAboutTrackedItemsConfirm) {
  CountingSink inner;
  int confirmed = 0;
  RecordingSink sink(inner, [&] { ++confirmed; });
  for (auto [outcome, counts] :
       std::vector<std::pair<SyncOutcome, bool>>{{SyncOutcome::kApplied, true},
                                                 {SyncOutcome::kUnchanged, true},
                                                 {SyncOutcome::kStale, false},
                                                 {SyncOutcome::kDuplicate, false},
                                                 {SyncOutcome::kUntracked, false}}) {
    inner.outcome = outcome;
    const int before = confirmed;
    ASSERT_TRUE(sink.ApplyItem(WorkItem{}, "d").ok());
    EXPECT_EQ(confirmed - before, counts ? 1 : 0) << static_cast<int>(outcome);
  }
  inner.outcome = SyncOutcome::kApplied;
  const int before = confirmed;
  ASSERT_TRUE(sink.RemoveItem(Tracker::kJira, "1", "OKRX-1", "d").ok());
  EXPECT_EQ(confirmed, before + 1);
  inner.fail = absl::UnavailableError("db down");
  EXPECT_FALSE(sink.ApplyItem(WorkItem{}, "d").ok());
  EXPECT_EQ(confirmed, before + 1);
}

}  // namespace
}  // namespace okr::sync
