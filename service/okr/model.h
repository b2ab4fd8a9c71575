// The OKR domain model: plain value types for teams, cycles, objectives, key results,
// check-ins and tracker work items. No RPC, HTTP or SQL types appear here; the storage
// layer persists these structs and the API layer translates them to and from protos.
//
// Identifiers are the last segment of a resource name (`teams/{id}` -> id). Fields marked
// "derived" are computed at read time (they depend on the clock) and never stored.
#ifndef OKR_SERVICE_OKR_MODEL_H_
#define OKR_SERVICE_OKR_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace okr {

enum class ObjectiveKind { kCommitted = 1, kAspirational = 2 };
enum class ObjectiveState { kDraft = 1, kProposed = 2, kAgreed = 3, kClosed = 4 };
enum class Health { kOnTrack = 1, kAtRisk = 2, kOffTrack = 3, kNotStarted = 4 };
enum class KeyResultType { kMetric = 1, kMilestone = 2, kWorkItems = 3 };
enum class Tracker { kJira = 1, kGitLab = 2 };

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
};

struct Cycle {
  std::string id;
  std::string display_name;
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  EntityMeta meta;
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
};

struct MetricSpec {
  double start_value = 0;
  double target_value = 0;
  double current_value = 0;
  std::string unit;
};

// Aggregates over the items linked to a work-items key result.
struct WorkItemTotals {
  int64_t item_count = 0;
  int64_t done_count = 0;
  double total_weight = 0;
  double done_weight = 0;
};

struct KeyResult {
  std::string id;
  std::string objective_id;
  std::string title;
  double weight = 1;
  KeyResultType type = KeyResultType::kMetric;
  MetricSpec metric;           // type == kMetric
  bool milestone_done = false;  // type == kMilestone
  WorkItemTotals totals;        // type == kWorkItems (stored, kept current on every change)
  double progress = 0;          // stored, clamped to [0, 1]
  double raw_progress = 0;      // stored, unclamped
  EntityMeta meta;
  // Derived.
  double expected_progress = 0;
  Health health = Health::kNotStarted;
};

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
