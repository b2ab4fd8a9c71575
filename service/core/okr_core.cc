#include "service/core/okr_core.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/core/store_helpers.h"
#include "service/core/unit_of_work.h"
#include "service/okr/alignment.h"
#include "service/okr/lifecycle.h"
#include "service/okr/list_filter.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"
#include "service/okr/validation.h"

namespace okr::core {
namespace {

using internal::AdjustTotals;
using internal::ApplyItemChange;
using internal::CheckEtag;
using internal::CollectPages;
using internal::Derive;
using internal::DerivedKeyResult;
using internal::DerivedObjective;
using internal::NewMeta;
using internal::ReadKeyResult;
using internal::ReadObjective;
using internal::RecountKeyResult;
using internal::ReferenceError;
using internal::RollUp;
using internal::RunUnitOfWork;
using internal::SaveKeyResult;
using internal::ToListResult;
using internal::ToPageQuery;
using internal::Touch;
using internal::UnitOfWork;
using storage::OkrTransaction;
using storage::PageQuery;

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

// A create made idempotent by its client request id (AIP-155), inside the caller's
// transaction: the first call with `request_id` runs `create` and records the resource
// name of its result (`name_of`) under `method`; a repeat returns `replay(recorded name)`
// and creates nothing. Without a request id `create` just runs.
template <typename T, typename NameOf, typename Replay, typename Create>
absl::StatusOr<T> CreateOnce(OkrTransaction& tx, absl::string_view method,
                             const std::string& request_id, NameOf name_of, Replay replay,
                             Create create) {
  if (request_id.empty()) return create();
  const std::string key = RequestKey(method, request_id);
  OKR_ASSIGN_OR_RETURN(std::optional<std::string> record, tx.GetRequestRecord(key));
  if (record.has_value()) return replay(*record);
  OKR_ASSIGN_OR_RETURN(T result, create());
  OKR_RETURN_IF_ERROR(tx.PutRequestRecord(key, name_of(result)));
  return result;
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
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: field \"", p.substr(0, 100), "\" cannot be updated on a ",
                       resource, " (allowed: ", absl::StrJoin(sorted, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

bool HasPath(const std::vector<std::string>& paths, absl::string_view path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

// Output-only fields of a new objective: it starts as an ungraded DRAFT.
void ResetOutputOnly(Objective& o) {
  o.state = ObjectiveState::kDraft;
  o.progress = 0;
  o.agreements.clear();
  o.reopen_reason.clear();
  o.carried_over_from.clear();
  o.score = 0;
  o.scored = false;
  o.outcome = Outcome::kUnspecified;
}

// Rejects a write that turns `before` into `after` when it breaks the alignment rules
// (alignment.h ValidateAlignmentOnWrite), over a snapshot of the store. A loop is named
// by the field of this write that closes it: the changed fields are applied to `before`
// one at a time (parent, contributes_to, depends_on) and the first that makes
// CheckNoAlignmentLoop fail is named, even where the loop also runs through another
// field the write left alone (e.g. a child that starts to depend on its parent).
absl::Status ValidateAlignment(OkrTransaction& tx, const Objective& before, const Objective& after,
                               absl::Time now) {
  OKR_ASSIGN_OR_RETURN(
      AlignmentSnapshot snapshot,
      internal::LoadAlignmentSnapshot(tx, now, /*all_key_results=*/false, after.contributes_to));
  const absl::Status invalid = ValidateAlignmentOnWrite(snapshot, after);
  if (invalid.ok() || invalid != CheckNoAlignmentLoop(snapshot, after)) return invalid;
  Objective staged = after;
  staged.parent_id = before.parent_id;
  staged.contributes_to = before.contributes_to;
  staged.depends_on = before.depends_on;
  auto attribute = [&](absl::string_view field) -> absl::Status {
    absl::Status loop = CheckNoAlignmentLoop(snapshot, staged);
    if (loop.ok()) return loop;
    absl::string_view message = loop.message();
    if (const size_t colon = message.find(": "); colon != absl::string_view::npos) {
      message.remove_prefix(colon + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
  };
  if (after.parent_id != before.parent_id) {
    staged.parent_id = after.parent_id;
    OKR_RETURN_IF_ERROR(attribute("objective.parent"));
  }
  if (after.contributes_to != before.contributes_to) {
    staged.contributes_to = after.contributes_to;
    OKR_RETURN_IF_ERROR(attribute("objective.contributes_to"));
  }
  if (after.depends_on != before.depends_on) {
    staged.depends_on = after.depends_on;
    OKR_RETURN_IF_ERROR(attribute("objective.depends_on"));
  }
  return invalid;  // the stored state already had a loop
}

absl::string_view KindName(ObjectiveKind kind) {
  return kind == ObjectiveKind::kAspirational ? "ASPIRATIONAL" : "COMMITTED";
}

std::string ObjectiveNames(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) out.push_back(names::Objective(id));
  return absl::StrJoin(out, ", ");
}

std::string OptionalName(const std::string& id, std::string (*name)(absl::string_view)) {
  return id.empty() ? std::string() : name(id);
}

// The guarded edits (lifecycle.h) among the objective fields named in `paths`, as the API
// names them, with their old and new values.
std::vector<FieldChange> GuardedObjectiveChanges(const Objective& before, const Objective& after,
                                                 const std::vector<std::string>& paths) {
  std::vector<FieldChange> changes;
  for (const std::string& path : paths) {
    const std::optional<GuardedEdit> what = GuardedEditForObjectivePath(path);
    if (!what.has_value()) continue;
    FieldChange c;
    c.what = *what;
    c.field = path;
    switch (*what) {
      case GuardedEdit::kTitle:
        c.old_value = before.title;
        c.new_value = after.title;
        break;
      case GuardedEdit::kParent:
        c.old_value = OptionalName(before.parent_id, names::Objective);
        c.new_value = OptionalName(after.parent_id, names::Objective);
        break;
      case GuardedEdit::kContributesTo:
        c.old_value = absl::StrJoin(before.contributes_to, ", ");
        c.new_value = absl::StrJoin(after.contributes_to, ", ");
        break;
      case GuardedEdit::kDependsOn:
        c.old_value = ObjectiveNames(before.depends_on);
        c.new_value = ObjectiveNames(after.depends_on);
        break;
      case GuardedEdit::kKind:
        c.old_value = std::string(KindName(before.kind));
        c.new_value = std::string(KindName(after.kind));
        break;
      case GuardedEdit::kTeam:
        c.old_value = names::Team(before.team_id);
        c.new_value = names::Team(after.team_id);
        break;
      case GuardedEdit::kCycle:
        c.old_value = names::Cycle(before.cycle_id);
        c.new_value = names::Cycle(after.cycle_id);
        break;
      default:
        continue;
    }
    changes.push_back(std::move(c));
  }
  return changes;
}

// The same for key result paths: "metric.start_value", "metric.target_value" and
// "metric.metric_key" change a target; the field is recorded with the key result's name.
std::vector<FieldChange> GuardedKeyResultChanges(const KeyResult& before, const KeyResult& after,
                                                 const std::vector<std::string>& paths) {
  std::vector<FieldChange> changes;
  const std::string name = names::KeyResult(after.objective_id, after.id);
  for (const std::string& path : paths) {
    const std::optional<GuardedEdit> what =
        GuardedEditForKeyResultPath(path == "metric.metric_key" ? "metric_key" : path);
    if (!what.has_value()) continue;
    FieldChange c;
    c.what = *what;
    c.field = absl::StrCat(name, ".", path);
    if (path == "metric.start_value") {
      c.old_value = absl::StrCat(before.metric.start_value);
      c.new_value = absl::StrCat(after.metric.start_value);
    } else if (path == "metric.target_value") {
      c.old_value = absl::StrCat(before.metric.target_value);
      c.new_value = absl::StrCat(after.metric.target_value);
    } else {
      c.old_value = before.metric_key;
      c.new_value = after.metric_key;
    }
    changes.push_back(std::move(c));
  }
  return changes;
}

// Marks `after` (a row of `uow`) changed if a lifecycle function changed its state,
// agreements or reopen reason.
absl::Status StoreLifecycleChange(UnitOfWork& uow, const Objective& before, Objective& after) {
  if (after.state == before.state && after.agreements.size() == before.agreements.size() &&
      after.reopen_reason == before.reopen_reason) {
    return absl::OkStatus();
  }
  return uow.Changed(after);
}

// Adding or removing a key result changes what an objective commits to (lifecycle.h
// kKeyResultAdded / kKeyResultRemoved): it drops the agreements of a PROPOSED objective
// and is refused for an AGREED one (the request has no reopen flag: ReopenObjective
// first) and a CLOSED one.
absl::Status EditKeyResultSet(UnitOfWork& uow, Objective& o, GuardedEdit what,
                              const std::string& objective_id, const std::string& key_result_id) {
  const bool added = what == GuardedEdit::kKeyResultAdded;
  if (o.state == ObjectiveState::kAgreed) {
    return absl::FailedPreconditionError(absl::StrCat(
        names::Objective(o.id), " is AGREED; ", added ? "adding" : "removing",
        " a key result changes what was agreed: reopen the objective first (ReopenObjective)"));
  }
  const Objective before = o;
  FieldChange c;
  c.what = what;
  c.field = "key_results";
  (added ? c.new_value : c.old_value) = names::KeyResult(objective_id, key_result_id);
  OKR_RETURN_IF_ERROR(ApplyGuardedEdits(o, {c}, /*reopen=*/false).status());
  return StoreLifecycleChange(uow, before, o);
}

const char* TrackerName(Tracker t) {
  const TrackerTraits* traits = FindTracker(t);
  return traits == nullptr ? "UNKNOWN" : traits->enum_name;
}

// "JIRA OKRX-1": a work item as events name it.
std::string ItemRef(Tracker tracker, const std::string& key) {
  return absl::StrCat(TrackerName(tracker), " ", key);
}

// "50%" for a credit share of 0.5.
std::string CreditPercent(double share) {
  return absl::StrCat(static_cast<int>(std::lround(std::clamp(share, 0.0, 1.0) * 100)), "%");
}

// `t`, or `now` when it lies more than kMaxTrackerClockSkew ahead (a tracker's bogus clock).
absl::Time BoundedSourceTime(absl::Time t, absl::Time now) {
  return t > now + kMaxTrackerClockSkew ? now : t;
}

// The cause of applying an item's new state `now` over `known`, in the words events use:
// cancelled work leaving ("closed as Won't Do", "labelled wontfix"), coming back ("reopened:
// counts again"), credit per workflow state ("moved to In Review (credit 50%)"), closed and
// reopened items.
EventCause ItemChangeCause(const WorkItem& known, const WorkItem& now) {
  EventCause cause{CauseKind::kWorkItemChanged, ItemRef(known.tracker, known.key), "", ""};
  if (now.excluded()) {
    // Excluded closed work was closed with that reason; open work carries it as a label.
    if (!known.excluded()) cause.kind = CauseKind::kWorkItemExcluded;
    if (!known.excluded() || known.exclusion != now.exclusion) {
      cause.detail = absl::StrCat(now.done ? "closed as " : "labelled ", now.exclusion);
    }
    return cause;
  }
  if (known.excluded()) {
    cause.kind = now.done ? CauseKind::kWorkItemClosed : CauseKind::kWorkItemReopened;
    cause.detail = now.done ? "closed: counts again" : "reopened: counts again";
    return cause;
  }
  if (!known.done && now.done) cause.kind = CauseKind::kWorkItemClosed;
  if (known.done && !now.done) cause.kind = CauseKind::kWorkItemReopened;
  if (known.done == now.done && !now.done &&
      (known.partial_credit != now.partial_credit || known.status != now.status)) {
    if (!now.status.empty()) {
      cause.detail = absl::StrCat("moved to ", now.status);
      if (now.partial_credit > 0 || known.partial_credit > 0) {
        absl::StrAppend(&cause.detail, " (credit ", CreditPercent(now.partial_credit), ")");
      }
    } else {
      cause.detail = absl::StrCat("credit now ", CreditPercent(now.partial_credit));
    }
  }
  return cause;
}

// Whether two states of one item differ in what progress counts: done, weight, credit or
// exclusion.
bool ProgressStateDiffers(const WorkItem& a, const WorkItem& b) {
  return a.done != b.done || a.weight != b.weight || a.partial_credit != b.partial_credit ||
         a.exclusion != b.exclusion;
}

// Deletes `objectives` (all of one team or cycle) with their key results, check-ins and
// links, and recomputes the parents outside the set, which lose a child.
absl::Status DeleteObjectives(UnitOfWork& uow, const std::vector<Objective>& objectives) {
  absl::flat_hash_set<std::string> gone;
  for (const Objective& o : objectives) gone.insert(o.id);
  std::vector<std::string> parents;
  absl::flat_hash_set<std::string> seen;
  for (const Objective& o : objectives) {
    OKR_RETURN_IF_ERROR(uow.DeleteObjective(o.id));
    if (!o.parent_id.empty() && !gone.contains(o.parent_id) && seen.insert(o.parent_id).second) {
      parents.push_back(o.parent_id);
    }
  }
  for (const std::string& parent : parents) {
    absl::Status s = RollUp(uow, parent);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  return absl::OkStatus();
}

absl::string_view HealthFilterName(Health h) {
  switch (h) {
    case Health::kOnTrack:
      return "ON_TRACK";
    case Health::kAtRisk:
      return "AT_RISK";
    case Health::kOffTrack:
      return "OFF_TRACK";
    case Health::kNotStarted:
      return "NOT_STARTED";
  }
  return "HEALTH_UNSPECIFIED";
}

const std::vector<std::string>& HealthValues() {
  static const auto* values =
      new std::vector<std::string>{"ON_TRACK", "AT_RISK", "OFF_TRACK", "NOT_STARTED"};
  return *values;
}

const std::vector<std::string>& StateValues() {
  static const auto* values = new std::vector<std::string>{"DRAFT", "PROPOSED", "AGREED", "CLOSED"};
  return *values;
}

const std::vector<FilterField>& ObjectiveFilterFields() {
  static const auto* fields = new std::vector<FilterField>{
      {"health", HealthValues()}, {"team", {}}, {"cycle", {}}, {"state", StateValues()}};
  return *fields;
}

const std::vector<FilterField>& KeyResultFilterFields() {
  static const auto* fields = new std::vector<FilterField>{
      {"health", HealthValues()}, {"team", {}}, {"cycle", {}}, {"objective.state", StateValues()}};
  return *fields;
}

const std::vector<std::string>& OrderFields() {
  static const auto* fields = new std::vector<std::string>{"progress", "update_time"};
  return *fields;
}

// Sorts `items` by `keys` (stable: ties keep the given order).
template <typename T>
void SortByKeys(std::vector<T>& items, const std::vector<OrderKey>& keys) {
  if (keys.empty()) return;
  std::stable_sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    for (const OrderKey& k : keys) {
      int c = 0;
      if (k.field == "progress") {
        c = a.progress < b.progress ? -1 : (a.progress > b.progress ? 1 : 0);
      } else {
        c = a.meta.update_time < b.meta.update_time
                ? -1
                : (a.meta.update_time > b.meta.update_time ? 1 : 0);
      }
      if (c != 0) return k.descending ? c > 0 : c < 0;
    }
    return false;
  });
}

// What identifies a listing for its page tokens.
std::string QueryKey(absl::string_view collection, absl::string_view parent,
                     const ListQuery& query) {
  return absl::StrCat(collection, "\n", parent, "\n", query.filter, "\n", query.order_by);
}

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
    OKR_ASSIGN_OR_RETURN(
        result, CreateOnce<Team>(
                    tx, "CreateTeam", request_id, [](const Team& t) { return names::Team(t.id); },
                    [&](const std::string& name) -> absl::StatusOr<Team> {
                      OKR_ASSIGN_OR_RETURN(std::string id, names::ParseTeam(name, "request_id"));
                      return tx.GetTeam(id);
                    },
                    [&]() -> absl::StatusOr<Team> {
                      if (!team.parent_id.empty()) {
                        if (auto s = tx.GetTeam(team.parent_id); !s.ok()) {
                          return ReferenceError(s.status(), "team.parent",
                                                names::Team(team.parent_id));
                        }
                      }
                      OKR_RETURN_IF_ERROR(tx.InsertTeam(team));
                      return tx.GetTeam(team.id);
                    }));
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

absl::StatusOr<std::vector<std::string>> OkrCore::TeamAndAncestors(const std::string& id) {
  std::vector<std::string> chain;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    chain.clear();
    std::string next = id;
    while (!next.empty() && static_cast<int>(chain.size()) <= internal::kMaxParentDepth) {
      chain.push_back(next);
      absl::StatusOr<Team> team = tx.GetTeam(next);
      if (absl::IsNotFound(team.status())) break;
      OKR_RETURN_IF_ERROR(team.status());
      next = team->parent_id;
    }
    return absl::OkStatus();
  }));
  return chain;
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

absl::StatusOr<Team> OkrCore::UpdateTeam(const Team& patch, const std::vector<std::string>& paths,
                                         const std::string& etag) {
  static const auto* kAllowed = [] {
    auto* allowed = new absl::flat_hash_set<absl::string_view>{"display_name", "parent"};
    for (const TrackerTraits& t : AllTrackers()) {
      allowed->insert(t.team_project_field);
      if (t.team_issue_type_field != nullptr) allowed->insert(t.team_issue_type_field);
    }
    return allowed;
  }();
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "team"));
  const absl::Time now = clock_.Now();
  Team result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Team t, tx.GetTeam(patch.id));
    OKR_RETURN_IF_ERROR(CheckEtag(etag, t.meta.revision, "team.etag"));
    const Team before = t;
    if (HasPath(paths, "display_name")) t.display_name = patch.display_name;
    if (HasPath(paths, "parent")) t.parent_id = patch.parent_id;
    for (const TrackerTraits& tracker : AllTrackers()) {
      if (!HasPath(paths, tracker.team_project_field)) continue;
      const std::string& project = TeamProject(patch, tracker.tracker);
      if (project.empty()) {
        t.projects.erase(tracker.tracker);
      } else {
        t.projects[tracker.tracker] = project;
      }
    }
    for (const TrackerTraits& tracker : AllTrackers()) {
      if (tracker.team_issue_type_field == nullptr ||
          !HasPath(paths, tracker.team_issue_type_field)) {
        continue;
      }
      auto type = patch.issue_types.find(tracker.tracker);
      if (type == patch.issue_types.end() || type->second.empty()) {
        t.issue_types.erase(tracker.tracker);
      } else {
        t.issue_types[tracker.tracker] = type->second;
      }
    }
    OKR_RETURN_IF_ERROR(ValidateTeam(t));
    if (t.parent_id != before.parent_id && !t.parent_id.empty()) {
      if (t.parent_id == t.id) {
        return absl::InvalidArgumentError("team.parent must not be the team itself");
      }
      // The new parent exists and is not below the team.
      std::string next = t.parent_id;
      for (int depth = 0; !next.empty(); ++depth) {
        if (depth > internal::kMaxParentDepth) {
          return absl::FailedPreconditionError(absl::StrCat(
              "team.parent: the parent chain of ", names::Team(t.parent_id), " is too long"));
        }
        absl::StatusOr<Team> up = tx.GetTeam(next);
        if (!up.ok()) return ReferenceError(up.status(), "team.parent", names::Team(next));
        if (up->parent_id == t.id) {
          return absl::InvalidArgumentError(
              absl::StrCat("team.parent: ", names::Team(t.parent_id), " is below ",
                           names::Team(t.id), "; a team cannot move under its own sub-team"));
        }
        next = up->parent_id;
      }
    }
    Touch(t.meta, now);
    OKR_RETURN_IF_ERROR(tx.UpdateTeam(t, before.meta.revision));
    OKR_ASSIGN_OR_RETURN(result, tx.GetTeam(t.id));
    return absl::OkStatus();
  }));
  return result;
}

