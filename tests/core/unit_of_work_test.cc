// One unit of work per write (issue #12 section 3): counts the store calls of the write
// use cases through a counting OkrTransaction over a real SQLite store, and checks that
// work-item totals kept by delta equal the store's re-aggregation (ComputeWorkItemTotals)
// after closes, reopens, re-weights, unlinks and deletions.
#include <map>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/okr_core.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using storage::ObjectiveFilter;
using storage::OkrTransaction;
using storage::Page;
using storage::PageQuery;

// Forwards every call to the wrapped transaction and counts it by method name.
class CountingTransaction final : public OkrTransaction {
 public:
  CountingTransaction(OkrTransaction& inner, std::map<std::string, int>& calls)
      : inner_(inner), calls_(calls) {}

#define OKR_COUNT(name) ++calls_[#name]
  absl::Status InsertTeam(const Team& t) override {
    return OKR_COUNT(InsertTeam), inner_.InsertTeam(t);
  }
  absl::StatusOr<Team> GetTeam(const std::string& id) override {
    return OKR_COUNT(GetTeam), inner_.GetTeam(id);
  }
  absl::StatusOr<Page<Team>> ListTeams(const std::string& parent, const PageQuery& q) override {
    return OKR_COUNT(ListTeams), inner_.ListTeams(parent, q);
  }
  absl::Status UpdateTeam(const Team& t, int64_t r) override {
    return OKR_COUNT(UpdateTeam), inner_.UpdateTeam(t, r);
  }
  absl::Status DeleteTeam(const std::string& id, int64_t r) override {
    return OKR_COUNT(DeleteTeam), inner_.DeleteTeam(id, r);
  }
  absl::Status InsertCycle(const Cycle& c) override {
    return OKR_COUNT(InsertCycle), inner_.InsertCycle(c);
  }
  absl::StatusOr<Cycle> GetCycle(const std::string& id) override {
    return OKR_COUNT(GetCycle), inner_.GetCycle(id);
  }
  absl::StatusOr<Page<Cycle>> ListCycles(const PageQuery& q) override {
    return OKR_COUNT(ListCycles), inner_.ListCycles(q);
  }
  absl::Status UpdateCycle(const Cycle& c, int64_t r) override {
    return OKR_COUNT(UpdateCycle), inner_.UpdateCycle(c, r);
  }
  absl::Status DeleteCycle(const std::string& id, int64_t r) override {
    return OKR_COUNT(DeleteCycle), inner_.DeleteCycle(id, r);
  }
  absl::Status InsertObjective(const Objective& o) override {
    return OKR_COUNT(InsertObjective), inner_.InsertObjective(o);
  }
  absl::StatusOr<Objective> GetObjective(const std::string& id) override {
    return OKR_COUNT(GetObjective), inner_.GetObjective(id);
  }
  absl::Status UpdateObjective(const Objective& o, int64_t r) override {
    return OKR_COUNT(UpdateObjective), inner_.UpdateObjective(o, r);
  }
  absl::Status DeleteObjective(const std::string& id) override {
    return OKR_COUNT(DeleteObjective), inner_.DeleteObjective(id);
  }
  absl::StatusOr<Page<Objective>> ListObjectives(const ObjectiveFilter& f,
                                                 const PageQuery& q) override {
    return OKR_COUNT(ListObjectives), inner_.ListObjectives(f, q);
  }
  absl::Status InsertKeyResult(const KeyResult& kr) override {
    return OKR_COUNT(InsertKeyResult), inner_.InsertKeyResult(kr);
  }
  absl::StatusOr<KeyResult> GetKeyResult(const std::string& o, const std::string& id) override {
    return OKR_COUNT(GetKeyResult), inner_.GetKeyResult(o, id);
  }
  absl::Status UpdateKeyResult(const KeyResult& kr, int64_t r) override {
    return OKR_COUNT(UpdateKeyResult), inner_.UpdateKeyResult(kr, r);
  }
  absl::Status DeleteKeyResult(const std::string& o, const std::string& id) override {
    return OKR_COUNT(DeleteKeyResult), inner_.DeleteKeyResult(o, id);
  }
  absl::StatusOr<Page<KeyResult>> ListKeyResults(const std::string& o,
                                                 const PageQuery& q) override {
    return OKR_COUNT(ListKeyResults), inner_.ListKeyResults(o, q);
  }
  absl::StatusOr<std::vector<KeyResult>> AllKeyResults(const std::string& o) override {
    return OKR_COUNT(AllKeyResults), inner_.AllKeyResults(o);
  }
  absl::Status InsertCheckIn(const CheckIn& c) override {
    return OKR_COUNT(InsertCheckIn), inner_.InsertCheckIn(c);
  }
  absl::StatusOr<CheckIn> GetCheckIn(const std::string& o, const std::string& k,
                                     const std::string& id) override {
    return OKR_COUNT(GetCheckIn), inner_.GetCheckIn(o, k, id);
  }
  absl::StatusOr<Page<CheckIn>> ListCheckIns(const std::string& o, const std::string& k,
                                             const PageQuery& q) override {
    return OKR_COUNT(ListCheckIns), inner_.ListCheckIns(o, k, q);
  }
  absl::StatusOr<std::optional<WorkItem>> GetWorkItem(Tracker t, const std::string& key) override {
    return OKR_COUNT(GetWorkItem), inner_.GetWorkItem(t, key);
  }
  absl::Status UpsertWorkItem(const WorkItem& item) override {
    return OKR_COUNT(UpsertWorkItem), inner_.UpsertWorkItem(item);
  }
  absl::Status InsertWorkItemLink(const WorkItemLink& l) override {
    return OKR_COUNT(InsertWorkItemLink), inner_.InsertWorkItemLink(l);
  }
  absl::StatusOr<WorkItemLink> GetWorkItemLink(const std::string& o, const std::string& k,
                                               const std::string& id) override {
    return OKR_COUNT(GetWorkItemLink), inner_.GetWorkItemLink(o, k, id);
  }
  absl::StatusOr<WorkItemLink> FindWorkItemLink(const std::string& o, const std::string& k,
                                                Tracker t, const std::string& key) override {
    return OKR_COUNT(FindWorkItemLink), inner_.FindWorkItemLink(o, k, t, key);
  }
  absl::Status DeleteWorkItemLink(const std::string& o, const std::string& k,
                                  const std::string& id) override {
    return OKR_COUNT(DeleteWorkItemLink), inner_.DeleteWorkItemLink(o, k, id);
  }
  absl::StatusOr<Page<WorkItemLink>> ListWorkItemLinks(const std::string& o, const std::string& k,
                                                       const PageQuery& q) override {
    return OKR_COUNT(ListWorkItemLinks), inner_.ListWorkItemLinks(o, k, q);
  }
  absl::StatusOr<std::vector<WorkItemLink>> LinksToWorkItem(Tracker t,
                                                            const std::string& key) override {
    return OKR_COUNT(LinksToWorkItem), inner_.LinksToWorkItem(t, key);
  }
  absl::StatusOr<WorkItemTotals> ComputeWorkItemTotals(const std::string& o,
                                                       const std::string& k) override {
    return OKR_COUNT(ComputeWorkItemTotals), inner_.ComputeWorkItemTotals(o, k);
  }
  absl::StatusOr<std::optional<WorkItem>> GetWorkItemByExternalId(Tracker t,
                                                                  const std::string& id) override {
    return OKR_COUNT(GetWorkItemByExternalId), inner_.GetWorkItemByExternalId(t, id);
  }
  absl::Status RenameWorkItem(Tracker t, const std::string& a, const std::string& b) override {
    return OKR_COUNT(RenameWorkItem), inner_.RenameWorkItem(t, a, b);
  }
  absl::Status DeleteWorkItem(Tracker t, const std::string& key) override {
    return OKR_COUNT(DeleteWorkItem), inner_.DeleteWorkItem(t, key);
  }
  absl::StatusOr<std::vector<WorkItem>> LinkedWorkItems(Tracker t) override {
    return OKR_COUNT(LinkedWorkItems), inner_.LinkedWorkItems(t);
  }
  absl::Status RecordDelivery(Tracker t, const std::string& id, absl::Time at) override {
    return OKR_COUNT(RecordDelivery), inner_.RecordDelivery(t, id, at);
  }
  absl::StatusOr<int64_t> PruneDeliveries(absl::Time before, int limit) override {
    return OKR_COUNT(PruneDeliveries), inner_.PruneDeliveries(before, limit);
  }
  absl::StatusOr<std::vector<KeyResult>> ScopedKeyResults() override {
    return OKR_COUNT(ScopedKeyResults), inner_.ScopedKeyResults();
  }
  absl::Status EnqueueWriteBack(const std::string& o, const std::string& k,
                                absl::Time now) override {
    return OKR_COUNT(EnqueueWriteBack), inner_.EnqueueWriteBack(o, k, now);
  }
  absl::StatusOr<std::vector<WriteBackEntry>> PendingWriteBacks(int limit) override {
    return OKR_COUNT(PendingWriteBacks), inner_.PendingWriteBacks(limit);
  }
  absl::Status CompleteWriteBack(const WriteBackEntry& e) override {
    return OKR_COUNT(CompleteWriteBack), inner_.CompleteWriteBack(e);
  }
  absl::StatusOr<std::optional<WriteBackState>> GetWriteBackState(Tracker t,
                                                                  const std::string& key) override {
    return OKR_COUNT(GetWriteBackState), inner_.GetWriteBackState(t, key);
  }
  absl::Status PutWriteBackState(Tracker t, const std::string& key,
                                 const WriteBackState& s) override {
    return OKR_COUNT(PutWriteBackState), inner_.PutWriteBackState(t, key, s);
  }
  absl::Status DeleteWriteBackState(Tracker t, const std::string& key) override {
    return OKR_COUNT(DeleteWriteBackState), inner_.DeleteWriteBackState(t, key);
  }
  absl::Status EnqueueItemWriteBack(Tracker t, const std::string& key, absl::Time now) override {
    return OKR_COUNT(EnqueueItemWriteBack), inner_.EnqueueItemWriteBack(t, key, now);
  }
  absl::StatusOr<std::vector<ItemWriteBackEntry>> PendingItemWriteBacks(int limit) override {
    return OKR_COUNT(PendingItemWriteBacks), inner_.PendingItemWriteBacks(limit);
  }
  absl::Status CompleteItemWriteBack(const ItemWriteBackEntry& e) override {
    return OKR_COUNT(CompleteItemWriteBack), inner_.CompleteItemWriteBack(e);
  }
  absl::Status AppendEvent(Event& e) override {
    return OKR_COUNT(AppendEvent), inner_.AppendEvent(e);
  }
  absl::StatusOr<std::vector<Event>> ListEvents(const EventQuery& q) override {
    return OKR_COUNT(ListEvents), inner_.ListEvents(q);
  }
  absl::StatusOr<int64_t> LastEventSequence() override {
    return OKR_COUNT(LastEventSequence), inner_.LastEventSequence();
  }
  absl::StatusOr<int64_t> PruneEvents(absl::Time before, int64_t through, int limit) override {
    return OKR_COUNT(PruneEvents), inner_.PruneEvents(before, through, limit);
  }
  absl::Status InsertDocument(const Document& d) override {
    return OKR_COUNT(InsertDocument), inner_.InsertDocument(d);
  }
  absl::StatusOr<std::optional<Document>> GetDocument(const std::string& kind,
                                                      const std::string& id) override {
    return OKR_COUNT(GetDocument), inner_.GetDocument(kind, id);
  }
  absl::Status UpdateDocument(const Document& d, int64_t r) override {
    return OKR_COUNT(UpdateDocument), inner_.UpdateDocument(d, r);
  }
  absl::Status DeleteDocument(const std::string& kind, const std::string& id) override {
    return OKR_COUNT(DeleteDocument), inner_.DeleteDocument(kind, id);
  }
  absl::StatusOr<Page<Document>> ListDocuments(const std::string& kind,
                                               const PageQuery& q) override {
    return OKR_COUNT(ListDocuments), inner_.ListDocuments(kind, q);
  }
  absl::StatusOr<std::optional<std::string>> GetRequestRecord(const std::string& id) override {
    return OKR_COUNT(GetRequestRecord), inner_.GetRequestRecord(id);
  }
  using OkrTransaction::PutRequestRecord;
  absl::Status PutRequestRecord(const std::string& id, const std::string& name,
                                absl::Time at) override {
    return OKR_COUNT(PutRequestRecord), inner_.PutRequestRecord(id, name, at);
  }
#undef OKR_COUNT

