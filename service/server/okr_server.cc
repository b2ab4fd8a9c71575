#include "service/server/okr_server.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "service/api/okr_grpc_service.h"
#include "service/core/okr_core.h"
#include "service/http/http_server.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
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
    return absl::UnimplementedError(
        "database: PostgreSQL is not supported by this build yet; use sqlite:PATH");
  }
  return absl::InvalidArgumentError(
      "database: expected sqlite:PATH or postgresql://user:pass@host:port/db");
}

absl::StatusOr<std::unique_ptr<OkrServer>> OkrServer::Start(const ServerConfig& config,
                                                            const Clock& clock) {
  std::unique_ptr<OkrServer> s(new OkrServer());
  OKR_ASSIGN_OR_RETURN(s->store_, OpenStore(config));
  s->core_ = std::make_unique<core::OkrCore>(*s->store_, clock);
  s->grpc_service_ = std::make_unique<api::OkrGrpcService>(*s->core_);

  OKR_RETURN_IF_ERROR(http::SplitHostPort(config.grpc_address, "grpc_address").status());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.grpc_address, grpc::InsecureServerCredentials(),
                           &s->grpc_port_);
  builder.RegisterService(s->grpc_service_.get());
  s->grpc_server_ = builder.BuildAndStart();
  if (s->grpc_server_ == nullptr || s->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("grpc_address: cannot listen on ", config.grpc_address));
  }
  grpc::HealthCheckServiceInterface* health = s->grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus("okr.v1.OkrService", true);

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
  OKR_RETURN_IF_ERROR(s->http_server_->Start());
  return s;
}

int OkrServer::http_port() const { return http_server_ ? http_server_->port() : 0; }

void OkrServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (grpc_server_) {
    grpc_server_->GetHealthCheckService()->Shutdown();
    grpc_server_->Shutdown(std::chrono::system_clock::now() +
                           absl::ToChronoMilliseconds(grace));
    grpc_server_->Wait();
  }
  if (http_server_) http_server_->Stop();
}

OkrServer::~OkrServer() { Shutdown(absl::Seconds(5)); }

}  // namespace okr::server
