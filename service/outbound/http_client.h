// HttpClient: the outbound HTTP boundary of the connectors. Typed Jira/GitLab clients talk
// to this small interface; CurlHttpClient implements it on libcurl, and decorators
// (RetryingHttpClient, AuthenticatingHttpClient) wrap it. Tests substitute a local server
// or a scripted fake.
//
// Usage:
//   HttpRequest request;
//   request.url = base_url + "/rest/api/3/issue/OKRX-1";
//   absl::StatusOr<HttpResponse> response = client.Send(request);
//   if (!response.ok()) return response.status();                  // transport failure
//   absl::Status status = HttpResponseToStatus(request, *response);  // status_mapping.h
//
// Contract:
//  - Send is thread-safe: any number of threads may call it at once.
//  - Any HTTP status (404, 429, 500, ...) is data: Send returns OK with the response, and
//    callers map it with status_mapping.h. An error status means no complete HTTP response
//    was received: UNAVAILABLE (connect/DNS/TLS/reset) or DEADLINE_EXCEEDED (timeout).
//    Implementations may also return INVALID_ARGUMENT for a malformed request (bad URL,
//    CR/LF in a header), RESOURCE_EXHAUSTED for a response body over their size limit and
//    PERMISSION_DENIED for an address they may not connect to (address_guard.h).
//    FailureClass (status_mapping.h) says what failed in words safe to show the URL's owner.
//  - Send never logs request headers or bodies (they carry credentials).
#ifndef OKR_CONNECTORS_HTTP_HTTP_CLIENT_H_
#define OKR_CONNECTORS_HTTP_HTTP_CLIENT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace okr::outbound {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// True for GET, HEAD, PUT and DELETE: the methods HTTP defines as idempotent that the
// connectors use. Case-sensitive, as HTTP methods are.
bool IsIdempotentMethod(absl::string_view method);

struct HttpRequest {
  std::string method = "GET";
  // Absolute http:// or https:// URL, query string already encoded.
  std::string url;
  HttpHeaders headers;
  std::string body;
  // Whole-exchange timeout (connect + send + receive).
  absl::Duration timeout = absl::Seconds(30);
  // Whether the request may be replayed after a transport error or a 5xx. Unset means
  // "derived from the method" (IsIdempotentMethod); set it to true for POSTs that only
  // read (e.g. Jira's POST /rest/api/3/search/jql).
  std::optional<bool> idempotent;

  bool IsIdempotent() const { return idempotent.value_or(IsIdempotentMethod(method)); }
};

struct HttpResponse {
  int status = 0;
  // In arrival order; names lower-cased, values trimmed.
  HttpHeaders headers;
  std::string body;

  // The first value of header `name` (case-insensitive), if present.
  std::optional<std::string> Header(absl::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Performs one exchange (see the contract above).
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_HTTP_CLIENT_H_
