// Reconciler: makes stored tracker state converge to the trackers' truth after lost or
// late webhooks. Per tracker it fetches every linked item in batches (TrackerSource),
// applies what changed through OkrCore, removes items the tracker confirms deleted (a 404
// on a direct read, never mere absence from a search), and re-evaluates scoped key
// results (JQL / label scopes): new matches are linked, non-matches unlinked.
//
//   Reconciler reconciler(core, store, {&jira_source, &gitlab_source});
//   ReconcileReport report = reconciler.RunOnce();           // or from a PeriodicRunner
//   reconciler.SyncKeyResult("o1", "k1");                     // the SyncKeyResult RPC
//
// Not thread-safe: one RunOnce at a time (the PeriodicRunner guarantees it; with
// several replicas a cluster lock decides which replica runs it).
#ifndef OKR_SERVICE_SYNC_RECONCILER_H_
#define OKR_SERVICE_SYNC_RECONCILER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "service/core/okr_core.h"
#include "service/storage/okr_store.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

struct ReconcileReport {
  int64_t items_checked = 0;
  int64_t items_updated = 0;
  int64_t items_deleted = 0;
  int64_t scope_linked = 0;
  int64_t scope_unlinked = 0;
  std::vector<absl::Status> errors;  // per tracker / per key result; the run goes on
};

class Reconciler {
 public:
  Reconciler(core::OkrCore& core, storage::OkrStore& store, std::vector<TrackerSource*> sources)
      : core_(core), store_(store), sources_(std::move(sources)) {}

  ReconcileReport RunOnce();
  // Reconciles one key result now: its linked items and its scopes. NOT_FOUND if unknown.
  absl::Status SyncKeyResult(const std::string& objective_id, const std::string& key_result_id);

 private:
  void ReconcileItems(TrackerSource& source, const std::vector<WorkItem>& tracked,
                      ReconcileReport& report);
  void ReconcileScope(TrackerSource& source, const KeyResult& kr, ReconcileReport& report);

  core::OkrCore& core_;
  storage::OkrStore& store_;
  std::vector<TrackerSource*> sources_;
  absl::Mutex mu_;  // one reconciliation at a time (RunOnce vs SyncKeyResult)
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_RECONCILER_H_
