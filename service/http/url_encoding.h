// URL decoding for inbound HTTP: percent-decoding of a request path and the
// application/x-www-form-urlencoded pairs of a query string or a form body. One place for
// both the listener (request targets) and the pages (form posts).
//
//   request.path = PercentDecode("/objectives/o%201", /*plus_is_space=*/false);
//   std::map<std::string, std::string> form = ParseUrlEncoded("note=a+b&x=1&x=2");
//
// Pure functions, Abseil only; malformed input is tolerated (a bad escape is kept as
// text), never an error.
#ifndef OKR_SERVICE_HTTP_URL_ENCODING_H_
#define OKR_SERVICE_HTTP_URL_ENCODING_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace okr::http {

// %XX becomes the byte XX (hex digits of either case); '+' becomes a space when
// `plus_is_space` (form encoding, not paths). A '%' not followed by two hex digits is kept.
std::string PercentDecode(absl::string_view text, bool plus_is_space);

// Name=value pairs separated by '&', both sides decoded with '+' as a space; a name
// without '=' has the value ""; empty pairs are skipped; the first value of a repeated
// name wins.
std::map<std::string, std::string> ParseUrlEncoded(absl::string_view text);

}  // namespace okr::http

#endif  // OKR_SERVICE_HTTP_URL_ENCODING_H_
