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
#include "service/server/metered_http_client.h"
#include "service/storage/postgres/cluster_lock.h"
#include "service/sync/periodic_runner.h"
#include "service/sync/site_routing.h"
#include "service/sync/tracker_sync.h"
#include "service/sync/write_back.h"

namespace okr::server {

namespace http_out = ::okr::connectors::http;

namespace {

// The outbound stack (libcurl -> metrics -> retries -> auth -> typed client), the webhook
// handler (through a SiteSink) and the sync adapters of one Jira site.
struct JiraSite {
  std::string name;
  std::string webhook_path;
  std::unique_ptr<http_out::CurlHttpClient> curl;
  std::unique_ptr<MeteredHttpClient> metered;
  std::unique_ptr<http_out::RetryingHttpClient> retrying;
  std::unique_ptr<http_out::AuthenticatingHttpClient> auth;
  std::unique_ptr<connectors::jira::JiraClient> client;
  std::unique_ptr<sync::SiteSink> sink;
  std::unique_ptr<connectors::jira::JiraWebhookHandler> webhooks;
  std::unique_ptr<connectors::jira::JiraTrackerSource> source;
  std::unique_ptr<connectors::jira::JiraTrackerWriter> writer;
  std::unique_ptr<connectors::jira::JiraIssueOpener> opener;
};

// The same for one GitLab instance.
struct GitLabInstance {
  std::string name;
  std::string webhook_path;
  std::unique_ptr<http_out::CurlHttpClient> curl;
  std::unique_ptr<MeteredHttpClient> metered;
  std::unique_ptr<http_out::RetryingHttpClient> retrying;
  std::unique_ptr<connectors::gitlab::GitLabClient> client;
  std::unique_ptr<sync::SiteSink> sink;
  std::unique_ptr<connectors::gitlab::GitLabWebhookHandler> webhooks;
  std::unique_ptr<connectors::gitlab::GitLabTrackerSource> source;
  std::unique_ptr<connectors::gitlab::GitLabTrackerWriter> writer;
  std::unique_ptr<connectors::gitlab::GitLabIssueOpener> opener;
};

// Opens a rule's issue through the site that owns the project (SiteMap ownership, asked
// with a key of that project).
class RoutingIssueOpener final : public sync::TrackerIssueOpener {
 public:
  RoutingIssueOpener(Tracker tracker, const sync::SiteMap& map,
                     std::vector<sync::TrackerIssueOpener*> openers)
      : tracker_(tracker), map_(map), openers_(std::move(openers)) {}
  Tracker tracker() const override { return tracker_; }
  absl::StatusOr<WorkItem> OpenIssue(const sync::NewIssue& issue) override {
    const std::string key = absl::StrCat(issue.project, tracker_ == Tracker::kJira ? "-1" : "#1");
    std::optional<size_t> site = map_.OwnerOf(key);
    if (!site.has_value() || *site >= openers_.size()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no configured site owns project ", issue.project));
    }
    return openers_[*site]->OpenIssue(issue);
  }

 private:
  const Tracker tracker_;
  const sync::SiteMap& map_;
  const std::vector<sync::TrackerIssueOpener*> openers_;
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
  metrics::Counter* reconcile_runs = nullptr;
  metrics::Histogram* reconcile_duration = nullptr;
  metrics::Counter* writebacks = nullptr;
  std::atomic<double> last_reconcile_success{0};

