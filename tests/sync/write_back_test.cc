// WriteBackWorker over a real SQLite store and OkrCore with a recording TrackerWriter: the
// item queue the core fills when an item serves fewer key results (unlink, key result or
// objective deleted, scope left), what the writer is asked to show (possibly nothing), the
// ref handed back and forth, retries after tracker errors, and NOT_FOUND as removed.
#include "service/sync/write_back.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/okr_core.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::sync {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

const absl::Time kCycleStart = absl::FromUnixSeconds(1'790'000'000);

// Records every Write; answers with `next` (a ref derived from the call count by default).
class RecordingWriter final : public TrackerWriter {
 public:
  struct Call {
    std::string key;
    std::vector<std::string> served;  // key result names
    std::string ref;
  };
  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<std::string> Write(const WorkItem& item,
                                    const std::vector<ServedKeyResult>& served,
                                    const std::string& ref) override {
    Call call{item.key, {}, ref};
    for (const ServedKeyResult& s : served) call.served.push_back(s.key_result);
    calls.push_back(call);
    if (on_write) std::exchange(on_write, nullptr)();
    if (auto it = fail_key.find(item.key); it != fail_key.end()) return it->second;
    if (!fail.empty()) {
      absl::Status status = fail.front();
      fail.erase(fail.begin());
      return status;
    }
    return absl::StrCat("ref-", calls.size(), ":", absl::StrJoin(call.served, ","));
  }
  std::vector<Call> calls;
  std::vector<absl::Status> fail;                // answered (in order) instead of succeeding
  std::map<std::string, absl::Status> fail_key;  // answered for that item, every time
  int CallsFor(const std::string& key) const {
    int n = 0;
    for (const Call& c : calls) n += c.key == key ? 1 : 0;
    return n;
  }
  std::function<void()> on_write;  // run once, during the next Write
};

class WriteBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    absl::StatusOr<std::unique_ptr<storage::SqliteStore>> store =
        storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    core_ = std::make_unique<core::OkrCore>(*store_, clock_);
    WriteBackOptions wb;
    wb.public_url = "https://okr.example";
    wb.min_spacing = absl::Seconds(2);
    worker_ = std::make_unique<WriteBackWorker>(*store_, clock_,
                                                std::vector<TrackerWriter*>{&writer_}, wb);
    Team team;
    team.id = "t";
    team.display_name = "Team";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Cycle cycle;
    cycle.id = "c";
    cycle.display_name = "C";
    cycle.start_time = kCycleStart;
    cycle.end_time = kCycleStart + absl::Hours(100);
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    Objective("o1");
    Objective("o2");
    KeyResult("o1", "a");
    KeyResult("o1", "b");
    KeyResult("o2", "a");
  }

  void Objective(const std::string& id) {
    okr::Objective o;
    o.id = id;
    o.title = "Objective " + id;
    o.team_id = "t";
    o.cycle_id = "c";
    ASSERT_TRUE(core_->CreateObjective(o, "").ok());
  }
  void KeyResult(const std::string& objective, const std::string& id) {
    okr::KeyResult kr;
    kr.objective_id = objective;
    kr.id = id;
    kr.title = "Key result " + id;
    kr.type = KeyResultType::kWorkItems;
    absl::StatusOr<okr::KeyResult> created = core_->CreateKeyResult(kr, "");
    ASSERT_TRUE(created.ok()) << created.status();
  }
  void Link(const std::string& objective, const std::string& kr, const std::string& key) {
    WorkItem item;
    item.tracker = Tracker::kJira;
    item.key = key;
    item.title = key;
    absl::StatusOr<WorkItemLink> link = core_->LinkWorkItem(objective, kr, item, "");
    ASSERT_TRUE(link.ok()) << link.status();
  }
  void Unlink(const std::string& objective, const std::string& kr, const std::string& key) {
    ASSERT_TRUE(core_->UnlinkWorkItemByKey(objective, kr, Tracker::kJira, key).ok());
  }

  std::vector<storage::OkrTransaction::ItemWriteBackEntry> PendingItems() {
    std::vector<storage::OkrTransaction::ItemWriteBackEntry> out;
    EXPECT_TRUE(store_
                    ->RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
                      absl::StatusOr<std::vector<storage::OkrTransaction::ItemWriteBackEntry>> got =
                          tx.PendingItemWriteBacks(-1);
                      if (!got.ok()) return got.status();
                      out = *std::move(got);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }
  std::optional<storage::OkrTransaction::WriteBackState> State(const std::string& key) {
    std::optional<storage::OkrTransaction::WriteBackState> state;
    EXPECT_TRUE(store_
                    ->RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
                      absl::StatusOr<std::optional<storage::OkrTransaction::WriteBackState>> got =
                          tx.GetWriteBackState(Tracker::kJira, key);
                      if (!got.ok()) return got.status();
                      state = *got;
                      return absl::OkStatus();
                    })
                    .ok());
    return state;
  }
  int FailingCalls() const {
    int n = 0;
    for (const RecordingWriter::Call& c : writer_.calls) n += c.key.rfind("FAIL-", 0) == 0;
    return n;
  }
  WriteBackReport Run() {
    WriteBackReport report = worker_->RunOnce();
    clock_.Advance(absl::Seconds(3));  // past min_spacing
    return report;
  }

  okr::testing::TempDir dir_;
  okr::testing::FakeClock clock_{kCycleStart + absl::Hours(50)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  RecordingWriter writer_;
  std::unique_ptr<WriteBackWorker> worker_;
};

