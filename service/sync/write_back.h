// WriteBackWorker: keeps the service's mark inside every linked tracker item current (a
// Jira remote link "serves key result ...", a GitLab label + note) as key result progress
// moves, and removes the marks of key results an item no longer serves. Two queues feed
// it, both written by OkrCore in the transaction of the change:
//   - key results (EnqueueWriteBack): on every change of progress; the worker writes every
//     item linked to the key result;
//   - items (EnqueueItemWriteBack): when an item serves fewer key results (unlinked, its
//     key result or objective deleted, left a scope); the worker writes the item with
//     what it serves now, possibly nothing (then the writer removes every mark and the
//     stored write-back state is forgotten).
// Writes are coalesced and spaced: one queue row per key result or item, however many
// changes; an item is written at most once per `min_spacing` and only when what it shows
// (rounded to whole percent) changed. Entries whose items could not be written yet (the
// tracker failed, spacing) stay queued for the next run; NOT_FOUND from the tracker (the
// item is gone, or not visible to the service's account) completes them.
//
// Failures back off per item, persisted in the item's write-back state: a transient error
// (UNAVAILABLE, RESOURCE_EXHAUSTED, ...) waits `backoff_initial`, doubling per consecutive
// failure up to `backoff_cap`; a permanent one (PERMISSION_DENIED, NOT_FOUND,
// INVALID_ARGUMENT, FAILED_PRECONDITION) waits `permanent_retry`; each with up to 25%
// jitter. An item whose next attempt is in the future is skipped, and a queue entry whose
// remaining items all back off is moved to the earliest of their next attempts, so failing
// items never hold the head of a queue. A success resets the backoff. An item that turns
// permanently failing is logged once (WARN "write-back failing permanently").
//
//   WriteBackWorker worker(store, clock, {&jira_writer}, {.public_url = "https://okr"});
//   worker.RunOnce();   // from a PeriodicRunner, every second or so
//
// Not thread-safe: one RunOnce at a time.
#ifndef OKR_SERVICE_SYNC_WRITE_BACK_H_
#define OKR_SERVICE_SYNC_WRITE_BACK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/okr/clock.h"
#include "service/storage/okr_store.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

struct WriteBackOptions {
  std::string public_url;                             // base of the links written into items
  absl::Duration min_spacing = absl::Seconds(2);      // per item
  int batch = 100;                                    // queue entries per run
  absl::Duration backoff_initial = absl::Seconds(2);  // after the first transient failure
  absl::Duration backoff_cap = absl::Minutes(10);     // longest transient wait
  absl::Duration permanent_retry = absl::Hours(1);    // wait after a permanent failure
};

// Whether a failed write is not worth retrying soon (the tracker refused the item itself).
bool IsPermanentWriteBackError(absl::StatusCode code);
// The wait before the next attempt after `failures` consecutive failures (>= 1) ending in
// `code`, before jitter.
absl::Duration WriteBackBackoff(const WriteBackOptions& options, absl::StatusCode code,
                                int64_t failures);
// The metrics label of a failure: "permission_denied", "not_found", "invalid_argument",
// "failed_precondition" (permanent) or "transient".
const char* WriteBackFailureReason(absl::StatusCode code);

struct WriteBackReport {
  int64_t writes = 0;    // items written (including removals)
  int64_t removals = 0;  // of which: items that serve nothing any more, marks removed
  int64_t unchanged = 0;
  int64_t deferred = 0;
  int64_t backing_off = 0;  // items skipped: their next attempt is later
  std::vector<absl::Status> errors;
  // Items whose last write failed, by tracker and code, read at the end of the run (empty
  // if that read failed; see `failures_read`).
  std::vector<storage::OkrTransaction::WriteBackFailureCount> failing;
  bool failures_read = false;
};

class WriteBackWorker {
 public:
  WriteBackWorker(storage::OkrStore& store, const Clock& clock, std::vector<TrackerWriter*> writers,
                  WriteBackOptions options)
      : store_(store), clock_(clock), writers_(std::move(writers)), options_(std::move(options)) {}

  WriteBackReport RunOnce();

 private:
  // Whether an item is settled for this run (written, unchanged, nothing to do, gone) or
  // must stay queued (error, spacing).
  // kBackoff: the item waits for its next attempt (`retry_at`).
  enum class ItemStatus { kSettled, kRetry, kBackoff };
  struct ItemOutcome {
    ItemStatus status = ItemStatus::kSettled;
    absl::Time retry_at = absl::InfinitePast();
  };
  // What a queue entry does with the outcomes of its items.
  struct EntryOutcome {
    bool retry = false;                           // some item must be tried next run
    absl::Time backoff = absl::InfiniteFuture();  // earliest next attempt of those backing off
    void Add(const ItemOutcome& item);
  };

  TrackerWriter* WriterFor(Tracker tracker) const;
  void RunKeyResultQueue(WriteBackReport& report);
  void RunItemQueue(const std::vector<storage::OkrTransaction::ItemWriteBackEntry>& entries,
                    WriteBackReport& report);
  // Makes the tracker show what `item` serves now (maybe nothing), once per run.
  ItemOutcome SyncItem(const WorkItem& item, WriteBackReport& report);
  // Records a failed write of `item` (backoff, last error); logs an item that turns
  // permanently failing. Returns when to try the item next.
  absl::Time RecordFailure(const WorkItem& item,
                           const std::optional<storage::OkrTransaction::WriteBackState>& state,
                           const absl::Status& error, WriteBackReport& report);
  // What one item serves, read in one snapshot.
  absl::StatusOr<std::vector<ServedKeyResult>> Served(const WorkItem& item);

  storage::OkrStore& store_;
  const Clock& clock_;
  std::vector<TrackerWriter*> writers_;
  WriteBackOptions options_;
  // Items settled or backing off in the current run, with their outcome.
  absl::flat_hash_map<std::string, ItemOutcome> handled_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_WRITE_BACK_H_