 private:
  OkrTransaction& inner_;
  std::map<std::string, int>& calls_;
};

// A store whose transactions count their calls into `calls()` (reset by the test).
class CountingStore final : public storage::OkrStore {
 public:
  explicit CountingStore(storage::OkrStore& inner) : inner_(inner) {}
  absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override {
    return inner_.RunInTransaction([&](OkrTransaction& tx) {
      CountingTransaction counting(tx, calls_);
      return fn(counting);
    });
  }
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) override {
    return inner_.RunReadOnly(fn);
  }
  absl::Status Ping() override { return inner_.Ping(); }

  std::map<std::string, int>& calls() { return calls_; }
  // "GetObjective=1 UpdateObjective=1 ...": what a failed expectation prints.
  std::string Dump() const {
    std::string out;
    for (const auto& [name, count] : calls_) {
      if (count > 0) out += name + "=" + std::to_string(count) + " ";
    }
    return out;
  }
  int total() const {
    int n = 0;
    for (const auto& [name, count] : calls_) n += count;
    return n;
  }

 private:
  storage::OkrStore& inner_;
  std::map<std::string, int> calls_;
};

const absl::Time kCycleStart = absl::FromUnixSeconds(1'790'000'000);
const absl::Time kCycleEnd = kCycleStart + absl::Hours(24 * 90);

class UnitOfWorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    sqlite_ = std::move(*store);
    counting_ = std::make_unique<CountingStore>(*sqlite_);
    core_ = std::make_unique<OkrCore>(*counting_, clock_);

    Team team;
    team.id = "checkout";
    team.display_name = "Checkout";
    ASSERT_TRUE(core_->CreateTeam(team, "").ok());
    Cycle cycle;
    cycle.id = "q4";
    cycle.display_name = "Q4";
    cycle.start_time = kCycleStart;
    cycle.end_time = kCycleEnd;
    ASSERT_TRUE(core_->CreateCycle(cycle, "").ok());
    Objective o;
    o.id = "o1";
    o.title = "Delight customers at checkout";
    o.team_id = "checkout";
    o.cycle_id = "q4";
    ASSERT_TRUE(core_->CreateObjective(o, "").ok());
  }

  void AddKeyResult(const std::string& id, KeyResultType type) {
    KeyResult kr;
    kr.objective_id = "o1";
    kr.id = id;
    kr.title = id;
    kr.type = type;
    if (type == KeyResultType::kMetric) kr.metric = {0, 100, 0, "pts"};
    ASSERT_TRUE(core_->CreateKeyResult(kr, "").ok());
  }

  static WorkItem Jira(const std::string& key, bool done, double weight,
                       const std::string& external_id) {
    WorkItem item;
    item.tracker = Tracker::kJira;
    item.key = key;
    item.title = key;
    item.done = done;
    item.weight = weight;
    item.external_id = external_id;
    return item;
  }

  // The stored totals of a key result and what the store re-aggregates from its links.
  void ExpectTotalsMatchLinks(const std::string& kr_id) {
    ASSERT_TRUE(sqlite_
                    ->RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
                      absl::StatusOr<KeyResult> kr = tx.GetKeyResult("o1", kr_id);
                      if (!kr.ok()) return kr.status();
                      absl::StatusOr<WorkItemTotals> sums = tx.ComputeWorkItemTotals("o1", kr_id);
                      if (!sums.ok()) return sums.status();
                      EXPECT_EQ(kr->totals.item_count, sums->item_count) << kr_id;
                      EXPECT_EQ(kr->totals.done_count, sums->done_count) << kr_id;
                      EXPECT_DOUBLE_EQ(kr->totals.total_weight, sums->total_weight) << kr_id;
                      EXPECT_DOUBLE_EQ(kr->totals.done_weight, sums->done_weight) << kr_id;
                      return absl::OkStatus();
                    })
                    .ok());
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kCycleStart + absl::Hours(24 * 45)};  // half-way
  std::unique_ptr<storage::SqliteStore> sqlite_;
  std::unique_ptr<CountingStore> counting_;
  std::unique_ptr<OkrCore> core_;
};

