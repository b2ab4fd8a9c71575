#include "service/okr/lifecycle.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/okr/error_details.h"
#include "service/okr/names.h"
#include "service/okr/validation.h"

namespace okr {
namespace {

// Values quoted in change records are cut to this many bytes (at a UTF-8 boundary).
constexpr size_t kMaxRecordedValueBytes = 256;

std::string Quote(absl::string_view value) {
  if (value.size() <= kMaxRecordedValueBytes) return absl::StrCat("\"", value, "\"");
  size_t cut = kMaxRecordedValueBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("\"", value.substr(0, cut), "...\"");
}

absl::Status WrongState(const Objective& o, absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat(names::Objective(o.id), " is ", ObjectiveStateName(o.state), "; ", what));
}

Transition Make(ObjectiveState from, ObjectiveState to, bool cleared, std::string description) {
  Transition t;
  t.from = from;
  t.to = to;
  t.agreements_cleared = cleared;
  t.description = std::move(description);
  return t;
}

std::vector<std::string> TeamNames(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) out.push_back(names::Team(id));
  return out;
}

bool HasAgreed(const Objective& o, absl::string_view team_id) {
  return std::any_of(o.agreements.begin(), o.agreements.end(),
                     [&](const Agreement& a) { return a.team_id == team_id; });
}

// "changing the title", "adding a key result", ...
absl::string_view EditPhrase(GuardedEdit what) {
  switch (what) {
    case GuardedEdit::kTitle:
      return "changing the title";
    case GuardedEdit::kParent:
      return "changing the parent";
    case GuardedEdit::kKeyResultTarget:
      return "changing a key result's target";
    case GuardedEdit::kContributesTo:
      return "changing contributes_to";
    case GuardedEdit::kDependsOn:
      return "changing depends_on";
    case GuardedEdit::kKind:
      return "changing the kind";
    case GuardedEdit::kTeam:
      return "changing the team";
    case GuardedEdit::kCycle:
      return "changing the cycle";
    case GuardedEdit::kKeyResultAdded:
      return "adding a key result";
    case GuardedEdit::kKeyResultRemoved:
      return "removing a key result";
  }
  return "this change";
}

}  // namespace

absl::string_view ObjectiveStateName(ObjectiveState state) {
  switch (state) {
    case ObjectiveState::kDraft:
      return "DRAFT";
    case ObjectiveState::kProposed:
      return "PROPOSED";
    case ObjectiveState::kAgreed:
      return "AGREED";
    case ObjectiveState::kClosed:
      return "CLOSED";
  }
  return "STATE_UNSPECIFIED";
}

absl::StatusOr<Transition> Propose(Objective& objective) {
  if (objective.state != ObjectiveState::kDraft) {
    return WrongState(objective, "only a DRAFT can be proposed");
  }
  objective.state = ObjectiveState::kProposed;
  return Make(ObjectiveState::kDraft, ObjectiveState::kProposed, false,
              absl::StrCat(names::Objective(objective.id), " was proposed for agreement"));
}

absl::StatusOr<std::vector<std::string>> RequiredAgreementTeams(
    const Objective& objective, const std::vector<Objective>& dependencies) {
  std::vector<std::string> teams = {objective.team_id};
  for (const std::string& id : objective.depends_on) {
    auto it = std::find_if(dependencies.begin(), dependencies.end(),
                           [&](const Objective& d) { return d.id == id; });
    if (it == dependencies.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("objective.depends_on: ", names::Objective(id), " does not exist"));
    }
    teams.push_back(it->team_id);
  }
  std::sort(teams.begin(), teams.end());
  teams.erase(std::unique(teams.begin(), teams.end()), teams.end());
  return teams;
}

std::vector<std::string> PendingAgreementTeams(const Objective& objective,
                                               const std::vector<std::string>& required) {
  std::vector<std::string> pending;
  for (const std::string& team : required) {
    if (!HasAgreed(objective, team)) pending.push_back(team);
  }
  std::sort(pending.begin(), pending.end());
  pending.erase(std::unique(pending.begin(), pending.end()), pending.end());
  return pending;
}