absl::Status OkrCore::DeleteTeam(const std::string& id, const std::string& etag, bool force) {
  const absl::Time now = clock_.Now();
  return RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::Team(id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(Team t, tx.GetTeam(id));
        OKR_RETURN_IF_ERROR(CheckEtag(etag, t.meta.revision, "etag"));
        storage::ObjectiveFilter of;
        of.team_id = id;
        OKR_ASSIGN_OR_RETURN(std::vector<Objective> objectives, internal::AllObjectives(tx, of));
        OKR_ASSIGN_OR_RETURN(std::vector<Team> children,
                             CollectPages<Team>([&](PageQuery q) { return tx.ListTeams(id, q); }));
        if (!force && !objectives.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat(names::Team(id), " is the team of ", objectives.size(),
                           " objective(s), e.g. ", names::Objective(objectives.front().id),
                           "; delete or move them first or set force = true"));
        }
        if (!force && !children.empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              names::Team(id), " is the parent of ", children.size(), " team(s), e.g. ",
              names::Team(children.front().id),
              "; move them first or set force = true (they then move up to the team's parent)"));
        }
        OKR_RETURN_IF_ERROR(DeleteObjectives(uow, objectives));
        for (Team& child : children) {
          const int64_t revision = child.meta.revision;
          child.parent_id = t.parent_id;
          Touch(child.meta, now);
          OKR_RETURN_IF_ERROR(tx.UpdateTeam(child, revision));
        }
        return tx.DeleteTeam(id, t.meta.revision);
      });
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
    OKR_ASSIGN_OR_RETURN(
        result,
        CreateOnce<Cycle>(
            tx, "CreateCycle", request_id, [](const Cycle& c) { return names::Cycle(c.id); },
            [&](const std::string& name) -> absl::StatusOr<Cycle> {
              OKR_ASSIGN_OR_RETURN(std::string id, names::ParseCycle(name, "request_id"));
              return tx.GetCycle(id);
            },
            [&]() -> absl::StatusOr<Cycle> {
              OKR_RETURN_IF_ERROR(tx.InsertCycle(cycle));
              return tx.GetCycle(cycle.id);
            }));
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