TEST_F(WriteBackTest, Unlink_ItemQueuedInTheSameChange_WrittenWithWhatItStillServes) {
  Link("o1", "a", "OKR-1");
  Link("o1", "b", "OKR-1");
  EXPECT_THAT(Run().errors, IsEmpty());
  ASSERT_EQ(writer_.calls.size(), 1u);
  EXPECT_THAT(writer_.calls[0].served,
              ElementsAre("objectives/o1/keyResults/a", "objectives/o1/keyResults/b"));
  EXPECT_EQ(writer_.calls[0].ref, "");
  EXPECT_THAT(PendingItems(), IsEmpty());  // linking serves more: the key result queue

  Unlink("o1", "b", "OKR-1");
  std::vector<storage::OkrTransaction::ItemWriteBackEntry> pending = PendingItems();
  ASSERT_EQ(pending.size(), 1u);  // committed with the unlink
  EXPECT_EQ(pending[0].key, "OKR-1");
  EXPECT_EQ(pending[0].tracker, Tracker::kJira);

  WriteBackReport report = Run();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.writes, 1);
  EXPECT_EQ(report.removals, 0);
  ASSERT_EQ(writer_.calls.size(), 2u);
  EXPECT_THAT(writer_.calls[1].served, ElementsAre("objectives/o1/keyResults/a"));
  EXPECT_EQ(writer_.calls[1].ref, "ref-1:objectives/o1/keyResults/a,objectives/o1/keyResults/b");
  EXPECT_EQ(State("OKR-1")->ref, "ref-2:objectives/o1/keyResults/a");
  EXPECT_THAT(PendingItems(), IsEmpty());
  EXPECT_EQ(Run().writes, 0);
}

TEST_F(WriteBackTest, UnlinkedWhileTheSameRunWritesTheItem_NotLost) {
  Link("o1", "a", "OKR-1");
  Link("o1", "b", "OKR-1");
  // The unlink commits while the key result queue is writing the item (with a and b).
  writer_.on_write = [&] { Unlink("o1", "b", "OKR-1"); };
  EXPECT_THAT(Run().errors, IsEmpty());
  ASSERT_EQ(writer_.calls.size(), 1u);
  EXPECT_EQ(PendingItems().size(), 1u);  // still queued: what was written is out of date
  EXPECT_THAT(Run().errors, IsEmpty());
  ASSERT_EQ(writer_.calls.size(), 2u);
  EXPECT_THAT(writer_.calls[1].served, ElementsAre("objectives/o1/keyResults/a"));
  EXPECT_THAT(PendingItems(), IsEmpty());
}

