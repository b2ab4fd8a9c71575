// MeteredHttpClient: an HttpClient decorator that counts and times every exchange with one
// tracker site, so rate limiting (429) and failing sites show on /metrics:
//
//   okr_tracker_requests_total{tracker,site,method,status}
//   okr_tracker_request_duration_seconds{tracker,site,method}   (histogram)
//
// `status` is the HTTP status ("200", "429", "503") or, when no response came, the
// transport error's code name ("UNAVAILABLE", "DEADLINE_EXCEEDED", ...). The composition
// root puts it right above CurlHttpClient, below RetryingHttpClient, so each attempt is
// counted: a 429 that a retry then cured is still visible.
//
//   MeteredHttpClient metered(*curl, registry, "jira", "default");
//   RetryingHttpClient retrying(metered, RetryPolicy{});
//
// Thread-safe if `inner` is; returns the inner result unchanged. Holds non-owning
// references to `inner` and `registry`.
#ifndef OKR_SERVICE_SERVER_METERED_HTTP_CLIENT_H_
#define OKR_SERVICE_SERVER_METERED_HTTP_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/metrics/metrics.h"
#include "service/outbound/http_client.h"

namespace okr::server {

class MeteredHttpClient final : public outbound::HttpClient {
 public:
  MeteredHttpClient(outbound::HttpClient& inner, metrics::Registry& registry, std::string tracker,
                    std::string site);

  absl::StatusOr<outbound::HttpResponse> Send(const outbound::HttpRequest& request) override;

 private:
  outbound::HttpClient& inner_;
  metrics::Counter& requests_;
  metrics::Histogram& duration_;
  const std::string tracker_;
  const std::string site_;
};

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_METERED_HTTP_CLIENT_H_
