#include "service/outbound/url_util.h"

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace okr::outbound {

std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> NextLinkUrl(absl::string_view link_header) {
  absl::string_view rest = link_header;
  while (true) {
    const size_t open = rest.find('<');
    if (open == absl::string_view::npos) return std::nullopt;
    const size_t close = rest.find('>', open + 1);
    if (close == absl::string_view::npos) return std::nullopt;
    const absl::string_view url = rest.substr(open + 1, close - open - 1);
    rest.remove_prefix(close + 1);
    // Parameters up to the next ',' outside quotes.
    size_t end = 0;
    bool quoted = false;
    for (; end < rest.size(); ++end) {
      if (rest[end] == '"') quoted = !quoted;
      if (rest[end] == ',' && !quoted) break;
    }
    const absl::string_view params = rest.substr(0, end);
    rest.remove_prefix(end);
    for (absl::string_view param : absl::StrSplit(params, ';')) {
      param = absl::StripAsciiWhitespace(param);
      if (!absl::ConsumePrefix(&param, "rel=") && !absl::ConsumePrefix(&param, "rel =")) {
        continue;
      }
      param = absl::StripAsciiWhitespace(param);
      if (param.size() >= 2 && param.front() == '"' && param.back() == '"') {
        param = param.substr(1, param.size() - 2);
      }
      for (absl::string_view rel : absl::StrSplit(param, ' ', absl::SkipEmpty())) {
        if (absl::EqualsIgnoreCase(rel, "next")) return std::string(url);
      }
    }
  }
}

}  // namespace okr::outbound
