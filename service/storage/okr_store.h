// OkrStore: the persistence boundary of okr-service. The core runs every RPC as one
// transaction against this interface; implementations (sqlite/, later postgres/) map the
// domain structs of service/okr/model.h to tables and own their schema migrations.
//
// Usage:
//   absl::Status s = store.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
//     OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(id));
//     ...
//     return tx.UpdateObjective(o);
//   });
//
// Contract:
//  - RunInTransaction commits iff the callback returns OK, and only returns OK once the
//    commit is durable per the store's durability setting; on any error nothing the
//    callback wrote is visible. Implementations may retry the callback on transient
//    conflicts, so callbacks must not have side effects outside the transaction.
//  - Thread-safe: many threads may call RunInTransaction / RunReadOnly at once.
//  - A transaction object is only valid inside its callback, on the calling thread.
//  - Codes: NOT_FOUND (missing row), ALREADY_EXISTS (duplicate id/link),
//    ABORTED (revision mismatch on Update*), UNAVAILABLE (database unreachable),
//    INTERNAL (anything else, with the database's message).
//
// OkrTransaction is the union of narrow repositories, one per aggregate: OkrTreeRepository
// (teams, cycles, objectives, key results, check-ins), TrackerItemRepository (work items,
// links, webhook deliveries, write-backs), OutboxRepository (events), DocumentRepository
// and IdempotencyRepository (request records). A use case that needs one aggregate can
// take the narrow interface; `tx` converts to each of them.
#ifndef OKR_SERVICE_STORAGE_OKR_STORE_H_
#define OKR_SERVICE_STORAGE_OKR_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/okr/events.h"
#include "service/okr/model.h"

namespace okr::storage {

// Keyset paging: return up to `limit` rows whose seq is greater than `after_seq`, in seq
// order.
struct PageQuery {
  int64_t after_seq = 0;
  int limit = 50;
};

template <typename T>
struct Page {
  std::vector<T> items;
  bool has_more = false;  // more rows follow the last item
};

struct ObjectiveFilter {
  std::string team_id;    // empty: any
  std::string cycle_id;   // empty: any
  std::string parent_id;  // empty: any
};

// Operations available inside one transaction, split by aggregate (see the file comment).
// Update* and Delete* of a versioned entity compare `expected_revision` with the stored
// revision and fail with ABORTED on mismatch; Update* stores the entity as given (the
// caller sets the new revision/update_time).

// The OKR tree: teams, cycles, objectives, key results and their check-ins.
class OkrTreeRepository {
 public:
  virtual ~OkrTreeRepository() = default;

  // Teams.
  virtual absl::Status InsertTeam(const Team& team) = 0;
  virtual absl::StatusOr<Team> GetTeam(const std::string& id) = 0;
  virtual absl::StatusOr<Page<Team>> ListTeams(const std::string& parent_id,
                                               const PageQuery& page) = 0;
  // Stores the team as given. NOT_FOUND if it does not exist, ABORTED on a stale
  // revision, FAILED_PRECONDITION if its parent does not exist (the caller checks that
  // the parent is no descendant of the team).
  virtual absl::Status UpdateTeam(const Team& team, int64_t expected_revision) = 0;
  // Deletes the team. NOT_FOUND / ABORTED as above; FAILED_PRECONDITION naming one of them
  // while objectives or sub-teams refer to it (the caller deletes or moves them first).
  virtual absl::Status DeleteTeam(const std::string& id, int64_t expected_revision) = 0;

  // Cycles.
  virtual absl::Status InsertCycle(const Cycle& cycle) = 0;
  virtual absl::StatusOr<Cycle> GetCycle(const std::string& id) = 0;
  virtual absl::StatusOr<Page<Cycle>> ListCycles(const PageQuery& page) = 0;
  // Stores the cycle as given; NOT_FOUND / ABORTED like UpdateTeam. A read after the
  // commit (in any transaction, on any replica) sees the new cycle: stores that keep
  // cycles in memory invalidate them.
  virtual absl::Status UpdateCycle(const Cycle& cycle, int64_t expected_revision) = 0;
  // Deletes the cycle; FAILED_PRECONDITION naming one of them while objectives refer to it.
  virtual absl::Status DeleteCycle(const std::string& id, int64_t expected_revision) = 0;

