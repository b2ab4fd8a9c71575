// Forms: the small HTTP text formats the pages write and read besides form bodies (those
// are http::ParseUrlEncoded) -- the Cookie header, Set-Cookie values, percent-encoding of
// a query value -- and the check that keeps a `next` redirect target on this site. Pure functions,
// Abseil only; malformed input is tolerated (a bad escape is kept as text), never an error.
//
//   std::string session = CookieValue(request.Header("cookie"), "okr_session");
//   std::string next = SafeNextPath(form["next"]);   // "/" unless a same-site path
#ifndef OKR_SERVICE_WEB_FORMS_H_
#define OKR_SERVICE_WEB_FORMS_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace okr::web {

// Percent-encodes everything but unreserved characters (RFC 3986) and '/'.
std::string UrlEncode(absl::string_view value);

// The value of cookie `name` in a Cookie header ("a=1; okr_session=xyz"), or "".
std::string CookieValue(absl::string_view cookie_header, absl::string_view name);

// A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/, Secure if `secure`; `max_age_seconds`
// < 0 leaves it a session cookie, 0 deletes it.
std::string SetCookie(absl::string_view name, absl::string_view value, bool secure,
                      long max_age_seconds);

// `next` if it is a path on this site ("/objectives/o?x=1"), else "/". Refused: anything
// not starting with a single '/' ("//evil", "/\\evil", "https://..."), control characters,
// backslashes, and over-long values. A path to /login or /logout becomes "/".
std::string SafeNextPath(absl::string_view next);

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_FORMS_H_
