#include "service/okr/scoring.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/validation.h"

namespace okr {
namespace {

absl::Status CheckKeyResultsBelong(const Objective& objective,
                                   const std::vector<KeyResult>& key_results) {
  for (const KeyResult& kr : key_results) {
    if (kr.objective_id != objective.id) {
      return absl::InvalidArgumentError(
          absl::StrCat("key_results: ", names::KeyResult(kr.objective_id, kr.id),
                       " does not belong to ", names::Objective(objective.id)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

double ExpectedScore(ObjectiveKind kind) {
  return kind == ObjectiveKind::kAspirational ? kAspirationalExpectedScore
                                              : kCommittedExpectedScore;
}

Outcome OutcomeFor(ObjectiveKind kind, double score) {
  return score + kScoreEpsilon >= ExpectedScore(kind) ? Outcome::kMet : Outcome::kMissed;
}

bool ReviewDue(const Objective& objective) {
  return objective.state == ObjectiveState::kClosed &&
         objective.kind == ObjectiveKind::kCommitted && objective.outcome == Outcome::kMissed;
}

absl::StatusOr<ScoreCard> ComputeScores(
    const Objective& objective, const std::vector<KeyResult>& key_results,
    const ExplicitScores& explicit_scores,
    const std::vector<std::pair<double, double>>& child_score_and_weight) {
  if (absl::Status s = CheckKeyResultsBelong(objective, key_results); !s.ok()) return s;
  for (const auto& [id, e] : explicit_scores) {
    const std::string field = absl::StrCat("key_result_scores[", id.substr(0, 64), "]");
    // Captured by name: C++17 lambdas cannot capture structured bindings (clang refuses).
    const std::string& score_id = id;
    if (std::none_of(key_results.begin(), key_results.end(),
                     [&](const KeyResult& kr) { return kr.id == score_id; })) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", names::KeyResult(objective.id, id.substr(0, 64)),
                       " is not a key result of ", names::Objective(objective.id)));
    }
    if (!std::isfinite(e.score) || e.score < 0 || e.score > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".score must be a number between 0 and 1"));
    }
    if (absl::StripAsciiWhitespace(e.reason).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".reason is required: say why the score differs from the measured progress"));
    }
    if (e.reason.size() > kMaxTextBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".reason is longer than ", kMaxTextBytes, " bytes"));
    }
  }
  ScoreCard card;
  std::vector<std::pair<double, double>> inputs;
  for (const KeyResult& kr : key_results) {
    auto it = explicit_scores.find(kr.id);
    const double score = it != explicit_scores.end() ? it->second.score : Clamp01(kr.progress);
    card.key_result_scores.push_back(score);
    inputs.emplace_back(score, kr.weight);
  }
  if (objective.progress_source == ProgressSource::kKeyResultsAndChildren) {
    inputs.insert(inputs.end(), child_score_and_weight.begin(), child_score_and_weight.end());
  }
  card.score = WeightedMean(inputs);
  card.outcome = OutcomeFor(objective.kind, card.score);
  return card;
}

absl::StatusOr<Transition> CloseAndScore(
    Objective& objective, std::vector<KeyResult>& key_results,
    const ExplicitScores& explicit_scores,
    const std::vector<std::pair<double, double>>& child_score_and_weight) {
  Objective closed = objective;
  absl::StatusOr<Transition> transition = Close(closed);
  if (!transition.ok()) return transition.status();
  absl::StatusOr<ScoreCard> card =
      ComputeScores(objective, key_results, explicit_scores, child_score_and_weight);
  if (!card.ok()) return card.status();
  for (size_t i = 0; i < key_results.size(); ++i) {
    KeyResult& kr = key_results[i];
    kr.score = card->key_result_scores[i];
    auto it = explicit_scores.find(kr.id);
    kr.score_reason = it != explicit_scores.end() ? it->second.reason : "";
  }
  closed.score = card->score;
  closed.scored = true;
  closed.outcome = card->outcome;
  objective = std::move(closed);
  transition->description = absl::StrCat(transition->description, " with score ", card->score, " (",
                                         card->outcome == Outcome::kMet ? "MET" : "MISSED",
                                         ", expected ", ExpectedScore(objective.kind), ")");
  if (ReviewDue(objective)) {
    absl::StrAppend(&transition->description, "; a blameless review is due");
  }
  return transition;
}