  // Objectives.
  virtual absl::Status InsertObjective(const Objective& objective) = 0;
  virtual absl::StatusOr<Objective> GetObjective(const std::string& id) = 0;
  virtual absl::Status UpdateObjective(const Objective& objective, int64_t expected_revision) = 0;
  // Deletes the objective with its key results, check-ins and links; objectives aligned
  // to it lose their parent.
  virtual absl::Status DeleteObjective(const std::string& id) = 0;
  virtual absl::StatusOr<Page<Objective>> ListObjectives(const ObjectiveFilter& filter,
                                                         const PageQuery& page) = 0;

  // Key results (identified by objective id + key result id).
  virtual absl::Status InsertKeyResult(const KeyResult& kr) = 0;
  virtual absl::StatusOr<KeyResult> GetKeyResult(const std::string& objective_id,
                                                 const std::string& id) = 0;
  virtual absl::Status UpdateKeyResult(const KeyResult& kr, int64_t expected_revision) = 0;
  // Deletes the key result with its check-ins and links.
  virtual absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id) = 0;
  virtual absl::StatusOr<Page<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                         const PageQuery& page) = 0;
  // All key results of an objective (for progress roll-up), in seq order.
  virtual absl::StatusOr<std::vector<KeyResult>> AllKeyResults(const std::string& objective_id) = 0;

  // Check-ins (append-only history).
  virtual absl::Status InsertCheckIn(const CheckIn& check_in) = 0;
  virtual absl::StatusOr<CheckIn> GetCheckIn(const std::string& objective_id,
                                             const std::string& key_result_id,
                                             const std::string& id) = 0;
  virtual absl::StatusOr<Page<CheckIn>> ListCheckIns(const std::string& objective_id,
                                                     const std::string& key_result_id,
                                                     const PageQuery& page) = 0;
};

// Tracker items: work items, their links to key results, webhook deliveries, and the
// write-back queue and state that mirror key results into the trackers.
class TrackerItemRepository {
 public:
  virtual ~TrackerItemRepository() = default;

  // Work items: one row per (tracker, key), shared by every link to it.
  virtual absl::StatusOr<std::optional<WorkItem>> GetWorkItem(Tracker tracker,
                                                              const std::string& key) = 0;
  // Inserts or replaces the item's state.
  virtual absl::Status UpsertWorkItem(const WorkItem& item) = 0;

  // Work item links. Insert fails with ALREADY_EXISTS if the key result is already
  // linked to the same (tracker, key). The link's `item` is read from the work item row.
  virtual absl::Status InsertWorkItemLink(const WorkItemLink& link) = 0;
  virtual absl::StatusOr<WorkItemLink> GetWorkItemLink(const std::string& objective_id,
                                                       const std::string& key_result_id,
                                                       const std::string& id) = 0;
  // NOT_FOUND if the key result has no link to that item.
  virtual absl::StatusOr<WorkItemLink> FindWorkItemLink(const std::string& objective_id,
                                                        const std::string& key_result_id,
                                                        Tracker tracker,
                                                        const std::string& key) = 0;
  virtual absl::Status DeleteWorkItemLink(const std::string& objective_id,
                                          const std::string& key_result_id,
                                          const std::string& id) = 0;
  virtual absl::StatusOr<Page<WorkItemLink>> ListWorkItemLinks(const std::string& objective_id,
                                                               const std::string& key_result_id,
                                                               const PageQuery& page) = 0;
  // Every link to one item, across all key results, in seq order.
  virtual absl::StatusOr<std::vector<WorkItemLink>> LinksToWorkItem(Tracker tracker,
                                                                    const std::string& key) = 0;
  // Sums over the items linked to one key result.
  virtual absl::StatusOr<WorkItemTotals> ComputeWorkItemTotals(
      const std::string& objective_id, const std::string& key_result_id) = 0;

