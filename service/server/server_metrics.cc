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
    const google::protobuf::MethodDescriptor* d = service->method(i);
    auto m = std::make_unique<MethodSeries>();
    m->name = d->name();
    m->server_stream = d->server_streaming();
    methods_.emplace(d->name(), std::move(m));
  }
}

GrpcServerMetrics::MethodSeries* GrpcServerMetrics::Find(absl::string_view method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? nullptr : it->second.get();
}

void GrpcServerMetrics::Bind(MethodSeries& m) {
  std::call_once(m.bound, [&] {
    m.started = started_.Bind({kGrpcService, m.name, m.type()});
    // A stream's lifetime is no latency: streams have no histogram series.
    if (!m.server_stream) m.latency = handling_seconds_.Bind({kGrpcService, m.name, m.type()});
  });
}

void GrpcServerMetrics::OnRpcStarted(absl::string_view method) {
  MethodSeries* m = Find(method);
  if (m == nullptr) {  // not a method of the service: counted the slow way
    started_.Inc({kGrpcService, std::string(method), "unary"});
    return;
  }
  Bind(*m);
  m->started->Inc();
}

void GrpcServerMetrics::OnRpc(absl::string_view method, absl::StatusCode code,
                              absl::Duration latency) {
  MethodSeries* m = Find(method);
  const size_t c = static_cast<size_t>(code);
  if (m == nullptr || c >= kStatusCodes) {  // not a method of the service: the slow way
    const bool stream = m != nullptr && m->server_stream;
    const char* type = stream ? "server_stream" : "unary";
    handled_.Inc({kGrpcService, std::string(method), type, absl::StatusCodeToString(code)});
    if (!stream) {
      handling_seconds_.Observe({kGrpcService, std::string(method), type},
                                absl::ToDoubleSeconds(latency));
    }
    return;
  }
  std::call_once(m->handled_bound[c], [&] {
    m->handled[c] =
        handled_.Bind({kGrpcService, m->name, m->type(), absl::StatusCodeToString(code)});
  });
  m->handled[c]->Inc();
  if (!m->server_stream) {
    Bind(*m);
    m->latency->Observe(absl::ToDoubleSeconds(latency));
  }
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
