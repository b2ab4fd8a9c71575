// The lifecycle of an objective (docs: domain.md, "Formulating together"):
//
//   DRAFT --Propose--> PROPOSED --Agree (every required team)--> AGREED --Close--> CLOSED
//   DRAFT <--Reopen-- PROPOSED or AGREED (agreements dropped, reason recorded)
//   PROPOSED <--guarded edit with reopen = true-- AGREED (agreements dropped, change recorded)
//
// The state changes only through these functions (the API's custom methods
// ProposeObjective, AgreeObjective, ReopenObjective, CloseObjective), never through
// UpdateObjective. An AGREED objective is a commitment: edits that change what was agreed
// (GuardedEdit) fail with FAILED_PRECONDITION unless the request says `reopen`, which sends
// it back to PROPOSED so every team agrees again. Check-ins and tracker progress are no
// edits and never need reopening.
//
//   OKR_ASSIGN_OR_RETURN(Transition t, Propose(objective));
//   OKR_ASSIGN_OR_RETURN(std::vector<std::string> teams,
//                        RequiredAgreementTeams(objective, dependency_objectives));
//   OKR_ASSIGN_OR_RETURN(AgreeResult r, Agree(objective, "team-b", teams, "alice", now,
//                                             CheckObjectiveAlignment(snapshot, id)));
//   OKR_ASSIGN_OR_RETURN(Transition t, ApplyGuardedEdits(objective, changes, reopen));
//
// Every function is pure and changes `objective` only on success (on error it is left as
// it was). Returned Transitions say what happened so the caller can persist the objective
// and emit an "objective state changed" event when from != to. Codes: FAILED_PRECONDITION
// when the state (or the parties) forbid the change, naming the state; INVALID_ARGUMENT for
// bad input, naming the field. Closing (with grading) is in scoring.h.
#ifndef OKR_SERVICE_OKR_LIFECYCLE_H_
#define OKR_SERVICE_OKR_LIFECYCLE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/alignment.h"
#include "service/okr/model.h"

