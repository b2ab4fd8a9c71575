#include "service/outbound/auth.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace okr::outbound {

AuthHeader BasicAuth(absl::string_view user, absl::string_view password) {
  return {"Authorization",
          absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(user, ":", password)))};
}

AuthHeader BearerAuth(absl::string_view token) {
  return {"Authorization", absl::StrCat("Bearer ", token)};
}

AuthHeader HeaderAuth(absl::string_view name, absl::string_view value) {
  return {std::string(name), std::string(value)};
}

std::string RedactedUrl(absl::string_view url) {
  // Query and fragment go first: they may hold tokens and may contain '@' or '/'.
  url = url.substr(0, std::min(url.find_first_of("?#"), url.size()));
  size_t authority_start = 0;
  if (size_t scheme_end = url.find("://"); scheme_end != absl::string_view::npos) {
    authority_start = scheme_end + 3;
  }
  const size_t authority_end = std::min(url.find('/', authority_start), url.size());
  const absl::string_view authority = url.substr(authority_start, authority_end - authority_start);
  const size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, authority_start), authority.substr(at + 1),
                      url.substr(authority_end));
}

AuthenticatingHttpClient::AuthenticatingHttpClient(HttpClient& inner, AuthHeader auth)
    : inner_(inner), auth_(std::move(auth)) {}

absl::StatusOr<HttpResponse> AuthenticatingHttpClient::Send(const HttpRequest& request) {
  HttpRequest authenticated = request;
  HttpHeaders& headers = authenticated.headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& header) {
                                 return absl::EqualsIgnoreCase(header.first, auth_.name);
                               }),
                headers.end());
  headers.emplace_back(auth_.name, auth_.value);
  return inner_.Send(authenticated);
}

}  // namespace okr::outbound