absl::StatusOr<Cycle> OkrCore::UpdateCycle(const Cycle& patch,
                                           const std::vector<std::string>& paths,
                                           const std::string& etag) {
  static const auto* kAllowed =
      new absl::flat_hash_set<absl::string_view>{"display_name", "start_time", "end_time"};
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "cycle"));
  const absl::Time now = clock_.Now();
  Cycle result;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(patch.id));
    OKR_RETURN_IF_ERROR(CheckEtag(etag, c.meta.revision, "cycle.etag"));
    const int64_t revision = c.meta.revision;
    if (HasPath(paths, "display_name")) c.display_name = patch.display_name;
    if (HasPath(paths, "start_time")) c.start_time = patch.start_time;
    if (HasPath(paths, "end_time")) c.end_time = patch.end_time;
    OKR_RETURN_IF_ERROR(ValidateCycle(c));
    Touch(c.meta, now);
    OKR_RETURN_IF_ERROR(tx.UpdateCycle(c, revision));
    OKR_ASSIGN_OR_RETURN(result, tx.GetCycle(c.id));
    return absl::OkStatus();
  }));
  return result;
}

absl::Status OkrCore::DeleteCycle(const std::string& id, const std::string& etag, bool force) {
  const absl::Time now = clock_.Now();
  return RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::Cycle(id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(id));
        OKR_RETURN_IF_ERROR(CheckEtag(etag, c.meta.revision, "etag"));
        storage::ObjectiveFilter of;
        of.cycle_id = id;
        OKR_ASSIGN_OR_RETURN(std::vector<Objective> objectives, internal::AllObjectives(tx, of));
        if (!force && !objectives.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat(names::Cycle(id), " is the cycle of ", objectives.size(),
                           " objective(s), e.g. ", names::Objective(objectives.front().id),
                           "; delete or move them first or set force = true"));
        }
        OKR_RETURN_IF_ERROR(DeleteObjectives(uow, objectives));
        return tx.DeleteCycle(id, c.meta.revision);
      });
}

