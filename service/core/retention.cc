#include "service/core/retention.h"

#include <functional>

#include "service/okr/status_macros.h"

namespace okr::core {
namespace {

// Runs `batch` (one transaction deleting at most `limit` rows) until it deletes fewer than
// `limit` or `max_batches` ran, adding what it deleted to `*count`.
absl::Status Drain(const std::function<absl::StatusOr<int64_t>(int limit)>& batch, int limit,
                   int max_batches, int64_t* count) {
  for (int i = 0; i < max_batches; ++i) {
    OKR_ASSIGN_OR_RETURN(int64_t deleted, batch(limit));
    *count += deleted;
    if (deleted < limit) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PruneReport> Retention::RunOnce(PruneReport* partial) {
  PruneReport local;
  PruneReport& report = partial != nullptr ? *partial : local;
  report = PruneReport{};
  const absl::Time now = clock_.Now();
  const int limit = options_.batch_size > 0 ? options_.batch_size : 500;
  const int batches = options_.max_batches_per_round > 0 ? options_.max_batches_per_round : 1;

  const absl::Time events_before = now - options_.event_retention;
  OKR_RETURN_IF_ERROR(Drain([&](int n) { return events_.PruneDeliveredEvents(events_before, n); },
                            limit, batches, &report.events));

  const absl::Time deliveries_before = now - options_.webhook_dedupe_retention;
  OKR_RETURN_IF_ERROR(Drain(
      [&](int n) -> absl::StatusOr<int64_t> {
        int64_t deleted = 0;
        OKR_RETURN_IF_ERROR(
            store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
              OKR_ASSIGN_OR_RETURN(deleted, tx.PruneDeliveries(deliveries_before, n));
              return absl::OkStatus();
            }));
        return deleted;
      },
      limit, batches, &report.webhook_deliveries));

  const absl::Time requests_before = now - options_.request_id_retention;
  OKR_RETURN_IF_ERROR(Drain(
      [&](int n) -> absl::StatusOr<int64_t> {
        int64_t deleted = 0;
        OKR_RETURN_IF_ERROR(
            store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
              OKR_ASSIGN_OR_RETURN(deleted, tx.PruneRequestRecords(requests_before, n));
              return absl::OkStatus();
            }));
        return deleted;
      },
      limit, batches, &report.request_records));

  for (int i = 0; i < batches; ++i) {
    bool more = false;
    OKR_ASSIGN_OR_RETURN(int64_t deleted,
                         events_.PruneFirings(events_before, limit, &firings_after_seq_, &more));
    report.rule_firings += deleted;
    if (!more) {
      firings_after_seq_ = 0;  // the next round scans from the start again
      break;
    }
  }
  return report;
}

}  // namespace okr::core
