// The stored documents of the event use cases (subscriptions, their delivery state, rules,
// queued issue actions) and their JSON payloads, in one place: the payload codecs, the
// document kinds, and the small JSON readers the other event documents (firings,
// findings, the health watch) use.
//
//   Document d = SubscriptionDoc(subscription);          // kind "subscription", id, payload
//   OKR_ASSIGN_OR_RETURN(Subscription s, SubscriptionFromDoc(d));
//
// Internal to service/core. A stored payload is untrusted text (a corrupt or foreign row):
// decoding answers the value or INTERNAL naming the document, never crashes; numbers out
// of range read as the field's default, enum values out of range are INTERNAL.
#ifndef OKR_SERVICE_CORE_EVENT_DOCUMENTS_H_
#define OKR_SERVICE_CORE_EVENT_DOCUMENTS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/events_core.h"
#include "service/okr/events.h"
#include "service/storage/okr_store.h"

namespace okr::core::internal {

using EventDocument = storage::OkrTransaction::Document;

// The document kinds of the event use cases.
inline constexpr char kSubscription[] = "subscription";
inline constexpr char kDelivery[] = "delivery";
inline constexpr char kRule[] = "rule";
inline constexpr char kFiring[] = "firing";
inline constexpr char kIssueAction[] = "issue_action";
inline constexpr char kRuleIssues[] = "rule_issues";  // per rule: when it queued its recent issues
inline constexpr char kFindings[] = "findings";
inline constexpr char kHealthWatch[] = "health_watch";

// ---- JSON readers: a missing or mistyped field reads as its default ----

// Times are Unix microseconds; InfinitePast is null.
nlohmann::json TimeToJson(absl::Time t);
absl::Time TimeFromJson(const nlohmann::json& j);
std::string Str(const nlohmann::json& j, const char* key);
// An integer, or a float that fits int64 (truncated); anything else is `def`.
int64_t Int(const nlohmann::json& j, const char* key, int64_t def = 0);
double Num(const nlohmann::json& j, const char* key);
absl::Time Time(const nlohmann::json& j, const char* key);
// The payload as a JSON object, or INTERNAL naming the document.
absl::StatusOr<nlohmann::json> Parse(const EventDocument& doc);
// Compact JSON; invalid UTF-8 is replaced, never thrown.
std::string Dump(const nlohmann::json& j);

// ---- The codecs ----

EventDocument SubscriptionDoc(const Subscription& s);
absl::StatusOr<Subscription> SubscriptionFromDoc(const EventDocument& d);

std::string DeliveryPayload(const DeliveryState& s);
absl::StatusOr<DeliveryState> DeliveryFromDoc(const EventDocument& d);

EventDocument RuleDoc(const Rule& r);
absl::StatusOr<Rule> RuleFromDoc(const EventDocument& d);

std::string IssueActionPayload(const IssueAction& a);
absl::StatusOr<IssueAction> IssueActionFromDoc(const EventDocument& d);

}  // namespace okr::core::internal

#endif  // OKR_SERVICE_CORE_EVENT_DOCUMENTS_H_
