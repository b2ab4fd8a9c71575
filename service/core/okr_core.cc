#include "service/core/okr_core.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"
#include "service/okr/validation.h"

namespace okr::core {
namespace {

using storage::OkrTransaction;
using storage::PageQuery;

constexpr int32_t kDefaultPageSize = 50;
constexpr int32_t kMaxPageSize = 1000;
constexpr int kMaxParentDepth = 1000;
constexpr absl::string_view kPageTokenPrefix = "okr1:";

absl::StatusOr<PageQuery> ToPageQuery(const PageRequest& page) {
  if (page.page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  PageQuery q;
  q.limit = page.page_size == 0 ? kDefaultPageSize : std::min(page.page_size, kMaxPageSize);
  if (!page.page_token.empty()) {
    std::string decoded;
    int64_t after = 0;
    if (page.page_token.size() > 64 || !absl::WebSafeBase64Unescape(page.page_token, &decoded) ||
        !absl::StartsWith(decoded, kPageTokenPrefix) ||
        !absl::SimpleAtoi(absl::string_view(decoded).substr(kPageTokenPrefix.size()), &after) ||
        after < 0) {
      return absl::InvalidArgumentError("page_token is invalid");
    }
    q.after_seq = after;
  }
  return q;
}

template <typename T>
ListResult<T> ToListResult(storage::Page<T> page) {
  ListResult<T> result;
  if (page.has_more && !page.items.empty()) {
    result.next_page_token = absl::WebSafeBase64Escape(
        absl::StrCat(kPageTokenPrefix, page.items.back().meta.seq));
  }
  result.items = std::move(page.items);
  return result;
}

absl::Status CheckEtag(const std::string& etag, int64_t revision, absl::string_view what) {
  if (!etag.empty() && etag != FormatEtag(revision)) {
    return absl::AbortedError(absl::StrCat(what, ": etag \"", etag.substr(0, 64),
                                           "\" does not match the current etag \"",
                                           FormatEtag(revision), "\"; read it again"));
  }
  return absl::OkStatus();
}

// Key of an idempotency record: method + client request id.
std::string RequestKey(absl::string_view method, const std::string& request_id) {
  return absl::StrCat(method, ":", request_id);
}

absl::Status ValidateRequestId(const std::string& request_id) {
  if (request_id.size() > 128) {
    return absl::InvalidArgumentError("request_id is longer than 128 bytes");
  }
  return absl::OkStatus();
}

void Touch(EntityMeta& meta, absl::Time now) {
  meta.revision += 1;
  meta.update_time = now;
}

void NewMeta(EntityMeta& meta, absl::Time now) {
  meta.seq = 0;
  meta.revision = 1;
  meta.create_time = now;
  meta.update_time = now;
}

// Turns the store's NOT_FOUND for a referenced resource into INVALID_ARGUMENT naming the
// request field that referenced it.
absl::Status ReferenceError(const absl::Status& status, absl::string_view field,
                            absl::string_view name) {
  if (absl::IsNotFound(status)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", name, " does not exist"));
  }
  return status;
}

void Derive(Objective& o, const Cycle& cycle, absl::Time now) {
  o.expected_progress = ExpectedProgress(cycle.start_time, cycle.end_time, now);
  o.health = ComputeHealth(o.progress, o.expected_progress, cycle.start_time, now);
}

void Derive(KeyResult& kr, const Cycle& cycle, absl::Time now) {
  kr.expected_progress = ExpectedProgress(cycle.start_time, cycle.end_time, now);
  kr.health = ComputeHealth(kr.progress, kr.expected_progress, cycle.start_time, now);
}

// Recomputes and stores the objective's progress from its key results.
absl::Status RecomputeObjective(OkrTransaction& tx, const std::string& objective_id,
                                absl::Time now) {
  OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(objective_id));
  OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs, tx.AllKeyResults(objective_id));
  const double progress = ObjectiveProgress(krs);
  if (progress == o.progress) return absl::OkStatus();
  const int64_t revision = o.meta.revision;
  o.progress = progress;
  Touch(o.meta, now);
  return tx.UpdateObjective(o, revision);
}

// Recomputes the key result's stored progress (refreshing work item totals) and stores
// it with a new revision; `kr` must be the stored state plus the caller's changes, with
// `expected_revision` the stored revision. Then rolls up into the objective.
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

// Fails if setting `parent_id` as the parent of `objective_id` would close a loop.
absl::Status CheckNoParentLoop(OkrTransaction& tx, const std::string& objective_id,
                               const std::string& parent_id) {
  std::string current = parent_id;
  for (int depth = 0; !current.empty(); ++depth) {
    if (current == objective_id) {
      return absl::InvalidArgumentError(absl::StrCat(
          "objective.parent: aligning to ", names::Objective(parent_id),
          " would create a loop (it is aligned, directly or indirectly, to this objective)"));
    }
    if (depth > kMaxParentDepth) {
      return absl::FailedPreconditionError("objective.parent: alignment chain is too deep");
    }
    OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(current));
    current = o.parent_id;
  }
  return absl::OkStatus();
}

