// Alignment of objectives (docs: domain.md, "Formulating together"): the write-time
// rules that keep the alignment graph sound, and the checks that turn what is wrong or
// risky about it into findings people can act on.
//
// Objectives align upwards through `parent` (an objective of an ancestor team, or of the
// same team in an enclosing cycle) and sideways through `contributes_to` (key results of
// other objectives) and `depends_on` (objectives). All functions are pure: they read an
// AlignmentSnapshot the caller loaded (in one transaction) and never change it.
//
//   AlignmentSnapshot snap = ...;  // teams, cycles, objectives, key results, now
//   // On CreateObjective / UpdateObjective, before storing `o` (rejects, never stores):
//   OKR_RETURN_IF_ERROR(ValidateAlignmentOnWrite(snap, o));
//   // CheckAlignment{cycle, team}, and after every write to report what is left:
//   std::vector<Finding> findings = CheckAlignment(snap, cycle_id, team_id);
//   // AgreeObjective refuses while an ERROR finding blocks the objective (lifecycle.h).
//
// The snapshot should hold every team, cycle, objective and key result the checks may
// follow (references cross teams and cycles; a loop can pass through any objective). The
// checks (CheckAlignment, CheckNoAlignmentLoop) skip references it cannot resolve; the
// write-time validators (ValidateParent, ValidateAlignmentOnWrite) report them as not
// existing. Cost: each call indexes the snapshot,
// O(size), plus O(size of the alignment graph) for loops; contradictions compare key
// results pairwise only within one metric_key. Results are deterministic (sorted).
#ifndef OKR_SERVICE_OKR_ALIGNMENT_H_
#define OKR_SERVICE_OKR_ALIGNMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr {

// An objective may have at most this many key results before TOO_MANY_KEY_RESULTS.
inline constexpr size_t kMaxKeyResultsPerObjective = 5;
// Write-time limit on contributes_to and depends_on entries (each).
inline constexpr size_t kMaxAlignmentLinks = 100;

enum class FindingCode {
  // A loop through parent / contributes_to / depends_on. ERROR. Rejected on write, so
  // only reported for data that predates the rule.
  kCycleInAlignment = 1,
  // An objective's cycle does not lie within its parent objective's cycle. ERROR.
  kCycleOutsideParent = 2,
  // An AGREED objective of a non-root team with neither parent nor contributes_to.
  // WARNING.
  kOrphan = 3,
  // Two metric key results with the same metric_key in overlapping cycles move it in
  // opposite directions (and possibly to targets no value can meet together). ERROR.
  kContradiction = 4,
  // An objective depends (directly or through other dependencies) on an objective that is
  // AT_RISK or OFF_TRACK by the progress rules. WARNING: the dependent's own progress and
  // health are never changed by it.
  kDependencyAtRisk = 5,
  // More than kMaxKeyResultsPerObjective key results. WARNING.
  kTooManyKeyResults = 6,
  // A PROPOSED objective without key results: nothing to agree on. ERROR.
  kNoKeyResults = 7,
  // Every key result is a work-items key result: it measures output, not outcome.
  // WARNING.
  kOutputOnly = 8,
};

// ERROR findings block AgreeObjective for the objectives in Finding::blocks; WARNING
// findings never block.
enum class Severity { kError = 1, kWarning = 2 };

struct Finding {
  FindingCode code = FindingCode::kCycleInAlignment;
  Severity severity = Severity::kError;
  // Resource names of everything involved, sorted: "objectives/o1",
  // "objectives/o1/keyResults/k1", "teams/t", "cycles/c".
  std::vector<std::string> subjects;
  // Objective names (a subset of `subjects`, sorted) whose agreement this finding blocks:
  // the objectives that have to change to resolve it. Empty for warnings. E.g. a
  // CYCLE_OUTSIDE_PARENT blocks the child, not the parent it points at; a CONTRADICTION
  // blocks both objectives.
  std::vector<std::string> blocks;
  // One human sentence naming the objectives and teams, e.g. "objectives/a (teams/web)
  // raises checkout.conversion to 3 while objectives/b (teams/ops) lowers it to 2 ...".
  std::string message;
};