// ---------------------------------------------------------------------------------------
// Objectives

absl::StatusOr<Objective> OkrCore::CreateObjective(Objective o, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  if (o.id.empty()) o.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(o.id, "objective_id"));
  OKR_RETURN_IF_ERROR(ValidateObjective(o));
  const absl::Time now = clock_.Now();
  ResetOutputOnly(o);
  NewMeta(o.meta, now);
  Objective result;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::Objective(o.id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(
            result,
            CreateOnce<Objective>(
                tx, "CreateObjective", request_id,
                [](const Objective& x) { return names::Objective(x.id); },
                [&](const std::string& name) -> absl::StatusOr<Objective> {
                  OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(name, "request_id"));
                  return ReadObjective(tx, id, now);
                },
                [&]() -> absl::StatusOr<Objective> {
                  OKR_RETURN_IF_ERROR(CheckObjectiveReferences(tx, o));
                  // A new objective has no children and nobody refers to it yet: only its
                  // own references can be wrong or close a loop.
                  if (!o.parent_id.empty() || !o.contributes_to.empty() || !o.depends_on.empty()) {
                    Objective unaligned = o;
                    unaligned.parent_id.clear();
                    unaligned.contributes_to.clear();
                    unaligned.depends_on.clear();
                    OKR_RETURN_IF_ERROR(ValidateAlignment(tx, unaligned, o, now));
                  }
                  OKR_RETURN_IF_ERROR(uow.InsertObjective(o).status());
                  // A new child (progress 0) weighs in on a parent that rolls up its children.
                  if (!o.parent_id.empty()) OKR_RETURN_IF_ERROR(RollUp(uow, o.parent_id));
                  return DerivedObjective(uow, o.id);
                }));
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
    const storage::ObjectiveFilter& filter, const PageRequest& page, const ListQuery& query) {
  if (!query.filter.empty() || !query.order_by.empty()) {
    OKR_ASSIGN_OR_RETURN(ListFilter parsed, ParseListFilter(query.filter, ObjectiveFilterFields()));
    OKR_ASSIGN_OR_RETURN(std::vector<OrderKey> order, ParseOrderBy(query.order_by, OrderFields()));
    const std::string key =
        QueryKey("objectives",
                 absl::StrCat(filter.team_id, "/", filter.cycle_id, "/", filter.parent_id), query);
    OKR_ASSIGN_OR_RETURN(internal::OffsetPage offset, internal::ToOffsetPage(page, key));
    const absl::Time now = clock_.Now();
    std::vector<Objective> selected;
    OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
      OKR_ASSIGN_OR_RETURN(std::vector<Objective> all, internal::AllObjectives(tx, filter));
      absl::flat_hash_map<std::string, Cycle> cycles;
      for (Objective& o : all) {
        auto it = cycles.find(o.cycle_id);
        if (it == cycles.end()) {
          OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
          it = cycles.emplace(o.cycle_id, std::move(c)).first;
        }
        Derive(o, it->second, now);
        const bool keep = parsed.Matches([&](absl::string_view field) -> std::string {
          if (field == "health") return std::string(HealthFilterName(o.health));
          if (field == "team") return names::Team(o.team_id);
          if (field == "cycle") return names::Cycle(o.cycle_id);
          return std::string(ObjectiveStateName(o.state));
        });
        if (keep) selected.push_back(std::move(o));
      }
      return absl::OkStatus();
    }));
    SortByKeys(selected, order);
    return internal::SliceToListResult(std::move(selected), offset, key);
  }
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
                                                   const std::string& etag, bool reopen) {
  static const auto* kAllowed = new absl::flat_hash_set<absl::string_view>{
      "title", "description",     "team",   "cycle",          "parent",
      "kind",  "progress_source", "weight", "contributes_to", "depends_on"};
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "objective"));
  const absl::Time now = clock_.Now();
  Objective result;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::Objective(patch.id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(Objective * loaded, uow.LoadObjective(patch.id));
        Objective& o = *loaded;
        OKR_RETURN_IF_ERROR(CheckEtag(etag, o.meta.revision, "objective.etag"));
        const Objective before = o;
        if (HasPath(paths, "title")) o.title = patch.title;
        if (HasPath(paths, "description")) o.description = patch.description;
        if (HasPath(paths, "team")) o.team_id = patch.team_id;
        if (HasPath(paths, "cycle")) o.cycle_id = patch.cycle_id;
        if (HasPath(paths, "parent")) o.parent_id = patch.parent_id;
        if (HasPath(paths, "kind")) o.kind = patch.kind;
        if (HasPath(paths, "progress_source")) o.progress_source = patch.progress_source;
        if (HasPath(paths, "weight")) o.weight = patch.weight;
        if (HasPath(paths, "contributes_to")) o.contributes_to = patch.contributes_to;
        if (HasPath(paths, "depends_on")) o.depends_on = patch.depends_on;
        OKR_RETURN_IF_ERROR(ValidateObjective(o));
        OKR_RETURN_IF_ERROR(
            ApplyGuardedEdits(o, GuardedObjectiveChanges(before, o, paths), reopen).status());
        OKR_RETURN_IF_ERROR(CheckObjectiveReferences(tx, o));
        if (o.parent_id != before.parent_id || o.contributes_to != before.contributes_to ||
            o.depends_on != before.depends_on || o.team_id != before.team_id ||
            o.cycle_id != before.cycle_id) {
          OKR_RETURN_IF_ERROR(ValidateAlignment(tx, before, o, now));
        }
        OKR_RETURN_IF_ERROR(uow.Changed(o));
        // Roll-up: its own progress (and so its parent's) moves with its progress_source; a
        // move changes what the old and the new parent roll up; a weight what the parent does.
        if (o.progress_source != before.progress_source) {
          OKR_RETURN_IF_ERROR(RollUp(uow, o.id));
        }
        if (o.parent_id != before.parent_id) {
          if (!before.parent_id.empty()) OKR_RETURN_IF_ERROR(RollUp(uow, before.parent_id));
          if (!o.parent_id.empty()) OKR_RETURN_IF_ERROR(RollUp(uow, o.parent_id));
        } else if (o.weight != before.weight && !o.parent_id.empty()) {
          OKR_RETURN_IF_ERROR(RollUp(uow, o.parent_id));
        }
        OKR_ASSIGN_OR_RETURN(result, DerivedObjective(uow, o.id));
        return absl::OkStatus();
      }));
  return result;
}

