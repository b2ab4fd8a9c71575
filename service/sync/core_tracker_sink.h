// CoreTrackerSink: the TrackerSink of the running service. Tracker events (webhooks through
// service/http's WebhookIngress, deletions found by reconciliation) become OkrCore updates;
// the core's outcome is reported in the sync API's tracker-neutral terms, and every
// deleted item leaves a log line (a deleted issue leaves its key results visibly, never
// silently).
//
//   CoreTrackerSink sink(core);
//   absl::StatusOr<SyncOutcome> outcome = sink.ApplyItem(state, delivery_id);
//
// Thread-safe as OkrCore is.
#ifndef OKR_SERVICE_SYNC_CORE_TRACKER_SINK_H_
#define OKR_SERVICE_SYNC_CORE_TRACKER_SINK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/okr_core.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

// The core's outcome of one tracker update, in the sync API's terms.
SyncOutcome FromCore(core::SyncOutcome outcome);

// Logs (WARN) a tracker item whose last-modified time is more than kMaxTrackerClockSkew
// ahead of `now`: the core takes it as now (service/okr/trackers.h).
void WarnIfFromTheFuture(const WorkItem& state, absl::Time now);

class CoreTrackerSink final : public TrackerSink {
 public:
  explicit CoreTrackerSink(core::OkrCore& core) : core_(core) {}
  absl::StatusOr<SyncOutcome> ApplyItem(const WorkItem& state,
                                        const std::string& delivery_id) override;
  absl::StatusOr<TrackerDeletion> RemoveItem(Tracker tracker, const std::string& external_id,
                                             const std::string& key,
                                             const std::string& delivery_id) override;

 private:
  core::OkrCore& core_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_CORE_TRACKER_SINK_H_
