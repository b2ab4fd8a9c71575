#include "service/core/store_helpers.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "service/core/okr_core.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/rollup.h"
#include "service/okr/status_macros.h"

namespace okr::core::internal {
namespace {

using storage::OkrTransaction;
using storage::PageQuery;

}  // namespace

namespace {
// The stores keep times in microseconds: what a write returns is what a read returns.
absl::Time StoredTime(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }
}  // namespace

void Touch(EntityMeta& meta, absl::Time now) {
  meta.revision += 1;
  meta.update_time = StoredTime(now);
}

void NewMeta(EntityMeta& meta, absl::Time now) {
  meta.seq = 0;
  meta.revision = 1;
  meta.create_time = StoredTime(now);
  meta.update_time = StoredTime(now);
}

void Derive(Objective& o, const Cycle& cycle, absl::Time now) {
  o.expected_progress = ExpectedProgress(cycle.start_time, cycle.end_time, now);
  o.health = ComputeHealth(o.progress, o.expected_progress, cycle.start_time, now);
}

void Derive(KeyResult& kr, const Cycle& cycle, absl::Time now) {
  kr.expected_progress = ExpectedProgress(cycle.start_time, cycle.end_time, now);
  kr.health = ComputeHealth(kr.progress, kr.expected_progress, cycle.start_time, now);
}

absl::Status CheckEtag(const std::string& etag, int64_t revision, absl::string_view what) {
  if (!etag.empty() && etag != FormatEtag(revision)) {
    return absl::AbortedError(absl::StrCat(what, ": etag \"", etag.substr(0, 64),
                                           "\" does not match the current etag \"",
                                           FormatEtag(revision), "\"; read it again"));
  }
  return absl::OkStatus();
}

absl::Status ReferenceError(const absl::Status& status, absl::string_view field,
                            absl::string_view name) {
  if (absl::IsNotFound(status)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", name, " does not exist"));
  }
  return status;
}

absl::StatusOr<Objective> ReadObjective(OkrTransaction& tx, const std::string& id, absl::Time now) {
  OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(id));
  OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
  Derive(o, c, now);
  return o;
}

absl::StatusOr<KeyResult> ReadKeyResult(OkrTransaction& tx, const std::string& objective_id,
                                        const std::string& id, absl::Time now) {
  OKR_ASSIGN_OR_RETURN(KeyResult kr, tx.GetKeyResult(objective_id, id));
  OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(objective_id));
  OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
  Derive(kr, c, now);
  return kr;
}

absl::StatusOr<std::vector<Team>> AllTeams(OkrTransaction& tx) {
  return CollectPages<Team>([&](const PageQuery& q) { return tx.ListTeams("", q); });
}

absl::StatusOr<std::vector<Cycle>> AllCycles(OkrTransaction& tx) {
  return CollectPages<Cycle>([&](const PageQuery& q) { return tx.ListCycles(q); });
}

absl::StatusOr<std::vector<Objective>> AllObjectives(OkrTransaction& tx,
                                                     const storage::ObjectiveFilter& filter) {
  return CollectPages<Objective>([&](const PageQuery& q) { return tx.ListObjectives(filter, q); });
}

absl::StatusOr<std::vector<WorkItemLink>> AllWorkItemLinks(OkrTransaction& tx,
                                                           const std::string& objective_id,
                                                           const std::string& key_result_id) {
  return CollectPages<WorkItemLink>(
      [&](const PageQuery& q) { return tx.ListWorkItemLinks(objective_id, key_result_id, q); });
}

absl::StatusOr<AlignmentSnapshot> LoadAlignmentSnapshot(
    OkrTransaction& tx, absl::Time now, bool all_key_results,
    const std::vector<std::string>& contributes_to) {
  AlignmentSnapshot snapshot;
  snapshot.now = now;
  OKR_ASSIGN_OR_RETURN(snapshot.teams, AllTeams(tx));
  OKR_ASSIGN_OR_RETURN(snapshot.cycles, AllCycles(tx));
  OKR_ASSIGN_OR_RETURN(snapshot.objectives, AllObjectives(tx, {}));
  if (all_key_results) {
    for (const Objective& o : snapshot.objectives) {
      OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs, tx.AllKeyResults(o.id));
      for (KeyResult& kr : krs) snapshot.key_results.push_back(std::move(kr));
    }
    return snapshot;
  }
  for (const std::string& name : contributes_to) {
    absl::StatusOr<names::KeyResultName> parsed =
        names::ParseKeyResult(name, "objective.contributes_to");
    if (!parsed.ok()) continue;  // ValidateAlignmentOnWrite reports it
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult(parsed->objective_id, parsed->key_result_id);
    if (absl::IsNotFound(kr.status())) continue;  // likewise
    OKR_RETURN_IF_ERROR(kr.status());
    snapshot.key_results.push_back(*std::move(kr));
  }
  return snapshot;
}

absl::Status RecomputeObjective(OkrTransaction& tx, const std::string& id, absl::Time now) {
  OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(id));
  for (int depth = 0;; ++depth) {
    if (depth > kMaxParentDepth) {
      return absl::FailedPreconditionError(
          absl::StrCat("objective.parent: the alignment chain above ", names::Objective(id),
                       " is deeper than ", kMaxParentDepth, " levels"));
    }
    OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs, tx.AllKeyResults(o.id));
    std::vector<Objective> children;
    if (o.progress_source == ProgressSource::kKeyResultsAndChildren) {
      storage::ObjectiveFilter filter;
      filter.parent_id = o.id;
      OKR_ASSIGN_OR_RETURN(children, AllObjectives(tx, filter));
    }
    const double progress =
        ObjectiveProgressWithChildren(krs, ChildProgressAndWeight(children), o.progress_source);
    if (progress == o.progress) return absl::OkStatus();
    const int64_t revision = o.meta.revision;
    o.progress = progress;
    Touch(o.meta, now);
    OKR_RETURN_IF_ERROR(tx.UpdateObjective(o, revision));
    if (o.parent_id.empty()) return absl::OkStatus();
    absl::StatusOr<Objective> parent = tx.GetObjective(o.parent_id);
    if (absl::IsNotFound(parent.status())) return absl::OkStatus();  // a root after all
    OKR_RETURN_IF_ERROR(parent.status());
    if (parent->progress_source != ProgressSource::kKeyResultsAndChildren) {
      return absl::OkStatus();
    }
    o = *std::move(parent);
  }
}

absl::Status StoreKeyResult(OkrTransaction& tx, KeyResult& kr, int64_t expected_revision,
                            absl::Time now) {
  if (kr.type == KeyResultType::kWorkItems) {
    OKR_ASSIGN_OR_RETURN(kr.totals, tx.ComputeWorkItemTotals(kr.objective_id, kr.id));
  }
  const KeyResultProgress p = ComputeKeyResultProgress(kr);
  kr.progress = p.progress;
  kr.raw_progress = p.raw_progress;
  Touch(kr.meta, now);
  OKR_RETURN_IF_ERROR(tx.UpdateKeyResult(kr, expected_revision));
  OKR_RETURN_IF_ERROR(tx.EnqueueWriteBack(kr.objective_id, kr.id, now));
  return RecomputeObjective(tx, kr.objective_id, now);
}

absl::Status RefreshKeyResult(OkrTransaction& tx, const std::string& objective_id,
                              const std::string& key_result_id, absl::Time now) {
  OKR_ASSIGN_OR_RETURN(KeyResult kr, tx.GetKeyResult(objective_id, key_result_id));
  const int64_t revision = kr.meta.revision;
  return StoreKeyResult(tx, kr, revision, now);
}

}  // namespace okr::core::internal