TEST_F(WriteBackTest, LastKeyResultDeleted_WriterGetsNothingServed_StateForgotten) {
  Link("o1", "a", "OKR-1");
  EXPECT_THAT(Run().errors, IsEmpty());
  ASSERT_TRUE(core_->DeleteKeyResult("o1", "a", "").ok());
  WriteBackReport report = Run();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.removals, 1);
  ASSERT_EQ(writer_.calls.size(), 2u);
  EXPECT_THAT(writer_.calls[1].served, IsEmpty());
  EXPECT_EQ(writer_.calls[1].ref, "ref-1:objectives/o1/keyResults/a");
  EXPECT_FALSE(State("OKR-1").has_value());
  EXPECT_THAT(PendingItems(), IsEmpty());
  EXPECT_EQ(Run().writes, 0);
  EXPECT_EQ(writer_.calls.size(), 2u);
}

TEST_F(WriteBackTest, ObjectiveDeleted_EveryItemOfEveryKeyResultQueued) {
  Link("o2", "a", "OKR-1");
  Link("o2", "a", "OKR-2");
  Link("o1", "a", "OKR-2");
  EXPECT_THAT(Run().errors, IsEmpty());
  writer_.calls.clear();
  ASSERT_TRUE(core_->DeleteObjective("o2", "", /*force=*/true).ok());
  EXPECT_EQ(PendingItems().size(), 2u);
  WriteBackReport report = Run();
  EXPECT_THAT(report.errors, IsEmpty());
  ASSERT_EQ(writer_.calls.size(), 2u);
  for (const RecordingWriter::Call& call : writer_.calls) {
    if (call.key == "OKR-1") {
      EXPECT_THAT(call.served, IsEmpty());
    } else {
      EXPECT_THAT(call.served, ElementsAre("objectives/o1/keyResults/a"));
    }
  }
  EXPECT_EQ(report.removals, 1);
}

TEST_F(WriteBackTest, TrackerFails_RemovalStaysQueuedAndIsRetriedWithTheSameRef) {
  Link("o1", "a", "OKR-1");
  EXPECT_THAT(Run().errors, IsEmpty());
  Unlink("o1", "a", "OKR-1");
  writer_.fail = {absl::UnavailableError("Jira answered 500"),
                  absl::DeadlineExceededError("timeout")};
  EXPECT_THAT(Run().errors, Not(IsEmpty()));
  EXPECT_THAT(Run().errors, Not(IsEmpty()));  // 3 s later: past the first backoff (2-2.5 s)
  EXPECT_EQ(PendingItems().size(), 1u);
  EXPECT_TRUE(State("OKR-1").has_value());
  clock_.Advance(absl::Seconds(3));  // past the second backoff (4-5 s)

  WriteBackReport report = Run();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_EQ(report.removals, 1);
  ASSERT_EQ(writer_.calls.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_THAT(writer_.calls[i].served, IsEmpty());
    EXPECT_EQ(writer_.calls[i].ref, "ref-1:objectives/o1/keyResults/a");
  }
  EXPECT_THAT(PendingItems(), IsEmpty());
  EXPECT_FALSE(State("OKR-1").has_value());
}

TEST_F(WriteBackTest, ItemGoneInTheTracker_NotFoundCountsAsRemoved) {
  Link("o1", "a", "OKR-1");
  EXPECT_THAT(Run().errors, IsEmpty());
  Unlink("o1", "a", "OKR-1");
  writer_.fail = {absl::NotFoundError("issue does not exist")};
  WriteBackReport report = Run();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_THAT(PendingItems(), IsEmpty());
  EXPECT_FALSE(State("OKR-1").has_value());
}

TEST_F(WriteBackTest, UnlinkedWithinTheSpacing_DeferredThenWritten) {
  Link("o1", "a", "OKR-1");
  Link("o1", "b", "OKR-1");
  EXPECT_THAT(worker_->RunOnce().errors, IsEmpty());
  Unlink("o1", "b", "OKR-1");
  clock_.Advance(absl::Seconds(1));
  WriteBackReport report = worker_->RunOnce();
  EXPECT_EQ(report.deferred, 1);
  EXPECT_EQ(report.writes, 0);
  EXPECT_EQ(PendingItems().size(), 1u);
  clock_.Advance(absl::Seconds(2));
  report = worker_->RunOnce();
  EXPECT_EQ(report.writes, 1);
  EXPECT_THAT(writer_.calls.back().served, ElementsAre("objectives/o1/keyResults/a"));
  EXPECT_THAT(PendingItems(), IsEmpty());
}

