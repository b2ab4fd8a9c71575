// Credentials for outbound requests. An AuthHeader is the one header a tracker wants
// (Jira Cloud: Basic email:api-token; Jira DC / OAuth: Bearer; GitLab: PRIVATE-TOKEN), and
// AuthenticatingHttpClient adds it to every request passing through.
//
// Usage:
//   AuthenticatingHttpClient jira(retrying, BasicAuth(email, api_token));
//   AuthenticatingHttpClient gitlab(retrying, HeaderAuth("PRIVATE-TOKEN", token));
//
// Contract:
//  - AuthHeader::value is a secret: nothing in this layer logs it or puts it in a Status
//    message. Use RedactedUrl() for any URL that goes into a log line or error message.
//  - AuthenticatingHttpClient replaces any header of the same name already on the request,
//    forwards everything else unchanged, returns the inner client's result as is and is
//    thread-safe if the inner client is. It holds a non-owning reference to `inner`.
#ifndef OKR_CONNECTORS_HTTP_AUTH_H_
#define OKR_CONNECTORS_HTTP_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/outbound/http_client.h"

namespace okr::outbound {

struct AuthHeader {
  std::string name;
  std::string value;  // Secret.
};

// `Authorization: Basic base64(user:password)`; Jira Cloud uses email:api-token.
AuthHeader BasicAuth(absl::string_view user, absl::string_view password);
// `Authorization: Bearer <token>` (Jira DC PAT, OAuth 2.0 access token, GitLab token).
AuthHeader BearerAuth(absl::string_view token);
// Any `<name>: <value>` header, e.g. GitLab's `PRIVATE-TOKEN`.
AuthHeader HeaderAuth(absl::string_view name, absl::string_view value);

// `url` without userinfo, query string and fragment, safe to log:
// "https://u:p@host/a/b?token=x#f" -> "https://host/a/b".
std::string RedactedUrl(absl::string_view url);

class AuthenticatingHttpClient final : public HttpClient {
 public:
  AuthenticatingHttpClient(HttpClient& inner, AuthHeader auth);

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  HttpClient& inner_;
  const AuthHeader auth_;
};

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_AUTH_H_
