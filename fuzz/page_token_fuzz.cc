// Page-token parsing of the List calls (service/core/paging.h, AIP-158): keyset tokens
// (ToPageQuery) and offset tokens bound to a query (ToOffsetPage). A token is opaque and
// untrusted: any bytes are accepted or refused with INVALID_ARGUMENT, an accepted request
// is within the page-size bounds, and the tokens the service issues parse back to what
// they wrap.
//
// Input: "<page_size>\n<page_token>\n<query_key>" (later parts may be missing; a
// page_size that is not a decimal int32 is 0).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_checks.h"
#include "service/core/paging.h"

namespace {

namespace internal = okr::core::internal;
using okr::fuzz::Check;
using okr::fuzz::CheckCode;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<absl::string_view> parts = absl::StrSplit(
      absl::string_view(reinterpret_cast<const char*>(data), size), absl::MaxSplits('\n', 2));
  okr::core::PageRequest page;
  if (!absl::SimpleAtoi(parts[0], &page.page_size)) page.page_size = 0;
  if (parts.size() > 1) page.page_token = std::string(parts[1]);
  const absl::string_view query_key = parts.size() > 2 ? parts[2] : absl::string_view();

  const absl::StatusOr<okr::storage::PageQuery> query = internal::ToPageQuery(page);
  CheckCode(query.status(), absl::StatusCode::kInvalidArgument, "ToPageQuery");
  if (page.page_size < 0) Check(!query.ok(), "a negative page_size is refused");
  if (query.ok()) {
    Check(query->limit >= 1 && query->limit <= 1000, "the page size is bounded");
    Check(query->after_seq >= 0, "a token wraps a non-negative seq");
    okr::core::PageRequest next{page.page_size, internal::NextPageToken(query->after_seq)};
    const absl::StatusOr<okr::storage::PageQuery> again = internal::ToPageQuery(next);
    Check(again.ok() && again->after_seq == query->after_seq, "an issued token parses back");
  }

  const absl::StatusOr<internal::OffsetPage> offset = internal::ToOffsetPage(page, query_key);
  CheckCode(offset.status(), absl::StatusCode::kInvalidArgument, "ToOffsetPage");
  if (page.page_size < 0) Check(!offset.ok(), "a negative page_size is refused");
  if (!offset.ok()) return 0;
  Check(offset->limit >= 1 && offset->limit <= 1000, "the page size is bounded");
  Check(offset->offset >= 0, "a token wraps a non-negative offset");
  const std::string issued = internal::NextOffsetPageToken(offset->offset, query_key);
  const absl::StatusOr<internal::OffsetPage> again =
      internal::ToOffsetPage({page.page_size, issued}, query_key);
  Check(again.ok() && again->offset == offset->offset, "an issued offset token parses back");
  Check(!internal::ToOffsetPage({page.page_size, issued}, absl::StrCat(query_key, "/other")).ok(),
        "an offset token is refused with another query");

  // A page of a small listing: at most `limit` items, and a next token exactly when items
  // remain after it.
  std::vector<int> all(size % 64);
  const okr::core::ListResult<int> result = internal::SliceToListResult(all, *offset, query_key);
  Check(result.items.size() <= static_cast<size_t>(offset->limit), "a page holds at most limit");
  const int64_t end = offset->offset + static_cast<int64_t>(result.items.size());
  Check(result.next_page_token.empty() == (end >= static_cast<int64_t>(all.size())),
        "a next token exactly when items remain");
  return 0;
}
