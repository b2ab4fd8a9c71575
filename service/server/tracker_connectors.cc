#include "service/server/tracker_connectors.h"

#include <atomic>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/http/webhook_ingress.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"
#include "service/outbound/curl_http_client.h"
#include "service/outbound/retrying_http_client.h"
#include "service/server/connector_registry.h"
#include "service/server/metered_http_client.h"
#include "service/storage/postgres/cluster_lock.h"
#include "service/sync/core_tracker_sink.h"
#include "service/sync/periodic_runner.h"
#include "service/sync/reconciler.h"
#include "service/sync/site_routing.h"
#include "service/sync/source_status.h"
#include "service/sync/tracker_connector.h"
#include "service/sync/tracker_sync.h"
#include "service/sync/write_back.h"

namespace okr::server {
namespace {

// One site of one tracker: the outbound stack below the connector (libcurl -> metrics ->
// retries; the connector adds its own auth and typed client), the connector, and its
// webhook ingress writing through a SiteSink.
struct Site {
  std::unique_ptr<outbound::CurlHttpClient> curl;
  std::unique_ptr<MeteredHttpClient> metered;
  std::unique_ptr<outbound::RetryingHttpClient> retrying;
  std::unique_ptr<sync::TrackerConnector> connector;
  std::unique_ptr<sync::SiteSink> sink;
  // Freshness (service/sync/source_status.h): this site's reconciliation errors per round
  // and its applied webhooks.
  std::unique_ptr<sync::RecordingSource> recording;
  std::unique_ptr<sync::RecordingSink> recording_sink;
  std::unique_ptr<http::WebhookIngress> ingress;
};

// Every configured site of one tracker behind one routing source, writer and issue opener
// (service/sync/site_routing.h).
struct TrackerStack {
  Tracker tracker;
  std::unique_ptr<sync::SiteMap> map;
  std::vector<std::unique_ptr<Site>> sites;
  std::unique_ptr<sync::SiteRoutingSource> source;
  std::unique_ptr<sync::SiteRoutingWriter> writer;
  std::unique_ptr<sync::SiteRoutingIssueOpener> opener;
};

}  // namespace

struct TrackerConnectors::Impl {
  core::OkrCore* core = nullptr;
  storage::OkrStore* store = nullptr;
  const Clock* clock = nullptr;
  absl::Duration reconcile_every;
  absl::Duration writeback_every;

  std::unique_ptr<sync::CoreTrackerSink> sink;
  metrics::Counter* webhooks = nullptr;
  std::map<Tracker, sync::TrackerIssueOpener*> openers;
  metrics::Counter* reconcile_runs = nullptr;
  metrics::Histogram* reconcile_duration = nullptr;
  metrics::Counter* writebacks = nullptr;
  // Items whose last write-back failed, by tracker slug and reason, as of the last run
  // (okr_writeback_failing_items).
  absl::Mutex failing_mu;
  std::map<std::pair<std::string, std::string>, double> failing ABSL_GUARDED_BY(failing_mu);
  std::atomic<double> last_reconcile_success{0};
  // Per tracker site: last reconciliation and webhook, in the database (every replica
  // answers freshness and the okr_tracker_last_success_timestamp_seconds gauge from it).
  std::unique_ptr<sync::SourceStatusStore> source_status;

  // One stack per configured tracker, in registry order.
  std::vector<std::unique_ptr<TrackerStack>> trackers;

  std::vector<sync::TrackerSource*> sources;
  std::vector<sync::TrackerWriter*> writers;
  std::unique_ptr<sync::Reconciler> reconciler;
  std::unique_ptr<sync::WriteBackWorker> write_back;
  std::unique_ptr<sync::PeriodicRunner> reconcile_runner;
  std::unique_ptr<sync::PeriodicRunner> write_back_runner;
  // With PostgreSQL, several replicas share the database: only the holder of this lock
  // runs reconciliation and write-back; another replica takes over when it dies.
  std::unique_ptr<storage::ClusterLock> cluster_lock;

  bool MayRun() {
    if (cluster_lock == nullptr) return true;  // SQLite: one process owns the database
    if (cluster_lock->IsHeld()) return true;
    const bool acquired = cluster_lock->TryAcquire();
    if (acquired) log::Info("this replica now runs reconciliation and write-back");
    return acquired;
  }