// "CYCLE_IN_ALIGNMENT", "ERROR", ... (the proto enum value names without prefix).
absl::string_view FindingCodeName(FindingCode code);
absl::string_view SeverityName(Severity severity);
// The fixed severity of each code (see FindingCode).
Severity SeverityOf(FindingCode code);

// Everything the checks read, loaded by the caller in one transaction. Order does not
// matter; ids are unique per kind (key results: unique per objective).
struct AlignmentSnapshot {
  std::vector<Team> teams;
  std::vector<Cycle> cycles;
  std::vector<Objective> objectives;
  std::vector<KeyResult> key_results;
  absl::Time now = absl::InfinitePast();  // for expected progress and health
};

// The findings for objectives of `cycle_id` (all cycles if empty) and `team_id` (all
// teams if empty): every finding with at least one objective subject in that scope (a
// CONTRADICTION between teams a and b is reported to both). Sorted by code, subjects,
// message. Never fails: references the snapshot cannot resolve are skipped.
std::vector<Finding> CheckAlignment(const AlignmentSnapshot& snapshot, absl::string_view cycle_id,
                                    absl::string_view team_id = "");

// The findings that involve objective `objective_id` (any subject), e.g. to report after
// CreateObjective/UpdateObjective or to pass to Agree (lifecycle.h).
std::vector<Finding> CheckObjectiveAlignment(const AlignmentSnapshot& snapshot,
                                             absl::string_view objective_id);

// True if `finding` is an ERROR that blocks agreement of objective `objective_id`.
bool BlocksAgreement(const Finding& finding, absl::string_view objective_id);

// The team ids of `team_id`'s ancestors, nearest first (parent, grandparent, ... root).
// Stops at an unknown team or a loop in the team tree.
std::vector<std::string> TeamAncestors(const std::vector<Team>& teams, absl::string_view team_id);

// Checks `candidate.parent_id` (no-op if empty): the parent must exist in the snapshot
// and be an objective of an ancestor team of the candidate's team, or of the same team in
// a different cycle that encloses the candidate's cycle (start <= start, end >= end). A
// parent of an ancestor team whose cycle does not enclose is allowed here and reported as
// CYCLE_OUTSIDE_PARENT. INVALID_ARGUMENT naming "objective.parent" otherwise.
absl::Status ValidateParent(const AlignmentSnapshot& snapshot, const Objective& candidate);

// Rejects a write of `candidate` (its stored version, if the snapshot has one, is
// replaced by it) that would close a loop in the alignment graph. The graph has an edge
// "A needs B" when B is A's child (B.parent == A), when B contributes to a key result of
// A, and when A depends on B; a loop is a chain of needs back to where it started. (A
// parent that also depends on its own child is therefore no loop: both say the parent
// needs the child.) INVALID_ARGUMENT naming the candidate's field that closes the loop
// ("objective.parent", "objective.contributes_to" or "objective.depends_on") and the
// loop, e.g. "objectives/a has parent objectives/b; objectives/b depends on objectives/a".
// References the snapshot cannot resolve are ignored (ValidateAlignmentOnWrite reports
// them).
absl::Status CheckNoAlignmentLoop(const AlignmentSnapshot& snapshot, const Objective& candidate);

// Everything CreateObjective/UpdateObjective must reject before storing `candidate`, in
// this order: contributes_to entries are well-formed key result names of existing key
// results of other objectives, without duplicates, at most kMaxAlignmentLinks;
// depends_on entries are ids of existing other objectives, without duplicates, at most
// kMaxAlignmentLinks; ValidateParent; CheckNoAlignmentLoop. INVALID_ARGUMENT naming the
// field. (Title, team, cycle etc. are ValidateObjective's and the store's business.)
absl::Status ValidateAlignmentOnWrite(const AlignmentSnapshot& snapshot,
                                      const Objective& candidate);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_ALIGNMENT_H_
