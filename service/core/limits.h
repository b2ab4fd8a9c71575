// Limits on how many resources of one kind callers can grow (subscriptions, rules, API
// tokens), so a misbehaving client cannot make every listing, every event's matching and
// the store grow without bound. A create over its limit fails with RESOURCE_EXHAUSTED
// (AIP-193: a quota of the service is used up; the caller may retry once it deleted some)
// with ErrorInfo.reason `<KIND>_LIMIT_REACHED` and a message naming the limit and the flag
// that raises it:
//
//   OKR_RETURN_IF_ERROR(CheckCountLimit(tx, "rule", {1000, "rules", "--max-rules",
//                                                    "RULE_LIMIT_REACHED"}));
#ifndef OKR_SERVICE_CORE_LIMITS_H_
#define OKR_SERVICE_CORE_LIMITS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/storage/okr_store.h"

namespace okr::core {

// One count limit.
struct CountLimit {
  int64_t max = 1000;        // most documents of the kind that may exist; <= 0: no limit
  absl::string_view plural;  // "subscriptions", as people read it
  absl::string_view flag;    // the setting that raises it, "--max-subscriptions"
  absl::string_view reason;  // "SUBSCRIPTION_LIMIT_REACHED"
};

// OK while fewer than `limit.max` documents of `kind` exist in `tx`; RESOURCE_EXHAUSTED
// otherwise: "at most 1000 subscriptions may exist (--max-subscriptions); delete unused
// ones or raise the limit".
absl::Status CheckCountLimit(storage::OkrTransaction& tx, const std::string& kind,
                             const CountLimit& limit);

}  // namespace okr::core

#endif  // OKR_SERVICE_CORE_LIMITS_H_