absl::Status OkrCore::DeleteObjective(const std::string& id, const std::string& etag, bool force) {
  const absl::Time now = clock_.Now();
  return RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::Objective(id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(const Objective* loaded, uow.LoadObjective(id));
        const Objective o = *loaded;
        OKR_RETURN_IF_ERROR(CheckEtag(etag, o.meta.revision, "etag"));
        if (!force) {
          OKR_ASSIGN_OR_RETURN(auto krs, tx.ListKeyResults(id, PageQuery{0, 1}));
          if (!krs.items.empty()) {
            return absl::FailedPreconditionError(absl::StrCat(
                names::Objective(id), " has key results; delete them first or set force = true"));
          }
        }
        // Its children lose their parent (and keep their progress); its parent loses a child.
        OKR_RETURN_IF_ERROR(uow.DeleteObjective(id));
        if (o.parent_id.empty()) return absl::OkStatus();
        return RollUp(uow, o.parent_id);
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
  kr.score.reset();
  kr.score_reason.clear();
  const KeyResultProgress p = ComputeKeyResultProgress(kr);
  kr.progress = p.progress;
  kr.raw_progress = p.raw_progress;
  NewMeta(kr.meta, now);
  KeyResult result;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::KeyResult(kr.objective_id, kr.id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(
            result, CreateOnce<KeyResult>(
                        tx, "CreateKeyResult", request_id,
                        [](const KeyResult& x) { return names::KeyResult(x.objective_id, x.id); },
                        [&](const std::string& name) -> absl::StatusOr<KeyResult> {
                          OKR_ASSIGN_OR_RETURN(names::KeyResultName n,
                                               names::ParseKeyResult(name, "request_id"));
                          return ReadKeyResult(tx, n.objective_id, n.key_result_id, now);
                        },
                        [&]() -> absl::StatusOr<KeyResult> {
                          absl::StatusOr<Objective*> o = uow.LoadObjective(kr.objective_id);
                          if (!o.ok()) {
                            if (absl::IsNotFound(o.status())) {
                              return absl::NotFoundError(absl::StrCat(
                                  "parent: ", names::Objective(kr.objective_id), " not found"));
                            }
                            return o.status();
                          }
                          OKR_RETURN_IF_ERROR(EditKeyResultSet(
                              uow, **o, GuardedEdit::kKeyResultAdded, kr.objective_id, kr.id));
                          OKR_RETURN_IF_ERROR(uow.InsertKeyResult(kr).status());
                          OKR_RETURN_IF_ERROR(RollUp(uow, kr.objective_id));
                          return DerivedKeyResult(uow, kr.objective_id, kr.id);
                        }));
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
                                                              const PageRequest& page,
                                                              const ListQuery& query) {
  if (objective_id == kAnyObjective || !query.filter.empty() || !query.order_by.empty()) {
    OKR_ASSIGN_OR_RETURN(ListFilter parsed, ParseListFilter(query.filter, KeyResultFilterFields()));
    OKR_ASSIGN_OR_RETURN(std::vector<OrderKey> order, ParseOrderBy(query.order_by, OrderFields()));
    const std::string key = QueryKey("keyResults", objective_id, query);
    OKR_ASSIGN_OR_RETURN(internal::OffsetPage offset, internal::ToOffsetPage(page, key));
    const absl::Time now = clock_.Now();
    std::vector<KeyResult> selected;
    OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
      std::vector<Objective> objectives;
      if (objective_id == kAnyObjective) {
        OKR_ASSIGN_OR_RETURN(objectives, internal::AllObjectives(tx, storage::ObjectiveFilter{}));
      } else {
        OKR_ASSIGN_OR_RETURN(Objective o, tx.GetObjective(objective_id));
        objectives.push_back(std::move(o));
      }
      absl::flat_hash_map<std::string, Cycle> cycles;
      for (const Objective& o : objectives) {
        auto it = cycles.find(o.cycle_id);
        if (it == cycles.end()) {
          OKR_ASSIGN_OR_RETURN(Cycle c, tx.GetCycle(o.cycle_id));
          it = cycles.emplace(o.cycle_id, std::move(c)).first;
        }
        OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs, tx.AllKeyResults(o.id));
        for (KeyResult& kr : krs) {
          Derive(kr, it->second, now);
          const bool keep = parsed.Matches([&](absl::string_view field) -> std::string {
            if (field == "health") return std::string(HealthFilterName(kr.health));
            if (field == "team") return names::Team(o.team_id);
            if (field == "cycle") return names::Cycle(o.cycle_id);
            return std::string(ObjectiveStateName(o.state));
          });
          if (keep) selected.push_back(std::move(kr));
        }
      }
      return absl::OkStatus();
    }));
    SortByKeys(selected, order);
    return internal::SliceToListResult(std::move(selected), offset, key);
  }
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
                                                   const std::string& etag, bool reopen) {
  // A work-items key result's scope parts by mask path ("work_items.jira_jql"), from the
  // tracker table.
  using ScopePart = std::pair<Tracker, std::string TrackerScope::*>;
  static const auto* kScopeParts = [] {
    auto* parts = new std::vector<std::pair<std::string, ScopePart>>();
    for (const TrackerTraits& t : AllTrackers()) {
      for (auto [field, member] : {std::pair{t.scope_query_field, &TrackerScope::query},
                                   std::pair{t.scope_project_field, &TrackerScope::project},
                                   std::pair{t.scope_milestone_field, &TrackerScope::milestone}}) {
        if (field != nullptr) {
          parts->push_back({absl::StrCat("work_items.", field), ScopePart{t.tracker, member}});
        }
      }
    }
    return parts;
  }();
  static const auto* kScopeLabels = [] {
    auto* labels = new std::vector<std::pair<std::string, Tracker>>();
    for (const TrackerTraits& t : AllTrackers()) {
      if (t.scope_labels_field != nullptr) {
        labels->push_back({absl::StrCat("work_items.", t.scope_labels_field), t.tracker});
      }
    }
    return labels;
  }();
  static const auto* kAllowed = [] {
    auto* allowed = new absl::flat_hash_set<absl::string_view>{"title",
                                                               "weight",
                                                               "metric.start_value",
                                                               "metric.target_value",
                                                               "metric.current_value",
                                                               "metric.unit",
                                                               "metric.metric_key",
                                                               "milestone.done"};
    for (const auto& [path, part] : *kScopeParts) allowed->insert(path);
    for (const auto& [path, tracker] : *kScopeLabels) allowed->insert(path);
    return allowed;
  }();
  OKR_RETURN_IF_ERROR(CheckPaths(paths, *kAllowed, "key result"));
  const absl::Time now = clock_.Now();
  KeyResult result;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::KeyResult(patch.objective_id, patch.id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OKR_ASSIGN_OR_RETURN(KeyResult * loaded, uow.LoadKeyResult(patch.objective_id, patch.id));
        KeyResult& kr = *loaded;
        OKR_RETURN_IF_ERROR(CheckEtag(etag, kr.meta.revision, "key_result.etag"));
        const KeyResult before = kr;
        for (const std::string& p : paths) {
          if (absl::StartsWith(p, "metric.") && kr.type != KeyResultType::kMetric) {
            return absl::InvalidArgumentError(absl::StrCat(
                "key_result.", p, ": not a metric key result (the kind cannot change)"));
          }
          if (absl::StartsWith(p, "milestone.") && kr.type != KeyResultType::kMilestone) {
            return absl::InvalidArgumentError(absl::StrCat(
                "key_result.", p, ": not a milestone key result (the kind cannot change)"));
          }
          if (absl::StartsWith(p, "work_items.") && kr.type != KeyResultType::kWorkItems) {
            return absl::InvalidArgumentError(
                absl::StrCat("key_result.", p,
                             ": scopes are only for work-items key results (the kind cannot "
                             "change)"));
          }
        }
        // Scope parts: the patch's value (none: empty); a scope left without parts goes.
        for (const auto& [path, part] : *kScopeParts) {
          if (!HasPath(paths, path)) continue;
          auto from = patch.scopes.find(part.first);
          kr.scopes[part.first].*part.second =
              from == patch.scopes.end() ? std::string() : from->second.*part.second;
        }
        for (const auto& [path, tracker] : *kScopeLabels) {
          if (!HasPath(paths, path)) continue;
          auto from = patch.scopes.find(tracker);
          kr.scopes[tracker].labels =
              from == patch.scopes.end() ? std::vector<std::string>() : from->second.labels;
        }
        for (auto it = kr.scopes.begin(); it != kr.scopes.end();) {
          const TrackerScope& s = it->second;
          const bool none =
              s.query.empty() && s.project.empty() && s.labels.empty() && s.milestone.empty();
          it = none ? kr.scopes.erase(it) : std::next(it);
        }
        if (HasPath(paths, "title")) kr.title = patch.title;
        if (HasPath(paths, "weight")) kr.weight = patch.weight;
        if (HasPath(paths, "metric.start_value")) kr.metric.start_value = patch.metric.start_value;
        if (HasPath(paths, "metric.target_value"))
          kr.metric.target_value = patch.metric.target_value;
        if (HasPath(paths, "metric.current_value")) {
          kr.metric.current_value = patch.metric.current_value;
        }
        if (HasPath(paths, "metric.unit")) kr.metric.unit = patch.metric.unit;
        if (HasPath(paths, "metric.metric_key")) kr.metric_key = patch.metric_key;
        if (HasPath(paths, "milestone.done")) kr.milestone_done = patch.milestone_done;
        OKR_RETURN_IF_ERROR(ValidateKeyResult(kr));
        // Targets are part of what the objective's teams agreed to; current values are not.
        OKR_ASSIGN_OR_RETURN(Objective * o, uow.LoadObjective(kr.objective_id));
        const Objective o_before = *o;
        OKR_RETURN_IF_ERROR(
            ApplyGuardedEdits(*o, GuardedKeyResultChanges(before, kr, paths), reopen).status());
        OKR_RETURN_IF_ERROR(StoreLifecycleChange(uow, o_before, *o));
        OKR_RETURN_IF_ERROR(SaveKeyResult(uow, kr));
        OKR_ASSIGN_OR_RETURN(result, DerivedKeyResult(uow, kr.objective_id, kr.id));
        return absl::OkStatus();
      }));
  return result;
}