absl::Status CheckObjectiveReferences(OkrTransaction& tx, const Objective& o) {
  if (auto s = tx.GetTeam(o.team_id); !s.ok()) {
    return ReferenceError(s.status(), "objective.team", names::Team(o.team_id));
  }
  if (auto s = tx.GetCycle(o.cycle_id); !s.ok()) {
    return ReferenceError(s.status(), "objective.cycle", names::Cycle(o.cycle_id));
  }
  if (!o.parent_id.empty()) {
    if (auto s = tx.GetObjective(o.parent_id); !s.ok()) {
      return ReferenceError(s.status(), "objective.parent", names::Objective(o.parent_id));
    }
    OKR_RETURN_IF_ERROR(CheckNoParentLoop(tx, o.id, o.parent_id));
  }
  return absl::OkStatus();
}

absl::Status CheckPaths(const std::vector<std::string>& paths,
                        const absl::flat_hash_set<absl::string_view>& allowed,
                        absl::string_view resource) {
  for (const std::string& p : paths) {
    if (!allowed.contains(p)) {
      std::vector<absl::string_view> sorted(allowed.begin(), allowed.end());
      std::sort(sorted.begin(), sorted.end());
      return absl::InvalidArgumentError(absl::StrCat("update_mask: field \"", p.substr(0, 100),
                                                     "\" cannot be updated on a ", resource,
                                                     " (allowed: ", absl::StrJoin(sorted, ", "),
                                                     ")"));
    }
  }
  return absl::OkStatus();
}

bool HasPath(const std::vector<std::string>& paths, absl::string_view path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

absl::StatusOr<KeyResult> ReadKeyResult(OkrTransaction& tx, const std::string& objective_id,
                                        const std::string& id, absl::Time now) {
  OKR_ASSIGN_OR_RETURN(KeyResult kr, tx.GetKeyResult(objective_id, id));
  OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(objective_id));
  OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
  Derive(kr, c, now);
  return kr;
}

absl::StatusOr<Objective> ReadObjective(OkrTransaction& tx, const std::string& id,
                                        absl::Time now) {
  OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(id));
  OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
  Derive(o, c, now);
  return o;
}

const char* TrackerName(Tracker t) { return t == Tracker::kJira ? "JIRA" : "GITLAB"; }

}  // namespace

std::string FormatEtag(int64_t revision) { return absl::StrCat("r", revision); }

