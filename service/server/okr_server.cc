#include "service/server/okr_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "service/api/okr_grpc_service.h"
#include "service/auth/token_secret.h"
#include "service/core/okr_core.h"
#include "service/core/tokens_core.h"
#include "service/http/http_server.h"
#include "service/log/log.h"
#include "service/metrics/metrics.h"
#include "service/okr/status_macros.h"
#include "service/outbound/address_guard.h"
#include "service/server/event_services.h"
#include "service/server/retention_service.h"
#include "service/server/server_metrics.h"
#include "service/server/tls_credentials.h"
#include "service/server/tracker_connectors.h"
#include "service/storage/postgres/postgres_store.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "service/web/web_pages.h"
#include "service/web/web_sessions.h"

namespace okr::server {

namespace {

// gRPC limits (README "Limits"): 4 MiB requests (gRPC's default, set explicitly; the
// largest legitimate request, a key result with long scopes, is far below), 16 MiB
// responses (a page of 1000 resources), calls per connection (h2load benchmarks use 256).
constexpr int kGrpcMaxReceiveBytes = 4 * 1024 * 1024;
constexpr int kGrpcMaxSendBytes = 16 * 1024 * 1024;
constexpr int kGrpcMaxConcurrentStreams = 1000;

// The file of a sqlite:PATH database URL ("" for other databases).
std::string SqlitePath(const std::string& url) {
  if (!absl::StartsWith(url, "sqlite:")) return "";
  std::string path = url.substr(std::string("sqlite:").size());
  if (absl::StartsWith(path, "//")) path = path.substr(2);
  return path;
}

// Writes `secret` to `path` with mode 0600 (a new file renamed into place, so a reader
// never sees a partial one).
absl::Status WriteSecretFile(const std::string& path, const std::string& secret) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  const std::string content = absl::StrCat(secret, "\n");
  const bool written =
      ::fchmod(fd, 0600) == 0 &&
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(written ? errno : saved)));
  }
  return absl::OkStatus();
}

