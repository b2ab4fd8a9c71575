#include "service/events/rule_engine.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/log/log.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/trackers.h"

namespace okr::events {
namespace {

// Every page of a List use case.
template <typename T, typename List>
absl::StatusOr<std::vector<T>> All(List list) {
  std::vector<T> all;
  core::PageRequest page;
  page.page_size = 1000;
  while (true) {
    absl::StatusOr<core::ListResult<T>> result = list(page);
    if (!result.ok()) return result.status();
    for (T& item : result->items) all.push_back(std::move(item));
    if (result->next_page_token.empty()) return all;
    page.page_token = result->next_page_token;
  }
}

std::string ConditionTitle(RuleConditionType type) {
  switch (type) {
    case RuleConditionType::kHealthAtRisk:
      return "Key result at risk";
    case RuleConditionType::kBehindPace:
      return "Key result behind pace";
    case RuleConditionType::kLowConfidence:
      return "Low confidence in key result";
    case RuleConditionType::kNoCheckIn:
      return "No check-in on key result";
  }
  return "Key result needs attention";
}

}  // namespace

RuleEngine::RuleEngine(core::EventsCore& events, core::OkrCore& core, const Clock& clock,
                       std::map<Tracker, sync::TrackerIssueOpener*> openers,
                       RuleEngineOptions options, std::function<bool()> may_run)
    : events_(events),
      core_(core),
      clock_(clock),
      openers_(std::move(openers)),
      options_(std::move(options)),
      may_run_(std::move(may_run)) {}

RuleEngine::~RuleEngine() { Stop(); }

void RuleEngine::Start() {
  runner_ = std::make_unique<sync::PeriodicRunner>(
      "rules", options_.interval, [this] { RunOnce(); }, may_run_);
  runner_->Start();
}

void RuleEngine::Stop() {
  if (runner_ != nullptr) runner_->Stop();
}

void RuleEngine::Trigger() {
  if (runner_ != nullptr) runner_->Trigger();
}

RuleRoundStats RuleEngine::RunOnce() {
  RuleRoundStats stats;
  absl::StatusOr<std::vector<Rule>> rules = events_.AllRules();
  if (!rules.ok()) {
    log::Warn("listing rules failed", {{"error", rules.status().ToString()}});
    return stats;
  }
  for (const Rule& rule : *rules) Evaluate(rule, stats);
  OpenIssues(stats);
  CheckAlignment(stats);
  return stats;
}

void RuleEngine::Evaluate(const Rule& rule, RuleRoundStats& stats) {
  std::vector<Objective> objectives;
  if (!rule.objective_id.empty()) {
    absl::StatusOr<Objective> o = core_.GetObjective(rule.objective_id);
    if (!o.ok()) return;  // deleted: the rule has nothing to watch
    objectives.push_back(*std::move(o));
  } else {
    storage::ObjectiveFilter filter;
    filter.team_id = rule.team_id;
    absl::StatusOr<std::vector<Objective>> all =
        All<Objective>([&](const core::PageRequest& p) { return core_.ListObjectives(filter, p); });
    if (!all.ok()) return;
    objectives = *std::move(all);
  }
  for (const Objective& o : objectives) {
    if (o.state == ObjectiveState::kClosed) continue;
    absl::StatusOr<Cycle> cycle = core_.GetCycle(o.cycle_id);
    if (!cycle.ok()) continue;
    absl::StatusOr<std::vector<KeyResult>> krs =
        All<KeyResult>([&](const core::PageRequest& p) { return core_.ListKeyResults(o.id, p); });
    if (!krs.ok()) continue;
    for (const KeyResult& kr : *krs) {
      RuleInput in;
      in.progress = kr.progress;
      in.expected_progress = kr.expected_progress;
      in.health = kr.health;
      in.cycle_start = cycle->start_time;
      in.cycle_end = cycle->end_time;
      in.now = clock_.Now();
      if (rule.condition == RuleConditionType::kLowConfidence ||
          rule.condition == RuleConditionType::kNoCheckIn) {
        absl::StatusOr<std::vector<CheckIn>> check_ins = All<CheckIn>(
            [&](const core::PageRequest& p) { return core_.ListCheckIns(o.id, kr.id, p); });
        if (check_ins.ok() && !check_ins->empty()) {
          in.last_confidence = check_ins->back().confidence;
          in.last_check_in = check_ins->back().meta.create_time;
        }
      }
      const RuleVerdict verdict = EvaluateRule(rule, in);
      core::IssueText issue;
      issue.url = absl::StrCat(options_.public_url, sync::KeyResultPath(o.id, kr.id));
      issue.title = absl::StrCat(ConditionTitle(rule.condition), ": ", kr.title);
      issue.description =
          absl::StrCat("The key result \"", kr.title, "\" of the objective \"", o.title,
                       "\" needs attention: ", verdict.reason, ".\n\nKey result: ", issue.url,
                       "\nOpened by rule rules/", rule.id, " of okr-service.");
      absl::StatusOr<core::VerdictRecord> recorded =
          events_.RecordVerdict(rule, kr, o, verdict, issue);
      ++stats.evaluated;
      if (!recorded.ok()) {
        log::Warn("recording a rule verdict failed", {{"rule", absl::StrCat("rules/", rule.id)},
                                                      {"error", recorded.status().ToString()}});
        continue;
      }
      if (recorded->fired) {
        ++stats.fired;
        log::Info("rule fired", {{"rule", absl::StrCat("rules/", rule.id)},
                                 {"key_result", names::KeyResult(o.id, kr.id)},
                                 {"reason", verdict.reason}});
      }
      if (recorded->issue_capped) {
        ++stats.issues_capped;
        log::Warn("rule reached its limit of issues per 24 hours; this firing opens none",
                  {{"rule", absl::StrCat("rules/", rule.id)},
                   {"key_result", names::KeyResult(o.id, kr.id)},
                   {"limit", absl::StrCat(events_.options().max_issues_per_rule_per_day)}});
      }
    }
  }
}

void RuleEngine::CheckHealthDrift(RuleRoundStats& stats) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<absl::Time> previous = events_.HealthWatchTime();
  if (!previous.ok()) return;
  std::vector<Event> drifts;
  if (*previous != absl::InfinitePast() && *previous < now) {
    absl::StatusOr<std::vector<Cycle>> cycles =
        All<Cycle>([&](const core::PageRequest& p) { return core_.ListCycles(p); });
    if (!cycles.ok()) return;
    for (const Cycle& cycle : *cycles) {
      if (cycle.end_time < *previous || cycle.start_time > now) continue;  // no time moved
      storage::ObjectiveFilter filter;
      filter.cycle_id = cycle.id;
      absl::StatusOr<std::vector<Objective>> objectives = All<Objective>(
          [&](const core::PageRequest& p) { return core_.ListObjectives(filter, p); });
      if (!objectives.ok()) continue;
      auto drift = [&](const std::string& objective_id, const std::string& key_result_id,
                       const std::string& team_id, double progress, absl::Time updated) {
        const absl::Time since = std::max(*previous, updated);
        if (since >= now) return;
        const Health before =
            ComputeHealth(progress, ExpectedProgress(cycle.start_time, cycle.end_time, since),
                          cycle.start_time, since);
        const double expected = ExpectedProgress(cycle.start_time, cycle.end_time, now);
        const Health after = ComputeHealth(progress, expected, cycle.start_time, now);
        if (before == after) return;
        Event base;
        base.time = now;
        base.objective_id = objective_id;
        base.key_result_id = key_result_id;
        base.team_id = team_id;
        base.cycle_id = cycle.id;
        base.cause = EventCause{CauseKind::kTimePassed, absl::StrCat("cycles/", cycle.id), ""};
        SubjectState s_before{progress, before, {}, {}, {}};
        SubjectState s_after{progress, after, {}, {}, {}};
        for (Event& e : ChangeEvents(base, s_before, s_after)) drifts.push_back(std::move(e));
      };
      for (const Objective& o : *objectives) {
        if (o.state == ObjectiveState::kClosed) continue;
        absl::StatusOr<std::vector<KeyResult>> krs = All<KeyResult>(
            [&](const core::PageRequest& p) { return core_.ListKeyResults(o.id, p); });
        if (!krs.ok()) continue;
        for (const KeyResult& kr : *krs) {
          drift(o.id, kr.id, o.team_id, kr.progress, kr.meta.update_time);
        }
        drift(o.id, "", o.team_id, o.progress, o.meta.update_time);
      }
    }
  }
  const size_t count = drifts.size();
  absl::Status recorded = events_.RecordHealthWatch(*previous, now, std::move(drifts));
  if (!recorded.ok()) {
    log::Warn("recording health changes failed", {{"error", recorded.ToString()}});
    return;
  }
  stats.health_drifts += static_cast<int>(count);
}