  void RunReconcile() {
    const absl::Time start = absl::Now();
    (void)source_status->FlushWebhooks();
    for (const auto& stack : trackers) {
      for (const auto& site : stack->sites) site->recording->BeginRound();
    }
    sync::ReconcileReport report = reconciler->RunOnce();
    // One small write per site: its round succeeded unless one of its calls failed.
    for (const auto& stack : trackers) {
      for (const auto& site : stack->sites) {
        const absl::Status recorded = source_status->RecordReconciliation(
            stack->tracker, site->connector->site(), site->recording->round_error());
        if (!recorded.ok()) {
          log::Warn("cannot record the reconciliation status",
                    {{"tracker", TrackerSlug(stack->tracker)},
                     {"site", site->connector->site()},
                     {"error", std::string(recorded.message())}});
        }
      }
    }
    reconcile_duration->Observe({}, absl::ToDoubleSeconds(absl::Now() - start));
    reconcile_runs->Inc({report.errors.empty() ? "ok" : "error"});
    if (report.errors.empty()) last_reconcile_success = absl::ToUnixSeconds(absl::Now());
    log::Info("reconciliation finished", {{"checked", std::to_string(report.items_checked)},
                                          {"updated", std::to_string(report.items_updated)},
                                          {"deleted", std::to_string(report.items_deleted)},
                                          {"scope_linked", std::to_string(report.scope_linked)},
                                          {"scope_unlinked", std::to_string(report.scope_unlinked)},
                                          {"errors", std::to_string(report.errors.size())}});
  }