absl::Status OkrCore::DeleteKeyResult(const std::string& objective_id, const std::string& id,
                                      const std::string& etag) {
  const absl::Time now = clock_.Now();
  return RunUnitOfWork(
      store_, now, EventCause{CauseKind::kEdit, names::KeyResult(objective_id, id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OKR_ASSIGN_OR_RETURN(const KeyResult* kr, uow.LoadKeyResult(objective_id, id));
        OKR_RETURN_IF_ERROR(CheckEtag(etag, kr->meta.revision, "etag"));
        OKR_ASSIGN_OR_RETURN(Objective * o, uow.LoadObjective(objective_id));
        OKR_RETURN_IF_ERROR(
            EditKeyResultSet(uow, *o, GuardedEdit::kKeyResultRemoved, objective_id, id));
        OKR_RETURN_IF_ERROR(uow.DeleteKeyResult(objective_id, id));
        return RollUp(uow, objective_id);
      });
}

// ---------------------------------------------------------------------------------------
// Check-ins

absl::StatusOr<CheckIn> OkrCore::GetCheckIn(const std::string& objective_id,
                                            const std::string& key_result_id,
                                            const std::string& id) {
  CheckIn result;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(result, tx.GetCheckIn(objective_id, key_result_id, id));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<CheckIn> OkrCore::CreateCheckIn(CheckIn c, const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  const absl::Time now = clock_.Now();
  c.id = names::GenerateId();
  NewMeta(c.meta, now);
  CheckIn result;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now,
      EventCause{CauseKind::kCheckIn, names::CheckIn(c.objective_id, c.key_result_id, c.id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(
            result, CreateOnce<CheckIn>(
                        tx, "CreateCheckIn", request_id,
                        [](const CheckIn& x) {
                          return names::CheckIn(x.objective_id, x.key_result_id, x.id);
                        },
                        [&](const std::string& name) -> absl::StatusOr<CheckIn> {
                          OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n,
                                               names::ParseCheckIn(name, "request_id"));
                          return tx.GetCheckIn(n.objective_id, n.key_result_id, n.child_id);
                        },
                        [&]() -> absl::StatusOr<CheckIn> {
                          absl::StatusOr<KeyResult*> kr =
                              uow.LoadKeyResult(c.objective_id, c.key_result_id);
                          if (!kr.ok()) {
                            if (absl::IsNotFound(kr.status())) {
                              return absl::NotFoundError(absl::StrCat(
                                  "parent: ", names::KeyResult(c.objective_id, c.key_result_id),
                                  " not found"));
                            }
                            return kr.status();
                          }
                          KeyResult& target = **kr;
                          OKR_RETURN_IF_ERROR(ValidateCheckIn(c, target.type));
                          OKR_RETURN_IF_ERROR(tx.InsertCheckIn(c));
                          if (target.type == KeyResultType::kMetric)
                            target.metric.current_value = *c.value;
                          if (target.type == KeyResultType::kMilestone && c.value.has_value()) {
                            target.milestone_done = *c.value == 1;
                          }
                          OKR_RETURN_IF_ERROR(SaveKeyResult(uow, target));
                          return c;  // as inserted
                        }));
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

namespace {

// LinkWorkItem's create: the key result gains one item (its totals by that item).
absl::StatusOr<WorkItemLink> LinkNewWorkItem(UnitOfWork& uow, const std::string& objective_id,
                                             const std::string& key_result_id, WorkItem item) {
  OkrTransaction& tx = uow.tx();
  const absl::Time now = uow.now();
  absl::StatusOr<KeyResult*> kr = uow.LoadKeyResult(objective_id, key_result_id);
  if (!kr.ok()) {
    if (absl::IsNotFound(kr.status())) {
      return absl::NotFoundError(
          absl::StrCat("parent: ", names::KeyResult(objective_id, key_result_id), " not found"));
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
    return absl::AlreadyExistsError(absl::StrCat("work_item: ", TrackerName(item.tracker), " ",
                                                 item.key, " is already linked to ",
                                                 names::KeyResult(objective_id, key_result_id)));
  }
  OKR_RETURN_IF_ERROR(inserted);
  if ((*kr)->type == KeyResultType::kWorkItems) AdjustTotals((*kr)->totals, nullptr, &item);
  OKR_RETURN_IF_ERROR(SaveKeyResult(uow, **kr));
  return tx.GetWorkItemLink(objective_id, key_result_id, link.id);
}

// Unlink's change: the key result loses the linked item (its totals by that item).
absl::Status UnlinkItem(UnitOfWork& uow, const WorkItemLink& link) {
  OKR_RETURN_IF_ERROR(uow.tx().DeleteWorkItemLink(link.objective_id, link.key_result_id, link.id));
  uow.ItemWriteBack(link.item.tracker, link.item.key);  // its mark for this key result goes
  OKR_ASSIGN_OR_RETURN(KeyResult * kr, uow.LoadKeyResult(link.objective_id, link.key_result_id));
  if (kr->type == KeyResultType::kWorkItems) AdjustTotals(kr->totals, &link.item, nullptr);
  return SaveKeyResult(uow, *kr);
}

}  // namespace

absl::StatusOr<WorkItemLink> OkrCore::LinkWorkItem(const std::string& objective_id,
                                                   const std::string& key_result_id, WorkItem item,
                                                   const std::string& request_id) {
  OKR_RETURN_IF_ERROR(ValidateRequestId(request_id));
  OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
  const absl::Time now = clock_.Now();
  WorkItemLink result;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kWorkItemAdded, ItemRef(item.tracker, item.key), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(
            result, CreateOnce<WorkItemLink>(
                        tx, "LinkWorkItem", request_id,
                        [](const WorkItemLink& l) {
                          return names::WorkItemLink(l.objective_id, l.key_result_id, l.id);
                        },
                        [&](const std::string& name) -> absl::StatusOr<WorkItemLink> {
                          OKR_ASSIGN_OR_RETURN(names::KeyResultChildName n,
                                               names::ParseWorkItemLink(name, "request_id"));
                          return tx.GetWorkItemLink(n.objective_id, n.key_result_id, n.child_id);
                        },
                        [&]() { return LinkNewWorkItem(uow, objective_id, key_result_id, item); }));
        return absl::OkStatus();
      }));
  return result;
}

absl::Status OkrCore::UnlinkWorkItem(const std::string& objective_id,
                                     const std::string& key_result_id, const std::string& link_id) {
  const absl::Time now = clock_.Now();
  return RunUnitOfWork(store_, now,
                       EventCause{CauseKind::kWorkItemRemoved,
                                  names::WorkItemLink(objective_id, key_result_id, link_id), ""},
                       [&](UnitOfWork& uow) -> absl::Status {
                         OKR_ASSIGN_OR_RETURN(
                             WorkItemLink link,
                             uow.tx().GetWorkItemLink(objective_id, key_result_id, link_id));
                         return UnlinkItem(uow, link);
                       });
}

absl::Status OkrCore::UnlinkWorkItemByKey(const std::string& objective_id,
                                          const std::string& key_result_id, Tracker tracker,
                                          const std::string& key) {
  const absl::Time now = clock_.Now();
  return RunUnitOfWork(
      store_, now, EventCause{CauseKind::kWorkItemRemoved, ItemRef(tracker, key), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OKR_ASSIGN_OR_RETURN(WorkItemLink link,
                             uow.tx().FindWorkItemLink(objective_id, key_result_id, tracker, key));
        return UnlinkItem(uow, link);
      });
}

absl::StatusOr<ListResult<WorkItemLink>> OkrCore::ListWorkItemLinks(
    const std::string& objective_id, const std::string& key_result_id, const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(PageQuery q, ToPageQuery(page));
  storage::Page<WorkItemLink> rows;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](OkrTransaction& tx) -> absl::Status {
    OKR_RETURN_IF_ERROR(tx.GetKeyResult(objective_id, key_result_id).status());
    OKR_ASSIGN_OR_RETURN(rows, tx.ListWorkItemLinks(objective_id, key_result_id, q));
    return absl::OkStatus();
  }));
  return ToListResult(std::move(rows));
}

