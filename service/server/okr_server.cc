#include "service/server/okr_server.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "service/api/okr_grpc_service.h"
#include "service/core/okr_core.h"
#include "service/http/http_server.h"
#include "service/log/log.h"
#include "service/metrics/metrics.h"
#include "service/okr/status_macros.h"
#include "service/server/event_services.h"
#include "service/server/tracker_connectors.h"
#include "service/storage/postgres/postgres_store.h"
#include "service/storage/sqlite/sqlite_store.h"

namespace okr::server {

absl::StatusOr<std::unique_ptr<storage::OkrStore>> OpenStore(const ServerConfig& config) {
  const std::string& url = config.database;
  if (absl::StartsWith(url, "sqlite:")) {
    storage::SqliteOptions options;
    options.path = url.substr(std::string("sqlite:").size());
    if (absl::StartsWith(options.path, "//")) options.path = options.path.substr(2);
    if (options.path.empty()) {
      return absl::InvalidArgumentError("database: sqlite: needs a file path, e.g. sqlite:okr.db");
    }
    options.sync = config.sqlite_sync == "normal" ? storage::SqliteOptions::Sync::kNormal
                                                  : storage::SqliteOptions::Sync::kFull;
    OKR_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(options));
    return std::unique_ptr<storage::OkrStore>(std::move(store));
  }
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    storage::PostgresOptions options;
    options.conninfo = url;  // libpq URI as given (sslmode=..., target_session_attrs=...)
    if (!absl::SimpleAtoi(config.database_pool_size, &options.pool_size)) {
      return absl::InvalidArgumentError("database_pool_size: not a number");
    }
    OKR_ASSIGN_OR_RETURN(auto store, storage::PostgresStore::Open(options));
    return std::unique_ptr<storage::OkrStore>(std::move(store));
  }
  return absl::InvalidArgumentError(
      "database: expected sqlite:PATH or postgresql://user:pass@host:port/db");
}

// Counts RPCs by method and code and records their latency.
class OkrServer::RpcMetrics final : public api::RpcObserver {
 public:
  explicit RpcMetrics(metrics::Registry& registry)
      : requests_(registry.AddCounter("okr_rpc_requests_total",
                                      "gRPC calls handled, by method and status code.",
                                      {"method", "code"})),
        latency_(registry.AddHistogram("okr_rpc_duration_seconds",
                                       "Time to handle a gRPC call, by method.", {"method"},
                                       metrics::LatencyBuckets())) {}
  void OnRpc(absl::string_view method, absl::StatusCode code, absl::Duration latency) override {
    const std::string m(method);
    requests_.Inc({m, absl::StatusCodeToString(code)});
    latency_.Observe({m}, absl::ToDoubleSeconds(latency));
  }

 private:
  metrics::Counter& requests_;
  metrics::Histogram& latency_;
};

// Counts database errors (codes that mean the database, not the request, failed).
class OkrServer::InstrumentedStore final : public storage::OkrStore {
 public:
  InstrumentedStore(std::unique_ptr<storage::OkrStore> inner, metrics::Registry& registry)
      : inner_(std::move(inner)),
        errors_(registry.AddCounter("okr_database_errors_total",
                                    "Database operations that failed, by kind and code.",
                                    {"kind", "code"})) {}
  absl::Status RunInTransaction(
      absl::FunctionRef<absl::Status(storage::OkrTransaction&)> fn) override {
    return Count("write", inner_->RunInTransaction(fn));
  }
  absl::Status RunReadOnly(absl::FunctionRef<absl::Status(storage::OkrTransaction&)> fn) override {
    return Count("read", inner_->RunReadOnly(fn));
  }
  absl::Status Ping() override { return Count("ping", inner_->Ping()); }

 private:
  absl::Status Count(const char* kind, absl::Status status) {
    switch (status.code()) {
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kInternal:
      case absl::StatusCode::kDataLoss:
      case absl::StatusCode::kResourceExhausted:
      case absl::StatusCode::kDeadlineExceeded:
        errors_.Inc({kind, absl::StatusCodeToString(status.code())});
        break;
      default:
        break;
    }
    return status;
  }

  std::unique_ptr<storage::OkrStore> inner_;
  metrics::Counter& errors_;
};