TEST_F(UnitOfWorkTest, CreateCheckIn_ReadsEachRowOnceAndWritesEachOnce) {
  AddKeyResult("nps", KeyResultType::kMetric);
  counting_->calls().clear();
  CheckIn c;
  c.objective_id = "o1";
  c.key_result_id = "nps";
  c.value = 40;
  c.author = "ana";
  ASSERT_TRUE(core_->CreateCheckIn(c, "req-1").ok());

  std::map<std::string, int>& calls = counting_->calls();
  EXPECT_EQ(calls["GetRequestRecord"], 1);
  EXPECT_EQ(calls["GetObjective"], 1);
  EXPECT_EQ(calls["AllKeyResults"], 1);
  EXPECT_EQ(calls["GetKeyResult"], 0);
  EXPECT_EQ(calls["GetCycle"], 1);
  EXPECT_EQ(calls["InsertCheckIn"], 1);
  EXPECT_EQ(calls["GetCheckIn"], 0);
  EXPECT_EQ(calls["UpdateKeyResult"], 1);
  EXPECT_EQ(calls["UpdateObjective"], 1);
  EXPECT_EQ(calls["EnqueueWriteBack"], 1);
  EXPECT_EQ(calls["PutRequestRecord"], 1);
  const int events = calls["AppendEvent"];
  EXPECT_GT(events, 0);
  EXPECT_EQ(counting_->total(), 9 + events) << counting_->Dump();

  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "nps")->progress, 0.4);
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 0.4);
}

