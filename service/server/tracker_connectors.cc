#include "service/server/tracker_connectors.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "connectors/gitlab/gitlab_client.h"
#include "connectors/gitlab/gitlab_issue_opener.h"
#include "connectors/gitlab/gitlab_sync.h"
#include "connectors/gitlab/webhook_handler.h"
#include "connectors/http/auth.h"
#include "connectors/http/curl_http_client.h"
#include "connectors/http/retrying_http_client.h"
#include "connectors/jira/jira_client.h"
#include "connectors/jira/jira_issue_opener.h"
#include "connectors/jira/jira_sync.h"
#include "connectors/jira/webhook_handler.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
#include "service/storage/postgres/cluster_lock.h"
#include "service/sync/periodic_runner.h"
#include "service/sync/tracker_sync.h"
#include "service/sync/write_back.h"

namespace okr::server {

namespace http_out = ::okr::connectors::http;

struct TrackerConnectors::Impl {
  core::OkrCore* core = nullptr;
  storage::OkrStore* store = nullptr;
  const Clock* clock = nullptr;
  absl::Duration reconcile_every;
  absl::Duration writeback_every;

  std::unique_ptr<sync::CoreTrackerSink> sink;
  metrics::Counter* webhooks = nullptr;
  metrics::Counter* reconcile_runs = nullptr;
  metrics::Histogram* reconcile_duration = nullptr;
  metrics::Counter* writebacks = nullptr;
  std::atomic<double> last_reconcile_success{0};

  // Jira.
  std::unique_ptr<http_out::CurlHttpClient> jira_curl;
  std::unique_ptr<http_out::RetryingHttpClient> jira_retrying;
  std::unique_ptr<http_out::AuthenticatingHttpClient> jira_auth;
  std::unique_ptr<connectors::jira::JiraClient> jira_client;
  std::unique_ptr<connectors::jira::JiraWebhookHandler> jira_webhooks;
  std::unique_ptr<connectors::jira::JiraTrackerSource> jira_source;
  std::unique_ptr<connectors::jira::JiraTrackerWriter> jira_writer;
  std::unique_ptr<connectors::jira::JiraIssueOpener> jira_opener;

  // GitLab.
  std::unique_ptr<http_out::CurlHttpClient> gitlab_curl;
  std::unique_ptr<http_out::RetryingHttpClient> gitlab_retrying;
  std::unique_ptr<connectors::gitlab::GitLabClient> gitlab_client;
  std::unique_ptr<connectors::gitlab::GitLabWebhookHandler> gitlab_webhooks;
  std::unique_ptr<connectors::gitlab::GitLabTrackerSource> gitlab_source;
  std::unique_ptr<connectors::gitlab::GitLabTrackerWriter> gitlab_writer;
  std::unique_ptr<connectors::gitlab::GitLabIssueOpener> gitlab_opener;

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
    sync::ReconcileReport report = reconciler->RunOnce();
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
    if (report.writes > 0) writebacks->Inc({"written"}, static_cast<double>(report.writes));
    if (!report.errors.empty()) {
      writebacks->Inc({"error"}, static_cast<double>(report.errors.size()));
      log::Warn("write-back errors", {{"first", std::string(report.errors.front().message())},
                                      {"count", std::to_string(report.errors.size())}});
    }
  }
};

