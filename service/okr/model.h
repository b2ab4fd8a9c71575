// The OKR domain model: plain value types for teams, cycles, objectives, key results,
// check-ins and tracker work items. No RPC, HTTP or SQL types appear here; the storage
// layer persists these structs and the API layer translates them to and from protos.
//
// Identifiers are the last segment of a resource name (`teams/{id}` -> id). Fields marked
// "derived" are computed at read time (they depend on the clock) and never stored.
#ifndef OKR_SERVICE_OKR_MODEL_H_
#define OKR_SERVICE_OKR_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/okr/trackers.h"

namespace okr {

enum class ObjectiveKind { kCommitted = 1, kAspirational = 2 };
enum class ObjectiveState { kDraft = 1, kProposed = 2, kAgreed = 3, kClosed = 4 };
enum class Health { kOnTrack = 1, kAtRisk = 2, kOffTrack = 3, kNotStarted = 4 };
enum class KeyResultType { kMetric = 1, kMilestone = 2, kWorkItems = 3 };
// Where an objective's progress comes from (service/okr/rollup.h): its key results only,
// or its key results and its child objectives (objectives whose parent it is), each child
// weighted by its `weight` like a key result.
enum class ProgressSource { kKeyResults = 1, kKeyResultsAndChildren = 2 };
// How a closed objective's score compares with what its kind promised
// (service/okr/scoring.h): committed objectives are expected at 1.0, aspirational ones
// around 0.7. kUnspecified until the objective is closed.
enum class Outcome { kUnspecified = 0, kMet = 1, kMissed = 2 };

// Fields every stored entity carries. `seq` is the storage-assigned insertion order used
// for stable paging; `revision` grows by one on every write and backs the etag.
struct EntityMeta {
  int64_t seq = 0;
  int64_t revision = 0;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

struct Team {
  std::string id;
  std::string display_name;
  std::string parent_id;  // empty for a root team
  EntityMeta meta;
  // Where rules open issues for this team (service/okr/events.h), per tracker: a Jira
  // project key ("OKRX"), a GitLab project path ("acme/checkout"), ... No entry (or an
  // empty one): none in that tracker.
  std::map<Tracker, std::string> projects;
  // The issue type rules open in each tracker that has types (Jira: "Task", the default
  // when absent; the connector falls back to a standard type the project has).
  std::map<Tracker, std::string> issue_types;
};

// The team's project in `tracker`; empty if it has none there.
inline const std::string& TeamProject(const Team& team, Tracker tracker) {
  static const std::string* const kNone = new std::string();
  auto it = team.projects.find(tracker);
  return it == team.projects.end() ? *kNone : it->second;
}

struct Cycle {
  std::string id;
  std::string display_name;
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  EntityMeta meta;
};

// One team's binding agreement to an objective (service/okr/lifecycle.h).
struct Agreement {
  std::string team_id;
  std::string agreed_by;  // the person who agreed for the team, as the API passed it
  absl::Time agree_time = absl::InfinitePast();
};

struct Objective {
  std::string id;
  std::string title;
  std::string description;
  std::string team_id;
  std::string cycle_id;
  std::string parent_id;  // empty if aligned to nothing
  ObjectiveKind kind = ObjectiveKind::kCommitted;
  ObjectiveState state = ObjectiveState::kDraft;
  double progress = 0;  // stored: weighted mean of the key results' progress
  EntityMeta meta;
  // Derived.
  double expected_progress = 0;
  Health health = Health::kNotStarted;