  // ---- Tracker sync (service/sync). Work items also carry external_id and
  // source_updated, stored by UpsertWorkItem and returned by every read. ----

  // The item with this tracker id (WorkItem::external_id), or nullopt.
  virtual absl::StatusOr<std::optional<WorkItem>> GetWorkItemByExternalId(
      Tracker tracker, const std::string& external_id) {
    return absl::UnimplementedError("GetWorkItemByExternalId");
  }
  // Replaces the key of an item (Jira keys change when an issue moves), keeping its links.
  // NOT_FOUND if `old_key` is unknown, ALREADY_EXISTS if `new_key` is taken.
  virtual absl::Status RenameWorkItem(Tracker tracker, const std::string& old_key,
                                      const std::string& new_key) {
    return absl::UnimplementedError("RenameWorkItem");
  }
  // Deletes the item and every link to it. NOT_FOUND if unknown.
  virtual absl::Status DeleteWorkItem(Tracker tracker, const std::string& key) {
    return absl::UnimplementedError("DeleteWorkItem");
  }
  // Every item of one tracker that at least one key result links to, ordered by key.
  virtual absl::StatusOr<std::vector<WorkItem>> LinkedWorkItems(Tracker tracker) {
    return absl::UnimplementedError("LinkedWorkItems");
  }
  // Records a webhook delivery; ALREADY_EXISTS if this (tracker, delivery_id) was recorded
  // before (the dedupe of at-least-once deliveries).
  virtual absl::Status RecordDelivery(Tracker tracker, const std::string& delivery_id,
                                      absl::Time received) {
    return absl::UnimplementedError("RecordDelivery");
  }
  // Forgets at most `limit` deliveries received before `before` (oldest first); returns
  // how many were removed. Retention calls it in small batches, one per transaction.
  virtual absl::StatusOr<int64_t> PruneDeliveries(absl::Time before, int limit) {
    return absl::UnimplementedError("PruneDeliveries");
  }
  // Work-items key results with a Jira JQL or a GitLab project scope, in seq order.
  virtual absl::StatusOr<std::vector<KeyResult>> ScopedKeyResults() {
    return absl::UnimplementedError("ScopedKeyResults");
  }