// Access control at startup: the OKR_ADMIN_TOKEN secret, or on the first start of an
// embedded store with no token a generated ADMIN token saved beside the database file.
absl::Status SetUpAccessControl(const ServerConfig& config, core::TokensCore& tokens) {
  if (!config.auth_enabled()) {
    log::Warn(
        "auth=none: access control is off; anyone who reaches the gRPC port may read, "
        "change and delete every OKR (use --auth=tokens outside a trusted network)");
    return absl::OkStatus();
  }
  if (!config.admin_token.empty()) {
    tokens.SetBootstrapAdminSecret(config.admin_token);
    log::Info("auth=tokens: OKR_ADMIN_TOKEN is an ADMIN credential");
    return absl::OkStatus();
  }
  const std::string db = SqlitePath(config.database);
  OKR_ASSIGN_OR_RETURN(bool any, tokens.HasApiTokens());
  if (any || db.empty()) {
    log::Info("auth=tokens: API tokens are required on every call");
    return absl::OkStatus();
  }
  // The file first: a token committed without its file would lock the operator out.
  OKR_ASSIGN_OR_RETURN(std::string secret, auth::NewTokenSecret());
  const std::string path = absl::StrCat(db, ".admin-token");
  OKR_RETURN_IF_ERROR(WriteSecretFile(path, secret));
  OKR_ASSIGN_OR_RETURN(bool created, tokens.CreateBootstrapTokenIfNone(secret));
  if (created) {
    log::Warn(
        "auth=tokens: no API token existed, so an ADMIN token (apiTokens/admin) was "
        "created; its secret is in the file named here (mode 0600): send it as "
        "\"authorization: Bearer <secret>\"",
        {{"admin_token_file", path}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<storage::OkrStore>> OpenStore(const ServerConfig& config,
                                                             metrics::Registry* metrics) {
  const std::string& url = config.database;
  if (absl::StartsWith(url, "sqlite:")) {
    storage::SqliteOptions options;
    options.path = SqlitePath(url);
    if (options.path.empty()) {
      return absl::InvalidArgumentError("database: sqlite: needs a file path, e.g. sqlite:okr.db");
    }
    options.sync = config.sqlite_sync == "normal" ? storage::SqliteOptions::Sync::kNormal
                                                  : storage::SqliteOptions::Sync::kFull;
    int64_t max_size_mb = 0;
    if (!absl::SimpleAtoi(config.sqlite_max_size_mb, &max_size_mb) || max_size_mb < 0 ||
        max_size_mb > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError(
          "sqlite_max_size_mb: expected a whole number of MiB (0: no limit)");
    }
    options.max_size_bytes = max_size_mb << 20;
    OKR_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(options));
    if (metrics != nullptr) {  // the read pool (the writer connection is always open)
      AddPoolGauges(*metrics, [raw = store.get()] {
        const storage::SqliteStore::PoolStats p = raw->pool_stats();
        return PoolUsage{p.idle, p.size - p.idle, p.size};
      });
    }
    return std::unique_ptr<storage::OkrStore>(std::move(store));
  }
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    storage::PostgresOptions options;
    options.conninfo = url;  // libpq URI as given (sslmode=..., target_session_attrs=...)
    if (!absl::SimpleAtoi(config.database_pool_size, &options.pool_size)) {
      return absl::InvalidArgumentError("database_pool_size: not a number");
    }
    OKR_ASSIGN_OR_RETURN(auto store, storage::PostgresStore::Open(options));
    if (metrics != nullptr) {
      AddPoolGauges(*metrics, [raw = store.get(), max = options.pool_size] {
        const storage::PostgresStore::Stats st = raw->stats();
        return PoolUsage{st.idle_connections, st.open_connections - st.idle_connections, max};
      });
    }
    return std::unique_ptr<storage::OkrStore>(std::move(store));
  }
  return absl::InvalidArgumentError(
      "database: expected sqlite:PATH or postgresql://user:pass@host:port/db");
}

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
  // TLS files first: a bad one stops the server before it touches the store.
  OKR_ASSIGN_OR_RETURN(const std::optional<TlsFiles> tls, LoadTlsFiles(config));
  s->metrics_ = std::make_unique<metrics::Registry>();
  s->metrics_->AddCallbackGauge("okr_up", "1 while the server process runs.", [] { return 1; });
  AddBuildInfo(*s->metrics_);
  OKR_ASSIGN_OR_RETURN(std::unique_ptr<storage::OkrStore> opened,
                       OpenStore(config, s->metrics_.get()));
  s->store_ = std::make_unique<InstrumentedStore>(std::move(opened), *s->metrics_);
  s->core_ = std::make_unique<core::OkrCore>(*s->store_, clock);
  s->rpc_metrics_ = std::make_unique<GrpcServerMetrics>(*s->metrics_);
  OKR_ASSIGN_OR_RETURN(s->connectors_, TrackerConnectors::Create(config, *s->core_, *s->store_,
                                                                 clock, *s->metrics_));
  s->grpc_service_ = std::make_unique<api::OkrGrpcService>(*s->core_, s->rpc_metrics_.get());
  s->tokens_ = std::make_unique<core::TokensCore>(*s->store_, clock);
  s->tokens_->SetMaxApiTokens(config.max_api_tokens_n);
  OKR_RETURN_IF_ERROR(SetUpAccessControl(config, *s->tokens_));
  s->grpc_service_->SetAccessControl(s->tokens_.get(), config.auth_enabled());
  s->grpc_service_->SetFreshness(&s->connectors_->freshness());
  OKR_ASSIGN_OR_RETURN(s->events_,
                       EventServices::Create(config, *s->core_, *s->store_, clock, *s->metrics_,
                                             s->connectors_->IssueOpeners()));
  OKR_ASSIGN_OR_RETURN(
      s->retention_,
      RetentionService::Create(config, *s->store_, s->events_->events_core(), clock, *s->metrics_));
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
  builder.AddListeningPort(config.grpc_address, GrpcServerCredentials(tls), &s->grpc_port_);
  // Limits set explicitly rather than inherited from gRPC's defaults (README "Limits"): a
  // request larger than kGrpcMaxReceiveBytes fails RESOURCE_EXHAUSTED before it is parsed;
  // one connection multiplexes at most kGrpcMaxConcurrentStreams calls; idle connections
  // (a quiet WatchEvents stream) are pinged so a vanished client frees its stream, and
  // clients may ping as often as every 10 s without being disconnected.
  builder.SetMaxReceiveMessageSize(kGrpcMaxReceiveBytes);
  builder.SetMaxSendMessageSize(kGrpcMaxSendBytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, kGrpcMaxConcurrentStreams);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.RegisterService(s->grpc_service_.get());
  s->grpc_server_ = builder.BuildAndStart();
  if (s->grpc_server_ == nullptr || s->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("grpc_address: cannot listen on ", config.grpc_address));
  }
  grpc::HealthCheckServiceInterface* health = s->grpc_server_->GetHealthCheckService();
  // Liveness (service "") is the process: SERVING while it runs, whatever the database.
  // Readiness (okr.v1.OkrService, like /readyz) follows the store's Ping: the database
  // answers a read and writes are not failing (disk full, I/O error).
  health->SetServingStatus("", true);
  health->SetServingStatus("okr.v1.OkrService", true);
  s->health_thread_ = std::thread([server = s.get(), health] {
    bool serving = true;
    while (!server->stop_health_.WaitForNotificationWithTimeout(absl::Seconds(2))) {
      const absl::Status ready = server->store_->Ping();
      if (ready.ok() == serving) continue;
      serving = ready.ok();
      health->SetServingStatus("okr.v1.OkrService", serving);
      if (serving) {
        log::Warn("database ready again: okr.v1.OkrService serving");
      } else {
        log::Warn("database not ready: okr.v1.OkrService not serving",
                  {{"reason", std::string(ready.message())}});
      }
    }
  });

  http::HttpServer::Options http_options;
  http_options.address = config.http_address;
  http_options.header_timeout = config.http_header_timeout_d;
  http_options.body_timeout = config.http_body_timeout_d;
  http_options.idle_timeout = config.http_idle_timeout_d;
  http_options.max_connections = static_cast<int>(config.http_max_connections_n);
  if (tls) {  // HTTPS with the same certificate; no client certificates (webhook senders)
    http_options.tls_cert_file = tls->cert_file;
    http_options.tls_key_file = tls->key_file;
  }
  OKR_ASSIGN_OR_RETURN(s->http_server_, http::HttpServer::Create(http_options));
  // Liveness: 200 while the process serves HTTP. Readiness: the same check as the gRPC
  // health service okr.v1.OkrService (503 naming why, e.g. "database: sqlite: database
  // is full: ...").
  http::RouteOptions probe;
  probe.probe = true;
  s->http_server_->Handle(
      "GET", "/healthz",
      [](const http::HttpRequest&) {
        return http::HttpResponse{200, "application/json", "{\"status\":\"SERVING\"}"};
      },
      probe);
  storage::OkrStore* store = s->store_.get();
  s->http_server_->Handle(
      "GET", "/readyz",
      [store](const http::HttpRequest&) {
        absl::Status ping = store->Ping();
        if (!ping.ok()) return http::JsonError(503, absl::StrCat("database: ", ping.message()));
        return http::HttpResponse{200, "application/json", "{\"status\":\"READY\"}"};
      },
      probe);
  metrics::Registry* registry = s->metrics_.get();
  s->http_server_->Handle("GET", "/metrics", [registry](const http::HttpRequest&) {
    return http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry->Render()};
  });
  OKR_RETURN_IF_ERROR(s->SetUpPages(config, clock));
  s->connectors_->RegisterRoutes(*s->http_server_);
  OKR_RETURN_IF_ERROR(s->http_server_->Start());
  s->connectors_->Start();
  OKR_RETURN_IF_ERROR(s->events_->Start());
  s->retention_->Start();
  return s;
}