const char* SyncOutcomeName(SyncOutcome outcome) {
  switch (outcome) {
    case SyncOutcome::kApplied:
      return "applied";
    case SyncOutcome::kUnchanged:
      return "unchanged";
    case SyncOutcome::kStale:
      return "stale";
    case SyncOutcome::kDuplicate:
      return "duplicate";
    case SyncOutcome::kUntracked:
      return "untracked";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// Teams

absl::StatusOr<Team> OkrCore::CreateTeam(Team team, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (team.id.empty()) team.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(team.id, "team_id"));
  OKR_RETURN_IF_ERROR(ValidateTeam(team));
  if (team.parent_id == team.id) {
    return absl::InvalidArgumentError("team.parent must not be the team itself");
  }
  const absl::Time now = clock_.Now();
  NewMeta(team.meta, now);
  Team result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      OKR_ASSIGN_OR_RETURN(auto record, tx.GetRequestRecord(RequestKey("CreateTeam", request_id)));
      if (record.has_value()) {
        OKR_ASSIGN_OR_RETURN(std::string id, names::ParseTeam(*record, "request_id"));
        OKR_ASSIGN_OR_RETURN(result, tx.GetTeam(id));
        return absl::OkStatus();
      }
    }
    if (!team.parent_id.empty()) {
      if (auto s = tx.GetTeam(team.parent_id); !s.ok()) {
        return ReferenceError(s.status(), "team.parent", names::Team(team.parent_id));
      }
    }
    OKR_RETURN_IF_ERROR(tx.InsertTeam(team));
    if (!request_id.empty()) {
      OKR_RETURN_IF_ERROR(
          tx.PutRequestRecord(RequestKey("CreateTeam", request_id), names::Team(team.id)));
    }
    OKR_ASSIGN_OR_RETURN(result, tx.GetTeam(team.id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Team> OkrCore::GetTeam(const std::string& id) {
  Team result;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(result, tx.GetTeam(id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ListResult<Team>> OkrCore::ListTeams(const std::string& parent_id,
                                                    const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<Team> rows;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(rows, tx.ListTeams(parent_id, q));
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

// ---------------------------------------------------------------------------------------
// Cycles

absl::StatusOr<Cycle> OkrCore::CreateCycle(Cycle cycle, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (cycle.id.empty()) cycle.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(cycle.id, "cycle_id"));
  OKR_RETURN_IF_ERROR(ValidateCycle(cycle));
  NewMeta(cycle.meta, clock_.Now());
  Cycle result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      OKR_ASSIGN_OR_RETURN(auto record,
                           tx.GetRequestRecord(RequestKey("CreateCycle", request_id)));
      if (record.has_value()) {
        OKR_ASSIGN_OR_RETURN(std::string id, names::ParseCycle(*record, "request_id"));
        OKR_ASSIGN_OR_RETURN(result, tx.GetCycle(id));
        return absl::OkStatus();
      }
    }
    OKR_RETURN_IF_ERROR(tx.InsertCycle(cycle));
    if (!request_id.empty()) {
      OKR_RETURN_IF_ERROR(
          tx.PutRequestRecord(RequestKey("CreateCycle", request_id), names::Cycle(cycle.id)));
    }
    OKR_ASSIGN_OR_RETURN(result, tx.GetCycle(cycle.id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Cycle> OkrCore::GetCycle(const std::string& id) {
  Cycle result;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(result, tx.GetCycle(id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ListResult<Cycle>> OkrCore::ListCycles(const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<Cycle> rows;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(rows, tx.ListCycles(q));
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

// ---------------------------------------------------------------------------------------
// Objectives

absl::StatusOr<Objective> OkrCore::CreateObjective(Objective o, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (o.id.empty()) o.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(o.id, "objective_id"));
  OKR_RETURN_IF_ERROR(ValidateObjective(o));
  const absl::Time now = clock_.Now();
  o.state = ObjectiveState::kDraft;
  o.progress = 0;
  NewMeta(o.meta, now);
  Objective result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      OKR_ASSIGN_OR_RETURN(auto record,
                           tx.GetRequestRecord(RequestKey("CreateObjective", request_id)));
      if (record.has_value()) {
        OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(*record, "request_id"));
        OKR_ASSIGN_OR_RETURN(result, ReadObjective(tx, id, now));
        return absl::OkStatus();
      }
    }
    OKR_RETURN_IF_ERROR(CheckObjectiveReferences(tx, o));
    OKR_RETURN_IF_ERROR(tx.InsertObjective(o));
    if (!request_id.empty()) {
      OKR_RETURN_IF_ERROR(tx.PutRequestRecord(RequestKey("CreateObjective", request_id),
                                              names::Objective(o.id)));
    }
    OKR_ASSIGN_OR_RETURN(result, ReadObjective(tx, o.id, now));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Objective> OkrCore::GetObjective(const std::string& id) {
  Objective result;
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(result, ReadObjective(tx, id, now));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ListResult<Objective>> OkrCore::ListObjectives(
    const storage::ObjectiveFilter& filter, const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<Objective> rows;
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(rows, tx.ListObjectives(filter, q));
    std::optional<Cycle> cycle;
    for (Objective& o : rows.items) {
      if (!cycle.has_value() || cycle->id != o.cycle_id) {
        OKR_ASSIGN_OR_RETURN(cycle, tx.GetCycle(o.cycle_id));
      }
      Derive(o, *cycle, now);
    }
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

absl::StatusOr<Objective> OkrCore::UpdateObjective(const Objective& patch,
                                                   const std::vector<std::string>& paths,
                                                   const std::string& etag) {
  static const auto* kAllowed = new absl::flat_hash_set<absl::string_view>{
      "title", "description", "team", "cycle", "parent", "kind"};
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "objective"));
  const absl::Time now = clock_.Now();
  Objective result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(patch.id));
    OKR_RETURN_IF_ERROR(CheckEtag(etag, o.meta.revision, "objective.etag"));
    const int64_t revision = o.meta.revision;
    if (HasPath(paths, "title")) o.title = patch.title;
    if (HasPath(paths, "description")) o.description = patch.description;
    if (HasPath(paths, "team")) o.team_id = patch.team_id;
    if (HasPath(paths, "cycle")) o.cycle_id = patch.cycle_id;
    if (HasPath(paths, "parent")) o.parent_id = patch.parent_id;
    if (HasPath(paths, "kind")) o.kind = patch.kind;
    OKR_RETURN_IF_ERROR(ValidateObjective(o));
    OKR_RETURN_IF_ERROR(CheckObjectiveReferences(tx, o));
    Touch(o.meta, now);
    OKR_RETURN_IF_ERROR(tx.UpdateObjective(o, revision));
    OKR_ASSIGN_OR_RETURN(result, ReadObjective(tx, o.id, now));
    return absl::OkStatus();
  }));
  return result;
}

absl::Status OkrCore::DeleteObjective(const std::string& id, const std::string& etag,
                                      bool force) {
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(id));
    OKR_RETURN_IF_ERROR(CheckEtag(etag, o.meta.revision, "etag"));
    if (!force) {
      OKR_ASSIGN_OR_RETURN(auto krs, tx.ListKeyResults(id, PageQuery{0, 1}));
      if (!krs.items.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(names::Objective(id),
                         " has key results; delete them first or set force = true"));
      }
    }
    return tx.DeleteObjective(id);
  });
}

// ---------------------------------------------------------------------------------------
// Key results

absl::StatusOr<KeyResult> OkrCore::CreateKeyResult(KeyResult kr, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (kr.id.empty()) kr.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(kr.id, "key_result_id"));
  OKR_RETURN_IF_ERROR(ValidateKeyResult(kr));
  const absl::Time now = clock_.Now();
  kr.totals = WorkItemTotals{};
  const KeyResultProgress p = ComputeKeyResultProgress(kr);
  kr.progress = p.progress;
  kr.raw_progress = p.raw_progress;
  NewMeta(kr.meta, now);
  KeyResult result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      OKR_ASSIGN_OR_RETURN(auto record,
                           tx.GetRequestRecord(RequestKey("CreateKeyResult", request_id)));
      if (record.has_value()) {
        OKR_ASSIGN_OR_RETURN(names::KeyResultName n,
                             names::ParseKeyResult(*record, "request_id"));
        OKR_ASSIGN_OR_RETURN(result, ReadKeyResult(tx, n.objective_id, n.key_result_id, now));
        return absl::OkStatus();
      }
    }
    if (auto s = tx.GetObjective(kr.objective_id); !s.ok()) {
      if (absl::IsNotFound(s.status())) {
        return absl::NotFoundError(
            absl::StrCat("parent: ", names::Objective(kr.objective_id), " not found"));
      }
      return s.status();
    }
    OKR_RETURN_IF_ERROR(tx.InsertKeyResult(kr));
    OKR_RETURN_IF_ERROR(RecomputeObjective(tx, kr.objective_id, now));
    if (!request_id.empty()) {
      OKR_RETURN_IF_ERROR(tx.PutRequestRecord(RequestKey("CreateKeyResult", request_id),
                                              names::KeyResult(kr.objective_id, kr.id)));
    }
    OKR_ASSIGN_OR_RETURN(result, ReadKeyResult(tx, kr.objective_id, kr.id, now));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<KeyResult> OkrCore::GetKeyResult(const std::string& objective_id,
                                                const std::string& id) {
  KeyResult result;
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(result, ReadKeyResult(tx, objective_id, id, now));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ListResult<KeyResult>> OkrCore::ListKeyResults(const std::string& objective_id,
                                                              const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<KeyResult> rows;
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(objective_id));
    OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
    OKR_ASSIGN_OR_RETURN(rows, tx.ListKeyResults(objective_id, q));
    for (KeyResult& kr : rows.items) Derive(kr, c, now);
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

absl::StatusOr<KeyResult> OkrCore::UpdateKeyResult(const KeyResult& patch,
                                                   const std::vector<std::string>& paths,
                                                   const std::string& etag) {
  static const auto* kAllowed = new absl::flat_hash_set<absl::string_view>{
      "title",        "weight",         "metric.start_value", "metric.target_value",
      "metric.current_value", "metric.unit", "milestone.done"};
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "key result"));
  const absl::Time now = clock_.Now();
  KeyResult result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(KeyResult kr, tx.GetKeyResult(patch.objective_id, patch.id));
    OKR_RETURN_IF_ERROR(CheckEtag(etag, kr.meta.revision, "key_result.etag"));
    const int64_t revision = kr.meta.revision;
    for (const std::string& p : paths) {
      if (absl::StartsWith(p, "metric.") && kr.type != KeyResultType::kMetric) {
        return absl::InvalidArgumentError(absl::StrCat(
            "key_result.", p, ": not a metric key result (the kind cannot change)"));
      }
      if (absl::StartsWith(p, "milestone.") && kr.type != KeyResultType::kMilestone) {
        return absl::InvalidArgumentError(absl::StrCat(
            "key_result.", p, ": not a milestone key result (the kind cannot change)"));
      }
    }
    if (HasPath(paths, "title")) kr.title = patch.title;
    if (HasPath(paths, "weight")) kr.weight = patch.weight;
    if (HasPath(paths, "metric.start_value")) kr.metric.start_value = patch.metric.start_value;
    if (HasPath(paths, "metric.target_value")) kr.metric.target_value = patch.metric.target_value;
    if (HasPath(paths, "metric.current_value")) {
      kr.metric.current_value = patch.metric.current_value;
    }
    if (HasPath(paths, "metric.unit")) kr.metric.unit = patch.metric.unit;
    if (HasPath(paths, "milestone.done")) kr.milestone_done = patch.milestone_done;
    OKR_RETURN_IF_ERROR(ValidateKeyResult(kr));
    OKR_RETURN_IF_ERROR(StoreKeyResult(tx, kr, revision, now));
    OKR_ASSIGN_OR_RETURN(result, ReadKeyResult(tx, kr.objective_id, kr.id, now));
    return absl::OkStatus();
  }));
  return result;
}

