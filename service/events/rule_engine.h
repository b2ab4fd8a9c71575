// RuleEngine: key results as triggers (and the alignment watch: each round it also turns
// new and resolved alignment findings of current cycles into ALIGNMENT_FINDING events). Evaluates
// every rule (service/okr/events.h Rule) over the key results in its scope -- on a timer, because
// pace-based conditions change with time alone, and soon after new events (Trigger) -- and records
// each verdict through EventsCore::RecordVerdict, which fires a rule once per streak of its
// condition holding (RULE_FIRED event, and a queued issue for OPEN_ISSUE -- at most
// EventsCoreOptions::max_issues_per_rule_per_day per rule in 24 hours; a firing over it logs
// one warning naming the rule) in one transaction. It then works off the queued issues:
// opens each in the owning team's tracker through a TrackerIssueOpener with a label unique
// to the firing, so neither re-evaluation nor a restart between "created" and "recorded"
// opens a second issue.
//
// The clock is injected (tests move time). Runs on its own thread in the replica holding
// the cluster lock; RunOnce is public for tests.
#ifndef OKR_SERVICE_EVENTS_RULE_ENGINE_H_
#define OKR_SERVICE_EVENTS_RULE_ENGINE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/okr/clock.h"
#include "service/sync/periodic_runner.h"
#include "service/sync/tracker_sync.h"

namespace okr::events {

struct RuleEngineOptions {
  absl::Duration interval = absl::Minutes(1);
  // Base of the key result links written into opened issues (--public-url).
  std::string public_url;
  absl::Duration issue_retry = absl::Seconds(30);  // first retry of a failed issue creation
  absl::Duration max_issue_retry = absl::Minutes(30);
};

struct RuleRoundStats {
  int evaluated = 0;  // (rule, key result) verdicts recorded
  int fired = 0;
  int issues_opened = 0;
  int issues_failed = 0;
  int issues_capped = 0;     // firings over their rule's issues-per-24-hours limit (none queued)
  int findings_changed = 0;  // ALIGNMENT_FINDING events (new or resolved)
  int health_drifts = 0;     // HEALTH_CHANGED events caused by time alone
};

class RuleEngine {
 public:
  // `openers`: the tracker each configured connector opens issues in (may be empty).
  RuleEngine(
      core::EventsCore& events, core::OkrCore& core, const Clock& clock,
      std::map<Tracker, sync::TrackerIssueOpener*> openers, RuleEngineOptions options,
      std::function<bool()> may_run = [] { return true; });
  ~RuleEngine();

  void Start();
  void Stop();
  void Trigger();
  RuleRoundStats RunOnce();

 private:
  void Evaluate(const Rule& rule, RuleRoundStats& stats);
  void OpenIssues(RuleRoundStats& stats);
  // ALIGNMENT_FINDING events: the findings of every current cycle, diffed with the last
  // round's.
  void CheckAlignment(RuleRoundStats& stats);
  // HEALTH_CHANGED with cause TIME_PASSED: for every key result and objective of a
  // current cycle, its health at its current progress at the later of the last watch and
  // its last update, against its health now. (Changes caused by writes are the writes'
  // own events.)
  void CheckHealthDrift(RuleRoundStats& stats);

  core::EventsCore& events_;
  core::OkrCore& core_;
  const Clock& clock_;
  const std::map<Tracker, sync::TrackerIssueOpener*> openers_;
  const RuleEngineOptions options_;
  const std::function<bool()> may_run_;
  std::unique_ptr<sync::PeriodicRunner> runner_;
  absl::Time last_alignment_check_ = absl::InfinitePast();  // runner thread only
};

}  // namespace okr::events

#endif  // OKR_SERVICE_EVENTS_RULE_ENGINE_H_