absl::StatusOr<std::vector<WorkItemLinkTarget>> OkrCore::FindWorkItemLinks(Tracker tracker,
                                                                           const std::string& key) {
  if (key.empty()) return absl::InvalidArgumentError("key is required");
  if (FindTracker(tracker) == nullptr) {
    std::vector<std::string> names;
    for (const TrackerTraits& t : AllTrackers()) names.push_back(t.enum_name);
    return absl::InvalidArgumentError(
        absl::StrCat("tracker must be ", absl::StrJoin(names, " or ")));
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
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kWorkItemChanged, ItemRef(patch.tracker, patch.key), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known,
                             tx.GetWorkItem(patch.tracker, patch.key));
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
        uow.set_cause(ItemChangeCause(*known, item));
        item.update_time = now;
        OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
        OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links,
                             tx.LinksToWorkItem(item.tracker, item.key));
        OKR_RETURN_IF_ERROR(ApplyItemChange(uow, links, *known, &item));
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

// Applies an item's new state `after` over `before` (the stored one; same key as `after`
// by now) to every key result linking it.
absl::Status ApplyToLinkedKeyResults(UnitOfWork& uow, const WorkItem& before,
                                     const WorkItem& after) {
  OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links,
                       uow.tx().LinksToWorkItem(after.tracker, after.key));
  return ApplyItemChange(uow, links, before, &after);
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
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now, EventCause{CauseKind::kWorkItemChanged, ItemRef(state.tracker, state.key), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
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
        // A time from the future (a tracker's bogus clock) counts as now on both sides.
        const absl::Time incoming = BoundedSourceTime(state.source_updated, now);
        const absl::Time held = BoundedSourceTime(known->source_updated, now);
        if (incoming != absl::InfinitePast() && incoming < held) {
          outcome = SyncOutcome::kStale;
          return absl::OkStatus();
        }
        WorkItem item = *known;
        uow.set_cause(ItemChangeCause(*known, state));
        if (!state.key.empty() && state.key != item.key) {
          OKR_RETURN_IF_ERROR(tx.RenameWorkItem(item.tracker, item.key, state.key));
          item.key = state.key;
        }
        const bool progress_changed = ProgressStateDiffers(item, state);
        const bool changed = progress_changed || item.status != state.status ||
                             item.title != state.title ||
                             (!state.url.empty() && item.url != state.url) ||
                             (!state.external_id.empty() && item.external_id != state.external_id);
        if (!state.title.empty()) item.title = state.title;
        if (!state.url.empty()) item.url = state.url;
        if (!state.external_id.empty()) item.external_id = state.external_id;
        item.done = state.done;
        item.weight = state.weight;
        item.partial_credit = state.partial_credit;
        item.status = state.status;
        item.exclusion = state.exclusion;
        if (incoming != absl::InfinitePast()) item.source_updated = incoming;
        if (changed) item.update_time = now;
        OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
        OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
        if (progress_changed) OKR_RETURN_IF_ERROR(ApplyToLinkedKeyResults(uow, *known, item));
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
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now,
      EventCause{CauseKind::kWorkItemRemoved, ItemRef(tracker, key.empty() ? external_id : key),
                 ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
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
        OKR_RETURN_IF_ERROR(ApplyItemChange(uow, links, *known, /*after=*/nullptr));
        for (const WorkItemLink& link : links) {
          result.key_results.push_back(names::KeyResult(link.objective_id, link.key_result_id));
        }
        result.outcome = SyncOutcome::kApplied;
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<ScopeChange> OkrCore::ApplyScope(const std::string& objective_id,
                                                const std::string& key_result_id, Tracker tracker,
                                                const std::vector<WorkItem>& matches) {
  const absl::Time now = clock_.Now();
  ScopeChange change;
  OKR_RETURN_IF_ERROR(RunUnitOfWork(
      store_, now,
      EventCause{CauseKind::kScopeSync, names::KeyResult(objective_id, key_result_id), ""},
      [&](UnitOfWork& uow) -> absl::Status {
        OkrTransaction& tx = uow.tx();
        change = ScopeChange{};
        OKR_ASSIGN_OR_RETURN(KeyResult * scoped, uow.LoadKeyResult(objective_id, key_result_id));
        // Count once: a match whose id is stored under another key is that item moved (Jira
        // OKRX-7 -> OKRY-70, id 10007); it and its links take the new key before comparing.
        for (const WorkItem& m : matches) {
          if (m.external_id.empty()) continue;
          OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> by_id,
                               tx.GetWorkItemByExternalId(tracker, m.external_id));
          if (!by_id.has_value() || by_id->key == m.key) continue;
          OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> taken, tx.GetWorkItem(tracker, m.key));
          if (!taken.has_value()) {
            OKR_RETURN_IF_ERROR(tx.RenameWorkItem(tracker, by_id->key, m.key));
          }
        }
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
            uow.ItemWriteBack(l.item.tracker, l.item.key);
            change.unlinked.push_back(l.item.key);
          }
        }
        for (const WorkItem& m : matches) {
          OKR_ASSIGN_OR_RETURN(std::optional<WorkItem> known, tx.GetWorkItem(tracker, m.key));
          WorkItem item = m;
          item.tracker = tracker;
          if (known.has_value() && BoundedSourceTime(known->source_updated, now) >
                                       BoundedSourceTime(m.source_updated, now)) {
            item = *known;
          }
          if (item.source_updated > now + kMaxTrackerClockSkew) item.source_updated = now;
          if (!known.has_value() || ProgressStateDiffers(item, *known) ||
              item.status != known->status || item.title != known->title) {
            item.update_time = now;
            OKR_RETURN_IF_ERROR(ValidateWorkItem(item));
            OKR_RETURN_IF_ERROR(tx.UpsertWorkItem(item));
            if (known.has_value()) OKR_RETURN_IF_ERROR(ApplyToLinkedKeyResults(uow, *known, item));
          }
          if (!have.insert(m.key).second) continue;  // linked already (or listed twice)
          WorkItemLink link;
          link.id = names::GenerateId();
          link.objective_id = objective_id;
          link.key_result_id = key_result_id;
          link.item = item;
          NewMeta(link.meta, now);
          OKR_RETURN_IF_ERROR(tx.InsertWorkItemLink(link));
          change.linked.push_back(m.key);
        }
        // Many links changed at once: the scoped key result's totals are counted afresh.
        return RecountKeyResult(uow, *scoped);
      }));
  return change;
}

}  // namespace okr::core
