// Paging of the List use cases (AIP-158): page requests, opaque page tokens over the
// store's keyset paging (a token wraps the seq of the last row returned) or over a listing
// computed in memory (a token wraps an offset), list results.
#ifndef OKR_SERVICE_CORE_PAGING_H_
#define OKR_SERVICE_CORE_PAGING_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/storage/okr_store.h"

namespace okr::core {

// Paging request of a List call (AIP-158).
struct PageRequest {
  int32_t page_size = 0;  // 0: default (50); at most 1000; negative is invalid
  std::string page_token;
};

template <typename T>
struct ListResult {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

namespace internal {

// INVALID_ARGUMENT for a negative page_size or a token this service did not issue.
absl::StatusOr<storage::PageQuery> ToPageQuery(const PageRequest& page);
// The token of the page after the row with `seq`.
std::string NextPageToken(int64_t seq);

// Offset paging of a listing computed in memory (filtered, ordered or across parents):
// every page is computed from its own snapshot, and the token wraps the offset of the next
// item and a fingerprint of the query (`query_key`: parent, filter, order), so a token is
// refused with another query.
struct OffsetPage {
  int32_t limit = 50;
  int64_t offset = 0;
};
absl::StatusOr<OffsetPage> ToOffsetPage(const PageRequest& page, absl::string_view query_key);
std::string NextOffsetPageToken(int64_t offset, absl::string_view query_key);

// The page `page` of `all`.
template <typename T>
ListResult<T> SliceToListResult(std::vector<T> all, const OffsetPage& page,
                                absl::string_view query_key) {
  ListResult<T> result;
  const int64_t size = static_cast<int64_t>(all.size());
  const int64_t begin = std::min(page.offset, size);
  const int64_t end = std::min(begin + page.limit, size);
  for (int64_t i = begin; i < end; ++i) result.items.push_back(std::move(all[i]));
  if (end < size) result.next_page_token = NextOffsetPageToken(end, query_key);
  return result;
}

template <typename T>
ListResult<T> ToListResult(storage::Page<T> page) {
  ListResult<T> result;
  if (page.has_more && !page.items.empty()) {
    result.next_page_token = NextPageToken(page.items.back().meta.seq);
  }
  result.items = std::move(page.items);
  return result;
}

}  // namespace internal
}  // namespace okr::core

#endif  // OKR_SERVICE_CORE_PAGING_H_