TEST_F(WriteBackTest, NeverWrittenItemUnlinked_NothingToRemove_NoWrite) {
  Link("o1", "a", "OKR-1");
  Unlink("o1", "a", "OKR-1");  // before the worker ever ran
  WriteBackReport report = Run();
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_THAT(writer_.calls, IsEmpty());
  EXPECT_THAT(PendingItems(), IsEmpty());
}

TEST_F(WriteBackTest, ItemOfAnUnconfiguredTracker_EntryDropped) {
  WorkItem item;
  item.tracker = Tracker::kGitLab;
  item.key = "acme/x#1";
  ASSERT_TRUE(core_->LinkWorkItem("o1", "a", item, "").ok());
  ASSERT_TRUE(core_->UnlinkWorkItemByKey("o1", "a", Tracker::kGitLab, "acme/x#1").ok());
  EXPECT_EQ(PendingItems().size(), 1u);
  EXPECT_THAT(Run().errors, IsEmpty());
  EXPECT_THAT(PendingItems(), IsEmpty());
  EXPECT_THAT(writer_.calls, IsEmpty());
}

// --- Backoff per item ----------------------------------------------------------------------

TEST_F(WriteBackTest, TransientFailures_BackoffDoublesWithJitterAndIsCapped) {
  Link("o1", "a", "OKR-1");
  writer_.fail_key["OKR-1"] = absl::UnavailableError("Jira answered 503");
  absl::Duration expected = absl::Seconds(2);
  for (int failures = 1; failures <= 12; ++failures) {
    const absl::Time now = clock_.Now();
    WriteBackReport report = worker_->RunOnce();
    ASSERT_EQ(writer_.CallsFor("OKR-1"), failures);
    EXPECT_THAT(report.errors, Not(IsEmpty()));
    std::optional<storage::OkrTransaction::WriteBackState> state = State("OKR-1");
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->failures, failures);
    EXPECT_EQ(state->last_code, static_cast<int>(absl::StatusCode::kUnavailable));
    EXPECT_EQ(state->last_error, "Jira answered 503");
    const absl::Duration wait = state->next_attempt - now;
    EXPECT_GE(wait, expected) << "after " << failures << " failures";
    EXPECT_LE(wait, expected * 1.25) << "after " << failures << " failures";
    // Before the next attempt nothing is written, however often the worker runs.
    clock_.Advance(wait - absl::Milliseconds(1));
    EXPECT_EQ(worker_->RunOnce().writes, 0);
    EXPECT_EQ(writer_.CallsFor("OKR-1"), failures);
    clock_.Advance(absl::Milliseconds(1));
    expected = std::min(expected * 2, absl::Minutes(10));
  }
  EXPECT_EQ(expected, absl::Minutes(10));  // the cap was reached within the loop
}

TEST_F(WriteBackTest, PermanentFailure_RetriedHourlyAndCounted) {
  Link("o1", "a", "OKR-1");
  writer_.fail_key["OKR-1"] = absl::PermissionDeniedError("Jira answered 403");
  const absl::Time first = clock_.Now();
  WriteBackReport report = worker_->RunOnce();
  ASSERT_EQ(writer_.CallsFor("OKR-1"), 1);
  ASSERT_TRUE(report.failures_read);
  ASSERT_EQ(report.failing.size(), 1u);
  EXPECT_EQ(report.failing[0].tracker, Tracker::kJira);
  EXPECT_EQ(report.failing[0].code, static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(report.failing[0].items, 1);
  std::optional<storage::OkrTransaction::WriteBackState> state = State("OKR-1");
  ASSERT_TRUE(state.has_value());
  EXPECT_GE(state->next_attempt - first, absl::Hours(1));
  EXPECT_LE(state->next_attempt - first, absl::Minutes(75));
  // A minute of runs every second: no retry.
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(absl::Seconds(1));
    worker_->RunOnce();
  }
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  clock_.Advance(state->next_attempt - clock_.Now());
  worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 2);
  state = State("OKR-1");
  EXPECT_EQ(state->failures, 2);
  EXPECT_GE(state->next_attempt - clock_.Now(), absl::Hours(1));  // permanent: not doubled
  EXPECT_LE(state->next_attempt - clock_.Now(), absl::Minutes(75));
}

