// OkrCore: the use cases of okr-service (create/read/update/delete of the OKR model,
// check-ins, work item links, and the OKR process: lifecycle, alignment, grading) on top
// of an OkrStore. Each call is one store transaction that validates the input, applies
// the change and recomputes the stored progress of the affected key results and
// objectives and of every objective above them that rolls up its children (progress
// rules: service/okr/progress.h, rollup.h), so a read right after a write sees the new
// values. Expected progress and health are derived at read time from the cycle and the
// injected clock.
//
// The process rules are the domain's (service/okr/lifecycle.h, alignment.h, scoring.h):
// the state changes only through Propose/Agree/Reopen/Close; edits that change what an
// AGREED objective commits to (title, parent, team, cycle, kind, contributes_to,
// depends_on, key result targets) need `reopen`; alignment loops are rejected on write;
// other alignment findings are reported by CheckAlignment, and ERROR ones block Agree.
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
#include "service/core/paging.h"
#include "service/okr/alignment.h"
#include "service/okr/clock.h"
#include "service/okr/model.h"
#include "service/okr/scoring.h"
#include "service/storage/okr_store.h"

namespace okr::core {

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

// One objective of an alignment tree (derived fields filled in) with the objectives
// aligned to it (whose parent it is), in creation order.
struct AlignmentNode {
  Objective objective;
  std::vector<AlignmentNode> children;
};

// Which tree GetAlignmentTree returns: the tree under `root_id`, or (root_id empty) the
// trees under the objectives of `team_id` in `cycle_id` whose parent is empty or belongs
// to another team. `depth`: levels below the roots to include; 0 means all.
struct AlignmentTreeQuery {
  std::string root_id;
  std::string team_id;
  std::string cycle_id;
  int32_t depth = 0;
};

// Opaque etag of an entity revision.
std::string FormatEtag(int64_t revision);

// AIP-160 filter and AIP-132 ordering of a List call (grammar: service/okr/list_filter.h).
// Objectives filter on health, team, cycle, state; key results on health, team, cycle,
// objective.state; both order by progress and update_time (ties, and no ordering, keep
// creation order). A listing with either is computed from one snapshot per page and paged
// by offset: items that change between two pages may move across the page boundary.
struct ListQuery {
  std::string filter;
  std::string order_by;
};

// ListKeyResults' objective id for "every objective" (`objectives/-`, AIP-159).
inline constexpr char kAnyObjective[] = "-";

class OkrCore {
 public:
  OkrCore(storage::OkrStore& store, const Clock& clock) : store_(store), clock_(clock) {}
  const Clock& clock() const { return clock_; }

  // Teams. `team.id` may be empty (an id is generated).
  absl::StatusOr<Team> CreateTeam(Team team, const std::string& request_id);
  absl::StatusOr<Team> GetTeam(const std::string& id);
  // The team's id, then its parent's, ..., up to the root, read in one snapshot (what an
  // EDITOR scope is checked against, service/okr/access.h). A missing team ends the chain
  // (it is then just `{id}`); a chain longer than the roll-up's depth limit is cut there.
  absl::StatusOr<std::vector<std::string>> TeamAndAncestors(const std::string& id);
  absl::StatusOr<ListResult<Team>> ListTeams(const std::string& parent_id, const PageRequest& page);
  // Applies the fields named in `paths` (display_name, parent, jira_project_key,
  // gitlab_project) when `etag` is empty or matches (ABORTED naming team.etag otherwise).
  // A new parent must exist (INVALID_ARGUMENT naming team.parent) and must not be the team
  // or one of its sub-teams.
  absl::StatusOr<Team> UpdateTeam(const Team& patch, const std::vector<std::string>& paths,
                                  const std::string& etag);
  // Deletes a team. While objectives or sub-teams refer to it, FAILED_PRECONDITION naming
  // one of them unless `force`: then, in the same transaction, its objectives are deleted
  // (with their key results, check-ins and links; objectives aligned to them lose their
  // parent, and their parents are recomputed) and its sub-teams move up to its parent
  // (they become roots if it had none), keeping their own objectives.
  absl::Status DeleteTeam(const std::string& id, const std::string& etag, bool force);

  // Cycles.
  absl::StatusOr<Cycle> CreateCycle(Cycle cycle, const std::string& request_id);
  absl::StatusOr<Cycle> GetCycle(const std::string& id);
  absl::StatusOr<ListResult<Cycle>> ListCycles(const PageRequest& page);
  // Applies display_name, start_time, end_time (validated like CreateCycle) when `etag`
  // is empty or matches. Expected progress and health of its objectives follow at once.
  absl::StatusOr<Cycle> UpdateCycle(const Cycle& patch, const std::vector<std::string>& paths,
                                    const std::string& etag);
  // Deletes a cycle. While objectives refer to it, FAILED_PRECONDITION naming one of them
  // unless `force`: then those objectives are deleted with it (as DeleteTeam does).
  absl::Status DeleteCycle(const std::string& id, const std::string& etag, bool force);

