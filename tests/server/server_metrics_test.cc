#include "service/server/server_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/metrics/metrics.h"

namespace okr::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUnary[] = "grpc_service=\"okr.v1.OkrService\",grpc_type=\"unary\"";
constexpr char kStream[] = "grpc_service=\"okr.v1.OkrService\",grpc_type=\"server_stream\"";

TEST(GrpcServerMetricsTest, UnaryCall_StartedHandledAndTimed) {
  metrics::Registry registry;
  GrpcServerMetrics rpcs(registry);
  rpcs.OnRpcStarted("GetObjective");
  rpcs.OnRpc("GetObjective", absl::StatusCode::kNotFound, absl::Microseconds(200));
  const std::string text = registry.Render();
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat("grpc_server_started_total{grpc_method=\"GetObjective\",",
                                     kUnary, "} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_handled_total{grpc_code=\"NOT_FOUND\","
                                           "grpc_method=\"GetObjective\",",
                                           kUnary, "} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_handling_seconds_bucket{grpc_method=\""
                                           "GetObjective\",",
                                           kUnary, ",le=\"0.00025\"} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_handling_seconds_bucket{grpc_method=\""
                                           "GetObjective\",",
                                           kUnary, ",le=\"0.0001\"} 0\n")));
}

TEST(GrpcServerMetricsTest, ServerStream_IsTypedFromTheDescriptorAndKeptOutOfTheHistogram) {
  metrics::Registry registry;
  GrpcServerMetrics rpcs(registry);
  rpcs.OnRpcStarted("WatchEvents");
  rpcs.OnRpc("WatchEvents", absl::StatusCode::kCancelled, absl::Minutes(5));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_started_total{grpc_method=\"WatchEvents\",",
                                           kStream, "} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_handled_total{grpc_code=\"CANCELLED\","
                                           "grpc_method=\"WatchEvents\",",
                                           kStream, "} 1\n")));
  EXPECT_THAT(text,
              Not(HasSubstr("grpc_server_handling_seconds_count{grpc_method=\"WatchEvents\"")));
}

TEST(ServerMetricsTest, BuildInfoNamesVersionAndRevision) {
  metrics::Registry registry;
  AddBuildInfo(registry);
  EXPECT_FALSE(BuildVersion().empty());
  EXPECT_FALSE(BuildRevision().empty());
  EXPECT_THAT(registry.Render(),
              HasSubstr(absl::StrCat("okr_build_info{revision=\"", BuildRevision(), "\",version=\"",
                                     BuildVersion(), "\"} 1\n")));
}

TEST(ServerMetricsTest, PoolGaugesReadTheUsageAtRender) {
  metrics::Registry registry;
  PoolUsage usage{3, 5, 8};
  AddPoolGauges(registry, [&usage] { return usage; });
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("okr_database_pool_connections{state=\"idle\"} 3\n"
                              "okr_database_pool_connections{state=\"in_use\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("okr_database_pool_max_connections 8\n"));
  usage = {8, 0, 8};
  EXPECT_THAT(registry.Render(), HasSubstr("okr_database_pool_connections{state=\"idle\"} 8\n"));
}

}  // namespace
}  // namespace okr::server