TEST_F(WriteBackTest, SuccessAfterFailures_ResetsTheBackoff) {
  Link("o1", "a", "OKR-1");
  writer_.fail_key["OKR-1"] = absl::UnavailableError("Jira answered 503");
  worker_->RunOnce();
  clock_.Advance(absl::Seconds(3));
  worker_->RunOnce();
  ASSERT_EQ(State("OKR-1")->failures, 2);
  writer_.fail_key.clear();
  clock_.Advance(absl::Seconds(5));
  WriteBackReport report = worker_->RunOnce();
  EXPECT_EQ(report.writes, 1);
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_THAT(report.failing, IsEmpty());
  std::optional<storage::OkrTransaction::WriteBackState> state = State("OKR-1");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->failures, 0);
  EXPECT_EQ(state->next_attempt, absl::InfinitePast());
  EXPECT_EQ(state->last_code, 0);
  EXPECT_EQ(state->last_error, "");
  // A later failure starts again at the first step.
  writer_.fail_key["OKR-1"] = absl::UnavailableError("Jira answered 503");
  clock_.Advance(absl::Seconds(3));
  Link("o1", "b", "OKR-1");  // what it serves changes: written again
  const absl::Time now = clock_.Now();
  worker_->RunOnce();
  state = State("OKR-1");
  EXPECT_EQ(state->failures, 1);
  EXPECT_LE(state->next_attempt - now, absl::Milliseconds(2500));
}

TEST_F(WriteBackTest, HealthyKeyResultBehind150FailingOnes_WrittenWithinTwoRuns) {
  // 150 key results, each with an item the tracker refuses (403), queued before the
  // healthy one; the worker reads 100 queue entries a run.
  for (int i = 0; i < 150; ++i) {
    KeyResult("o1", absl::StrCat("f", i));
    Link("o1", absl::StrCat("f", i), absl::StrCat("FAIL-", i + 1));
    writer_.fail_key[absl::StrCat("FAIL-", i + 1)] = absl::PermissionDeniedError("403");
  }
  clock_.Advance(absl::Seconds(1));
  KeyResult("o2", "h");  // queued after the failing ones
  Link("o2", "h", "OKR-1");
  worker_->RunOnce();
  clock_.Advance(absl::Seconds(1));  // one interval
  worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  // Each failing item was tried once; the next minute of runs tries none of them again.
  EXPECT_EQ(writer_.calls.size(), 151u);
  for (int i = 0; i < 60; ++i) {
    clock_.Advance(absl::Seconds(1));
    EXPECT_EQ(worker_->RunOnce().writes, 0);
  }
  EXPECT_EQ(writer_.calls.size(), 151u);
  // A change of the healthy key result is written at once, behind the same 150 entries.
  Link("o2", "h", "OKR-2");
  worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-2"), 1);
  EXPECT_EQ(FailingCalls(), 150);
}

TEST_F(WriteBackTest, HealthyItemOfAKeyResultWith150FailingItems_WrittenInTheFirstRun) {
  for (int i = 0; i < 150; ++i) {
    Link("o1", "a", absl::StrCat("FAIL-", i + 1));
    writer_.fail_key[absl::StrCat("FAIL-", i + 1)] = absl::PermissionDeniedError("403");
  }
  Link("o1", "a", "OKR-1");
  worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  // A progress change of the key result writes the healthy item, not the failing ones.
  clock_.Advance(absl::Seconds(3));
  Link("o1", "a", "OKR-2");
  worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-2"), 1);
  EXPECT_EQ(FailingCalls(), 150);  // each failing item was tried once
}

