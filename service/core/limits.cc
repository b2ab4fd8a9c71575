#include "service/core/limits.h"

#include "absl/strings/str_cat.h"
#include "service/okr/error_details.h"
#include "service/okr/status_macros.h"

namespace okr::core {

absl::Status CheckCountLimit(storage::OkrTransaction& tx, const std::string& kind,
                             const CountLimit& limit) {
  if (limit.max <= 0) return absl::OkStatus();
  OKR_ASSIGN_OR_RETURN(int64_t count, tx.CountDocuments(kind));
  if (count < limit.max) return absl::OkStatus();
  return WithReason(absl::ResourceExhaustedError(
                        absl::StrCat("at most ", limit.max, " ", limit.plural, " may exist (",
                                     limit.flag, "); delete unused ones or raise the limit")),
                    limit.reason);
}

}  // namespace okr::core
