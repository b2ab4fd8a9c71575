// The one place that turns an HTTP status code into an absl::Status. Connectors call it
// on every HttpResponse they do not handle as data themselves (a 404 on a "does this issue
// still exist" GET is data; a 404 on a write is an error).
//
// Usage:
//   OKR_ASSIGN_OR_RETURN(HttpResponse response, client.Send(request));
//   if (response.status == 404) return std::nullopt;
//   OKR_RETURN_IF_ERROR(HttpResponseToStatus(request, response));
//
// Mapping (StatusCodeForHttpStatus):
//   2xx OK                    400, 413-415, 422 INVALID_ARGUMENT
//   401 UNAUTHENTICATED       403 PERMISSION_DENIED      404, 410 NOT_FOUND
//   405, 501 UNIMPLEMENTED    408, 504 DEADLINE_EXCEEDED 409 ABORTED (conflict)
//   416 OUT_OF_RANGE          425, 500, 502, 503 UNAVAILABLE
//   429 RESOURCE_EXHAUSTED    412, 304, other 4xx FAILED_PRECONDITION
//   other 5xx INTERNAL        1xx, other 3xx (redirects are not followed), rest UNKNOWN
// The message names the status, method, RedactedUrl(url) (no query, no credentials) and at
// most 200 bytes of the body with control characters replaced by spaces.
#ifndef OKR_CONNECTORS_HTTP_STATUS_MAPPING_H_
#define OKR_CONNECTORS_HTTP_STATUS_MAPPING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/outbound/http_client.h"

namespace okr::outbound {

// Longest body excerpt HttpResponseToStatus puts in a message.
inline constexpr size_t kMaxBodyExcerptBytes = 200;

absl::StatusCode StatusCodeForHttpStatus(int http_status);

// OK for 2xx, otherwise an error status as described above.
absl::Status HttpResponseToStatus(absl::string_view method, absl::string_view url,
                                  const HttpResponse& response);
absl::Status HttpResponseToStatus(const HttpRequest& request, const HttpResponse& response);

// Statuses worth retrying (for an idempotent request): 408, 425, 429, 500, 502, 503, 504.
bool IsRetryable(int http_status);

// ---- Failure classes ----
// What went wrong with an exchange, in words safe to show whoever chose the URL (e.g. a
// subscription's owner): never a response body, header, address detail or library text.
//   a response             "HTTP 500" (empty for 2xx: nothing failed)
//   a transport error      the class its HttpClient attached with WithFailureClass:
//                          "timeout", "DNS lookup failed", "connection refused",
//                          "host unreachable", "connection failed", "connection reset",
//                          "empty response", "invalid HTTP response", "TLS error",
//                          "response too large", "address not allowed (loopback)", ...
//                          or, without one, by code: DEADLINE_EXCEEDED "timeout",
//                          PERMISSION_DENIED "address not allowed", RESOURCE_EXHAUSTED
//                          "response too large", INVALID_ARGUMENT "invalid request",
//                          anything else "connection failed".
std::string FailureClass(const absl::StatusOr<HttpResponse>& result);
// `status` carrying `failure_class` (a payload; the message is unchanged).
absl::Status WithFailureClass(absl::Status status, absl::string_view failure_class);

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_STATUS_MAPPING_H_
