// RetryingHttpClient: a decorator that replays failed exchanges with exponential back-off
// and full jitter, honouring the rate-limit hints of Jira and GitLab.
//
// Usage:
//   RetryingHttpClient retrying(curl, RetryPolicy{});  // Real clock and sleep.
//   OKR_ASSIGN_OR_RETURN(HttpResponse response, retrying.Send(request));
//   OKR_RETURN_IF_ERROR(HttpResponseToStatus(request, response));
//
// Contract:
//  - Thread-safe if the inner client and the Sleeper are. Holds non-owning references.
//  - What is retried: a 429 always (the server did not process the request); transport
//    errors (UNAVAILABLE, DEADLINE_EXCEEDED) and the other IsRetryable() statuses (408, 425,
//    500, 502, 503, 504) only if request.IsIdempotent(). Anything else is returned at once.
//  - The wait before retry n (n = 1, 2, ...) is the larger of
//      * back-off: uniform in [0, min(max_backoff, initial_backoff * multiplier^(n-1))], and
//      * the server's hint (RetryHint) on a 429 or 503.
//    If the hint alone exceeds max_wait (retrying sooner than the server allows only burns
//    an attempt), or the wait would end past the overall deadline, the client gives up.
//  - Each attempt's timeout is the request's, shortened to what is left of the deadline.
//  - Returns the last outcome: the final HttpResponse (whatever its status; callers map it
//    with status_mapping.h) or the last transport error, its message suffixed with
//    "(after N attempts)" when it was retried.
#ifndef OKR_CONNECTORS_HTTP_RETRYING_HTTP_CLIENT_H_
#define OKR_CONNECTORS_HTTP_RETRYING_HTTP_CLIENT_H_

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/outbound/http_client.h"

namespace okr::outbound {

// The time source and the sleep of the retry loop; tests inject a fake that records the
// waits and advances its clock instead of sleeping.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual absl::Time Now() = 0;
  virtual void SleepFor(absl::Duration duration) = 0;
};

// absl::Now() and absl::SleepFor(). Thread-safe.
class RealSleeper final : public Sleeper {
 public:
  absl::Time Now() override;
  void SleepFor(absl::Duration duration) override;
  // A process-wide instance.
  static RealSleeper& Get();
};

struct RetryPolicy {
  // Attempts in total, including the first; values below 1 mean 1.
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  double backoff_multiplier = 2.0;
  // Cap of the back-off interval (before jitter).
  absl::Duration max_backoff = absl::Seconds(30);
  // Longest single wait the client accepts from a server hint.
  absl::Duration max_wait = absl::Seconds(60);
  // Budget for the whole Send: attempts and waits.
  absl::Duration overall_deadline = absl::Minutes(2);
};

// How long the server asks us to wait, from (in this order) `Retry-After` (delta seconds or
// HTTP-date), Jira's `X-RateLimit-Reset` (ISO-8601 like 2025-06-04T12:03:07Z or
// 2025-06-04T12:03Z, or epoch seconds) and GitLab's `RateLimit-Reset` (absolute epoch
// seconds). Only consulted on 429; on 503 only `Retry-After`. A time in the past yields
// zero; no usable header yields nullopt.
std::optional<absl::Duration> RetryHint(const HttpResponse& response, absl::Time now);

// An HTTP-date (RFC 9110 5.6.7: IMF-fixdate, RFC 850 or asctime form).
std::optional<absl::Time> ParseHttpDate(absl::string_view value);

class RetryingHttpClient final : public HttpClient {
 public:
  RetryingHttpClient(HttpClient& inner, RetryPolicy policy, Sleeper& sleeper = RealSleeper::Get());

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  // The jittered back-off before retry `retry` (1-based).
  absl::Duration Backoff(int retry);

  HttpClient& inner_;
  const RetryPolicy policy_;
  Sleeper& sleeper_;
  absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_RETRYING_HTTP_CLIENT_H_