  void RunWriteBack() {
    sync::WriteBackReport report = write_back->RunOnce();
    if (report.failures_read) {
      absl::MutexLock lock(&failing_mu);
      for (auto& [labels, items] : failing) items = 0;
      for (const auto& count : report.failing) {
        failing[{TrackerSlug(count.tracker),
                 sync::WriteBackFailureReason(static_cast<absl::StatusCode>(count.code))}] +=
            static_cast<double>(count.items);
      }
    }
    if (report.writes > 0) writebacks->Inc({"written"}, static_cast<double>(report.writes));
    if (!report.errors.empty()) {
      writebacks->Inc({"error"}, static_cast<double>(report.errors.size()));
      log::Warn("write-back errors", {{"first", std::string(report.errors.front().message())},
                                      {"count", std::to_string(report.errors.size())}});
    }
  }
};

namespace {

// Builds every configured site of one tracker, or nothing (nullptr) when it has none.
absl::StatusOr<std::unique_ptr<TrackerStack>> BuildTracker(
    const ConnectorRegistration& entry, const ServerConfig& config, sync::TrackerSink& core_sink,
    metrics::Counter& deliveries, metrics::Registry& metrics,
    std::function<void(Tracker, std::string)> on_webhook) {
  const std::vector<SiteFactory> factories = entry.sites(config);
  if (factories.empty()) return nullptr;
  auto stack = std::make_unique<TrackerStack>();
  stack->tracker = entry.tracker;
  std::vector<sync::SiteMap::Site> map_sites;
  for (const SiteFactory& factory : factories) {
    auto site = std::make_unique<Site>();
    OKR_ASSIGN_OR_RETURN(site->curl, outbound::CurlHttpClient::Create({}));
    site->metered = std::make_unique<MeteredHttpClient>(*site->curl, metrics,
                                                        TrackerSlug(entry.tracker), factory.name);
    site->retrying =
        std::make_unique<outbound::RetryingHttpClient>(*site->metered, outbound::RetryPolicy{});
    OKR_ASSIGN_OR_RETURN(site->connector, factory.make(*site->retrying));
    const sync::TrackerConnector* connector = site->connector.get();
    // The default site's tracker ids are stored unprefixed (SiteMap name "").
    map_sites.push_back(
        {connector->is_default_site() ? std::string() : connector->site(),
         [connector](absl::string_view key) { return connector->OwnsKey(key); },
         [connector](absl::string_view project) { return connector->OwnsProject(project); }});
    stack->sites.push_back(std::move(site));
  }
  stack->map = std::make_unique<sync::SiteMap>(std::move(map_sites));
  std::vector<sync::TrackerSource*> sources;
  std::vector<sync::TrackerWriter*> writers;
  std::vector<sync::TrackerIssueOpener*> openers;
  for (size_t i = 0; i < stack->sites.size(); ++i) {
    Site& site = *stack->sites[i];
    site.sink = std::make_unique<sync::SiteSink>(*stack->map, i, core_sink);
    site.recording_sink = std::make_unique<sync::RecordingSink>(
        *site.sink, [on_webhook, tracker = entry.tracker, name = site.connector->site()] {
          on_webhook(tracker, name);
        });
    site.ingress =
        std::make_unique<http::WebhookIngress>(*site.connector, *site.recording_sink, &deliveries);
    site.recording = std::make_unique<sync::RecordingSource>(site.connector->source());
    sources.push_back(site.recording.get());
    writers.push_back(&site.connector->writer());
    openers.push_back(&site.connector->issue_opener());
  }
  stack->source =
      std::make_unique<sync::SiteRoutingSource>(entry.tracker, *stack->map, std::move(sources));
  stack->writer =
      std::make_unique<sync::SiteRoutingWriter>(entry.tracker, *stack->map, std::move(writers));
  stack->opener = std::make_unique<sync::SiteRoutingIssueOpener>(entry.tracker, *stack->map,
                                                                 std::move(openers));
  return stack;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrackerConnectors>> TrackerConnectors::Create(
    const ServerConfig& config, core::OkrCore& core, storage::OkrStore& store, const Clock& clock,
    metrics::Registry& metrics) {
  auto impl = std::make_unique<Impl>();
  impl->core = &core;
  impl->store = &store;
  impl->clock = &clock;
  impl->reconcile_every = config.reconcile_every;
  impl->writeback_every = config.writeback_every;
  impl->sink = std::make_unique<sync::CoreTrackerSink>(core);
  impl->webhooks = &http::WebhookIngress::AddDeliveriesCounter(metrics);
  impl->reconcile_runs =
      &metrics.AddCounter("okr_reconcile_runs_total", "Reconciliation runs by result.", {"result"});
  impl->reconcile_duration =
      &metrics.AddHistogram("okr_reconcile_duration_seconds", "Duration of a reconciliation run.",
                            {}, {0.01, 0.1, 0.5, 1, 5, 15, 60, 300});
  impl->writebacks = &metrics.AddCounter("okr_writeback_total",
                                         "Write-backs into tracker items by result.", {"result"});
  Impl* raw = impl.get();
  metrics.AddCallbackGauge("okr_reconcile_last_success_timestamp_seconds",
                           "Unix time of the last reconciliation run without errors.",
                           [raw] { return raw->last_reconcile_success.load(); });

  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    OKR_ASSIGN_OR_RETURN(std::unique_ptr<TrackerStack> stack,
                         BuildTracker(entry, config, *impl->sink, *impl->webhooks, metrics,
                                      [raw](Tracker tracker, const std::string& site) {
                                        if (raw->source_status)
                                          raw->source_status->RecordWebhook(tracker, site);
                                      }));
    if (stack == nullptr) continue;
    impl->sources.push_back(stack->source.get());
    impl->writers.push_back(stack->writer.get());
    impl->openers[stack->tracker] = stack->opener.get();
    impl->trackers.push_back(std::move(stack));
  }

  std::vector<sync::SourceStatusStore::SiteKey> status_sites;
  for (const auto& stack : impl->trackers) {
    for (const auto& site : stack->sites) {
      status_sites.push_back({stack->tracker, site->connector->site()});
    }
  }
  sync::SourceStatusStore::Options status_options;
  status_options.reconcile_interval = config.reconcile_every;
  impl->source_status =
      std::make_unique<sync::SourceStatusStore>(store, clock, status_sites, status_options);
  // Every replica exports it from the stored status, whichever one reconciles.
  for (const sync::SourceStatusStore::SiteKey& site : status_sites) {
    metrics.AddCallbackGauge(
        "okr_tracker_last_success_timestamp_seconds",
        "Unix time of the last reconciliation of the tracker site without errors (0: never).",
        {{"tracker", TrackerSlug(site.first)}, {"site", site.second}}, [raw, site] {
          absl::StatusOr<std::vector<SourceStatus>> read = raw->source_status->Read();
          if (!read.ok()) return 0.0;
          for (const SourceStatus& s : *read) {
            if (s.tracker == site.first && s.site == site.second && s.last_success.has_value()) {
              return absl::ToDoubleSeconds(*s.last_success - absl::UnixEpoch());
            }
          }
          return 0.0;
        });
  }

  if (!impl->sources.empty() && (absl::StartsWith(config.database, "postgresql://") ||
                                 absl::StartsWith(config.database, "postgres://"))) {
    storage::PostgresClusterLockOptions lock_options;
    lock_options.conninfo = config.database;
    OKR_ASSIGN_OR_RETURN(impl->cluster_lock,
                         storage::PostgresClusterLock::Create(lock_options, "okr-tracker-sync"));
  }
  impl->reconciler = std::make_unique<sync::Reconciler>(core, store, impl->sources);
  for (const sync::TrackerWriter* writer : impl->writers) {
    for (const char* reason : {"permission_denied", "not_found", "invalid_argument",
                               "failed_precondition", "transient"}) {
      const std::pair<std::string, std::string> labels{TrackerSlug(writer->tracker()), reason};
      {
        absl::MutexLock lock(&impl->failing_mu);
        if (!impl->failing.emplace(labels, 0).second) continue;  // one series per tracker
      }
      metrics.AddCallbackGauge(
          "okr_writeback_failing_items",
          "Tracker items whose last write-back failed, by reason (permanent: permission_denied, "
          "not_found, invalid_argument, failed_precondition; retried hourly).",
          {{"tracker", labels.first}, {"reason", labels.second}}, [raw, labels] {
            absl::MutexLock lock(&raw->failing_mu);
            auto it = raw->failing.find(labels);
            return it == raw->failing.end() ? 0.0 : it->second;
          });
    }
  }
  sync::WriteBackOptions wb;
  wb.public_url = config.public_url;
  while (!wb.public_url.empty() && wb.public_url.back() == '/') wb.public_url.pop_back();
  impl->write_back = std::make_unique<sync::WriteBackWorker>(store, clock, impl->writers, wb);
  return std::unique_ptr<TrackerConnectors>(new TrackerConnectors(std::move(impl)));
}

TrackerConnectors::TrackerConnectors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TrackerConnectors::~TrackerConnectors() { Stop(); }

bool TrackerConnectors::enabled() const { return !impl_->sources.empty(); }

const FreshnessSource& TrackerConnectors::freshness() const { return *impl_->source_status; }

std::map<Tracker, sync::TrackerIssueOpener*> TrackerConnectors::IssueOpeners() {
  return impl_->openers;
}

void TrackerConnectors::RegisterRoutes(http::HttpServer& server) {
  for (const auto& stack : impl_->trackers) {
    for (const auto& site : stack->sites) site->ingress->Register(server);
  }
}

void TrackerConnectors::Start() {
  if (!enabled()) return;
  Impl* impl = impl_.get();
  impl->reconcile_runner = std::make_unique<sync::PeriodicRunner>(
      "reconcile", impl->reconcile_every, [impl] { impl->RunReconcile(); },
      [impl] { return impl->MayRun(); });
  impl->write_back_runner = std::make_unique<sync::PeriodicRunner>(
      "write-back", impl->writeback_every, [impl] { impl->RunWriteBack(); },
      [impl] { return impl->MayRun(); });
  impl->reconcile_runner->Start();
  impl->reconcile_runner->Trigger();  // converge right after start
  impl->write_back_runner->Start();
}

void TrackerConnectors::Stop() {
  if (impl_->source_status) (void)impl_->source_status->FlushWebhooks();
  if (impl_->reconcile_runner) impl_->reconcile_runner->Stop();
  if (impl_->write_back_runner) impl_->write_back_runner->Stop();
  if (impl_->cluster_lock) impl_->cluster_lock->Release();
}

absl::Status TrackerConnectors::SyncKeyResult(const std::string& objective_id,
                                              const std::string& key_result_id) {
  return impl_->reconciler->SyncKeyResult(objective_id, key_result_id);
}

}  // namespace okr::server