absl::StatusOr<AgreeResult> Agree(Objective& objective, absl::string_view team_id,
                                  const std::vector<std::string>& required_team_ids,
                                  absl::string_view agreed_by, absl::Time now,
                                  const std::vector<Finding>& findings) {
  if (team_id.empty()) return absl::InvalidArgumentError("team is required");
  const ObjectiveState from = objective.state;
  if (from == ObjectiveState::kDraft) {
    return WrongState(objective, "propose it before it can be agreed");
  }
  if (from == ObjectiveState::kClosed) {
    return WrongState(objective, "a closed objective can no longer be agreed");
  }
  std::vector<std::string> required = required_team_ids;
  required.push_back(objective.team_id);
  std::sort(required.begin(), required.end());
  required.erase(std::unique(required.begin(), required.end()), required.end());
  if (!std::binary_search(required.begin(), required.end(), team_id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "team: ", names::Team(team_id), " is not a party to ", names::Objective(objective.id),
        "; it is agreed by its own team and the teams of the objectives it depends on (",
        absl::StrJoin(TeamNames(required), ", "), ")"));
  }
  AgreeResult result;
  if (HasAgreed(objective, team_id)) {
    result.transition = Make(from, from, false,
                             absl::StrCat(names::Team(team_id), " had already agreed to ",
                                          names::Objective(objective.id)));
    result.pending_team_ids = PendingAgreementTeams(objective, required);
    return result;
  }
  std::vector<std::string> blocking;
  std::vector<Violation> violations;
  for (const Finding& f : findings) {
    if (BlocksAgreement(f, objective.id)) {
      blocking.push_back(absl::StrCat(FindingCodeName(f.code), ": ", f.message));
      // One violation per resource involved, so a client sees e.g. the contradicting key
      // result by name.
      for (const std::string& subject : f.subjects) {
        violations.push_back(Violation{std::string(FindingCodeName(f.code)), subject, f.message});
      }
    }
  }
  if (!blocking.empty()) {
    std::sort(blocking.begin(), blocking.end());
    absl::Status status = WrongState(objective, absl::StrCat("it cannot be agreed while alignment "
                                                             "errors block it: ",
                                                             absl::StrJoin(blocking, " ")));
    status = WithReason(std::move(status), "ALIGNMENT_BLOCKS_AGREEMENT");
    for (const Violation& v : violations) status = WithViolation(std::move(status), v);
    return status;
  }
  objective.agreements.push_back(Agreement{std::string(team_id), std::string(agreed_by), now});
  result.recorded = true;
  result.pending_team_ids = PendingAgreementTeams(objective, required);
  std::string description =
      absl::StrCat(names::Team(team_id), " agreed to ", names::Objective(objective.id));
  if (!agreed_by.empty()) absl::StrAppend(&description, " (", agreed_by, ")");
  if (from == ObjectiveState::kProposed && result.pending_team_ids.empty()) {
    objective.state = ObjectiveState::kAgreed;
    absl::StrAppend(&description, "; every required team has agreed, it is AGREED");
  } else if (!result.pending_team_ids.empty()) {
    absl::StrAppend(&description, "; waiting for ",
                    absl::StrJoin(TeamNames(result.pending_team_ids), ", "));
  }
  result.transition = Make(from, objective.state, false, std::move(description));
  return result;
}

