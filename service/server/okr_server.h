// OkrServer: the composition root of okr-server. It opens the store named by the
// configuration, builds the core, the gRPC services (OkrService, standard health service,
// server reflection) and the HTTP listener, and shuts them down cleanly. Only this unit
// knows the concrete types behind the interfaces.
//
//   auto server = OkrServer::Start(config, okr::SystemClock::Get());
//   ...  (*server)->grpc_port(), (*server)->http_port()
//   (*server)->Shutdown(absl::Seconds(10));   // in-flight RPCs finish first
#ifndef OKR_SERVICE_SERVER_OKR_SERVER_H_
#define OKR_SERVICE_SERVER_OKR_SERVER_H_

#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/okr/clock.h"
#include "service/server/config.h"
#include "service/storage/okr_store.h"

namespace grpc {
class Server;
}

namespace okr {
namespace api {
class OkrGrpcService;
}
namespace core {
class OkrCore;
class TokensCore;
}  // namespace core
namespace http {
class HttpServer;
}
namespace metrics {
class Registry;
}
namespace web {
class WebPages;
class WebSessions;
}  // namespace web
}  // namespace okr

namespace okr::server {

class TrackerConnectors;
class EventServices;
class RetentionService;
class GrpcServerMetrics;

// Opens the store for a --database URL (sqlite:PATH; postgresql://... when built in). With
// `metrics`, registers the gauges of its connection pool there (the store must outlive
// the registry's renders).
absl::StatusOr<std::unique_ptr<storage::OkrStore>> OpenStore(const ServerConfig& config,
                                                             metrics::Registry* metrics = nullptr);

class OkrServer {
 public:
  // Binds both listeners (port 0 picks a free port). Errors name the setting at fault.
  static absl::StatusOr<std::unique_ptr<OkrServer>> Start(const ServerConfig& config,
                                                          const Clock& clock);
  ~OkrServer();

  int grpc_port() const { return grpc_port_; }
  int http_port() const;
  // The metrics served on GET /metrics.
  metrics::Registry& metrics() { return *metrics_; }
  // Stops accepting calls, lets in-flight calls finish within `grace`, stops HTTP.
  void Shutdown(absl::Duration grace);

 private:
  OkrServer() = default;

  class InstrumentedStore;

  std::unique_ptr<metrics::Registry> metrics_;
  std::unique_ptr<GrpcServerMetrics> rpc_metrics_;
  std::unique_ptr<storage::OkrStore> store_;
  std::unique_ptr<core::OkrCore> core_;
  std::unique_ptr<core::TokensCore> tokens_;
  std::unique_ptr<TrackerConnectors> connectors_;
  std::unique_ptr<EventServices> events_;
  std::unique_ptr<RetentionService> retention_;
  std::unique_ptr<api::OkrGrpcService> grpc_service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<http::HttpServer> http_server_;
  // The pages on the HTTP listener (service/web).
  absl::Status SetUpPages(const ServerConfig& config, const Clock& clock);
  std::unique_ptr<web::WebSessions> web_sessions_;
  std::unique_ptr<web::WebPages> web_pages_;
  std::thread health_thread_;
  absl::Notification stop_health_;
  int grpc_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_OKR_SERVER_H_