namespace okr {

// "DRAFT", "PROPOSED", "AGREED", "CLOSED".
absl::string_view ObjectiveStateName(ObjectiveState state);

// What a lifecycle function did. `from == to` when the state did not change (e.g. an
// agreement that still waits for other teams, or an edit of a PROPOSED objective).
struct Transition {
  ObjectiveState from = ObjectiveState::kDraft;
  ObjectiveState to = ObjectiveState::kDraft;
  bool agreements_cleared = false;  // recorded agreements were dropped
  std::string description;          // one human sentence, for events and history
  bool state_changed() const { return from != to; }
};

// DRAFT -> PROPOSED. FAILED_PRECONDITION from any other state. (Whether the proposal is
// complete is for CheckAlignment: e.g. NO_KEY_RESULTS is an ERROR that blocks Agree.)
absl::StatusOr<Transition> Propose(Objective& objective);

// The teams that must agree before `objective` is AGREED: its own team and the team of
// every objective it depends on, sorted and unique. `dependencies` holds (at least) the
// objectives named in objective.depends_on. FAILED_PRECONDITION naming
// objective.depends_on if one of them is missing.
absl::StatusOr<std::vector<std::string>> RequiredAgreementTeams(
    const Objective& objective, const std::vector<Objective>& dependencies);

// The required teams that have not agreed yet, sorted.
std::vector<std::string> PendingAgreementTeams(const Objective& objective,
                                               const std::vector<std::string>& required);

struct AgreeResult {
  Transition transition;  // PROPOSED -> AGREED once the last required team agreed
  bool recorded = false;  // false if this team had already agreed (idempotent repeat)
  std::vector<std::string> pending_team_ids;  // still to agree, sorted
};

// Records that `team_id` agrees to `objective` (who = `agreed_by`, when = `now`) and
// moves it to AGREED once every team in `required_team_ids` (RequiredAgreementTeams; the
// objective's own team is always required) has agreed. In order:
//  - INVALID_ARGUMENT "team is required" if team_id is empty;
//  - FAILED_PRECONDITION unless the objective is PROPOSED or AGREED (an AGREED objective
//    stays AGREED; a repeat is an idempotent success, see below);
//  - FAILED_PRECONDITION if team_id is not among the required teams. (Not
//    PERMISSION_DENIED: the rule is about which teams are parties to the objective, and
//    depends on its current dependencies; whether the caller may speak for the team is
//    the API's authorization, which maps to PERMISSION_DENIED there.)
//  - FAILED_PRECONDITION naming the finding codes if an ERROR finding in `findings`
//    blocks this objective (BlocksAgreement), e.g. "objectives/o is PROPOSED; it cannot
//    be agreed while alignment errors block it: CONTRADICTION: <its message>".
// Idempotent: a repeat by a team that already agreed succeeds before the findings are
// looked at, keeps the first agreement (who and when) and has recorded = false.
absl::StatusOr<AgreeResult> Agree(Objective& objective, absl::string_view team_id,
                                  const std::vector<std::string>& required_team_ids,
                                  absl::string_view agreed_by, absl::Time now,
                                  const std::vector<Finding>& findings);

// PROPOSED or AGREED -> DRAFT, dropping all agreements and recording `reason` in
// objective.reopen_reason. INVALID_ARGUMENT "reason is required" if it is blank (or
// longer than 16 KiB). FAILED_PRECONDITION for a DRAFT (already reshapeable) and for a
// CLOSED objective: a closed objective is graded history; carry an aspirational one over
// into the next cycle instead (scoring.h CarryOver).
absl::StatusOr<Transition> Reopen(Objective& objective, absl::string_view reason);

// AGREED -> CLOSED (the state change only; CloseAndScore in scoring.h grades it and is
// what CloseObjective uses). FAILED_PRECONDITION from any other state: only agreed
// objectives are commitments that can be graded; delete drafts instead.
absl::StatusOr<Transition> Close(Objective& objective);

// Edits that change what an AGREED objective commits to. The issue names the title, the
// key results' targets and the parent; the others change the commitment just as much
// (who committed, to which cycle, which other teams must agree, how it is graded) and
// follow the same rule.
enum class GuardedEdit {
  kTitle = 1,
  kParent = 2,
  kKeyResultTarget = 3,  // a key result's start/target value or metric_key
  kContributesTo = 4,
  kDependsOn = 5,
  kKind = 6,
  kTeam = 7,
  kCycle = 8,
  kKeyResultAdded = 9,
  kKeyResultRemoved = 10,
};

// The guarded edit behind an UpdateObjective update_mask path ("title", "parent",
// "contributes_to", "depends_on", "kind", "team", "cycle"); nullopt for free edits
// (e.g. "description", "progress_source", "weight").
std::optional<GuardedEdit> GuardedEditForObjectivePath(absl::string_view path);
// The same for UpdateKeyResult paths: "metric.start_value", "metric.target_value",
// "metric_key" -> kKeyResultTarget; nullopt otherwise (title, weight, and the current
// value, which check-ins move).
std::optional<GuardedEdit> GuardedEditForKeyResultPath(absl::string_view path);

// OK if `objective` may take an edit of kind `what` in its state: always for DRAFT and
// PROPOSED; for AGREED only with reopen = true; never for CLOSED (graded history).
// FAILED_PRECONDITION naming the state and what to do otherwise.
absl::Status CheckEditAllowed(const Objective& objective, GuardedEdit what, bool reopen);

// One guarded change, for the record: `field` as the API names it (e.g. "title",
// "objectives/o/keyResults/k.metric.target_value"), and the old and new value as text.
struct FieldChange {
  GuardedEdit what = GuardedEdit::kTitle;
  std::string field;
  std::string old_value;
  std::string new_value;
};

// Applies the lifecycle consequences of `changes` (changes whose old and new value are
// equal are ignored) to `objective`, after CheckEditAllowed for each. The caller applies
// the field values themselves. Consequences:
//  - DRAFT: none.
//  - PROPOSED: agreements already given are dropped (they were given to the old text);
//    the state stays PROPOSED.
//  - AGREED with reopen: back to PROPOSED, agreements dropped, and the change recorded in
//    objective.reopen_reason and the transition's description, e.g.
//    `title changed from "A" to "B"`.
// Returns a Transition with from == to and an empty description if nothing guarded
// changed.
absl::StatusOr<Transition> ApplyGuardedEdits(Objective& objective,
                                             const std::vector<FieldChange>& changes, bool reopen);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_LIFECYCLE_H_