  // Alignment and roll-up (service/okr/alignment.h, rollup.h).
  // kKeyResultsAndChildren: `progress` also weighs in the child objectives.
  ProgressSource progress_source = ProgressSource::kKeyResults;
  double weight = 1;  // weight of this objective as a child in its parent's roll-up
  // Key results of other objectives this one contributes to:
  // `objectives/{objective}/keyResults/{key_result}`.
  std::vector<std::string> contributes_to;
  std::vector<std::string> depends_on;  // ids of objectives this one depends on
  // Lifecycle (service/okr/lifecycle.h).
  std::vector<Agreement> agreements;  // teams that agreed to the current version
  std::string reopen_reason;          // why it last went back to DRAFT/PROPOSED; empty if never
  std::string carried_over_from;      // id of the objective this one was carried over from
  // Scoring (service/okr/scoring.h), set when the objective is closed.
  double score = 0;  // in [0, 1]; meaningful only if `scored`
  bool scored = false;
  Outcome outcome = Outcome::kUnspecified;
};

struct MetricSpec {
  double start_value = 0;
  double target_value = 0;
  double current_value = 0;
  std::string unit;
};

// Aggregates over the items linked to a work-items key result (service/okr/progress.h,
// CountedWeight / CreditedWeight). Excluded items (cancelled work) count in
// `excluded_count` only; every other sum leaves them out.
struct WorkItemTotals {
  int64_t item_count = 0;      // linked items that count (not excluded)
  int64_t done_count = 0;      // of those, the done ones
  double total_weight = 0;     // weight of the items that count
  double done_weight = 0;      // credited weight: done items in full, partial credit shares
  int64_t excluded_count = 0;  // linked items left out as cancelled
};

// Which of a tracker's items a work-items key result takes in by itself (service/sync):
// the connector of that tracker reads the fields it knows. Jira: `query` (JQL). GitLab:
// `project` (group/subgroup/project) and `labels` (all must match), `milestone` (empty:
// any).
struct TrackerScope {
  std::string query;
  std::string project;
  std::vector<std::string> labels;
  std::string milestone;
  bool empty() const { return query.empty() && project.empty(); }
  bool operator==(const TrackerScope& o) const {
    return query == o.query && project == o.project && labels == o.labels &&
           milestone == o.milestone;
  }
  bool operator!=(const TrackerScope& o) const { return !(*this == o); }
};

struct KeyResult {
  std::string id;
  std::string objective_id;
  std::string title;
  double weight = 1;
  KeyResultType type = KeyResultType::kMetric;
  MetricSpec metric;            // type == kMetric
  bool milestone_done = false;  // type == kMilestone
  WorkItemTotals totals;        // type == kWorkItems (stored, kept current on every change)
  double progress = 0;          // stored, clamped to [0, 1]
  double raw_progress = 0;      // stored, unclamped
  EntityMeta meta;
  // Derived.
  double expected_progress = 0;
  Health health = Health::kNotStarted;

  // Named metric a metric key result moves, e.g. "checkout.conversion"; key results of
  // different teams that move the same metric are checked for contradictions
  // (service/okr/alignment.h). Empty: not shared.
  std::string metric_key;

  // Tracker scopes of a work-items key result (service/sync): matching issues are linked
  // and kept current. No entry (or an empty one): no scope in that tracker.
  std::map<Tracker, TrackerScope> scopes;
  // Scoring (service/okr/scoring.h), set when the objective is closed: the progress at
  // close, or an explicit score in [0, 1] with a reason.
  std::optional<double> score;
  std::string score_reason;  // required with an explicit score; empty otherwise
};

// The key result's scope in `tracker`, or nullptr if it has none (or an empty one) there.
inline const TrackerScope* ScopeIn(const KeyResult& kr, Tracker tracker) {
  auto it = kr.scopes.find(tracker);
  return it == kr.scopes.end() || it->second.empty() ? nullptr : &it->second;
}

// True if the key result has a scope in any tracker.
inline bool HasAnyScope(const KeyResult& kr) {
  for (const auto& [tracker, scope] : kr.scopes) {
    if (!scope.empty()) return true;
  }
  return false;
}

struct CheckIn {
  std::string id;
  std::string objective_id;
  std::string key_result_id;
  std::optional<double> value;
  std::optional<double> confidence;
  std::string note;
  std::string author;
  EntityMeta meta;
};

// What the service knows about one tracker item. Identity is (tracker, key).
struct WorkItem {
  Tracker tracker = Tracker::kJira;
  std::string key;
  std::string title;
  std::string url;
  bool done = false;
  double weight = 1;
  absl::Time update_time = absl::InfinitePast();
  // The tracker's own stable id (Jira numeric issue id; GitLab global issue id). Keys
  // change when issues move; the id does not. Empty until a connector has seen the item.
  std::string external_id;
  // The tracker's last-modified time of the state held here (Jira `updated`, GitLab
  // `updated_at`); tracker updates older than this are stale and ignored.
  absl::Time source_updated = absl::InfinitePast();
  // Credit per workflow state (the connector's `credit` rules): the share of `weight`
  // counted as progress while the item is not done, in [0, 1] (e.g. 0.5 in "In Review").
  // A done item counts in full whatever this says.
  double partial_credit = 0;
  // The tracker's own name of the item's state, for people ("In Review", "Done",
  // "closed"); empty if unknown.
  std::string status;
  // Why the item is cancelled work that leaves the key result's ratio (the connector's
  // `excluded` rules): "Won't Do", "duplicate", "wontfix", ...; empty: it counts.
  std::string exclusion;
  bool excluded() const { return !exclusion.empty(); }
};

struct WorkItemLink {
  std::string id;
  std::string objective_id;
  std::string key_result_id;
  WorkItem item;
  EntityMeta meta;
};

}  // namespace okr

#endif  // OKR_SERVICE_OKR_MODEL_H_
