// OkrCore: the use cases of okr-service (create/read/update/delete of the OKR model,
// check-ins, work item links) on top of an OkrStore. Each call is one store transaction
// that validates the input, applies the change and recomputes the stored progress of the
// affected key results and objectives (progress rules: service/okr/progress.h), so a read
// right after a write sees the new values. Expected progress and health are derived at
// read time from the cycle and the injected clock.
//
// Callers (the gRPC API, the tracker sync layer) parse resource names into ids first and
// pass domain structs. Errors are absl::Status with the field named in the message:
// INVALID_ARGUMENT (bad input or a reference to a missing resource), NOT_FOUND (the
// addressed resource), ABORTED (stale etag), FAILED_PRECONDITION (state forbids it).
// Thread-safe: holds no mutable state of its own.
#ifndef OKR_SERVICE_CORE_OKR_CORE_H_
#define OKR_SERVICE_CORE_OKR_CORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/okr/clock.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"

namespace okr::core {

// Paging request of a List call (AIP-158).
struct PageRequest {
  int32_t page_size = 0;  // 0: default (50); at most 1000; negative is invalid
  std::string page_token;
};

template <typename T>
struct ListResult {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

// One key result a tracker item serves, with its objective.
struct WorkItemLinkTarget {
  WorkItemLink link;
  KeyResult key_result;
  Objective objective;
};

// What applying one tracker update did (service/sync reports it to the tracker's
// webhook metrics and logs).
enum class SyncOutcome {
  kApplied,    // the item changed; linked key results were updated
  kUnchanged,  // newer than what we held but nothing that matters changed
  kStale,      // older than the state we hold: ignored
  kDuplicate,  // this delivery id was applied before: ignored
  kUntracked,  // no key result links this item: ignored
};
const char* SyncOutcomeName(SyncOutcome outcome);

struct TrackerDeletion {
  SyncOutcome outcome = SyncOutcome::kUntracked;
  // Key results the item was removed from (`objectives/{o}/keyResults/{k}`).
  std::vector<std::string> key_results;
};

// The result of reconciling a key result's tracker scope with the current matches.
struct ScopeChange {
  std::vector<std::string> linked;    // work item keys newly linked
  std::vector<std::string> unlinked;  // work item keys no longer matching
};

// Opaque etag of an entity revision.
std::string FormatEtag(int64_t revision);

class OkrCore {
 public:
  OkrCore(storage::OkrStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Teams. `team.id` may be empty (an id is generated).
  absl::StatusOr<Team> CreateTeam(Team team, const std::string& request_id);
  absl::StatusOr<Team> GetTeam(const std::string& id);
  absl::StatusOr<ListResult<Team>> ListTeams(const std::string& parent_id,
                                             const PageRequest& page);

  // Cycles.
  absl::StatusOr<Cycle> CreateCycle(Cycle cycle, const std::string& request_id);
  absl::StatusOr<Cycle> GetCycle(const std::string& id);
  absl::StatusOr<ListResult<Cycle>> ListCycles(const PageRequest& page);

  // Objectives. Update applies the fields named in `paths` (title, description, team,
  // cycle, parent, kind) when `etag` is empty or matches.
  absl::StatusOr<Objective> CreateObjective(Objective objective, const std::string& request_id);
  absl::StatusOr<Objective> GetObjective(const std::string& id);
  absl::StatusOr<ListResult<Objective>> ListObjectives(const storage::ObjectiveFilter& filter,
                                                       const PageRequest& page);
  absl::StatusOr<Objective> UpdateObjective(const Objective& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& etag);
  absl::Status DeleteObjective(const std::string& id, const std::string& etag, bool force);

  // Key results. Update paths: title, weight, metric.start_value, metric.target_value,
  // metric.current_value, metric.unit, milestone.done. The kind never changes.
  absl::StatusOr<KeyResult> CreateKeyResult(KeyResult kr, const std::string& request_id);
  absl::StatusOr<KeyResult> GetKeyResult(const std::string& objective_id,
                                         const std::string& id);
  absl::StatusOr<ListResult<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                       const PageRequest& page);
  absl::StatusOr<KeyResult> UpdateKeyResult(const KeyResult& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& etag);
  absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id,
                               const std::string& etag);

  // Check-ins: metric values become current_value; milestone values 1/0 set done.
  absl::StatusOr<CheckIn> CreateCheckIn(CheckIn check_in, const std::string& request_id);
  absl::StatusOr<ListResult<CheckIn>> ListCheckIns(const std::string& objective_id,
                                                   const std::string& key_result_id,
                                                   const PageRequest& page);

  // Work item links. Linking an item the service already knows keeps its known state
  // (filling in a missing title/url). Only work-items key results count items in their
  // progress; links on other kinds only show which key result an item serves.
  absl::StatusOr<WorkItemLink> LinkWorkItem(const std::string& objective_id,
                                            const std::string& key_result_id,
                                            WorkItem item, const std::string& request_id);
  absl::Status UnlinkWorkItem(const std::string& objective_id,
                              const std::string& key_result_id, const std::string& link_id);
  absl::Status UnlinkWorkItemByKey(const std::string& objective_id,
                                   const std::string& key_result_id, Tracker tracker,
                                   const std::string& key);
  absl::StatusOr<ListResult<WorkItemLink>> ListWorkItemLinks(const std::string& objective_id,
                                                             const std::string& key_result_id,
                                                             const PageRequest& page);
  absl::StatusOr<std::vector<WorkItemLinkTarget>> FindWorkItemLinks(Tracker tracker,
                                                                    const std::string& key);
  // Updates the known state of an item (paths: title, url, done, weight) and the progress
  // of every key result it is linked to. NOT_FOUND if the item is linked nowhere.
  absl::StatusOr<WorkItem> UpdateWorkItem(const WorkItem& patch,
                                          const std::vector<std::string>& paths);

  // ---- Tracker sync (called by service/sync for webhooks and reconciliation) ----

  // Applies the tracker's current state of one item (identified by external_id, else by
  // tracker + key) to every key result linking it, in one transaction: a delivery id seen
  // before, a state older than the one held, or an item nobody links changes nothing.
  // A changed key (moved Jira issue) is followed. Weight: the tracker's value, 1 if none.
  absl::StatusOr<SyncOutcome> ApplyTrackerUpdate(const WorkItem& state,
                                                 const std::string& delivery_id);
  // The item was deleted in the tracker: it leaves every key result (reported back).
  absl::StatusOr<TrackerDeletion> ApplyTrackerDeletion(Tracker tracker,
                                                       const std::string& external_id,
                                                       const std::string& key,
                                                       const std::string& delivery_id);
  // Makes the tracker links of a scoped key result match `matches` exactly: links new
  // matches (with their state), unlinks items of the same tracker that no longer match.
  absl::StatusOr<ScopeChange> ApplyScope(const std::string& objective_id,
                                         const std::string& key_result_id, Tracker tracker,
                                         const std::vector<WorkItem>& matches);

 private:
  storage::OkrStore& store_;
  const Clock& clock_;
};

}  // namespace okr::core

#endif  // OKR_SERVICE_CORE_OKR_CORE_H_
