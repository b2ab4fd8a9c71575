// WriteBackWorker: keeps the service's mark inside every linked tracker item current (a
// Jira remote link "serves key result ...", a GitLab label + note) as key result progress
// moves. Writes are coalesced and spaced: OkrCore enqueues a key result on every change
// (one queue row per key result, however many changes), and the worker writes an item at
// most once per `min_spacing` and only when what it shows (rounded to whole percent)
// changed. Entries whose items could not be written yet stay queued for the next run.
//
//   WriteBackWorker worker(store, clock, {&jira_writer}, {.public_url = "https://okr"});
//   worker.RunOnce();   // from a PeriodicRunner, every second or so
//
// Not thread-safe: one RunOnce at a time.
#ifndef OKR_SERVICE_SYNC_WRITE_BACK_H_
#define OKR_SERVICE_SYNC_WRITE_BACK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "service/okr/clock.h"
#include "service/storage/okr_store.h"
#include "service/sync/tracker_sync.h"

namespace okr::sync {

struct WriteBackOptions {
  std::string public_url;                         // base of the links written into items
  absl::Duration min_spacing = absl::Seconds(2);  // per item
  int batch = 100;                                // queue entries per run
};

struct WriteBackReport {
  int64_t writes = 0;
  int64_t unchanged = 0;
  int64_t deferred = 0;
  std::vector<absl::Status> errors;
};

class WriteBackWorker {
 public:
  WriteBackWorker(storage::OkrStore& store, const Clock& clock, std::vector<TrackerWriter*> writers,
                  WriteBackOptions options)
      : store_(store), clock_(clock), writers_(std::move(writers)), options_(std::move(options)) {}

  WriteBackReport RunOnce();

 private:
  TrackerWriter* WriterFor(Tracker tracker) const;
  // What one item serves, read in one snapshot.
  absl::StatusOr<std::vector<ServedKeyResult>> Served(const WorkItem& item);

  storage::OkrStore& store_;
  const Clock& clock_;
  std::vector<TrackerWriter*> writers_;
  WriteBackOptions options_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_WRITE_BACK_H_
