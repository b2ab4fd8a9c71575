#include "service/web/forms.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace okr::web {

std::string UrlEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string CookieValue(absl::string_view cookie_header, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

std::string SetCookie(absl::string_view name, absl::string_view value, bool secure,
                      long max_age_seconds) {
  std::string out = absl::StrCat(name, "=", value, "; HttpOnly; SameSite=Lax; Path=/");
  if (max_age_seconds >= 0) absl::StrAppend(&out, "; Max-Age=", max_age_seconds);
  if (secure) absl::StrAppend(&out, "; Secure");
  return out;
}

std::string SafeNextPath(absl::string_view next) {
  if (next.empty() || next.size() > 2000 || next[0] != '/') return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
  for (unsigned char c : next) {
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  absl::string_view path = next.substr(0, next.find_first_of("?#"));
  if (path == "/login" || path == "/logout") return "/";
  return std::string(next);
}

}  // namespace okr::web
