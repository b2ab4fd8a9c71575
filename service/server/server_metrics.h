// Metrics the composition root registers besides those of the units it wires: gRPC server
// metrics under the names grpc-ecosystem dashboards and alerts expect (those of
// go-grpc-prometheus), the build, and the database connection pool.
//
//   metrics::Registry registry;
//   GrpcServerMetrics rpcs(registry);            // an api::RpcObserver for OkrGrpcService
//   AddBuildInfo(registry);
//   AddPoolGauges(registry, [store] { return PoolUsage{...}; });
//
// All are thread-safe.
#ifndef OKR_SERVICE_SERVER_SERVER_METRICS_H_
#define OKR_SERVICE_SERVER_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/api/okr_grpc_service.h"
#include "service/metrics/metrics.h"

namespace okr::server {

// The gRPC service every RPC metric names.
inline constexpr char kGrpcService[] = "okr.v1.OkrService";

// grpc_server_started_total{grpc_service,grpc_method,grpc_type} when a call arrives;
// grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code} when it
// finishes (a stream when it ends), grpc_code being the code's name ("OK", "NOT_FOUND");
// grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}: the latency of unary
// calls only (a stream's lifetime is no latency). grpc_type is "unary" or
// "server_stream", taken from the service's descriptor.
class GrpcServerMetrics final : public api::RpcObserver {
 public:
  explicit GrpcServerMetrics(metrics::Registry& registry);

  void OnRpcStarted(absl::string_view method) override;
  void OnRpc(absl::string_view method, absl::StatusCode code, absl::Duration latency) override;

 private:
  // The series of one method of okr.v1.OkrService, bound on first use (so /metrics shows
  // only methods that were called), then updated without label lookups.
  static constexpr size_t kStatusCodes = 17;  // absl::StatusCode 0..16
  struct MethodSeries {
    std::string name;
    bool server_stream = false;
    const char* type() const { return server_stream ? "server_stream" : "unary"; }
    std::once_flag bound;
    std::optional<metrics::CounterSeries> started;
    std::optional<metrics::HistogramSeries> latency;
    std::array<std::once_flag, kStatusCodes> handled_bound;
    std::array<std::optional<metrics::CounterSeries>, kStatusCodes> handled;
  };

  MethodSeries* Find(absl::string_view method) const;
  void Bind(MethodSeries& m);

  metrics::Counter& started_;
  metrics::Counter& handled_;
  metrics::Histogram& handling_seconds_;
  // Every method of okr.v1.OkrService; fixed after construction.
  absl::flat_hash_map<std::string, std::unique_ptr<MethodSeries>> methods_;
};

// okr_build_info{version,revision} 1: the project version (CMake project(... VERSION))
// and the git commit the build was configured from ("unknown" without git).
void AddBuildInfo(metrics::Registry& registry);
// The values okr_build_info reports.
absl::string_view BuildVersion();
absl::string_view BuildRevision();

// A database connection pool as `read` reports it at each render.
struct PoolUsage {
  int64_t idle = 0;    // open and waiting for a caller
  int64_t in_use = 0;  // leased to a transaction (or being opened)
  int64_t max = 0;     // the pool's size limit
};
// okr_database_pool_connections{state="idle"|"in_use"} and
// okr_database_pool_max_connections. `read` must stay callable while the registry renders.
void AddPoolGauges(metrics::Registry& registry, std::function<PoolUsage()> read);

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_SERVER_METRICS_H_