// The pages (service/web) on the HTTP listener: sessions in the store, the proxy header
// trusted only from --auth-proxy-cidrs (the TCP peer address, never a forwarded header).
absl::Status OkrServer::SetUpPages(const ServerConfig& config, const Clock& clock) {
  web::WebPagesOptions options;
  options.auth_enabled = config.auth_enabled();
  options.secure_cookies = absl::StartsWithIgnoreCase(config.public_url, "https://");
  options.freshness = &connectors_->freshness();
  if (!config.auth_proxy_header.empty()) {
    absl::StatusOr<std::vector<outbound::Cidr>> cidrs =
        outbound::ParseCidrList(config.auth_proxy_cidrs);
    if (!cidrs.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("auth_proxy_cidrs: ", cidrs.status().message()));
    }
    if (cidrs->empty()) {
      log::Warn("auth_proxy_header is set but auth_proxy_cidrs is empty: no proxy is trusted");
    }
    options.proxy_header = config.auth_proxy_header;
    options.trusted_proxy = [cidrs = *std::move(cidrs)](const std::string& peer) {
      std::optional<outbound::IpAddress> address = outbound::IpAddress::Parse(peer);
      if (!address.has_value()) return false;
      for (const outbound::Cidr& c : cidrs) {
        if (c.Contains(*address)) return true;
      }
      return false;
    };
  }
  web_sessions_ = std::make_unique<web::WebSessions>(*store_, clock);
  web_pages_ = std::make_unique<web::WebPages>(*core_, events_->events_core(), *tokens_,
                                               *web_sessions_, clock, std::move(options));
  web_pages_->RegisterRoutes(*http_server_);
  return absl::OkStatus();
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
  if (retention_) retention_->Stop();
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
