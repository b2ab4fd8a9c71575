#include "service/server/retention_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
#include "service/storage/postgres/cluster_lock.h"
#include "service/sync/periodic_runner.h"

namespace okr::server {
namespace {

// The longest the trackers redeliver (Jira keeps failed deliveries about 72 hours;
// GitLab resends from the last 2 days): a dedupe retention below forgets too early.
constexpr absl::Duration kTrackerRedeliveryWindow = absl::Hours(72);

}  // namespace

absl::StatusOr<std::unique_ptr<RetentionService>> RetentionService::Create(
    const ServerConfig& config, storage::OkrStore& store, core::EventsCore& events,
    const Clock& clock, metrics::Registry& metrics) {
  core::RetentionOptions options;
  options.event_retention = config.event_retention_d;
  options.webhook_dedupe_retention = config.webhook_dedupe_retention_d;
  options.request_id_retention = config.request_id_retention_d;
  if (options.webhook_dedupe_retention < kTrackerRedeliveryWindow) {
    log::Warn(
        "webhook-dedupe-retention is shorter than the trackers' redelivery windows (Jira "
        "about 72h, GitLab 2 days): a late redelivery is applied again",
        {{"webhook_dedupe_retention", absl::FormatDuration(options.webhook_dedupe_retention)}});
  }
  metrics::Counter& pruned = metrics.AddCounter("okr_pruned_rows_total",
                                                "Rows deleted by retention, by table.", {"table"});
  for (const char* table : {"events", "webhook_deliveries", "request_records", "rule_firings"}) {
    pruned.Inc({table}, 0);  // every series from the start
  }
  std::unique_ptr<RetentionService> service(
      new RetentionService(core::Retention(store, events, clock, options), pruned));
  if (absl::StartsWith(config.database, "postgresql://") ||
      absl::StartsWith(config.database, "postgres://")) {
    storage::PostgresClusterLockOptions lock_options;
    lock_options.conninfo = config.database;
    OKR_ASSIGN_OR_RETURN(service->lock_,
                         storage::PostgresClusterLock::Create(lock_options, "okr-retention"));
  }
  return service;
}

RetentionService::RetentionService(core::Retention retention, metrics::Counter& pruned)
    : retention_(std::move(retention)), pruned_(pruned) {}

RetentionService::~RetentionService() { Stop(); }

absl::Duration RetentionService::IntervalFor(const core::RetentionOptions& options) {
  const absl::Duration shortest = std::min(
      {options.event_retention, options.webhook_dedupe_retention, options.request_id_retention});
  return std::clamp(shortest / 10, absl::Seconds(1), absl::Minutes(10));
}

void RetentionService::Start() {
  if (runner_ != nullptr) return;
  runner_ = std::make_unique<sync::PeriodicRunner>(
      "retention", IntervalFor(retention_.options()), [this] { RunRound(); },
      [this] { return MayRun(); });
  runner_->Start();
  runner_->Trigger();  // a first round right after start
}

void RetentionService::Stop() {
  if (runner_ != nullptr) runner_->Stop();
  if (lock_ != nullptr) lock_->Release();
}

bool RetentionService::MayRun() {
  if (lock_ == nullptr) return true;
  if (lock_->IsHeld()) return true;
  const bool acquired = lock_->TryAcquire();
  if (acquired) log::Info("this replica now runs retention");
  return acquired;
}

void RetentionService::RunRound() {
  core::PruneReport report;
  absl::StatusOr<core::PruneReport> done = retention_.RunOnce(&report);
  pruned_.Inc({"events"}, static_cast<double>(report.events));
  pruned_.Inc({"webhook_deliveries"}, static_cast<double>(report.webhook_deliveries));
  pruned_.Inc({"request_records"}, static_cast<double>(report.request_records));
  pruned_.Inc({"rule_firings"}, static_cast<double>(report.rule_firings));
  if (report.total() > 0) {
    log::Info("retention: pruned old rows",
              {{"events", absl::StrCat(report.events)},
               {"webhook_deliveries", absl::StrCat(report.webhook_deliveries)},
               {"request_records", absl::StrCat(report.request_records)},
               {"rule_firings", absl::StrCat(report.rule_firings)}});
  }
  if (!done.ok()) {
    log::Warn("retention round failed; the next round continues",
              {{"error", std::string(done.status().message())}});
  }
}

}  // namespace okr::server