absl::Status OkrCore::DeleteKeyResult(const std::string& objective_id, const std::string& id,
                                      const std::string& etag) {
  const absl::Time now = clock_.Now();
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(KeyResult kr, tx.GetKeyResult(objective_id, id));
    OKR_RETURN_IF_ERROR(CheckEtag(etag, kr.meta.revision, "etag"));
    OKR_RETURN_IF_ERROR(tx.DeleteKeyResult(objective_id, id));
    return RecomputeObjective(tx, objective_id, now);
  });
}

// ---------------------------------------------------------------------------------------
// Check-ins

absl::StatusOr<CheckIn> OkrCore::CreateCheckIn(CheckIn c, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  const absl::Time now = clock_.Now();
  c.id = names::GenerateId();
  NewMeta(c.meta, now);
  CheckIn result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      OKR_ASSIGN_OR_RETURN(auto record,
                           tx.GetRequestRecord(RequestKey("CreateCheckIn", request_id)));
      if (record.has_value()) {
        OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n,
                             names::ParseCheckIn(*record, "request_id"));
        OKR_ASSIGN_OR_RETURN(result, tx.GetCheckIn(n.objective_id, n.key_result_id, n.child_id));
        return absl::OkStatus();
      }
    }
    absl::StatusOr<KeyResult> kr = tx.GetKeyResult(c.objective_id, c.key_result_id);
    if (!kr.ok()) {
      if (absl::IsNotFound(kr.status())) {
        return absl::NotFoundError(absl::StrCat(
            "parent: ", names::KeyResult(c.objective_id, c.key_result_id), " not found"));
      }
      return kr.status();
    }
    OKR_RETURN_IF_ERROR(ValidateCheckIn(c, kr->type));
    OKR_RETURN_IF_ERROR(tx.InsertCheckIn(c));
    const int64_t revision = kr->meta.revision;
    if (kr->type == KeyResultType::kMetric) kr->metric.current_value = *c.value;
    if (kr->type == KeyResultType::kMilestone && c.value.has_value()) {
      kr->milestone_done = *c.value == 1;
    }
    OKR_RETURN_IF_ERROR(StoreKeyResult(tx, *kr, revision, now));
    if (!request_id.empty()) {
      OKR_RETURN_IF_ERROR(
          tx.PutRequestRecord(RequestKey("CreateCheckIn", request_id),
                              names::CheckIn(c.objective_id, c.key_result_id, c.id)));
    }
    OKR_ASSIGN_OR_RETURN(result, tx.GetCheckIn(c.objective_id, c.key_result_id, c.id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ListResult<CheckIn>> OkrCore::ListCheckIns(const std::string& objective_id,
                                                          const std::string& key_result_id,
                                                          const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<CheckIn> rows;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.GetKeyResult(objective_id, key_result_id).status());
    OKR_ASSIGN_OR_RETURN(rows, tx.ListCheckIns(objective_id, key_result_id, q));
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

// ---------------------------------------------------------------------------------------
// Work items

absl::StatusOr<WorkItemLink> OkrCore::LinkWorkItem(const std::string& objective_id,
                                                   const std::string& key_result_id,
                                                   WorkItem item,
                                                   const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
  const absl::Time now = clock_.Now();
  WorkItemLink result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    if (!request_id.empty()) {
      OKR_ASSIGN_OR_RETURN(auto record,
                           tx.GetRequestRecord(RequestKey("LinkWorkItem", request_id)));
      if (record.has_value()) {
        OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n,
                             names::ParseWorkItemLink(*record, "request_id"));
        OKR_ASSIGN_OR_RETURN(result,
                             tx.GetWorkItemLink(n.objective_id, n.key_result_id, n.child_id));
        return absl::OkStatus();
      }
    }
    if (auto kr = tx.GetKeyResult(objective_id, key_result_id); !kr.ok()) {
      if (absl::IsNotFound(kr.status())) {
        return absl::NotFoundError(absl::StrCat(
            "parent: ", names::KeyResult(objective_id, key_result_id), " not found"));
      }
      return kr.status();
    }
    OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known, tx.GetWorkItem(item.tracker, item.key));
    if (known.has_value()) {
      if (known->title.empty() && !item.title.empty()) known->title = item.title;
      if (known->url.empty() && !item.url.empty()) known->url = item.url;
      item = *known;
    } else {
      item.update_time = now;
    }
    OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
    WorkItemLink link;
    link.id = names::GenerateId();
    link.objective_id = objective_id;
    link.key_result_id = key_result_id;
    link.item = item;
    NewMeta(link.meta, now);
    absl::Status inserted = tx.InsertWorkItemLink(link);
    if (absl::IsAlreadyExists(inserted)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "work_item: ", TrackerName(item.tracker), " ", item.key, " is already linked to ",
          names::KeyResult(objective_id, key_result_id)));
    }
    OKR_RETURN_IF_ERROR(inserted);
    OKR_RETURN_IF_ERROR(RefreshKeyResult(tx, objective_id, key_result_id, now));
    if (!request_id.empty()) {
      OKR_RETURN_IF_ERROR(
          tx.PutRequestRecord(RequestKey("LinkWorkItem", request_id),
                              names::WorkItemLink(objective_id, key_result_id, link.id)));
    }
    OKR_ASSIGN_OR_RETURN(result, tx.GetWorkItemLink(objective_id, key_result_id, link.id));
    return absl::OkStatus();
  }));
  return result;
}