TEST_F(UnitOfWorkTest, ApplyTrackerUpdate_ReadsEachRowOnceAndAdjustsTotalsByDelta) {
  AddKeyResult("epics", KeyResultType::kWorkItems);
  AddKeyResult("bugs", KeyResultType::kWorkItems);
  // One item on two key results of one objective, plus a second item on one of them.
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-1", false, 3, "10001"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "bugs", Jira("OKRX-1", false, 3, "10001"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-2", false, 1, "10002"), "").ok());

  counting_->calls().clear();
  WorkItem closed = Jira("OKRX-1", true, 3, "10001");
  closed.source_updated = clock_.Now();
  absl::StatusOr<SyncOutcome> outcome = core_->ApplyTrackerUpdate(closed, "delivery-1");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, SyncOutcome::kApplied);

  std::map<std::string, int>& calls = counting_->calls();
  EXPECT_EQ(calls["GetWorkItemByExternalId"], 1);
  EXPECT_EQ(calls["RecordDelivery"], 1);
  EXPECT_EQ(calls["UpsertWorkItem"], 1);
  EXPECT_EQ(calls["LinksToWorkItem"], 1);
  EXPECT_EQ(calls["GetObjective"], 1);
  EXPECT_EQ(calls["AllKeyResults"], 1);
  EXPECT_EQ(calls["GetKeyResult"], 0);
  EXPECT_EQ(calls["GetCycle"], 1);
  EXPECT_EQ(calls["ComputeWorkItemTotals"], 0);
  EXPECT_EQ(calls["UpdateKeyResult"], 2);
  EXPECT_EQ(calls["UpdateObjective"], 1);
  EXPECT_EQ(calls["EnqueueWriteBack"], 2);
  const int events = calls["AppendEvent"];
  EXPECT_GT(events, 0);
  EXPECT_EQ(counting_->total(), 12 + events) << counting_->Dump();

  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 0.75);
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "bugs")->progress, 1);
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 0.875);
  ExpectTotalsMatchLinks("epics");
  ExpectTotalsMatchLinks("bugs");
}