absl::StatusOr<std::unique_ptr<OkrServer>> OkrServer::Start(const ServerConfig& config,
                                                            const Clock& clock) {
  std::unique_ptr<OkrServer> s(new OkrServer());
  s->metrics_ = std::make_unique<metrics::Registry>();
  s->metrics_->AddCallbackGauge("okr_up", "1 while the server process runs.", [] { return 1; });
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<storage::OkrStore> opened, OpenStore(config));
  s->store_ = std::make_unique<InstrumentedStore>(std::move(opened), *s->metrics_);
  s->core_ = std::make_unique<core::OkrCore>(*s->store_, clock);
  s->rpc_metrics_ = std::make_unique<RpcMetrics>(*s->metrics_);
  OKR_ASSIGN_OR_RETURN(s->connectors_, TrackerConnectors::Create(config, *s->core_, *s->store_,
                                                                 clock, *s->metrics_));
  s->grpc_service_ = std::make_unique<api::OkrGrpcService>(*s->core_, s->rpc_metrics_.get());
  OKR_ASSIGN_OR_RETURN(s->events_,
                       EventServices::Create(config, *s->core_, *s->store_, clock, *s->metrics_,
                                             s->connectors_->IssueOpeners()));
  {
    EventServices* events = s->events_.get();
    s->grpc_service_->SetEvents(&events->events_core(), &events->hub(), &clock,
                                [events] { events->TriggerRules(); });
  }
  if (s->connectors_->enabled()) {
    TrackerConnectors* connectors = s->connectors_.get();
    s->grpc_service_->SetKeyResultSync(
        [connectors](const std::string& objective_id, const std::string& key_result_id) {
          return connectors->SyncKeyResult(objective_id, key_result_id);
        });
  }

  OKR_RETURN_IF_ERROR(http::SplitHostPort(config.grpc_address, "grpc_address").status());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.grpc_address, grpc::InsecureServerCredentials(), &s->grpc_port_);
  builder.RegisterService(s->grpc_service_.get());
  s->grpc_server_ = builder.BuildAndStart();
  if (s->grpc_server_ == nullptr || s->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("grpc_address: cannot listen on ", config.grpc_address));
  }
  grpc::HealthCheckServiceInterface* health = s->grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus("okr.v1.OkrService", true);
  // The gRPC health service follows the database: NOT_SERVING while it does not answer.
  s->health_thread_ = std::thread([server = s.get(), health] {
    bool serving = true;
    while (!server->stop_health_.WaitForNotificationWithTimeout(absl::Seconds(2))) {
      const bool ok = server->store_->Ping().ok();
      if (ok == serving) continue;
      health->SetServingStatus("", ok);
      health->SetServingStatus("okr.v1.OkrService", ok);
      log::Warn(ok ? "database reachable again: serving" : "database unreachable: not serving");
      serving = ok;
    }
  });

  http::HttpServer::Options http_options;
  http_options.address = config.http_address;
  OKR_ASSIGN_OR_RETURN(s->http_server_, http::HttpServer::Create(http_options));
  s->http_server_->Handle("GET", "/healthz", [](const http::HttpRequest&) {
    return http::HttpResponse{200, "application/json", "{\"status\":\"SERVING\"}"};
  });
  storage::OkrStore* store = s->store_.get();
  s->http_server_->Handle("GET", "/readyz", [store](const http::HttpRequest&) {
    absl::Status ping = store->Ping();
    if (!ping.ok()) return http::JsonError(503, absl::StrCat("database: ", ping.message()));
    return http::HttpResponse{200, "application/json", "{\"status\":\"READY\"}"};
  });
  metrics::Registry* registry = s->metrics_.get();
  s->http_server_->Handle("GET", "/metrics", [registry](const http::HttpRequest&) {
    return http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry->Render()};
  });
  s->connectors_->RegisterRoutes(*s->http_server_);
  OKR_RETURN_IF_ERROR(s->http_server_->Start());
  s->connectors_->Start();
  OKR_RETURN_IF_ERROR(s->events_->Start());
  return s;
}

int OkrServer::http_port() const { return http_server_ ? http_server_->port() : 0; }

void OkrServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (health_thread_.joinable()) {
    stop_health_.Notify();
    health_thread_.join();
  }
  if (connectors_) connectors_->Stop();
  if (grpc_server_) {
    // Open WatchEvents streams end with the server (UNAVAILABLE at once rather than
    // cancelled at the end of the grace period); the hub must outlive them.
    if (events_) events_->hub().NotifyClosing();
    grpc_server_->GetHealthCheckService()->Shutdown();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
    grpc_server_->Wait();
  }
  if (http_server_) http_server_->Stop();
  if (events_) events_->Stop();
}

OkrServer::~OkrServer() { Shutdown(absl::Seconds(5)); }

}  // namespace okr::server