  // One stack per Jira site / GitLab instance, behind one routing source and writer per
  // tracker (service/sync/site_routing.h).
  std::unique_ptr<sync::SiteMap> jira_map;
  std::vector<std::unique_ptr<JiraSite>> jira_sites;
  std::unique_ptr<sync::SiteRoutingSource> jira_source;
  std::unique_ptr<sync::SiteRoutingWriter> jira_writer;
  std::unique_ptr<sync::SiteMap> gitlab_map;
  std::vector<std::unique_ptr<GitLabInstance>> gitlab_instances;
  std::unique_ptr<sync::SiteRoutingSource> gitlab_source;
  std::unique_ptr<sync::SiteRoutingWriter> gitlab_writer;
  std::unique_ptr<RoutingIssueOpener> jira_opener;
  std::unique_ptr<RoutingIssueOpener> gitlab_opener;

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

// Adapts the HTTP listener's request/response to the connectors' webhook types, counts
// deliveries by tracker and outcome, and logs one line per delivery (with its request id).
template <typename Handler>
http::HttpHandler WebhookRoute(const Handler* handler, metrics::Counter* counter,
                               std::string tracker, std::string site) {
  return [handler, counter, tracker, site](const http::HttpRequest& req) {
    sync::WebhookRequest in;
    in.headers = req.headers;
    in.body = req.body;
    sync::WebhookResponse out = handler->Handle(in);
    const std::string outcome = out.outcome.empty() ? "unknown" : out.outcome;
    counter->Inc({tracker, site, outcome});
    log::Info("webhook delivery", {{"tracker", tracker},
                                   {"site", site},
                                   {"status", std::to_string(out.status)},
                                   {"outcome", outcome}});
    return http::HttpResponse{out.status, "application/json", out.body};
  };
}

// The SiteMap name: "" for the default site (its tracker ids are stored unprefixed).
template <typename SiteConfig>
std::string SiteMapName(const SiteConfig& c) {
  return c.is_default() ? std::string() : c.name;
}

absl::StatusOr<std::unique_ptr<JiraSite>> BuildJiraSite(const JiraSiteConfig& config,
                                                        const sync::SiteMap& map, size_t index,
                                                        sync::TrackerSink& core_sink,
                                                        metrics::Registry& metrics) {
  auto site = std::make_unique<JiraSite>();
  site->name = config.name;
  site->webhook_path = config.WebhookPath();
  OKR_ASSIGN_OR_RETURN(site->curl, http_out::CurlHttpClient::Create({}));
  site->metered = std::make_unique<MeteredHttpClient>(*site->curl, metrics, "jira", config.name);
  site->retrying =
      std::make_unique<http_out::RetryingHttpClient>(*site->metered, http_out::RetryPolicy{});
  http_out::AuthHeader auth = config.pat.empty()
                                  ? http_out::BasicAuth(config.email, config.api_token)
                                  : http_out::BearerAuth(config.pat);
  site->auth = std::make_unique<http_out::AuthenticatingHttpClient>(*site->retrying, auth);
  connectors::jira::JiraClientOptions options;
  options.site_base_url = config.url;
  options.deployment = config.deployment == "datacenter"
                           ? connectors::jira::JiraDeployment::kDataCenter
                           : connectors::jira::JiraDeployment::kCloud;
  options.fields.story_points_field = config.story_points_field;
  options.fields.done_by_project = config.done;
  OKR_ASSIGN_OR_RETURN(site->client, connectors::jira::JiraClient::Create(*site->auth, options));
  site->sink = std::make_unique<sync::SiteSink>(map, index, core_sink);
  site->webhooks = std::make_unique<connectors::jira::JiraWebhookHandler>(
      config.webhook_secret, options.fields, config.url, *site->sink);
  site->source = std::make_unique<connectors::jira::JiraTrackerSource>(*site->client, config.url);
  site->writer = std::make_unique<connectors::jira::JiraTrackerWriter>(*site->client);
  site->opener = std::make_unique<connectors::jira::JiraIssueOpener>(*site->client, config.url);
  log::Info("jira connector enabled", {{"site", config.name},
                                       {"url", config.url},
                                       {"deployment", config.deployment},
                                       {"webhook", site->webhook_path}});
  return site;
}

absl::StatusOr<std::unique_ptr<GitLabInstance>> BuildGitLabInstance(
    const GitLabInstanceConfig& config, const sync::SiteMap& map, size_t index,
    sync::TrackerSink& core_sink, metrics::Registry& metrics) {
  auto instance = std::make_unique<GitLabInstance>();
  instance->name = config.name;
  instance->webhook_path = config.WebhookPath();
  OKR_ASSIGN_OR_RETURN(instance->curl, http_out::CurlHttpClient::Create({}));
  instance->metered =
      std::make_unique<MeteredHttpClient>(*instance->curl, metrics, "gitlab", config.name);
  instance->retrying =
      std::make_unique<http_out::RetryingHttpClient>(*instance->metered, http_out::RetryPolicy{});
  connectors::gitlab::GitLabClientOptions options;
  options.base_url = config.url;
  options.private_token = config.token;
  options.done.by_project = config.done;
  OKR_ASSIGN_OR_RETURN(instance->client,
                       connectors::gitlab::GitLabClient::Create(*instance->retrying, options));
  instance->sink = std::make_unique<sync::SiteSink>(map, index, core_sink);
  instance->webhooks = std::make_unique<connectors::gitlab::GitLabWebhookHandler>(
      config.webhook_token, *instance->sink, options.done);
  instance->source = std::make_unique<connectors::gitlab::GitLabTrackerSource>(*instance->client);
  instance->writer = std::make_unique<connectors::gitlab::GitLabTrackerWriter>(*instance->client,
                                                                               config.label_prefix);
  instance->opener = std::make_unique<connectors::gitlab::GitLabIssueOpener>(*instance->client);
  log::Info("gitlab connector enabled", {{"instance", config.name},
                                         {"url", config.url},
                                         {"label_prefix", config.label_prefix},
                                         {"webhook", instance->webhook_path}});
  return instance;
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
      "Tracker webhook deliveries by tracker, site and outcome (accepted, duplicate, stale, "
      "ignored, rejected-auth, rejected-malformed, unavailable).",
      {"tracker", "site", "outcome"});
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