  // Objectives. Create stores a DRAFT (output-only fields are reset) after checking its
  // references and alignment (alignment.h ValidateAlignmentOnWrite: parent of an ancestor
  // team or enclosing cycle, existing contributes_to/depends_on targets, no loop), each
  // error INVALID_ARGUMENT naming the field. Update applies the fields named in `paths`
  // (title, description, team, cycle, parent, kind, progress_source, weight,
  // contributes_to, depends_on) when `etag` is empty or matches; a guarded edit of an
  // AGREED objective fails with FAILED_PRECONDITION unless `reopen`, which sends it back
  // to PROPOSED and records the change in reopen_reason. Moving an objective, changing
  // its weight or progress_source, creating and deleting one recompute the parents
  // concerned.
  absl::StatusOr<Objective> CreateObjective(Objective objective, const std::string& request_id);
  absl::StatusOr<Objective> GetObjective(const std::string& id);
  absl::StatusOr<ListResult<Objective>> ListObjectives(const storage::ObjectiveFilter& filter,
                                                       const PageRequest& page,
                                                       const ListQuery& query = {});
  absl::StatusOr<Objective> UpdateObjective(const Objective& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& etag, bool reopen = false);
  absl::Status DeleteObjective(const std::string& id, const std::string& etag, bool force);

  // Key results. Update paths: title, weight, metric.start_value, metric.target_value,
  // metric.current_value, metric.unit, metric.metric_key, milestone.done. The kind never
  // changes. Changing start/target/metric_key of a key result of an AGREED objective needs
  // `reopen` (the objective goes back to PROPOSED); current values never do. Adding or
  // removing a key result of an AGREED objective fails with FAILED_PRECONDITION (reopen
  // the objective first); of a CLOSED one always.
  absl::StatusOr<KeyResult> CreateKeyResult(KeyResult kr, const std::string& request_id);
  absl::StatusOr<KeyResult> GetKeyResult(const std::string& objective_id, const std::string& id);
  // `objective_id` kAnyObjective lists the key results of every objective (objective by
  // objective in creation order unless ordered).
  absl::StatusOr<ListResult<KeyResult>> ListKeyResults(const std::string& objective_id,
                                                       const PageRequest& page,
                                                       const ListQuery& query = {});
  absl::StatusOr<KeyResult> UpdateKeyResult(const KeyResult& patch,
                                            const std::vector<std::string>& paths,
                                            const std::string& etag, bool reopen = false);
  absl::Status DeleteKeyResult(const std::string& objective_id, const std::string& id,
                               const std::string& etag);

  // Check-ins: metric values become current_value; milestone values 1/0 set done.
  absl::StatusOr<CheckIn> CreateCheckIn(CheckIn check_in, const std::string& request_id);
  // NOT_FOUND if the check-in (or its key result) does not exist.
  absl::StatusOr<CheckIn> GetCheckIn(const std::string& objective_id,
                                     const std::string& key_result_id, const std::string& id);
  absl::StatusOr<ListResult<CheckIn>> ListCheckIns(const std::string& objective_id,
                                                   const std::string& key_result_id,
                                                   const PageRequest& page);

  // Work item links. Linking an item the service already knows keeps its known state
  // (filling in a missing title/url). Only work-items key results count items in their
  // progress; links on other kinds only show which key result an item serves.
  absl::StatusOr<WorkItemLink> LinkWorkItem(const std::string& objective_id,
                                            const std::string& key_result_id, WorkItem item,
                                            const std::string& request_id);
  absl::Status UnlinkWorkItem(const std::string& objective_id, const std::string& key_result_id,
                              const std::string& link_id);
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

  // ---- The OKR process (service/okr/lifecycle.h, alignment.h, scoring.h) ----

  // DRAFT -> PROPOSED. FAILED_PRECONDITION from any other state; ABORTED for a stale etag.
  absl::StatusOr<Objective> ProposeObjective(const std::string& id, const std::string& etag);
  // Records that `team_id` agrees (who: `agreed_by`, when: now). The objective becomes
  // AGREED once its own team and the team of every objective it depends on have agreed.
  // FAILED_PRECONDITION if it is not PROPOSED/AGREED, if the team is no party to it, or if
  // an ERROR alignment finding blocks it (the message names the finding code). A repeat by
  // a team that already agreed is an idempotent success.
  absl::StatusOr<Objective> AgreeObjective(const std::string& id, const std::string& team_id,
                                           const std::string& agreed_by);
  // PROPOSED or AGREED -> DRAFT, clearing the agreements and recording `reason`.
  absl::StatusOr<Objective> ReopenObjective(const std::string& id, const std::string& reason);
  // AGREED -> CLOSED, graded: every key result gets its score (its progress, or the
  // explicit score given for it by key result id, with a reason), the objective the
  // weighted mean (with its children's scores when it rolls up children) and an outcome
  // against its kind (committed 1.0, aspirational 0.7).
  absl::StatusOr<Objective> CloseObjective(const std::string& id,
                                           const ExplicitScores& key_result_scores);
  // Copies an unfinished aspirational objective (AGREED or CLOSED) into cycle
  // `next_cycle_id` as a DRAFT with id `new_id` (generated if empty), with its key results
  // (same ids) and their tracker links. INVALID_ARGUMENT naming `cycle` for a missing
  // cycle; ALREADY_EXISTS if `new_id` is taken.
  absl::StatusOr<Objective> CarryOverObjective(const std::string& id,
                                               const std::string& next_cycle_id,
                                               const std::string& new_id);
  // The alignment tree (see AlignmentTreeQuery). NOT_FOUND for a missing root, team or
  // cycle; INVALID_ARGUMENT if neither a root nor team and cycle are given.
  absl::StatusOr<std::vector<AlignmentNode>> GetAlignmentTree(const AlignmentTreeQuery& query);
  // The alignment findings of objectives of `cycle_id` (and of `team_id`, if set) over the
  // whole store (alignment.h CheckAlignment). NOT_FOUND for a missing cycle or team.
  absl::StatusOr<std::vector<Finding>> CheckAlignment(const std::string& cycle_id,
                                                      const std::string& team_id);

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
