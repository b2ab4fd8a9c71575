// RetentionService: runs retention (service/core/retention.h) in the background -- a round
// soon after start, then every interval (a tenth of the shortest retention, between 1 s and
// 10 min) -- counts what it deleted in okr_pruned_rows_total{table} (table: events,
// webhook_deliveries, request_records, rule_firings) and logs each round that deleted
// something. With PostgreSQL only the replica holding the cluster lock "okr-retention"
// prunes.
//
//   auto retention = RetentionService::Create(config, store, events_core, clock, registry);
//   (*retention)->Start();  ...  (*retention)->Stop();
#ifndef OKR_SERVICE_SERVER_RETENTION_SERVICE_H_
#define OKR_SERVICE_SERVER_RETENTION_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/events_core.h"
#include "service/core/retention.h"
#include "service/metrics/metrics.h"
#include "service/okr/clock.h"
#include "service/server/config.h"
#include "service/storage/okr_store.h"

namespace okr::storage {
class ClusterLock;
}  // namespace okr::storage
namespace okr::sync {
class PeriodicRunner;
}  // namespace okr::sync

namespace okr::server {

class RetentionService {
 public:
  static absl::StatusOr<std::unique_ptr<RetentionService>> Create(const ServerConfig& config,
                                                                  storage::OkrStore& store,
                                                                  core::EventsCore& events,
                                                                  const Clock& clock,
                                                                  metrics::Registry& metrics);
  ~RetentionService();

  void Start();
  // Waits for a running round to finish; releases the cluster lock.
  void Stop();

  // The interval between rounds for these retentions.
  static absl::Duration IntervalFor(const core::RetentionOptions& options);

 private:
  RetentionService(core::Retention retention, metrics::Counter& pruned);
  bool MayRun();
  void RunRound();

  core::Retention retention_;
  metrics::Counter& pruned_;
  std::unique_ptr<storage::ClusterLock> lock_;  // null: SQLite, one process
  std::unique_ptr<sync::PeriodicRunner> runner_;
};

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_RETENTION_SERVICE_H_