  if (!config.jira_sites.empty()) {
    std::vector<sync::SiteMap::Site> sites;
    for (const JiraSiteConfig& c : config.jira_sites) {
      sites.push_back({SiteMapName(c), [c](absl::string_view key) { return c.Owns(key); }});
    }
    impl->jira_map = std::make_unique<sync::SiteMap>(std::move(sites));
    std::vector<sync::TrackerSource*> sources;
    std::vector<sync::TrackerWriter*> writers;
    for (size_t i = 0; i < config.jira_sites.size(); ++i) {
      OKR_ASSIGN_OR_RETURN(
          std::unique_ptr<JiraSite> site,
          BuildJiraSite(config.jira_sites[i], *impl->jira_map, i, *impl->sink, metrics));
      sources.push_back(site->source.get());
      writers.push_back(site->writer.get());
      impl->jira_sites.push_back(std::move(site));
    }
    impl->jira_source = std::make_unique<sync::SiteRoutingSource>(Tracker::kJira, *impl->jira_map,
                                                                  std::move(sources));
    impl->jira_writer = std::make_unique<sync::SiteRoutingWriter>(Tracker::kJira, *impl->jira_map,
                                                                  std::move(writers));
    impl->sources.push_back(impl->jira_source.get());
    impl->writers.push_back(impl->jira_writer.get());
  }

  if (!config.gitlab_instances.empty()) {
    std::vector<sync::SiteMap::Site> sites;
    for (const GitLabInstanceConfig& c : config.gitlab_instances) {
      sites.push_back({SiteMapName(c), [c](absl::string_view key) { return c.Owns(key); }});
    }
    impl->gitlab_map = std::make_unique<sync::SiteMap>(std::move(sites));
    std::vector<sync::TrackerSource*> sources;
    std::vector<sync::TrackerWriter*> writers;
    for (size_t i = 0; i < config.gitlab_instances.size(); ++i) {
      OKR_ASSIGN_OR_RETURN(std::unique_ptr<GitLabInstance> instance,
                           BuildGitLabInstance(config.gitlab_instances[i], *impl->gitlab_map, i,
                                               *impl->sink, metrics));
      sources.push_back(instance->source.get());
      writers.push_back(instance->writer.get());
      impl->gitlab_instances.push_back(std::move(instance));
    }
    impl->gitlab_source = std::make_unique<sync::SiteRoutingSource>(
        Tracker::kGitLab, *impl->gitlab_map, std::move(sources));
    impl->gitlab_writer = std::make_unique<sync::SiteRoutingWriter>(
        Tracker::kGitLab, *impl->gitlab_map, std::move(writers));
    impl->sources.push_back(impl->gitlab_source.get());
    impl->writers.push_back(impl->gitlab_writer.get());
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
  if (!impl_->jira_sites.empty() && impl_->jira_opener == nullptr) {
    std::vector<sync::TrackerIssueOpener*> openers;
    for (const auto& site : impl_->jira_sites) openers.push_back(site->opener.get());
    impl_->jira_opener =
        std::make_unique<RoutingIssueOpener>(Tracker::kJira, *impl_->jira_map, openers);
  }
  if (!impl_->gitlab_instances.empty() && impl_->gitlab_opener == nullptr) {
    std::vector<sync::TrackerIssueOpener*> openers;
    for (const auto& i : impl_->gitlab_instances) openers.push_back(i->opener.get());
    impl_->gitlab_opener =
        std::make_unique<RoutingIssueOpener>(Tracker::kGitLab, *impl_->gitlab_map, openers);
  }
  std::map<Tracker, sync::TrackerIssueOpener*> openers;
  if (impl_->jira_opener) openers[Tracker::kJira] = impl_->jira_opener.get();
  if (impl_->gitlab_opener) openers[Tracker::kGitLab] = impl_->gitlab_opener.get();
  return openers;
}

void TrackerConnectors::RegisterRoutes(http::HttpServer& server) {
  for (const auto& site : impl_->jira_sites) {
    server.Handle("POST", site->webhook_path,
                  WebhookRoute(site->webhooks.get(), impl_->webhooks, "jira", site->name));
  }
  for (const auto& instance : impl_->gitlab_instances) {
    server.Handle(
        "POST", instance->webhook_path,
        WebhookRoute(instance->webhooks.get(), impl_->webhooks, "gitlab", instance->name));
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
