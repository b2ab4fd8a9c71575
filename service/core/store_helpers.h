// Steps the OkrCore use cases share inside one store transaction: stamping metadata,
// deriving expected progress and health, reading whole collections page by page, loading
// the alignment snapshot, and the progress roll-up that keeps every stored progress
// current (service/okr/progress.h, rollup.h).
//
//   OKR_ASSIGN_OR_RETURN(KeyResult* kr, uow.LoadKeyResult(objective_id, id));
//   kr->milestone_done = true;
//   OKR_RETURN_IF_ERROR(SaveKeyResult(uow, *kr));  // progress, write-back, every ancestor
//
// Internal to service/core: callers are the use cases in okr_core.cc and okr_process.cc.
// Every function works on the transaction (or unit of work) it is given and keeps no state. Errors
// are the store's (NOT_FOUND, ABORTED, ...) unless stated otherwise.
#ifndef OKR_SERVICE_CORE_STORE_HELPERS_H_
#define OKR_SERVICE_CORE_STORE_HELPERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/core/unit_of_work.h"
#include "service/okr/alignment.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"

namespace okr::core::internal {

// Longest parent chain the roll-up follows; longer ones mean corrupt data.
inline constexpr int kMaxParentDepth = 1000;

// A new revision stamped `now`.
void Touch(EntityMeta& meta, absl::Time now);
// The metadata of a new entity created `now` (revision 1; the store assigns seq). Both
// keep times at the stores' microsecond precision.
void NewMeta(EntityMeta& meta, absl::Time now);

// Expected progress and health of an entity of `cycle` at `now`.
void Derive(Objective& o, const Cycle& cycle, absl::Time now);
void Derive(KeyResult& kr, const Cycle& cycle, absl::Time now);

// ABORTED naming `what` if `etag` is set and does not match `revision`.
absl::Status CheckEtag(const std::string& etag, int64_t revision, absl::string_view what);

// Turns the store's NOT_FOUND for a referenced resource into INVALID_ARGUMENT naming the
// request field that referenced it.
absl::Status ReferenceError(const absl::Status& status, absl::string_view field,
                            absl::string_view name);

// Reads with the derived fields filled in.
absl::StatusOr<Objective> ReadObjective(storage::OkrTransaction& tx, const std::string& id,
                                        absl::Time now);
absl::StatusOr<KeyResult> ReadKeyResult(storage::OkrTransaction& tx,
                                        const std::string& objective_id, const std::string& id,
                                        absl::Time now);

// Calls `fetch(query)` page after page (seq order) and collects every row.
template <typename T, typename Fetch>
absl::StatusOr<std::vector<T>> CollectPages(Fetch fetch) {
  std::vector<T> all;
  storage::PageQuery q{0, 1000};
  while (true) {
    absl::StatusOr<storage::Page<T>> page = fetch(q);
    if (!page.ok()) return page.status();
    const bool more = page->has_more && !page->items.empty();
    if (more) q.after_seq = page->items.back().meta.seq;
    for (T& item : page->items) all.push_back(std::move(item));
    if (!more) return all;
  }
}

// Whole collections, paged through in seq order.
absl::StatusOr<std::vector<Team>> AllTeams(storage::OkrTransaction& tx);
absl::StatusOr<std::vector<Cycle>> AllCycles(storage::OkrTransaction& tx);
absl::StatusOr<std::vector<Objective>> AllObjectives(storage::OkrTransaction& tx,
                                                     const storage::ObjectiveFilter& filter);
absl::StatusOr<std::vector<WorkItemLink>> AllWorkItemLinks(storage::OkrTransaction& tx,
                                                           const std::string& objective_id,
                                                           const std::string& key_result_id);

// The alignment snapshot (service/okr/alignment.h) of the whole store at `now`: every
// team, cycle and objective; every key result if `all_key_results`, else only those named
// in `contributes_to` that exist (enough for the write-time validators, which follow
// objectives and resolve only the candidate's contributes_to).
absl::StatusOr<AlignmentSnapshot> LoadAlignmentSnapshot(
    storage::OkrTransaction& tx, absl::Time now, bool all_key_results,
    const std::vector<std::string>& contributes_to = {});

// ---- Over a UnitOfWork (unit_of_work.h): the rows it holds, changed in memory ----

// Recomputes the progress of objective `id` from its key results and, when its
// progress_source is KEY_RESULTS_AND_CHILDREN, its child objectives (rollup.h
// ObjectiveProgressWithChildren), as the unit holds them. If the progress changed, the
// objective is marked changed and its parent is recomputed in turn when the parent's
// progress_source includes children, and so on up the chain. A parent that does not
// exist ends the walk. NOT_FOUND if `id` does not exist; FAILED_PRECONDITION for a parent
// chain longer than kMaxParentDepth.
absl::Status RollUp(UnitOfWork& uow, const std::string& id);

// Recomputes the stored progress of `kr` (a row of `uow`) from its fields as they are
// (work item totals included: callers keep them current, see AdjustTotals), marks it
// changed, queues the tracker write-back of its links and rolls the change up.
absl::Status SaveKeyResult(UnitOfWork& uow, KeyResult& kr);
// SaveKeyResult after re-aggregating a work-items key result's totals over all its links
// (ComputeWorkItemTotals): for reconciliation paths that change many links at once.
absl::Status RecountKeyResult(UnitOfWork& uow, KeyResult& kr);

// Adjusts the totals of a key result when one linked item goes from `before` to `after`
// (nullptr: not linked before / not linked any more): the same sums ComputeWorkItemTotals
// gives, without reading the other links.
void AdjustTotals(WorkItemTotals& totals, const WorkItem* before, const WorkItem* after);

// Applies one item's change (`before` -> `after`, nullptr: the item is gone) to every key
// result that `links` (the links to the item) name: work-items totals by delta, then
// SaveKeyResult of each, in link order.
absl::Status ApplyItemChange(UnitOfWork& uow, const std::vector<WorkItemLink>& links,
                             const WorkItem& before, const WorkItem* after);

// The unit's objective / key result with the derived fields filled in (what a write
// returns to its caller).
absl::StatusOr<Objective> DerivedObjective(UnitOfWork& uow, const std::string& id);
absl::StatusOr<KeyResult> DerivedKeyResult(UnitOfWork& uow, const std::string& objective_id,
                                           const std::string& id);

}  // namespace okr::core::internal

#endif  // OKR_SERVICE_CORE_STORE_HELPERS_H_
