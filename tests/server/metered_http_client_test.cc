#include "service/server/metered_http_client.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/metrics/metrics.h"
#include "service/outbound/retrying_http_client.h"
#include "tests/outbound/scripted_http_client.h"

namespace okr::server {
namespace {

using outbound::HttpRequest;
using outbound::testing::Response;
using outbound::testing::ScriptedHttpClient;
using ::testing::HasSubstr;

// Advances a fake clock instead of sleeping.
class FakeSleeper final : public outbound::Sleeper {
 public:
  absl::Time Now() override { return now_; }
  void SleepFor(absl::Duration d) override { now_ += d; }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
};

TEST(MeteredHttpClientTest, CountsEachAttemptBelowRetries_So429sCuredByARetryShow) {
  ScriptedHttpClient curl({Response(429, {{"retry-after", "1"}}), Response(200)});
  metrics::Registry registry;
  MeteredHttpClient metered(curl, registry, "jira", "eu");
  FakeSleeper sleeper;
  outbound::RetryingHttpClient retrying(metered, outbound::RetryPolicy{}, sleeper);
  HttpRequest request;
  request.method = "POST";
  request.url = "https://jira.example/rest/api/3/search/jql";
  request.idempotent = true;
  absl::StatusOr<outbound::HttpResponse> response = retrying.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);

  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("okr_tracker_requests_total{method=\"POST\",site=\"eu\","
                              "status=\"429\",tracker=\"jira\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("okr_tracker_requests_total{method=\"POST\",site=\"eu\","
                              "status=\"200\",tracker=\"jira\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("okr_tracker_request_duration_seconds_count{method=\"POST\","
                              "site=\"eu\",tracker=\"jira\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("okr_tracker_request_duration_seconds_bucket{method=\"POST\","
                              "site=\"eu\",tracker=\"jira\",le=\"0.01\"} 2\n"));
}

TEST(MeteredHttpClientTest, TransportErrorCountsItsCodeName_AndIsReturnedUnchanged) {
  ScriptedHttpClient curl({absl::UnavailableError("connection refused")});
  metrics::Registry registry;
  MeteredHttpClient metered(curl, registry, "gitlab", "default");
  HttpRequest request;
  request.url = "https://gitlab.example/api/v4/projects";
  absl::StatusOr<outbound::HttpResponse> response = metered.Send(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message(), "connection refused");
  EXPECT_THAT(registry.Render(),
              HasSubstr("okr_tracker_requests_total{method=\"GET\",site=\"default\","
                        "status=\"UNAVAILABLE\",tracker=\"gitlab\"} 1\n"));
}

TEST(MeteredHttpClientTest, SitesShareTheFamilies) {
  ScriptedHttpClient a({Response(200)});
  ScriptedHttpClient b({Response(404)});
  metrics::Registry registry;
  MeteredHttpClient site_a(a, registry, "jira", "default");
  MeteredHttpClient site_b(b, registry, "jira", "eu");
  HttpRequest request;
  request.url = "https://x.example/";
  ASSERT_TRUE(site_a.Send(request).ok());
  ASSERT_TRUE(site_b.Send(request).ok());
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("site=\"default\",status=\"200\""));
  EXPECT_THAT(text, HasSubstr("site=\"eu\",status=\"404\""));
}

}  // namespace
}  // namespace okr::server