namespace {

// Adapts the HTTP listener's request/response to the connectors' webhook types and counts
// deliveries by tracker and outcome.
template <typename Handler>
http::HttpHandler WebhookRoute(const Handler* handler, metrics::Counter* counter,
                               std::string tracker) {
  return [handler, counter, tracker](const http::HttpRequest& req) {
    sync::WebhookRequest in;
    in.headers = req.headers;
    in.body = req.body;
    sync::WebhookResponse out = handler->Handle(in);
    counter->Inc({tracker, out.outcome.empty() ? "unknown" : out.outcome});
    return http::HttpResponse{out.status, "application/json", out.body};
  };
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
  impl->webhooks = &metrics.AddCounter(
      "okr_webhook_deliveries_total",
      "Tracker webhook deliveries by tracker and outcome (accepted, duplicate, stale, ignored, "
      "rejected-auth, rejected-malformed, unavailable).",
      {"tracker", "outcome"});
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

  if (!config.jira_url.empty()) {
    OKR_ASSIGN_OR_RETURN(impl->jira_curl, http_out::CurlHttpClient::Create({}));
    impl->jira_retrying =
        std::make_unique<http_out::RetryingHttpClient>(*impl->jira_curl, http_out::RetryPolicy{});
    http_out::AuthHeader auth = config.jira_pat.empty()
                                    ? http_out::BasicAuth(config.jira_email, config.jira_api_token)
                                    : http_out::BearerAuth(config.jira_pat);
    impl->jira_auth =
        std::make_unique<http_out::AuthenticatingHttpClient>(*impl->jira_retrying, auth);
    connectors::jira::JiraClientOptions options;
    options.site_base_url = config.jira_url;
    options.deployment = config.jira_deployment == "datacenter"
                             ? connectors::jira::JiraDeployment::kDataCenter
                             : connectors::jira::JiraDeployment::kCloud;
    options.fields.story_points_field = config.jira_story_points_field;
    OKR_ASSIGN_OR_RETURN(impl->jira_client,
                         connectors::jira::JiraClient::Create(*impl->jira_auth, options));
    impl->jira_webhooks = std::make_unique<connectors::jira::JiraWebhookHandler>(
        config.jira_webhook_secret, options.fields, config.jira_url, *impl->sink);
    impl->jira_source =
        std::make_unique<connectors::jira::JiraTrackerSource>(*impl->jira_client, config.jira_url);
    impl->jira_writer = std::make_unique<connectors::jira::JiraTrackerWriter>(*impl->jira_client);
    impl->jira_opener =
        std::make_unique<connectors::jira::JiraIssueOpener>(*impl->jira_client, config.jira_url);
    impl->sources.push_back(impl->jira_source.get());
    impl->writers.push_back(impl->jira_writer.get());
    log::Info("jira connector enabled",
              {{"url", config.jira_url}, {"deployment", config.jira_deployment}});
  }

  if (!config.gitlab_url.empty()) {
    OKR_ASSIGN_OR_RETURN(impl->gitlab_curl, http_out::CurlHttpClient::Create({}));
    impl->gitlab_retrying =
        std::make_unique<http_out::RetryingHttpClient>(*impl->gitlab_curl, http_out::RetryPolicy{});
    connectors::gitlab::GitLabClientOptions options;
    options.base_url = config.gitlab_url;
    options.private_token = config.gitlab_token;
    OKR_ASSIGN_OR_RETURN(impl->gitlab_client,
                         connectors::gitlab::GitLabClient::Create(*impl->gitlab_retrying, options));
    impl->gitlab_webhooks = std::make_unique<connectors::gitlab::GitLabWebhookHandler>(
        config.gitlab_webhook_token, *impl->sink);
    impl->gitlab_source =
        std::make_unique<connectors::gitlab::GitLabTrackerSource>(*impl->gitlab_client);
    impl->gitlab_writer = std::make_unique<connectors::gitlab::GitLabTrackerWriter>(
        *impl->gitlab_client, config.gitlab_label_prefix);
    impl->gitlab_opener =
        std::make_unique<connectors::gitlab::GitLabIssueOpener>(*impl->gitlab_client);
    impl->sources.push_back(impl->gitlab_source.get());
    impl->writers.push_back(impl->gitlab_writer.get());
    log::Info("gitlab connector enabled",
              {{"url", config.gitlab_url}, {"label_prefix", config.gitlab_label_prefix}});
  }

  if (!impl->sources.empty() && (absl::StartsWith(config.database, "postgresql://") ||
                                 absl::StartsWith(config.database, "postgres://"))) {
    storage::PostgresClusterLockOptions lock_options;
    lock_options.conninfo = config.database;
    OKR_ASSIGN_OR_RETURN(impl->cluster_lock,
                         storage::PostgresClusterLock::Create(lock_options, "okr-tracker-sync"));
  }
  impl->reconciler = std::make_unique<sync::Reconciler>(core, store, impl->sources);
  sync::WriteBackOptions wb;
  wb.public_url = config.public_url;
  while (!wb.public_url.empty() && wb.public_url.back() == '/') wb.public_url.pop_back();
  impl->write_back = std::make_unique<sync::WriteBackWorker>(store, clock, impl->writers, wb);
  return std::unique_ptr<TrackerConnectors>(new TrackerConnectors(std::move(impl)));
}

TrackerConnectors::TrackerConnectors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TrackerConnectors::~TrackerConnectors() { Stop(); }

bool TrackerConnectors::enabled() const { return !impl_->sources.empty(); }

std::map<Tracker, sync::TrackerIssueOpener*> TrackerConnectors::IssueOpeners() {
  std::map<Tracker, sync::TrackerIssueOpener*> openers;
  if (impl_->jira_opener) openers[Tracker::kJira] = impl_->jira_opener.get();
  if (impl_->gitlab_opener) openers[Tracker::kGitLab] = impl_->gitlab_opener.get();
  return openers;
}

void TrackerConnectors::RegisterRoutes(http::HttpServer& server) {
  if (impl_->jira_webhooks) {
    server.Handle("POST", "/webhooks/jira",
                  WebhookRoute(impl_->jira_webhooks.get(), impl_->webhooks, "jira"));
  }
  if (impl_->gitlab_webhooks) {
    server.Handle("POST", "/webhooks/gitlab",
                  WebhookRoute(impl_->gitlab_webhooks.get(), impl_->webhooks, "gitlab"));
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
  if (impl_->reconcile_runner) impl_->reconcile_runner->Stop();
  if (impl_->write_back_runner) impl_->write_back_runner->Stop();
  if (impl_->cluster_lock) impl_->cluster_lock->Release();
}

absl::Status TrackerConnectors::SyncKeyResult(const std::string& objective_id,
                                              const std::string& key_result_id) {
  return impl_->reconciler->SyncKeyResult(objective_id, key_result_id);
}

}  // namespace okr::server