absl::StatusOr<CarryOverResult> CarryOver(const Objective& source,
                                          const std::vector<KeyResult>& key_results,
                                          const std::vector<WorkItemLink>& links,
                                          absl::string_view next_cycle_id,
                                          absl::FunctionRef<std::string()> new_id) {
  if (next_cycle_id.empty()) return absl::InvalidArgumentError("next_cycle is required");
  if (next_cycle_id == source.cycle_id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "next_cycle must differ from the objective's cycle ", names::Cycle(source.cycle_id)));
  }
  const std::string name = names::Objective(source.id);
  if (source.kind != ObjectiveKind::kAspirational) {
    return absl::FailedPreconditionError(
        absl::StrCat(name,
                     " is committed; only aspirational objectives are carried over (a missed "
                     "committed objective gets a blameless review)"));
  }
  if (source.state != ObjectiveState::kAgreed && source.state != ObjectiveState::kClosed) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " is ", ObjectiveStateName(source.state),
        "; only an AGREED or CLOSED objective is carried over (move a draft by changing "
        "its cycle)"));
  }
  const double achieved = source.scored ? source.score : source.progress;
  if (achieved + kScoreEpsilon >= 1.0) {
    return absl::FailedPreconditionError(absl::StrCat(name, " is fully achieved (",
                                                      source.scored ? "score" : "progress",
                                                      " 1); there is nothing left to carry over"));
  }
  if (absl::Status s = CheckKeyResultsBelong(source, key_results); !s.ok()) return s;

  CarryOverResult out;
  Objective& o = out.objective;
  o.id = new_id();
  o.title = source.title;
  o.description = source.description;
  o.team_id = source.team_id;
  o.cycle_id = std::string(next_cycle_id);
  o.parent_id = source.parent_id;
  o.kind = source.kind;
  o.state = ObjectiveState::kDraft;
  o.progress_source = source.progress_source;
  o.weight = source.weight;
  o.contributes_to = source.contributes_to;
  o.depends_on = source.depends_on;
  o.carried_over_from = source.id;

  absl::flat_hash_map<std::string, std::string> new_kr_id;
  for (const KeyResult& kr : key_results) {
    KeyResult c;
    c.id = new_id();
    c.objective_id = o.id;
    c.title = kr.title;
    c.weight = kr.weight;
    c.type = kr.type;
    c.metric = kr.metric;
    c.milestone_done = kr.milestone_done;
    c.totals = kr.totals;
    c.metric_key = kr.metric_key;
    if (kr.type == KeyResultType::kMetric && MetricProgress(kr.metric).raw_progress < 1) {
      c.metric.start_value = kr.metric.current_value;
    }
    const KeyResultProgress p = ComputeKeyResultProgress(c);
    c.progress = p.progress;
    c.raw_progress = p.raw_progress;
    new_kr_id.emplace(kr.id, c.id);
    out.key_results.push_back(std::move(c));
  }
  o.progress = ObjectiveProgress(out.key_results);

  for (const WorkItemLink& link : links) {
    if (link.objective_id != source.id) continue;
    auto it = new_kr_id.find(link.key_result_id);
    if (it == new_kr_id.end()) continue;
    WorkItemLink c;
    c.id = new_id();
    c.objective_id = o.id;
    c.key_result_id = it->second;
    c.item = link.item;
    out.links.push_back(std::move(c));
  }
  return out;
}

}  // namespace okr
