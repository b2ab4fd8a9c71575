#include "service/server/server_metrics.h"

#include <utility>

#include "google/protobuf/descriptor.h"
#include "okr/v1/okr_service.pb.h"
#include "service/server/build_info.h"

namespace okr::server {

GrpcServerMetrics::GrpcServerMetrics(metrics::Registry& registry)
    : started_(registry.AddCounter("grpc_server_started_total", "RPCs started on the server.",
                                   {"grpc_service", "grpc_method", "grpc_type"})),
      handled_(
          registry.AddCounter("grpc_server_handled_total",
                              "RPCs completed on the server, regardless of success or failure.",
                              {"grpc_service", "grpc_method", "grpc_type", "grpc_code"})),
      handling_seconds_(registry.AddHistogram(
          "grpc_server_handling_seconds",
          "Response latency (seconds) of unary RPCs until handled by the server.",
          {"grpc_service", "grpc_method", "grpc_type"}, metrics::LatencyBuckets())) {
  const google::protobuf::ServiceDescriptor* service =
      v1::CreateTeamRequest::descriptor()->file()->pool()->FindServiceByName(kGrpcService);
  for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* m = service->method(i);
    if (m->server_streaming()) server_streams_.insert(m->name());
  }
}

bool GrpcServerMetrics::IsServerStream(absl::string_view method) const {
  return server_streams_.contains(method);
}

void GrpcServerMetrics::OnRpcStarted(absl::string_view method) {
  const char* type = IsServerStream(method) ? "server_stream" : "unary";
  started_.Inc({kGrpcService, std::string(method), type});
}

void GrpcServerMetrics::OnRpc(absl::string_view method, absl::StatusCode code,
                              absl::Duration latency) {
  const std::string m(method);
  const bool stream = IsServerStream(method);
  const char* type = stream ? "server_stream" : "unary";
  handled_.Inc({kGrpcService, m, type, absl::StatusCodeToString(code)});
  if (!stream) handling_seconds_.Observe({kGrpcService, m, type}, absl::ToDoubleSeconds(latency));
}

absl::string_view BuildVersion() { return kBuildVersion; }
absl::string_view BuildRevision() { return kBuildRevision; }

void AddBuildInfo(metrics::Registry& registry) {
  registry.AddCallbackGauge(
      "okr_build_info", "Always 1; the labels name the version and git revision of the build.",
      {{"version", kBuildVersion}, {"revision", kBuildRevision}}, [] { return 1.0; });
}

void AddPoolGauges(metrics::Registry& registry, std::function<PoolUsage()> read) {
  constexpr char kName[] = "okr_database_pool_connections";
  constexpr char kHelp[] = "Database connections of the pool by state (idle, in_use).";
  registry.AddCallbackGauge(kName, kHelp, {{"state", "idle"}},
                            [read] { return static_cast<double>(read().idle); });
  registry.AddCallbackGauge(kName, kHelp, {{"state", "in_use"}},
                            [read] { return static_cast<double>(read().in_use); });
  registry.AddCallbackGauge("okr_database_pool_max_connections",
                            "Most connections the database pool opens.",
                            [read] { return static_cast<double>(read().max); });
}

}  // namespace okr::server