absl::StatusOr<Transition> Reopen(Objective& objective, absl::string_view reason) {
  if (absl::StripAsciiWhitespace(reason).empty()) {
    return absl::InvalidArgumentError("reason is required");
  }
  if (reason.size() > kMaxTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason is longer than ", kMaxTextBytes, " bytes"));
  }
  const ObjectiveState from = objective.state;
  if (from == ObjectiveState::kDraft) {
    return WrongState(objective, "it is already open for changes");
  }
  if (from == ObjectiveState::kClosed) {
    return WrongState(objective,
                      "a closed objective is graded history and cannot be reopened; carry "
                      "an aspirational objective over into the next cycle instead");
  }
  const bool cleared = !objective.agreements.empty();
  objective.state = ObjectiveState::kDraft;
  objective.agreements.clear();
  objective.reopen_reason = std::string(reason);
  return Make(from, ObjectiveState::kDraft, cleared,
              absl::StrCat(names::Objective(objective.id), " was reopened: ", reason));
}

absl::StatusOr<Transition> Close(Objective& objective) {
  if (objective.state != ObjectiveState::kAgreed) {
    return WrongState(objective,
                      "only an AGREED objective is a commitment that can be closed and "
                      "graded (delete drafts that were never agreed)");
  }
  objective.state = ObjectiveState::kClosed;
  return Make(ObjectiveState::kAgreed, ObjectiveState::kClosed, false,
              absl::StrCat(names::Objective(objective.id), " was closed"));
}

std::optional<GuardedEdit> GuardedEditForObjectivePath(absl::string_view path) {
  if (path == "title") return GuardedEdit::kTitle;
  if (path == "parent") return GuardedEdit::kParent;
  if (path == "contributes_to") return GuardedEdit::kContributesTo;
  if (path == "depends_on") return GuardedEdit::kDependsOn;
  if (path == "kind") return GuardedEdit::kKind;
  if (path == "team") return GuardedEdit::kTeam;
  if (path == "cycle") return GuardedEdit::kCycle;
  return std::nullopt;
}

std::optional<GuardedEdit> GuardedEditForKeyResultPath(absl::string_view path) {
  if (path == "metric.start_value" || path == "metric.target_value" || path == "metric_key") {
    return GuardedEdit::kKeyResultTarget;
  }
  return std::nullopt;
}

absl::Status CheckEditAllowed(const Objective& objective, GuardedEdit what, bool reopen) {
  switch (objective.state) {
    case ObjectiveState::kDraft:
    case ObjectiveState::kProposed:
      return absl::OkStatus();
    case ObjectiveState::kAgreed:
      if (reopen) return absl::OkStatus();
      return WrongState(objective,
                        absl::StrCat(EditPhrase(what),
                                     " changes what was agreed; set reopen = true to send it "
                                     "back to PROPOSED for agreement by every team"));
    case ObjectiveState::kClosed:
      return WrongState(objective, absl::StrCat("a closed objective is graded history (",
                                                EditPhrase(what), " is not possible)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Transition> ApplyGuardedEdits(Objective& objective,
                                             const std::vector<FieldChange>& changes, bool reopen) {
  std::vector<std::string> records;
  for (const FieldChange& c : changes) {
    if (c.old_value == c.new_value) continue;
    if (absl::Status s = CheckEditAllowed(objective, c.what, reopen); !s.ok()) return s;
    records.push_back(
        absl::StrCat(c.field, " changed from ", Quote(c.old_value), " to ", Quote(c.new_value)));
  }
  const ObjectiveState from = objective.state;
  if (records.empty()) return Make(from, from, false, "");
  std::string description = absl::StrJoin(records, "; ");
  switch (from) {
    case ObjectiveState::kDraft:
    case ObjectiveState::kClosed:  // unreachable: CheckEditAllowed refuses
      return Make(from, from, false, std::move(description));
    case ObjectiveState::kProposed: {
      const bool cleared = !objective.agreements.empty();
      objective.agreements.clear();
      return Make(from, from, cleared, std::move(description));
    }
    case ObjectiveState::kAgreed: {
      objective.state = ObjectiveState::kProposed;
      objective.agreements.clear();
      objective.reopen_reason = description;
      return Make(from, ObjectiveState::kProposed, true,
                  absl::StrCat(names::Objective(objective.id),
                               " was reopened for agreement: ", description));
    }
  }
  return Make(from, from, false, std::move(description));
}

}  // namespace okr
