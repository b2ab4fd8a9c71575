// UnitOfWork: one write use case of the core as one unit. It loads each objective (with
// its key results) and cycle the use case touches once, hands out the loaded rows for the
// use case to change in memory, remembers each row's state as loaded, and Commit() writes
// every changed key result and objective once (one new revision each) and appends the
// events derived from the before/after states (service/okr/events.h ChangeEvents:
// scope, progress, thresholds, health, state), then the use case's own events, all in the
// store transaction it wraps -- so an event exists iff its change committed.
//
//   OKR_RETURN_IF_ERROR(RunUnitOfWork(store, now, {CauseKind::kCheckIn, name, ""},
//                                     [&](UnitOfWork& uow) -> absl::Status {
//     OKR_ASSIGN_OR_RETURN(KeyResult* kr, uow.LoadKeyResult(objective_id, id));
//     kr->metric.current_value = 42;
//     return SaveKeyResult(uow, *kr);  // progress, write-back, roll-up (store_helpers.h)
//   }));
//
// Rows the unit does not track (teams, cycles as written, check-ins, links, work items,
// request records, documents) are read and written directly through tx(). Objectives and
// key results are inserted and deleted through the unit, so later loads see them; they
// are never updated through tx() while a unit is open.
//
// Events keep the rules of one transaction: one set of events per changed subject (first
// loaded state -> last state), subjects in the order of their first change, each with the
// cause current at that change; an objective moved by a roll-up names the subject changed
// just before it (`via`). Internal to service/core; not thread-safe.
#ifndef OKR_SERVICE_CORE_UNIT_OF_WORK_H_
#define OKR_SERVICE_CORE_UNIT_OF_WORK_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/okr/events.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"

namespace okr::core::internal {

class UnitOfWork {
 public:
  UnitOfWork(storage::OkrTransaction& tx, absl::Time now, EventCause cause)
      : tx_(tx), now_(now), cause_(std::move(cause)) {}
  UnitOfWork(const UnitOfWork&) = delete;
  UnitOfWork& operator=(const UnitOfWork&) = delete;

  storage::OkrTransaction& tx() { return tx_; }
  absl::Time now() const { return now_; }
  // The cause of the changes that follow (e.g. once the use case knows whether an item
  // was closed or reopened).
  void set_cause(EventCause cause) { cause_ = std::move(cause); }
  const EventCause& cause() const { return cause_; }
  // Queues an event of the use case's own; appended after the change events.
  void Emit(Event event) { extra_.push_back(std::move(event)); }

  // ---- Loads (each row read from the store at most once per unit) ----
  // The store's errors (NOT_FOUND, ...). Pointers stay valid for the unit's lifetime.
  absl::StatusOr<Objective*> LoadObjective(const std::string& id);
  absl::StatusOr<const Cycle*> LoadCycle(const std::string& id);
  // Every key result of the objective, in creation order (one AllKeyResults).
  absl::StatusOr<std::vector<KeyResult*>> LoadKeyResults(const std::string& objective_id);
  // One key result, loaded with its objective's key results; NOT_FOUND as the store says.
  absl::StatusOr<KeyResult*> LoadKeyResult(const std::string& objective_id, const std::string& id);
  // The objectives whose parent is `parent_id` as this unit sees them (loaded rows with
  // their in-memory changes), in creation order.
  absl::StatusOr<std::vector<Objective*>> LoadChildren(const std::string& parent_id);

  // ---- Changes ----
  // `o` / `kr` (a loaded row) was changed in memory: it gets its new revision and update
  // time, is written at Commit and its events are tracked. Loads the objective's cycle.
  absl::Status Changed(Objective& o);
  absl::Status Changed(KeyResult& kr);
  // Queues the tracker write-back of the key result's links (EnqueueWriteBack, once).
  void WriteBack(const KeyResult& kr);
  // Queues the tracker write-back of one item that serves fewer key results than before
  // (EnqueueItemWriteBack, once), so the marks of those it left are removed.
  void ItemWriteBack(Tracker tracker, const std::string& key);
  // Inserts at once (later store calls may refer to the row) and tracks the new row.
  absl::StatusOr<Objective*> InsertObjective(const Objective& o);
  absl::StatusOr<KeyResult*> InsertKeyResult(const KeyResult& kr);
  // Deletes at once (the store's cascade); the row is no longer loaded or written.
  // Objectives aligned to a deleted objective lose their parent, in memory as in the store.
  // The items linked to the deleted key results are queued for write-back (ItemWriteBack).
  absl::Status DeleteObjective(const std::string& id);
  absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id);

  // Writes every changed row once, queues the write-backs and appends the events. Called
  // by RunUnitOfWork after the use case returned OK; a second call writes only what
  // changed since.
  absl::Status Commit();

 private:
  template <typename T>
  struct Row {
    T value;
    T before;                 // as loaded (or inserted)
    int64_t stored_revision;  // the revision the store holds
    int64_t order = 0;        // load/insert order (creation order of inserted rows)
    bool dirty = false;
    bool deleted = false;
  };
  struct KeyResultSet {
    bool loaded = false;
    std::vector<std::string> ids;  // creation order
  };
  struct Tracked {
    Event base;  // subject, team, cycle, time, cause of the first change
    SubjectState before;
    SubjectState after;
  };
  using KeyResultKey = std::pair<std::string, std::string>;  // objective id, key result id

  SubjectState StateOf(const KeyResult& kr, const Cycle& cycle) const;
  SubjectState StateOf(const Objective& o, const Cycle& cycle) const;
  void Track(const std::string& key, Event base, const SubjectState& before,
             const SubjectState& after);
  Row<Objective>& AddObjective(const Objective& o);
  Row<KeyResult>& AddKeyResult(const KeyResult& kr);
  // ItemWriteBack for every item linked to the key result (before it is deleted).
  absl::Status QueueLinkedItems(const std::string& objective_id, const std::string& id);

  storage::OkrTransaction& tx_;
  const absl::Time now_;
  EventCause cause_;
  int64_t next_order_ = 0;
  std::map<std::string, Row<Objective>> objectives_;
  std::map<KeyResultKey, Row<KeyResult>> key_results_;
  std::map<std::string, KeyResultSet> key_result_sets_;
  std::map<std::string, Cycle> cycles_;
  std::vector<KeyResultKey> write_backs_;
  std::vector<std::pair<Tracker, std::string>> item_write_backs_;
  // Rows to write, in order of first change ("o/{id}" or "k/{objective}/{id}").
  std::vector<std::string> order_;
  std::map<std::string, Tracked> tracked_;
  // Last progress recorded per subject (what a roll-up "via" compares with).
  std::map<std::string, double> last_progress_;
  std::string last_changed_;  // the subject whose progress changed last (roll-up "via")
  std::vector<Event> extra_;
};

// Runs `fn` in one store transaction through a UnitOfWork and commits the unit (rows and
// events) before the transaction commits. A retried transaction gets a fresh unit.
absl::Status RunUnitOfWork(storage::OkrStore& store, absl::Time now, EventCause cause,
                           absl::FunctionRef<absl::Status(UnitOfWork&)> fn);

}  // namespace okr::core::internal

#endif  // OKR_SERVICE_CORE_UNIT_OF_WORK_H_
