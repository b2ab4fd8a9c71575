#include "service/core/paging.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace okr::core::internal {
namespace {

constexpr int32_t kDefaultPageSize = 50;
constexpr int32_t kMaxPageSize = 1000;
constexpr absl::string_view kPageTokenPrefix = "okr1:";

}  // namespace

absl::StatusOr<storage::PageQuery> ToPageQuery(const PageRequest& page) {
  if (page.page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  storage::PageQuery q;
  q.limit = page.page_size == 0 ? kDefaultPageSize : std::min(page.page_size, kMaxPageSize);
  if (!page.page_token.empty()) {
    std::string decoded;
    int64_t after = 0;
    if (page.page_token.size() > 64 || !absl::WebSafeBase64Unescape(page.page_token, &decoded) ||
        !absl::StartsWith(decoded, kPageTokenPrefix) ||
        !absl::SimpleAtoi(absl::string_view(decoded).substr(kPageTokenPrefix.size()), &after) ||
        after < 0) {
      return absl::InvalidArgumentError("page_token is invalid");
    }
    q.after_seq = after;
  }
  return q;
}

std::string NextPageToken(int64_t seq) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, seq));
}

namespace {

// FNV-1a: stable across processes and replicas (unlike absl::Hash).
std::string Fingerprint(absl::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

}  // namespace

absl::StatusOr<OffsetPage> ToOffsetPage(const PageRequest& page, absl::string_view query_key) {
  if (page.page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  OffsetPage p;
  p.limit = page.page_size == 0 ? kDefaultPageSize : std::min(page.page_size, kMaxPageSize);
  if (page.page_token.empty()) return p;
  std::string decoded;
  std::vector<absl::string_view> parts;
  if (page.page_token.size() <= 128 && absl::WebSafeBase64Unescape(page.page_token, &decoded) &&
      absl::StartsWith(decoded, kPageTokenPrefix)) {
    parts = absl::StrSplit(absl::string_view(decoded).substr(kPageTokenPrefix.size()), ':');
  }
  int64_t offset = 0;
  if (parts.size() != 2 || !absl::StartsWith(parts[0], "o") ||
      !absl::SimpleAtoi(parts[0].substr(1), &offset) || offset < 0) {
    return absl::InvalidArgumentError("page_token is invalid");
  }
  if (parts[1] != Fingerprint(query_key)) {
    return absl::InvalidArgumentError(
        "page_token belongs to another query (parent, filter and order_by must stay the same)");
  }
  p.offset = offset;
  return p;
}

std::string NextOffsetPageToken(int64_t offset, absl::string_view query_key) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kPageTokenPrefix, "o", offset, ":", Fingerprint(query_key)));
}

}  // namespace okr::core::internal