absl::Status OkrCore::UnlinkWorkItem(const std::string& objective_id,
                                     const std::string& key_result_id,
                                     const std::string& link_id) {
  const absl::Time now = clock_.Now();
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.DeleteWorkItemLink(objective_id, key_result_id, link_id));
    return RefreshKeyResult(tx, objective_id, key_result_id, now);
  });
}

absl::Status OkrCore::UnlinkWorkItemByKey(const std::string& objective_id,
                                          const std::string& key_result_id, Tracker tracker,
                                          const std::string& key) {
  const absl::Time now = clock_.Now();
  return store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(WorkItemLink link,
                         tx.FindWorkItemLink(objective_id, key_result_id, tracker, key));
    OKR_RETURN_IF_ERROR(tx.DeleteWorkItemLink(objective_id, key_result_id, link.id));
    return RefreshKeyResult(tx, objective_id, key_result_id, now);
  });
}

absl::StatusOr<ListResult<WorkItemLink>> OkrCore::ListWorkItemLinks(
    const std::string& objective_id, const std::string& key_result_id,
    const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<WorkItemLink> rows;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.GetKeyResult(objective_id, key_result_id).status());
    OKR_ASSIGN_OR_RETURN(rows, tx.ListWorkItemLinks(objective_id, key_result_id, q));
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

