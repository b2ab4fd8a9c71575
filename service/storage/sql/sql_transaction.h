// SqlTransaction: the one OkrTransaction implementation of the SQL stores, written once
// against the driver interface of driver.h. Every query, row codec and bind block lives
// here and in codec.h; service/storage/sqlite and service/storage/postgres only open
// connections, run transactions (locking, group commit, retries) and supply a Session.
//
//   SqliteSession session(conn);                       // the backend's driver
//   SqlTransaction tx(session, {.read_only = false, .cycles = &cache,
//                               .cycle_epoch = cache.epoch()});
//   absl::Status s = fn(tx);
//
// Contract: as OkrTransaction (okr_store.h). Expected outcomes (duplicate, missing row
// or reference, stale revision) are detected without raising SQL errors, so the
// transaction stays usable after them on every backend; any other database error is
// returned as the driver maps it. Not thread-safe: one transaction, one thread.
#ifndef OKR_SERVICE_STORAGE_SQL_SQL_TRANSACTION_H_
#define OKR_SERVICE_STORAGE_SQL_SQL_TRANSACTION_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/events.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"
#include "service/storage/sql/codec.h"
#include "service/storage/sql/cycle_cache.h"
#include "service/storage/sql/driver.h"

namespace okr::storage::sql {

class SqlTransaction final : public OkrTransaction {
 public:
  struct Options {
    // Writes fail with FAILED_PRECONDITION.
    bool read_only = false;
    // Cycles served from and (read-only transactions only) put into this cache; null: none.
    CycleCache* cycles = nullptr;
    // The cache epoch this transaction's snapshot sees; -1: do not use the cache.
    int64_t cycle_epoch = -1;
    // Objectives, likewise (SQLite only: one process writes the file).
    ObjectiveCache* objectives = nullptr;
    int64_t objective_epoch = -1;
  };
  SqlTransaction(Session& session, Options options) : session_(session), options_(options) {}

