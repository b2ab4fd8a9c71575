// Steps the OkrCore use cases share inside one store transaction: stamping metadata,
// deriving expected progress and health, reading whole collections page by page, loading
// the alignment snapshot, and the progress roll-up that keeps every stored progress
// current (service/okr/progress.h, rollup.h).
//
//   OKR_RETURN_IF_ERROR(tx.UpdateKeyResult(kr, revision));
//   OKR_RETURN_IF_ERROR(RecomputeObjective(tx, kr.objective_id, now));  // and every ancestor
//
// Internal to service/core: callers are the use cases in okr_core.cc and okr_process.cc.
// Every function works on the transaction it is given and keeps no state. Errors are the
// store's (NOT_FOUND, ABORTED, ...) unless stated otherwise.
#ifndef OKR_SERVICE_CORE_STORE_HELPERS_H_
#define OKR_SERVICE_CORE_STORE_HELPERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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

// Recomputes and stores the progress of objective `id` from its key results and, when its
// progress_source is KEY_RESULTS_AND_CHILDREN, its child objectives (rollup.h
// ObjectiveProgressWithChildren). If the progress changed, its parent is recomputed in
// turn when the parent's progress_source includes children, and so on up the chain:
// O(depth + fan-in) reads. A parent that does not exist ends the walk. NOT_FOUND if `id`
// does not exist; FAILED_PRECONDITION for a parent chain longer than kMaxParentDepth.
absl::Status RecomputeObjective(storage::OkrTransaction& tx, const std::string& id, absl::Time now);

// Recomputes the key result's stored progress (refreshing work item totals) and stores
// it with a new revision; `kr` must be the stored state plus the caller's changes, with
// `expected_revision` the stored revision. Queues the tracker write-back of its links and
// rolls the change up (RecomputeObjective).
absl::Status StoreKeyResult(storage::OkrTransaction& tx, KeyResult& kr, int64_t expected_revision,
                            absl::Time now);
// StoreKeyResult of the stored key result.
absl::Status RefreshKeyResult(storage::OkrTransaction& tx, const std::string& objective_id,
                              const std::string& key_result_id, absl::Time now);

}  // namespace okr::core::internal

#endif  // OKR_SERVICE_CORE_STORE_HELPERS_H_
