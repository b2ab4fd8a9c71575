// The stored documents of the event use cases (service/core/event_documents.h) on arbitrary
// payload text, as a corrupt or foreign row would hold: every decoder answers OK or
// INTERNAL, a decoded value's enums are in range, and its encoding decodes to a value that
// encodes the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fuzz/fuzz_checks.h"
#include "service/core/event_documents.h"

namespace {

using okr::core::internal::EventDocument;
using okr::fuzz::Check;
using okr::fuzz::CheckCode;
namespace docs = okr::core::internal;

bool InRange(int value, int lo, int hi) { return value >= lo && value <= hi; }

EventDocument Doc(const char* kind, const std::string& payload) {
  EventDocument d;
  d.kind = kind;
  d.id = "d1";
  d.payload = payload;
  return d;
}

// Decode, check, encode, decode again: the second encoding equals the first.
template <typename T, typename Decode, typename Encode>
void RoundTrip(const char* kind, const std::string& payload, Decode decode, Encode encode,
               void (*check)(const T&), const char* what) {
  absl::StatusOr<T> decoded = decode(Doc(kind, payload));
  CheckCode(decoded.status(), absl::StatusCode::kInternal, what);
  if (!decoded.ok()) return;
  check(*decoded);
  const std::string encoded = encode(*decoded);
  absl::StatusOr<T> again = decode(Doc(kind, encoded));
  Check(again.ok(), "an encoding decodes");
  Check(encode(*again) == encoded, "decode-encode is stable");
}

void CheckSubscription(const okr::Subscription&) {}
void CheckDelivery(const okr::core::DeliveryState& s) {
  Check(InRange(static_cast<int>(s.state), 1, 2), "the delivery state is in range");
}
void CheckRule(const okr::Rule& r) {
  Check(InRange(static_cast<int>(r.condition), 1, 4) && InRange(static_cast<int>(r.action), 1, 3) &&
            InRange(static_cast<int>(r.tracker), 1, 3),
        "the rule's enums are in range");
}
void CheckIssueAction(const okr::core::IssueAction& a) {
  Check(InRange(static_cast<int>(a.tracker), 1, 3), "the action's tracker is in range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string payload(reinterpret_cast<const char*>(data), size);
  RoundTrip<okr::Subscription>(
      docs::kSubscription, payload, docs::SubscriptionFromDoc,
      [](const okr::Subscription& s) { return docs::SubscriptionDoc(s).payload; },
      CheckSubscription, "SubscriptionFromDoc");
  RoundTrip<okr::core::DeliveryState>(docs::kDelivery, payload, docs::DeliveryFromDoc,
                                      docs::DeliveryPayload, CheckDelivery, "DeliveryFromDoc");
  RoundTrip<okr::Rule>(
      docs::kRule, payload, docs::RuleFromDoc,
      [](const okr::Rule& r) { return docs::RuleDoc(r).payload; }, CheckRule, "RuleFromDoc");
  RoundTrip<okr::core::IssueAction>(docs::kIssueAction, payload, docs::IssueActionFromDoc,
                                    docs::IssueActionPayload, CheckIssueAction,
                                    "IssueActionFromDoc");
  return 0;
}
