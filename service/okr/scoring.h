// Grading at the end of a cycle (docs: domain.md, "Core concepts": after the cycle a key
// result has a score), and carrying an unfinished aspirational objective over into the
// next cycle.
//
// Rules:
//  - Each key result scores in [0, 1]: its progress at close (progress is already clamped),
//    or an explicit score the team gives with a reason (e.g. the metric moved for reasons
//    the tracker cannot see).
//  - The objective scores the weighted mean of its key results' scores (progress.h
//    WeightedMean, key result weights), plus its children's (score, weight) when its
//    progress_source is KEY_RESULTS_AND_CHILDREN, exactly like the roll-up (rollup.h).
//  - The outcome states the expectation of the kind: a committed objective is expected to
//    land at 1.0 (MET at 1.0, else MISSED, and a blameless review is due); an aspirational
//    one around 0.7 (MET at >= 0.7). Comparisons allow kScoreEpsilon of rounding.
//
//   ExplicitScores explicit = {{"k2", {0.5, "churn fell, but the survey was delayed"}}};
//   OKR_ASSIGN_OR_RETURN(Transition t, CloseAndScore(objective, key_results, explicit));
//   if (ReviewDue(objective)) { /* schedule a blameless review */ }
//   OKR_ASSIGN_OR_RETURN(CarryOverResult next,
//                        CarryOver(objective, key_results, links, "2026-q3", GenerateId));
//
// Pure functions; on error nothing is changed. INVALID_ARGUMENT names the field
// ("key_result_scores[k2].score"); FAILED_PRECONDITION names the state that forbids it.
#ifndef OKR_SERVICE_OKR_SCORING_H_
#define OKR_SERVICE_OKR_SCORING_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/okr/lifecycle.h"
#include "service/okr/model.h"

namespace okr {

inline constexpr double kCommittedExpectedScore = 1.0;
inline constexpr double kAspirationalExpectedScore = 0.7;
// Scores this close below an expectation still meet it (binary floating point).
inline constexpr double kScoreEpsilon = 1e-9;

// A score the team sets for a key result instead of its progress at close.
struct ExplicitScore {
  double score = 0;    // in [0, 1]
  std::string reason;  // required: why the score differs from the measured progress
};
// Explicit scores by key result id (of the objective being scored).
using ExplicitScores = std::map<std::string, ExplicitScore>;

// 1.0 for committed, 0.7 for aspirational objectives.
double ExpectedScore(ObjectiveKind kind);
// MET if `score` reaches ExpectedScore(kind) (within kScoreEpsilon), else MISSED.
Outcome OutcomeFor(ObjectiveKind kind, double score);
// A committed objective that closed MISSED is due a blameless review.
bool ReviewDue(const Objective& objective);

// The scores `key_results` (the objective's key results) and `objective` would get, without
// changing them. key_result_scores[i] belongs to key_results[i]. `child_score_and_weight`
// (score, or progress if unscored, and weight of each child objective) counts only for
// KEY_RESULTS_AND_CHILDREN. INVALID_ARGUMENT if an explicit score names no key result of
// the objective, is not a finite number in [0, 1], or has a blank reason; or if a key
// result belongs to another objective.
struct ScoreCard {
  std::vector<double> key_result_scores;
  double score = 0;
  Outcome outcome = Outcome::kUnspecified;
};
absl::StatusOr<ScoreCard> ComputeScores(
    const Objective& objective, const std::vector<KeyResult>& key_results,
    const ExplicitScores& explicit_scores,
    const std::vector<std::pair<double, double>>& child_score_and_weight = {});

// CloseObjective: checks the objective can close (lifecycle.h Close: only AGREED), scores
// it (ComputeScores), and then sets objective.score/scored/outcome, each key result's
// score (and score_reason for explicit ones; cleared otherwise) and the state CLOSED.
absl::StatusOr<Transition> CloseAndScore(
    Objective& objective, std::vector<KeyResult>& key_results,
    const ExplicitScores& explicit_scores,
    const std::vector<std::pair<double, double>>& child_score_and_weight = {});

// The copy CarryOver produces; ids are fresh, metas and derived fields are zero.
struct CarryOverResult {
  Objective objective;
  std::vector<KeyResult> key_results;
  std::vector<WorkItemLink> links;
};

// CarryOverObjective: copies `source` (with its `key_results` and the tracker `links` of
// those key results) into cycle `next_cycle_id`, taking every new id from `new_id`.
//  - Only an ASPIRATIONAL objective that is AGREED or CLOSED and not fully achieved (its
//    score if scored, else its progress, below 1.0) is carried over: FAILED_PRECONDITION
//    otherwise. (A missed committed objective gets a review, not a silent copy; a draft
//    can simply be moved by changing its cycle.) INVALID_ARGUMENT naming next_cycle if it
//    is empty or the source's own cycle.
//  - The copy is a DRAFT of the same team, kind, title, description, progress_source,
//    weight and alignment (parent, contributes_to, depends_on: the team revisits them
//    while formulating; CheckAlignment reports what no longer fits), with
//    carried_over_from = source.id, no agreements and no score.
//  - Key results keep title, type, weight, unit, metric_key and target. A metric key
//    result that has not reached its target starts where it stands (start = current
//    value), so the new cycle measures the rest of the way; one that reached it keeps its
//    start. Milestones keep their done flag; work-item key results keep their totals and
//    links (the same tracker items, done ones stay done). Progress is recomputed
//    (progress.h), the objective's from its key results.
//  - Links whose key result is not in `key_results` are not copied.
absl::StatusOr<CarryOverResult> CarryOver(const Objective& source,
                                          const std::vector<KeyResult>& key_results,
                                          const std::vector<WorkItemLink>& links,
                                          absl::string_view next_cycle_id,
                                          absl::FunctionRef<std::string()> new_id);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_SCORING_H_
