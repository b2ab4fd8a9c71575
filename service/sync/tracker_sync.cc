#include "service/sync/tracker_sync.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/log/log.h"
#include "service/okr/names.h"

namespace okr::sync {

absl::StatusOr<core::SyncOutcome> CoreTrackerSink::ApplyItem(const WorkItem& state,
                                                             const std::string& delivery_id) {
  return core_.ApplyTrackerUpdate(state, delivery_id);
}

absl::StatusOr<core::TrackerDeletion> CoreTrackerSink::RemoveItem(Tracker tracker,
                                                                  const std::string& external_id,
                                                                  const std::string& key,
                                                                  const std::string& delivery_id) {
  absl::StatusOr<core::TrackerDeletion> result =
      core_.ApplyTrackerDeletion(tracker, external_id, key, delivery_id);
  if (result.ok() && result->outcome == core::SyncOutcome::kApplied) {
    log::Warn("tracker item deleted: removed from its key results",
              {{"tracker", tracker == Tracker::kJira ? "jira" : "gitlab"},
               {"key", key},
               {"external_id", external_id},
               {"key_results", absl::StrJoin(result->key_results, ",")}});
  }
  return result;
}

std::string KeyResultPath(const std::string& objective_id, const std::string& key_result_id) {
  return absl::StrCat("/", names::KeyResult(objective_id, key_result_id));
}

const char* HealthLabel(Health health) {
  switch (health) {
    case Health::kOnTrack:
      return "on track";
    case Health::kAtRisk:
      return "at risk";
    case Health::kOffTrack:
      return "off track";
    case Health::kNotStarted:
      return "not started";
  }
  return "unknown";
}

std::string DescribeProgress(const ServedKeyResult& kr) {
  const auto pct = [](double v) { return static_cast<int>(std::lround(v * 100)); };
  if (kr.achieved) return absl::StrCat(pct(kr.progress), "%, achieved");
  return absl::StrCat(pct(kr.progress), "% (expected ", pct(kr.expected_progress), "%), ",
                      HealthLabel(kr.health));
}

}  // namespace okr::sync