absl::StatusOr<std::vector<WorkItemLinkTarget>> OkrCore::FindWorkItemLinks(
    Tracker tracker, const std::string& key) {
  if (key.empty()) return absl::InvalidArgumentError("key is required");
  if (tracker != Tracker::kJira && tracker != Tracker::kGitLab) {
    return absl::InvalidArgumentError("tracker must be JIRA or GITLAB");
  }
  std::vector<WorkItemLinkTarget> result;
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links, tx.LinksToWorkItem(tracker, key));
    for (WorkItemLink& link : links) {
      WorkItemLinkTarget target;
      OKR_ASSIGN_OR_RETURN(target.key_result,
                           ReadKeyResult(tx, link.objective_id, link.key_result_id, now));
      OKR_ASSIGN_OR_RETURN(target.objective, ReadObjective(tx, link.objective_id, now));
      target.link = std::move(link);
      result.push_back(std::move(target));
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<WorkItem> OkrCore::UpdateWorkItem(const WorkItem& patch,
                                                 const std::vector<std::string>& paths) {
  static const auto* kAllowed =
      new absl::flat_hash_set<absl::string_view>{"title", "url", "done", "weight"};
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "work item"));
  const absl::Time now = clock_.Now();
  WorkItem result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known, tx.GetWorkItem(patch.tracker, patch.key));
    if (!known.has_value()) {
      return absl::NotFoundError(absl::StrCat("work_item: ", TrackerName(patch.tracker), " ",
                                              patch.key, " is not linked to any key result"));
    }
    WorkItem item = *known;
    if (HasPath(paths, "title")) item.title = patch.title;
    if (HasPath(paths, "url")) item.url = patch.url;
    if (HasPath(paths, "done")) item.done = patch.done;
    if (HasPath(paths, "weight")) item.weight = patch.weight;
    OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
    item.update_time = now;
    OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
    OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links,
                         tx.LinksToWorkItem(item.tracker, item.key));
    for (const WorkItemLink& link : links) {
      OKR_RETURN_IF_ERROR(RefreshKeyResult(tx, link.objective_id, link.key_result_id, now));
    }
    result = item;
    return absl::OkStatus();
  }));
  return result;
}