  // Teams.
  absl::Status InsertTeam(const Team& team) override;
  absl::StatusOr<Team> GetTeam(const std::string& id) override;
  absl::StatusOr<Page<Team>> ListTeams(const std::string& parent_id,
                                       const PageQuery& page) override;
  absl::Status UpdateTeam(const Team& team, int64_t expected_revision) override;
  absl::Status DeleteTeam(const std::string& id, int64_t expected_revision) override;
  // Cycles.
  absl::Status InsertCycle(const Cycle& cycle) override;
  absl::StatusOr<Cycle> GetCycle(const std::string& id) override;
  absl::StatusOr<Page<Cycle>> ListCycles(const PageQuery& page) override;
  absl::Status UpdateCycle(const Cycle& cycle, int64_t expected_revision) override;
  absl::Status DeleteCycle(const std::string& id, int64_t expected_revision) override;
  // Objectives.
  absl::Status InsertObjective(const Objective& objective) override;
  absl::StatusOr<Objective> GetObjective(const std::string& id) override;
  absl::Status UpdateObjective(const Objective& objective, int64_t expected_revision) override;
  absl::Status DeleteObjective(const std::string& id) override;
  absl::StatusOr<Page<Objective>> ListObjectives(const ObjectiveFilter& filter,
                                                 const PageQuery& page) override;
  // Key results.
  absl::Status InsertKeyResult(const KeyResult& kr) override;
  absl::StatusOr<KeyResult> GetKeyResult(const std::string& objective_id,
                                         const std::string& id) override;
  absl::Status UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) override;
  absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id) override;
  absl::StatusOr<Page<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                 const PageQuery& page) override;
  absl::StatusOr<std::vector<KeyResult>> AllKeyResults(const std::string& objective_id) override;
  // Check-ins.
  absl::Status InsertCheckIn(const CheckIn& check_in) override;
  absl::StatusOr<CheckIn> GetCheckIn(const std::string& objective_id,
                                     const std::string& key_result_id,
                                     const std::string& id) override;
  absl::StatusOr<Page<CheckIn>> ListCheckIns(const std::string& objective_id,
                                             const std::string& key_result_id,
                                             const PageQuery& page) override;
  // Work items and links.
  absl::StatusOr<std::optional<WorkItem>> GetWorkItem(Tracker tracker,
                                                      const std::string& key) override;
  absl::Status UpsertWorkItem(const WorkItem& item) override;
  absl::Status InsertWorkItemLink(const WorkItemLink& link) override;
  absl::StatusOr<WorkItemLink> GetWorkItemLink(const std::string& objective_id,
                                               const std::string& key_result_id,
                                               const std::string& id) override;
  absl::StatusOr<WorkItemLink> FindWorkItemLink(const std::string& objective_id,
                                                const std::string& key_result_id, Tracker tracker,
                                                const std::string& key) override;
  absl::Status DeleteWorkItemLink(const std::string& objective_id, const std::string& key_result_id,
                                  const std::string& id) override;
  absl::StatusOr<Page<WorkItemLink>> ListWorkItemLinks(const std::string& objective_id,
                                                       const std::string& key_result_id,
                                                       const PageQuery& page) override;
  absl::StatusOr<std::vector<WorkItemLink>> LinksToWorkItem(Tracker tracker,
                                                            const std::string& key) override;
  absl::StatusOr<WorkItemTotals> ComputeWorkItemTotals(const std::string& objective_id,
                                                       const std::string& key_result_id) override;
  // Tracker sync.
  absl::StatusOr<std::optional<WorkItem>> GetWorkItemByExternalId(
      Tracker tracker, const std::string& external_id) override;
  absl::Status RenameWorkItem(Tracker tracker, const std::string& old_key,
                              const std::string& new_key) override;
  absl::Status DeleteWorkItem(Tracker tracker, const std::string& key) override;
  absl::StatusOr<std::vector<WorkItem>> LinkedWorkItems(Tracker tracker) override;
  absl::Status RecordDelivery(Tracker tracker, const std::string& delivery_id,
                              absl::Time received) override;
  absl::StatusOr<int64_t> PruneDeliveries(absl::Time before, int limit) override;
  absl::StatusOr<std::vector<KeyResult>> ScopedKeyResults() override;
  absl::Status EnqueueWriteBack(const std::string& objective_id, const std::string& key_result_id,
                                absl::Time now) override;
  absl::StatusOr<std::vector<WriteBackEntry>> PendingWriteBacks(int limit) override;
  absl::Status CompleteWriteBack(const WriteBackEntry& entry) override;
  absl::StatusOr<std::vector<WriteBackEntry>> DueWriteBacks(absl::Time now, int limit) override;
  absl::Status DeferWriteBack(const WriteBackEntry& entry, absl::Time due) override;
  absl::StatusOr<std::vector<WriteBackFailureCount>> CountWriteBackFailures() override;
  absl::StatusOr<std::optional<WriteBackState>> GetWriteBackState(Tracker tracker,
                                                                  const std::string& key) override;
  absl::Status PutWriteBackState(Tracker tracker, const std::string& key,
                                 const WriteBackState& state) override;
  absl::Status DeleteWriteBackState(Tracker tracker, const std::string& key) override;
  absl::Status EnqueueItemWriteBack(Tracker tracker, const std::string& key,
                                    absl::Time now) override;
  absl::StatusOr<std::vector<ItemWriteBackEntry>> PendingItemWriteBacks(int limit) override;
  absl::Status CompleteItemWriteBack(const ItemWriteBackEntry& entry) override;
  absl::StatusOr<std::vector<ItemWriteBackEntry>> DueItemWriteBacks(absl::Time now,
                                                                    int limit) override;
  absl::Status DeferItemWriteBack(const ItemWriteBackEntry& entry, absl::Time due) override;
  // Events and documents.
  absl::Status AppendEvent(Event& event) override;
  absl::StatusOr<std::vector<Event>> ListEvents(const EventQuery& query) override;
  absl::StatusOr<int64_t> LastEventSequence() override;
  absl::StatusOr<int64_t> PruneEvents(absl::Time before, int64_t through_sequence,
                                      int limit) override;
  absl::Status InsertDocument(const Document& doc) override;
  absl::StatusOr<std::optional<Document>> GetDocument(const std::string& kind,
                                                      const std::string& id) override;
  absl::Status UpdateDocument(const Document& doc, int64_t expected_revision) override;
  absl::Status DeleteDocument(const std::string& kind, const std::string& id) override;
  absl::StatusOr<Page<Document>> ListDocuments(const std::string& kind,
                                               const PageQuery& page) override;
  absl::StatusOr<int64_t> CountDocuments(const std::string& kind) override;
  // Request records.
  absl::StatusOr<std::optional<std::string>> GetRequestRecord(
      const std::string& request_id) override;
  using IdempotencyRepository::PutRequestRecord;
  absl::Status PutRequestRecord(const std::string& request_id, const std::string& resource_name,
                                absl::Time create_time) override;
  absl::StatusOr<int64_t> PruneRequestRecords(absl::Time before, int limit) override;

 private:
  // One statement parameter, bound in the order given.
  class Arg {
   public:
    Arg(absl::string_view text) : kind_(kText), text_(text) {}   // NOLINT
    Arg(const std::string& text) : kind_(kText), text_(text) {}  // NOLINT
    Arg(const char* text) : kind_(kText), text_(text) {}         // NOLINT
    Arg(int64_t value) : kind_(kInt), int_(value) {}             // NOLINT
    Arg(int value) : kind_(kInt), int_(value) {}                 // NOLINT
    Arg(Tracker tracker) : Arg(static_cast<int>(tracker)) {}     // NOLINT
    Arg(absl::Time time) : kind_(kTime), time_(time) {}          // NOLINT
    void BindTo(Statement& s, int index) const;

   private:
    enum Kind { kText, kInt, kTime } kind_;
    absl::string_view text_;
    int64_t int_ = 0;
    absl::Time time_;
  };
  using Args = std::initializer_list<Arg>;
  using StatementPtr = std::unique_ptr<Statement>;

  absl::Status CheckWritable(absl::string_view method) const;
  // `sql` prepared, with `args` bound to ?first, ?first+1, ...
  absl::StatusOr<StatementPtr> Prepare(absl::string_view sql, Args args = {}, int first = 1);
  // Runs `s` to completion; returns the rows it changed.
  static absl::StatusOr<int64_t> Changed(Statement& s);
  absl::StatusOr<int64_t> Changed(absl::string_view sql, Args args);
  // True if `sql` returns a row.
  absl::StatusOr<bool> Exists(absl::string_view sql, Args args);
  // The text of the first column of the first row `sql` returns, or nullopt.
  absl::StatusOr<std::optional<std::string>> FirstText(absl::string_view sql, Args args);
  // The rows of `sql` (with `args` from ?first), read by `read`; with a `page`, the
  // query binds it to ?1, ?2 and selects limit + 1 rows.
  template <typename T, typename Read>
  absl::StatusOr<std::vector<T>> Rows(absl::string_view sql, Args args, Read read);
  template <typename T, typename Read>
  absl::StatusOr<Page<T>> PageOf(absl::string_view sql, const PageQuery& page, Args args,
                                 Read read);
  template <typename T, typename Read>
  absl::StatusOr<std::optional<T>> Row(absl::string_view sql, Args args, Read read);
  // Writes `row` (bound to ?1..) and `extra` (after it) with `sql`; returns rows changed.
  template <typename T>
  absl::StatusOr<int64_t> WriteRow(absl::string_view sql, const Entity<T>& entity, const T& row,
                                   Args extra = {});
  // For an update or delete that changed no row: NOT_FOUND, ABORTED for a stale revision,
  // else OK (the caller explains why). `revision_sql` selects the revision by `key`.
  absl::Status NoRowChanged(absl::string_view revision_sql, Args key, const std::string& label,
                            int64_t expected_revision);
  // Explains why an objective write was refused for its references.
  absl::Status ObjectiveReferenceError(const Objective& o);
  // The cycle was changed by this transaction: stop using the cache, tell the driver.
  absl::Status CycleChanged();

  Session& session_;
  Options options_;
};

}  // namespace okr::storage::sql

#endif  // OKR_SERVICE_STORAGE_SQL_SQL_TRANSACTION_H_
