// Retention: forgets what only has to be kept for a while, so the database does not grow
// without bound -- events (the outbox and history), webhook delivery ids (the dedupe of
// at-least-once deliveries), request ids (AIP-155 idempotency) and rule firing records
// that no longer matter. Each round deletes rows
// older than their retention (by the injected clock) in small batches, one transaction
// each, so the single writer is never held long; what a round leaves (more than
// max_batches_per_round batches) the next one takes.
//
// The rules: an event goes once it is older than event_retention AND every subscription
// has delivered it (a subscription that keeps failing holds back the events it has not
// delivered yet; a WatchEvents stream resuming from a pruned position continues at the
// oldest event kept). A webhook delivery id goes after webhook_dedupe_retention, which must
// exceed the trackers' redelivery windows (Jira keeps failed deliveries about 72 hours,
// GitLab resends from the last 2 days): a redelivery after that is applied again (updates
// are state-based and stale ones are dropped by their time, so that is harmless). A
// request id goes after request_id_retention: a retry with it after that creates again.
// A rule firing record goes once unchanged for event_retention if it is re-armed (the same
// as no record) or its rule or key result is gone; a round scans at most
// max_batches_per_round pages of them and the next round continues where it stopped.
//
//   Retention retention(store, events_core, clock, options);
//   absl::StatusOr<PruneReport> pruned = retention.RunOnce();   // e.g. every few minutes
//
// Run one round at a time (per cluster): RunOnce is not thread-safe.
#ifndef OKR_SERVICE_CORE_RETENTION_H_
#define OKR_SERVICE_CORE_RETENTION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/events_core.h"
#include "service/okr/clock.h"
#include "service/storage/okr_store.h"

namespace okr::core {

struct RetentionOptions {
  absl::Duration event_retention = absl::Hours(24 * 90);
  absl::Duration webhook_dedupe_retention = absl::Hours(24 * 7);
  absl::Duration request_id_retention = absl::Hours(24 * 7);
  int batch_size = 500;             // rows per transaction
  int max_batches_per_round = 100;  // per table
};

// Rows one round deleted, per table.
struct PruneReport {
  int64_t events = 0;
  int64_t webhook_deliveries = 0;
  int64_t request_records = 0;
  int64_t rule_firings = 0;
  int64_t total() const { return events + webhook_deliveries + request_records + rule_firings; }
};

class Retention {
 public:
  Retention(storage::OkrStore& store, EventsCore& events, const Clock& clock,
            RetentionOptions options)
      : store_(store), events_(events), clock_(clock), options_(options) {}

  const RetentionOptions& options() const { return options_; }

  // One round over every table. On an error the rows deleted so far stay deleted (and are
  // counted in `partial`, if given) and the error is returned.
  absl::StatusOr<PruneReport> RunOnce(PruneReport* partial = nullptr);

 private:
  storage::OkrStore& store_;
  EventsCore& events_;
  const Clock& clock_;
  const RetentionOptions options_;
  int64_t firings_after_seq_ = 0;  // where the scan of firing records continues
};

}  // namespace okr::core

#endif  // OKR_SERVICE_CORE_RETENTION_H_
