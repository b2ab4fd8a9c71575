// CurlHttpClient: the production HttpClient, on libcurl (easy interface). One instance is
// shared by all connectors; it keeps a small pool of easy handles so connections (and TLS
// sessions) to Jira/GitLab are reused across calls.
//
// Usage:
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<CurlHttpClient> curl, CurlHttpClient::Create({}));
//   RetryingHttpClient retrying(*curl, RetryPolicy{});
//
// Contract (in addition to HttpClient's):
//  - Thread-safe; each Send runs on the calling thread and blocks until done.
//  - Only http and https; redirects are not followed (a 3xx is returned as the response).
//  - Transport errors: UNAVAILABLE (DNS, connect, TLS, reset, truncated response),
//    DEADLINE_EXCEEDED (request.timeout or the connect timeout elapsed), INVALID_ARGUMENT
//    (malformed URL or method, CR/LF in a header, a body on HEAD), RESOURCE_EXHAUSTED (the
//    response body is larger than max_response_body_bytes). Messages carry the method and
//    RedactedUrl(url), never header values.
//  - Requests are sent as given plus `User-Agent`; curl's default `Expect: 100-continue`
//    and form Content-Type are suppressed. Compressed responses are decoded.
//  - Every transport error carries its FailureClass (status_mapping.h): "timeout",
//    "DNS lookup failed", "connection refused", "TLS error", ...
//  - With options.address_guard (for URLs users choose, e.g. webhook targets), every socket
//    is checked before it is opened, on the address actually connected to (after DNS, so a
//    name re-resolving inside is refused too), and no proxy is used (the environment's
//    http_proxy / https_proxy are ignored: the guard checks the target, not a proxy). When
//    the guard refused the address, Send fails with PERMISSION_DENIED and the failure class
//    "address not allowed (<class>)", e.g. "address not allowed (loopback)". Without a
//    guard (operator-configured tracker URLs) connections are not checked.
#ifndef OKR_CONNECTORS_HTTP_CURL_HTTP_CLIENT_H_
#define OKR_CONNECTORS_HTTP_CURL_HTTP_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/outbound/address_guard.h"
#include "service/outbound/http_client.h"

namespace okr::outbound {

struct CurlHttpClientOptions {
  // Bound on TCP connect + TLS handshake; also bounded by each request's timeout.
  absl::Duration connect_timeout = absl::Seconds(10);
  // Responses with a larger (decoded) body fail with RESOURCE_EXHAUSTED.
  size_t max_response_body_bytes = size_t{16} << 20;
  std::string user_agent = "okr-service/0.1";
  // When set, checks every connection (see the contract above); shared with whoever else
  // checks the same URLs (e.g. at subscription creation).
  std::shared_ptr<const AddressGuard> address_guard;
};

class CurlHttpClient final : public HttpClient {
 public:
  // INVALID_ARGUMENT for non-positive limits or a user agent with control characters;
  // INTERNAL if libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> Create(CurlHttpClientOptions options);

  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  explicit CurlHttpClient(CurlHttpClientOptions options);

  // An easy handle from the pool (or a new one); nullptr only if libcurl is out of memory.
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  const CurlHttpClientOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(mu_);  // CURL*, kept out of the header.
};

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_CURL_HTTP_CLIENT_H_