// ---------------------------------------------------------------------------------------
// Tracker sync

namespace {

// Finds the stored item for a tracker state: by external id first, then by key.
absl::StatusOr<std::optional<WorkItem>> FindTrackedItem(OkrTransaction& tx, Tracker tracker,
                                                        const std::string& external_id,
                                                        const std::string& key) {
  if (!external_id.empty()) {
    OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> by_id,
                         tx.GetWorkItemByExternalId(tracker, external_id));
    if (by_id.has_value()) return by_id;
  }
  if (key.empty()) return std::optional<WorkItem>();
  return tx.GetWorkItem(tracker, key);
}

// Recomputes every key result linking the item.
absl::Status RefreshLinkedKeyResults(OkrTransaction& tx, Tracker tracker,
                                     const std::string& key, absl::Time now) {
  OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links, tx.LinksToWorkItem(tracker, key));
  for (const WorkItemLink& link : links) {
    OKR_RETURN_IF_ERROR(RefreshKeyResult(tx, link.objective_id, link.key_result_id, now));
  }
  return absl::OkStatus();
}

// Records a delivery id; true if it was seen before.
absl::StatusOr<bool> SeenDelivery(OkrTransaction& tx, Tracker tracker,
                                  const std::string& delivery_id, absl::Time now) {
  if (delivery_id.empty()) return false;
  absl::Status recorded = tx.RecordDelivery(tracker, delivery_id, now);
  if (absl::IsAlreadyExists(recorded)) return true;
  OKR_RETURN_IF_ERROR(recorded);
  return false;
}

}  // namespace

absl::StatusOr<SyncOutcome> OkrCore::ApplyTrackerUpdate(const WorkItem& state,
                                                        const std::string& delivery_id) {
  const absl::Time now = clock_.Now();
  SyncOutcome outcome = SyncOutcome::kUntracked;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known,
                         FindTrackedItem(tx, state.tracker, state.external_id, state.key));
    if (!known.has_value()) {
      outcome = SyncOutcome::kUntracked;
      return absl::OkStatus();
    }
    OKR_ASSIGN_OR_RETURN(bool seen, SeenDelivery(tx, state.tracker, delivery_id, now));
    if (seen) {
      outcome = SyncOutcome::kDuplicate;
      return absl::OkStatus();
    }
    if (state.source_updated != absl::InfinitePast() &&
        state.source_updated < known->source_updated) {
      outcome = SyncOutcome::kStale;
      return absl::OkStatus();
    }
    WorkItem item = *known;
    if (!state.key.empty() && state.key != item.key) {
      OKR_RETURN_IF_ERROR(tx.RenameWorkItem(item.tracker, item.key, state.key));
      item.key = state.key;
    }
    const bool progress_changed = item.done != state.done || item.weight != state.weight;
    const bool changed = progress_changed || item.title != state.title ||
                         (!state.url.empty() && item.url != state.url) ||
                         (!state.external_id.empty() && item.external_id != state.external_id);
    if (!state.title.empty()) item.title = state.title;
    if (!state.url.empty()) item.url = state.url;
    if (!state.external_id.empty()) item.external_id = state.external_id;
    item.done = state.done;
    item.weight = state.weight;
    if (state.source_updated != absl::InfinitePast()) item.source_updated = state.source_updated;
    if (changed) item.update_time = now;
    OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
    OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
    if (progress_changed) {
      OKR_RETURN_IF_ERROR(RefreshLinkedKeyResults(tx, item.tracker, item.key, now));
    }
    outcome = changed ? SyncOutcome::kApplied : SyncOutcome::kUnchanged;
    return absl::OkStatus();
  }));
  return outcome;
}

