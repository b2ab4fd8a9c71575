#include "service/sync/core_tracker_sink.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "service/log/log.h"
#include "service/okr/trackers.h"

namespace okr::sync {

SyncOutcome FromCore(core::SyncOutcome outcome) {
  switch (outcome) {
    case core::SyncOutcome::kApplied:
      return SyncOutcome::kApplied;
    case core::SyncOutcome::kUnchanged:
      return SyncOutcome::kUnchanged;
    case core::SyncOutcome::kStale:
      return SyncOutcome::kStale;
    case core::SyncOutcome::kDuplicate:
      return SyncOutcome::kDuplicate;
    case core::SyncOutcome::kUntracked:
      return SyncOutcome::kUntracked;
  }
  return SyncOutcome::kUntracked;
}

void WarnIfFromTheFuture(const WorkItem& state, absl::Time now) {
  if (state.source_updated == absl::InfiniteFuture() ||
      state.source_updated > now + kMaxTrackerClockSkew) {
    log::Warn("tracker item last modified in the future: taken as now",
              {{"tracker", TrackerSlug(state.tracker)},
               {"key", state.key},
               {"updated",
                absl::FormatTime(absl::RFC3339_sec, state.source_updated, absl::UTCTimeZone())}});
  }
}

absl::StatusOr<SyncOutcome> CoreTrackerSink::ApplyItem(const WorkItem& state,
                                                       const std::string& delivery_id) {
  WarnIfFromTheFuture(state, core_.clock().Now());
  absl::StatusOr<core::SyncOutcome> outcome = core_.ApplyTrackerUpdate(state, delivery_id);
  if (!outcome.ok()) return outcome.status();
  return FromCore(*outcome);
}

absl::StatusOr<TrackerDeletion> CoreTrackerSink::RemoveItem(Tracker tracker,
                                                            const std::string& external_id,
                                                            const std::string& key,
                                                            const std::string& delivery_id) {
  absl::StatusOr<core::TrackerDeletion> result =
      core_.ApplyTrackerDeletion(tracker, external_id, key, delivery_id);
  if (!result.ok()) return result.status();
  if (result->outcome == core::SyncOutcome::kApplied) {
    log::Warn("tracker item deleted: removed from its key results",
              {{"tracker", TrackerSlug(tracker)},
               {"key", key},
               {"external_id", external_id},
               {"key_results", absl::StrJoin(result->key_results, ",")}});
  }
  TrackerDeletion deletion;
  deletion.outcome = FromCore(result->outcome);
  deletion.key_results = std::move(result->key_results);
  return deletion;
}

}  // namespace okr::sync
