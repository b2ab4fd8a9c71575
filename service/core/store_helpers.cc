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

absl::Status RollUp(UnitOfWork& uow, const std::string& id) {
  OKR_ASSIGN_OR_RETURN(Objective * o, uow.LoadObjective(id));
  for (int depth = 0;; ++depth) {
    if (depth > kMaxParentDepth) {
      return absl::FailedPreconditionError(
          absl::StrCat("objective.parent: the alignment chain above ", names::Objective(id),
                       " is deeper than ", kMaxParentDepth, " levels"));
    }
    OKR_ASSIGN_OR_RETURN(std::vector<KeyResult*> kr_rows, uow.LoadKeyResults(o->id));
    std::vector<KeyResult> krs;
    krs.reserve(kr_rows.size());
    for (const KeyResult* kr : kr_rows) krs.push_back(*kr);
    std::vector<Objective> children;
    if (o->progress_source == ProgressSource::kKeyResultsAndChildren) {
      OKR_ASSIGN_OR_RETURN(std::vector<Objective*> rows, uow.LoadChildren(o->id));
      for (const Objective* c : rows) children.push_back(*c);
    }
    const double progress =
        ObjectiveProgressWithChildren(krs, ChildProgressAndWeight(children), o->progress_source);
    if (progress == o->progress) return absl::OkStatus();
    o->progress = progress;
    OKR_RETURN_IF_ERROR(uow.Changed(*o));
    if (o->parent_id.empty()) return absl::OkStatus();
    absl::StatusOr<Objective*> parent = uow.LoadObjective(o->parent_id);
    if (absl::IsNotFound(parent.status())) return absl::OkStatus();  // a root after all
    OKR_RETURN_IF_ERROR(parent.status());
    if ((*parent)->progress_source != ProgressSource::kKeyResultsAndChildren) {
      return absl::OkStatus();
    }
    o = *parent;
  }
}

absl::Status SaveKeyResult(UnitOfWork& uow, KeyResult& kr) {
  const KeyResultProgress p = ComputeKeyResultProgress(kr);
  kr.progress = p.progress;
  kr.raw_progress = p.raw_progress;
  OKR_RETURN_IF_ERROR(uow.Changed(kr));
  uow.WriteBack(kr);
  return RollUp(uow, kr.objective_id);
}

absl::Status RecountKeyResult(UnitOfWork& uow, KeyResult& kr) {
  if (kr.type == KeyResultType::kWorkItems) {
    OKR_ASSIGN_OR_RETURN(kr.totals, uow.tx().ComputeWorkItemTotals(kr.objective_id, kr.id));
  }
  return SaveKeyResult(uow, kr);
}

void AdjustTotals(WorkItemTotals& totals, const WorkItem* before, const WorkItem* after) {
  if (before != nullptr) AccumulateItem(totals, *before, -1);
  if (after != nullptr) AccumulateItem(totals, *after, +1);
}

absl::Status ApplyItemChange(UnitOfWork& uow, const std::vector<WorkItemLink>& links,
                             const WorkItem& before, const WorkItem* after) {
  for (const WorkItemLink& link : links) {
    OKR_ASSIGN_OR_RETURN(KeyResult * kr, uow.LoadKeyResult(link.objective_id, link.key_result_id));
    if (kr->type == KeyResultType::kWorkItems) AdjustTotals(kr->totals, &before, after);
    OKR_RETURN_IF_ERROR(SaveKeyResult(uow, *kr));
  }
  return absl::OkStatus();
}

absl::StatusOr<Objective> DerivedObjective(UnitOfWork& uow, const std::string& id) {
  OKR_ASSIGN_OR_RETURN(const Objective* o, uow.LoadObjective(id));
  OKR_ASSIGN_OR_RETURN(const Cycle* c, uow.LoadCycle(o->cycle_id));
  Objective result = *o;
  Derive(result, *c, uow.now());
  return result;
}

absl::StatusOr<KeyResult> DerivedKeyResult(UnitOfWork& uow, const std::string& objective_id,
                                           const std::string& id) {
  OKR_ASSIGN_OR_RETURN(const KeyResult* kr, uow.LoadKeyResult(objective_id, id));
  OKR_ASSIGN_OR_RETURN(const Objective* o, uow.LoadObjective(objective_id));
  OKR_ASSIGN_OR_RETURN(const Cycle* c, uow.LoadCycle(o->cycle_id));
  KeyResult result = *kr;
  Derive(result, *c, uow.now());
  return result;
}

}  // namespace okr::core::internal