void RuleEngine::CheckAlignment(RuleRoundStats& stats) {
  const absl::Time now = clock_.Now();
  // Whole-store checks: once per interval, not after every change.
  if (now >= last_alignment_check_ && now - last_alignment_check_ < options_.interval) return;
  last_alignment_check_ = now;
  CheckHealthDrift(stats);
  absl::StatusOr<std::vector<Cycle>> cycles =
      All<Cycle>([&](const core::PageRequest& p) { return core_.ListCycles(p); });
  if (!cycles.ok()) return;
  for (const Cycle& cycle : *cycles) {
    if (cycle.end_time < now - absl::Hours(24)) continue;  // over: findings are history
    absl::StatusOr<std::vector<Finding>> findings = core_.CheckAlignment(cycle.id, "");
    if (!findings.ok()) continue;
    absl::StatusOr<int> appended = events_.RecordFindings(cycle.id, *findings);
    if (!appended.ok()) {
      log::Warn("recording alignment findings failed", {{"error", appended.status().ToString()}});
      continue;
    }
    stats.findings_changed += *appended;
  }
}

void RuleEngine::OpenIssues(RuleRoundStats& stats) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<core::IssueAction>> due = events_.DueIssueActions(now, 50);
  if (!due.ok()) return;
  for (const core::IssueAction& a : *due) {
    auto it = openers_.find(a.tracker);
    absl::Status status;
    std::string key;
    if (it == openers_.end() || it->second == nullptr) {
      status = absl::FailedPreconditionError(absl::StrCat(
          "no ", TrackerDisplayName(a.tracker), " connector is configured to open the issue in"));
    } else {
      sync::NewIssue issue;
      issue.project = a.project;
      issue.title = a.title;
      issue.description = a.description;
      issue.url = a.url;
      issue.dedupe_label = absl::StrCat("okr-rule-", a.id);
      issue.issue_type = a.issue_type;
      absl::StatusOr<WorkItem> opened = it->second->OpenIssue(issue);
      status = opened.status();
      if (opened.ok()) key = opened->key;
    }
    if (status.ok()) {
      ++stats.issues_opened;
      log::Info("rule opened an issue",
                {{"rule", absl::StrCat("rules/", a.rule_id)},
                 {"issue", key},
                 {"key_result", names::KeyResult(a.objective_id, a.key_result_id)}});
      absl::Status done = events_.CompleteIssueAction(a, key);
      if (!done.ok()) log::Warn("recording an opened issue failed", {{"error", done.ToString()}});
      continue;
    }
    ++stats.issues_failed;
    const double factor = std::pow(2.0, std::min(a.attempts, 20));
    const absl::Duration wait = std::min(options_.issue_retry * factor, options_.max_issue_retry);
    log::Warn("opening an issue failed",
              {{"rule", absl::StrCat("rules/", a.rule_id)}, {"error", status.ToString()}});
    absl::Status deferred = events_.DeferIssueAction(a, status.ToString(), now + wait);
    if (!deferred.ok()) log::Warn("deferring an issue failed", {{"error", deferred.ToString()}});
  }
}

}  // namespace okr::events