  // Write-back queue: key results whose linked items must have the link / note in the
  // tracker refreshed (their progress, title or links changed). Enqueue is idempotent
  // (coalescing: one row per key result, `since` keeps the first enqueue time).
  virtual absl::Status EnqueueWriteBack(const std::string& objective_id,
                                        const std::string& key_result_id, absl::Time now) {
    return absl::UnimplementedError("EnqueueWriteBack");
  }
  struct WriteBackEntry {
    std::string objective_id;
    std::string key_result_id;
    absl::Time since;        // first enqueue since the last completion
    int64_t generation = 0;  // grows with every enqueue
    absl::Time due;          // not run before (moved on while its items back off)
  };
  // Up to `limit` queued key results, oldest first.
  virtual absl::StatusOr<std::vector<WriteBackEntry>> PendingWriteBacks(int limit) {
    return absl::UnimplementedError("PendingWriteBacks");
  }
  // Up to `limit` queued key results due at `now`, earliest due first (then oldest).
  virtual absl::StatusOr<std::vector<WriteBackEntry>> DueWriteBacks(absl::Time now, int limit) {
    return absl::UnimplementedError("DueWriteBacks");
  }
  // Moves the entry's next run to `due` unless it was enqueued again since it was read
  // (an enqueue makes it due at once).
  virtual absl::Status DeferWriteBack(const WriteBackEntry& entry, absl::Time due) {
    return absl::UnimplementedError("DeferWriteBack");
  }
  // Removes the entry unless it was enqueued again since it was read (generation moved).
  virtual absl::Status CompleteWriteBack(const WriteBackEntry& entry) {
    return absl::UnimplementedError("CompleteWriteBack");
  }
  // Per-item write-back state: what was last written into the tracker item (a content
  // hash), when, and a tracker-side reference (GitLab note id).
  // A failed write keeps what was written before and records the failure: consecutive
  // failures, when to try next (the backoff), and the last error (absl code and message).
  struct WriteBackState {
    std::string ref;
    std::string content_hash;
    absl::Time written = absl::InfinitePast();
    int64_t failures = 0;
    absl::Time next_attempt = absl::InfinitePast();
    int last_code = 0;  // absl::StatusCode of the last failure; 0 after a success
    std::string last_error;
  };
  // Items whose last write-back failed, counted by tracker and absl code.
  struct WriteBackFailureCount {
    Tracker tracker = Tracker::kJira;
    int code = 0;
    int64_t items = 0;
  };
  virtual absl::StatusOr<std::vector<WriteBackFailureCount>> CountWriteBackFailures() {
    return absl::UnimplementedError("CountWriteBackFailures");
  }
  virtual absl::StatusOr<std::optional<WriteBackState>> GetWriteBackState(Tracker tracker,
                                                                          const std::string& key) {
    return absl::UnimplementedError("GetWriteBackState");
  }
  virtual absl::Status PutWriteBackState(Tracker tracker, const std::string& key,
                                         const WriteBackState& state) {
    return absl::UnimplementedError("PutWriteBackState");
  }
  // Forgets what was written into an item (after the service's marks were removed).
  virtual absl::Status DeleteWriteBackState(Tracker tracker, const std::string& key) {
    return absl::UnimplementedError("DeleteWriteBackState");
  }
  // Item write-back queue: items whose set of served key results shrank where the key
  // result queue cannot reach them (unlinked; key result or objective deleted), so the
  // marks of the key results they no longer serve are removed. Coalescing like the key
  // result queue (one row per item, `since` keeps the first enqueue time).
  virtual absl::Status EnqueueItemWriteBack(Tracker tracker, const std::string& key,
                                            absl::Time now) {
    return absl::UnimplementedError("EnqueueItemWriteBack");
  }
  struct ItemWriteBackEntry {
    Tracker tracker = Tracker::kJira;
    std::string key;
    absl::Time since;        // first enqueue since the last completion
    int64_t generation = 0;  // grows with every enqueue
    absl::Time due;          // not run before (moved on while the item backs off)
  };
  // Up to `limit` queued items, oldest first.
  virtual absl::StatusOr<std::vector<ItemWriteBackEntry>> PendingItemWriteBacks(int limit) {
    return absl::UnimplementedError("PendingItemWriteBacks");
  }
  // Up to `limit` queued items due at `now`, earliest due first (then oldest).
  virtual absl::StatusOr<std::vector<ItemWriteBackEntry>> DueItemWriteBacks(absl::Time now,
                                                                            int limit) {
    return absl::UnimplementedError("DueItemWriteBacks");
  }
  // Moves the entry's next run to `due` unless it was enqueued again since it was read.
  virtual absl::Status DeferItemWriteBack(const ItemWriteBackEntry& entry, absl::Time due) {
    return absl::UnimplementedError("DeferItemWriteBack");
  }
  // Removes the entry unless it was enqueued again since it was read (generation moved).
  virtual absl::Status CompleteItemWriteBack(const ItemWriteBackEntry& entry) {
    return absl::UnimplementedError("CompleteItemWriteBack");
  }
};

// The events outbox (service/okr/events.h).
class OutboxRepository {
 public:
  virtual ~OutboxRepository() = default;

  // ---- Events outbox (service/okr/events.h) ----

