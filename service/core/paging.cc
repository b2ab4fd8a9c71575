#include "service/core/paging.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

}  // namespace okr::core::internal
