// Paging of the List use cases (AIP-158): page requests, opaque page tokens over the
// store's keyset paging (a token wraps the seq of the last row returned), list results.
#ifndef OKR_SERVICE_CORE_PAGING_H_
#define OKR_SERVICE_CORE_PAGING_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
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