  // Appends an event in this transaction and sets its sequence. Sequences grow in commit
  // order: a reader that has seen sequence N never later sees a new event below N.
  virtual absl::Status AppendEvent(Event& event) { return absl::UnimplementedError("AppendEvent"); }
  // Events after `after_sequence` in sequence order, at most `limit`, matching every set
  // field of the query (objective_id, key_result_id, team_id exactly).
  struct EventQuery {
    int64_t after_sequence = 0;
    int limit = 100;
    std::string objective_id;
    std::string key_result_id;
    std::string team_id;
  };
  virtual absl::StatusOr<std::vector<Event>> ListEvents(const EventQuery& query) {
    return absl::UnimplementedError("ListEvents");
  }
  // The highest sequence committed so far (0 if none).
  virtual absl::StatusOr<int64_t> LastEventSequence() {
    return absl::UnimplementedError("LastEventSequence");
  }
  // Deletes at most `limit` events older than `before` whose sequence is at most
  // `through_sequence` (what every subscription has delivered), lowest sequence first;
  // returns how many.
  virtual absl::StatusOr<int64_t> PruneEvents(absl::Time before, int64_t through_sequence,
                                              int limit) {
    return absl::UnimplementedError("PruneEvents");
  }
};

// Small opaque records the events layer owns.
class DocumentRepository {
 public:
  virtual ~DocumentRepository() = default;

  // ---- Documents: small records the events layer owns (subscriptions, rules, their
  // delivery and firing state), stored as an opaque payload per (kind, id). Versioned
  // like entities: Update/Delete compare the revision (ABORTED on mismatch; -1 skips the
  // check). ----
  struct Document {
    std::string kind;
    std::string id;
    std::string payload;
    EntityMeta meta;
  };
  virtual absl::Status InsertDocument(const Document& doc) {
    return absl::UnimplementedError("InsertDocument");
  }
  virtual absl::StatusOr<std::optional<Document>> GetDocument(const std::string& kind,
                                                              const std::string& id) {
    return absl::UnimplementedError("GetDocument");
  }
  virtual absl::Status UpdateDocument(const Document& doc, int64_t expected_revision) {
    return absl::UnimplementedError("UpdateDocument");
  }
  // NOT_FOUND if missing.
  virtual absl::Status DeleteDocument(const std::string& kind, const std::string& id) {
    return absl::UnimplementedError("DeleteDocument");
  }
  virtual absl::StatusOr<Page<Document>> ListDocuments(const std::string& kind,
                                                       const PageQuery& page) {
    return absl::UnimplementedError("ListDocuments");
  }
  // How many documents of `kind` exist (the limits on subscriptions, rules, tokens).
  virtual absl::StatusOr<int64_t> CountDocuments(const std::string& kind) {
    return absl::UnimplementedError("CountDocuments");
  }
};

// Idempotency records (AIP-155).
class IdempotencyRepository {
 public:
  virtual ~IdempotencyRepository() = default;

  // Request id -> resource name of the first result.
  virtual absl::StatusOr<std::optional<std::string>> GetRequestRecord(
      const std::string& request_id) = 0;
  // Records `request_id` as created at `create_time` (what retention compares).
  virtual absl::Status PutRequestRecord(const std::string& request_id,
                                        const std::string& resource_name,
                                        absl::Time create_time) = 0;
  // The same, created now (by the wall clock).
  absl::Status PutRequestRecord(const std::string& request_id, const std::string& resource_name) {
    return PutRequestRecord(request_id, resource_name, absl::Now());
  }
  // Forgets at most `limit` request ids created before `before` (oldest first); returns
  // how many. A repeated request id after that creates again.
  virtual absl::StatusOr<int64_t> PruneRequestRecords(absl::Time before, int limit) {
    return absl::UnimplementedError("PruneRequestRecords");
  }
};

// Everything one transaction can do; callers keep writing `tx.GetObjective(...)`.
class OkrTransaction : public OkrTreeRepository,
                       public TrackerItemRepository,
                       public OutboxRepository,
                       public DocumentRepository,
                       public IdempotencyRepository {
 public:
  ~OkrTransaction() override = default;
};

class OkrStore {
 public:
  virtual ~OkrStore() = default;

  // Runs `fn` in a read-write transaction; see the contract above.
  virtual absl::Status RunInTransaction(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) = 0;
  // Runs `fn` on a consistent snapshot; writes fail with FAILED_PRECONDITION.
  virtual absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) = 0;
  // OK when the database answers; used by health checks.
  virtual absl::Status Ping() = 0;
};

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_OKR_STORE_H_