TEST_F(UnitOfWorkTest, DeltaTotals_MatchReaggregationThroughEveryKindOfChange) {
  AddKeyResult("epics", KeyResultType::kWorkItems);
  AddKeyResult("bugs", KeyResultType::kWorkItems);
  AddKeyResult("nps", KeyResultType::kMetric);  // links only show what it serves
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-1", true, 2.5, "1"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "bugs", Jira("OKRX-1", true, 2.5, "1"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "nps", Jira("OKRX-1", true, 2.5, "1"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-2", false, 0.5, "2"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-3", true, 1, "3"), "").ok());
  ExpectTotalsMatchLinks("epics");

  auto apply = [&](WorkItem state, const std::string& delivery) {
    clock_.Advance(absl::Minutes(1));
    state.source_updated = clock_.Now();
    absl::StatusOr<SyncOutcome> outcome = core_->ApplyTrackerUpdate(state, delivery);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
  };
  apply(Jira("OKRX-1", false, 2.5, "1"), "d1");  // done -> not done
  ExpectTotalsMatchLinks("epics");
  ExpectTotalsMatchLinks("bugs");
  apply(Jira("OKRX-2", false, 4, "2"), "d2");  // re-weighted
  ExpectTotalsMatchLinks("epics");
  apply(Jira("OKRX-20", true, 4, "2"), "d3");  // moved (new key) and closed
  ExpectTotalsMatchLinks("epics");
  apply(Jira("OKRX-20", true, 4, "2"), "d3");  // the same delivery again: ignored
  ExpectTotalsMatchLinks("epics");

  WorkItem patch = Jira("OKRX-3", false, 7, "");
  ASSERT_TRUE(core_->UpdateWorkItem(patch, {"done", "weight"}).ok());
  ExpectTotalsMatchLinks("epics");
  ASSERT_TRUE(core_->UnlinkWorkItemByKey("o1", "epics", Tracker::kJira, "OKRX-3").ok());
  ExpectTotalsMatchLinks("epics");

  absl::StatusOr<TrackerDeletion> deleted =
      core_->ApplyTrackerDeletion(Tracker::kJira, "1", "OKRX-1", "d4");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(deleted->key_results, ::testing::SizeIs(3));
  ExpectTotalsMatchLinks("epics");
  ExpectTotalsMatchLinks("bugs");
  EXPECT_EQ(core_->GetKeyResult("o1", "bugs")->totals.item_count, 0);
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "bugs")->totals.total_weight, 0);
  // Left on epics: OKRX-20 (done, 4).
  EXPECT_DOUBLE_EQ(core_->GetKeyResult("o1", "epics")->progress, 1);
}

TEST_F(UnitOfWorkTest, ItemOnTwoKeyResults_MovesTheObjectiveOnceWithOneEventSet) {
  AddKeyResult("epics", KeyResultType::kWorkItems);
  AddKeyResult("bugs", KeyResultType::kWorkItems);
  ASSERT_TRUE(core_->LinkWorkItem("o1", "epics", Jira("OKRX-1", false, 1, "1"), "").ok());
  ASSERT_TRUE(core_->LinkWorkItem("o1", "bugs", Jira("OKRX-1", false, 1, "1"), "").ok());
  const int64_t revision = core_->GetObjective("o1")->meta.revision;

  counting_->calls().clear();
  WorkItem closed = Jira("OKRX-1", true, 1, "1");
  closed.source_updated = clock_.Now();
  ASSERT_TRUE(core_->ApplyTrackerUpdate(closed, "").ok());
  // Both key results moved it (0 -> 0.5 -> 1): one write, one new revision.
  EXPECT_EQ(counting_->calls()["UpdateObjective"], 1);
  EXPECT_EQ(core_->GetObjective("o1")->meta.revision, revision + 1);
  EXPECT_DOUBLE_EQ(core_->GetObjective("o1")->progress, 1);
}

}  // namespace
}  // namespace okr::core
