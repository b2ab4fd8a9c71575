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
#ifndef OKR_SERVICE_STORAGE_OKR_STORE_H_
#define OKR_SERVICE_STORAGE_OKR_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

// Operations available inside one transaction. Update* and Delete* of a versioned entity
// compare `expected_revision` with the stored revision and fail with ABORTED on mismatch;
// Update* stores the entity as given (the caller sets the new revision/update_time).
class OkrTransaction {
 public:
  virtual ~OkrTransaction() = default;

  // Teams.
  virtual absl::Status InsertTeam(const Team& team) = 0;
  virtual absl::StatusOr<Team> GetTeam(const std::string& id) = 0;
  virtual absl::StatusOr<Page<Team>> ListTeams(const std::string& parent_id,
                                               const PageQuery& page) = 0;

  // Cycles.
  virtual absl::Status InsertCycle(const Cycle& cycle) = 0;
  virtual absl::StatusOr<Cycle> GetCycle(const std::string& id) = 0;
  virtual absl::StatusOr<Page<Cycle>> ListCycles(const PageQuery& page) = 0;

  // Objectives.
  virtual absl::Status InsertObjective(const Objective& objective) = 0;
  virtual absl::StatusOr<Objective> GetObjective(const std::string& id) = 0;
  virtual absl::Status UpdateObjective(const Objective& objective,
                                       int64_t expected_revision) = 0;
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
  virtual absl::Status DeleteKeyResult(const std::string& objective_id,
                                       const std::string& id) = 0;
  virtual absl::StatusOr<Page<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                         const PageQuery& page) = 0;
  // All key results of an objective (for progress roll-up), in seq order.
  virtual absl::StatusOr<std::vector<KeyResult>> AllKeyResults(
      const std::string& objective_id) = 0;

  // Check-ins (append-only history).
  virtual absl::Status InsertCheckIn(const CheckIn& check_in) = 0;
  virtual absl::StatusOr<CheckIn> GetCheckIn(const std::string& objective_id,
                                             const std::string& key_result_id,
                                             const std::string& id) = 0;
  virtual absl::StatusOr<Page<CheckIn>> ListCheckIns(const std::string& objective_id,
                                                     const std::string& key_result_id,
                                                     const PageQuery& page) = 0;

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
  virtual absl::StatusOr<Page<WorkItemLink>> ListWorkItemLinks(
      const std::string& objective_id, const std::string& key_result_id,
      const PageQuery& page) = 0;
  // Every link to one item, across all key results, in seq order.
  virtual absl::StatusOr<std::vector<WorkItemLink>> LinksToWorkItem(
      Tracker tracker, const std::string& key) = 0;
  // Sums over the items linked to one key result.
  virtual absl::StatusOr<WorkItemTotals> ComputeWorkItemTotals(
      const std::string& objective_id, const std::string& key_result_id) = 0;

  // Idempotency records (AIP-155): request_id -> resource name of the first result.
  virtual absl::StatusOr<std::optional<std::string>> GetRequestRecord(
      const std::string& request_id) = 0;
  virtual absl::Status PutRequestRecord(const std::string& request_id,
                                        const std::string& resource_name) = 0;
};

class OkrStore {
 public:
  virtual ~OkrStore() = default;

  // Runs `fn` in a read-write transaction; see the contract above.
  virtual absl::Status RunInTransaction(
      absl::FunctionRef<absl::Status(OkrTransaction&)> fn) = 0;
  // Runs `fn` on a consistent snapshot; writes fail with FAILED_PRECONDITION.
  virtual absl::Status RunReadOnly(absl::FunctionRef<absl::Status(OkrTransaction&)> fn) = 0;
  // OK when the database answers; used by health checks.
  virtual absl::Status Ping() = 0;
};

}  // namespace okr::storage

#endif  // OKR_SERVICE_STORAGE_OKR_STORE_H_
