#include "service/server/metered_http_client.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr::server {

MeteredHttpClient::MeteredHttpClient(outbound::HttpClient& inner, metrics::Registry& registry,
                                     std::string tracker, std::string site)
    : inner_(inner),
      requests_(registry.AddCounter(
          "okr_tracker_requests_total",
          "HTTP requests to tracker sites by tracker, site, method and status (the HTTP "
          "status, or the error code when no response came), every retry counted.",
          {"tracker", "site", "method", "status"})),
      duration_(registry.AddHistogram(
          "okr_tracker_request_duration_seconds",
          "Time of one HTTP exchange with a tracker site, by tracker, site and method.",
          {"tracker", "site", "method"}, {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})),
      tracker_(std::move(tracker)),
      site_(std::move(site)) {}

absl::StatusOr<outbound::HttpResponse> MeteredHttpClient::Send(
    const outbound::HttpRequest& request) {
  const absl::Time start = absl::Now();
  absl::StatusOr<outbound::HttpResponse> response = inner_.Send(request);
  duration_.Observe({tracker_, site_, request.method}, absl::ToDoubleSeconds(absl::Now() - start));
  const std::string status = response.ok() ? std::to_string(response->status)
                                           : absl::StatusCodeToString(response.status().code());
  requests_.Inc({tracker_, site_, request.method, status});
  return response;
}

}  // namespace okr::server
