// URL helpers shared by the tracker clients: percent-encoding of path segments and query
// values, and the RFC 8288 `link` header parser that REST APIs (GitHub, GitLab) use for
// pagination.
//
//   url = absl::StrCat(root, "/projects/", UrlEncode("acme/sub/checkout"));
//   if (std::optional<std::string> next = NextLinkUrl(*response.Header("link"))) ...
//
// Pure functions over their arguments; safe on untrusted input.
#ifndef OKR_SERVICE_OUTBOUND_URL_UTIL_H_
#define OKR_SERVICE_OUTBOUND_URL_UTIL_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace okr::outbound {

// Percent-encodes everything but the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~):
// "acme/sub/checkout" -> "acme%2Fsub%2Fcheckout", "OKR::abc" -> "OKR%3A%3Aabc".
std::string UrlEncode(absl::string_view text);

// The URL of the `rel="next"` entry of a `link` header
// (`<https://..&page=2>; rel="next", <https://..&page=1>; rel="first"`), if any. Tolerates
// commas inside <...>, quoted parameters, "rel =" and several rel values ("next last").
std::optional<std::string> NextLinkUrl(absl::string_view link_header);

}  // namespace okr::outbound

#endif  // OKR_SERVICE_OUTBOUND_URL_UTIL_H_