absl::StatusOr<TrackerDeletion> OkrCore::ApplyTrackerDeletion(Tracker tracker,
                                                              const std::string& external_id,
                                                              const std::string& key,
                                                              const std::string& delivery_id) {
  const absl::Time now = clock_.Now();
  TrackerDeletion result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    result = TrackerDeletion{};
    OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known,
                         FindTrackedItem(tx, tracker, external_id, key));
    if (!known.has_value()) return absl::OkStatus();
    OKR_ASSIGN_OR_RETURN(bool seen, SeenDelivery(tx, tracker, delivery_id, now));
    if (seen) {
      result.outcome = SyncOutcome::kDuplicate;
      return absl::OkStatus();
    }
    OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links,
                         tx.LinksToWorkItem(tracker, known->key));
    OKR_RETURN_IF_ERROR(tx.DeleteWorkItem(tracker, known->key));
    for (const WorkItemLink& link : links) {
      OKR_RETURN_IF_ERROR(RefreshKeyResult(tx, link.objective_id, link.key_result_id, now));
      result.key_results.push_back(names::KeyResult(link.objective_id, link.key_result_id));
    }
    result.outcome = SyncOutcome::kApplied;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ScopeChange> OkrCore::ApplyScope(const std::string& objective_id,
                                                const std::string& key_result_id,
                                                Tracker tracker,
                                                const std::vector<WorkItem>& matches) {
  const absl::Time now = clock_.Now();
  ScopeChange change;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    change = ScopeChange{};
    OKR_RETURN_IF_ERROR(tx.GetKeyResult(objective_id, key_result_id).status());
    // Current links of this tracker.
    absl::flat_hash_set<std::string> wanted;
    for (const WorkItem& m : matches) wanted.insert(m.key);
    std::vector<WorkItemLink> current;
    storage::PageQuery q{0, 1000};
    while (true) {
      OKR_ASSIGN_OR_RETURN(auto page, tx.ListWorkItemLinks(objective_id, key_result_id, q));
      for (WorkItemLink& l : page.items) {
        if (l.item.tracker == tracker) current.push_back(std::move(l));
      }
      if (!page.has_more || page.items.empty()) break;
      q.after_seq = page.items.back().meta.seq;
    }
    absl::flat_hash_set<std::string> have;
    for (const WorkItemLink& l : current) {
      have.insert(l.item.key);
      if (!wanted.contains(l.item.key)) {
        OKR_RETURN_IF_ERROR(tx.DeleteWorkItemLink(objective_id, key_result_id, l.id));
        change.unlinked.push_back(l.item.key);
      }
    }
    for (const WorkItem& m : matches) {
      OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known, tx.GetWorkItem(tracker, m.key));
      WorkItem item = m;
      item.tracker = tracker;
      if (known.has_value() && known->source_updated > m.source_updated) item = *known;
      if (!known.has_value() || item.done != known->done || item.weight != known->weight ||
          item.title != known->title) {
        item.update_time = now;
        OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
        OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
        if (known.has_value()) {
          OKR_RETURN_IF_ERROR(RefreshLinkedKeyResults(tx, tracker, item.key, now));
        }
      }
      if (have.contains(m.key)) continue;
      WorkItemLink link;
      link.id = names::GenerateId();
      link.objective_id = objective_id;
      link.key_result_id = key_result_id;
      link.item = item;
      NewMeta(link.meta, now);
      OKR_RETURN_IF_ERROR(tx.InsertWorkItemLink(link));
      change.linked.push_back(m.key);
    }
    return RefreshKeyResult(tx, objective_id, key_result_id, now);
  }));
  return change;
}

}  // namespace okr::core