TEST_F(WriteBackTest, Restart_KeepsTheSchedule) {
  Link("o1", "a", "OKR-1");
  writer_.fail_key["OKR-1"] = absl::PermissionDeniedError("403");
  worker_->RunOnce();
  ASSERT_EQ(writer_.CallsFor("OKR-1"), 1);
  const absl::Time next = State("OKR-1")->next_attempt;
  // The process restarts: store reopened, a new worker.
  worker_.reset();
  core_.reset();
  store_.reset();
  storage::SqliteOptions options;
  options.path = dir_.File("okr.db");
  absl::StatusOr<std::unique_ptr<storage::SqliteStore>> store = storage::SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  core_ = std::make_unique<core::OkrCore>(*store_, clock_);
  worker_ =
      std::make_unique<WriteBackWorker>(*store_, clock_, std::vector<TrackerWriter*>{&writer_},
                                        WriteBackOptions{"https://okr.example"});
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(absl::Seconds(1));
    worker_->RunOnce();
  }
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  EXPECT_EQ(State("OKR-1")->failures, 1);
  clock_.Advance(next - clock_.Now());
  worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 2);
}

TEST_F(WriteBackTest, NotFoundOnAnItemStillLinked_EntryDoneAndRetriedOnlyRarely) {
  Link("o1", "a", "OKR-1");
  writer_.fail_key["OKR-1"] = absl::NotFoundError("Jira answered 404");
  WriteBackReport report = worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  ASSERT_EQ(report.failing.size(), 1u);
  EXPECT_EQ(report.failing[0].code, static_cast<int>(absl::StatusCode::kNotFound));
  // Changes of the key result queue it again; the item is not retried within the hour.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(3));
    Link("o1", "a", absl::StrCat("OKR-", 10 + i));
    worker_->RunOnce();
  }
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  // Unlinked: nothing was ever written, so nothing to remove; the failure is forgotten.
  Unlink("o1", "a", "OKR-1");
  clock_.Advance(absl::Seconds(3));
  report = worker_->RunOnce();
  EXPECT_EQ(writer_.CallsFor("OKR-1"), 1);
  EXPECT_FALSE(State("OKR-1").has_value());
  EXPECT_THAT(report.failing, IsEmpty());
  EXPECT_THAT(PendingItems(), IsEmpty());
}

TEST(WriteBackBackoffTest, Steps) {
  WriteBackOptions options;
  EXPECT_EQ(WriteBackBackoff(options, absl::StatusCode::kUnavailable, 1), absl::Seconds(2));
  EXPECT_EQ(WriteBackBackoff(options, absl::StatusCode::kResourceExhausted, 2), absl::Seconds(4));
  EXPECT_EQ(WriteBackBackoff(options, absl::StatusCode::kDeadlineExceeded, 9), absl::Seconds(512));
  EXPECT_EQ(WriteBackBackoff(options, absl::StatusCode::kUnavailable, 10), absl::Minutes(10));
  EXPECT_EQ(WriteBackBackoff(options, absl::StatusCode::kUnavailable, 1000), absl::Minutes(10));
  for (absl::StatusCode code :
       {absl::StatusCode::kPermissionDenied, absl::StatusCode::kNotFound,
        absl::StatusCode::kInvalidArgument, absl::StatusCode::kFailedPrecondition}) {
    EXPECT_TRUE(IsPermanentWriteBackError(code));
    EXPECT_EQ(WriteBackBackoff(options, code, 1), absl::Hours(1));
    EXPECT_EQ(WriteBackBackoff(options, code, 50), absl::Hours(1));
  }
  EXPECT_FALSE(IsPermanentWriteBackError(absl::StatusCode::kUnauthenticated));
  EXPECT_STREQ(WriteBackFailureReason(absl::StatusCode::kPermissionDenied), "permission_denied");
  EXPECT_STREQ(WriteBackFailureReason(absl::StatusCode::kUnavailable), "transient");
}

}  // namespace
}  // namespace okr::sync
