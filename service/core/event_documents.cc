#include "service/core/event_documents.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "service/okr/status_macros.h"

namespace okr::core::internal {
namespace {

using json = nlohmann::json;

// AsInt64's answer for an unsigned value beyond int64 where no default fits.
constexpr int64_t kNotAType = std::numeric_limits<int64_t>::max();

// An integral JSON number as int64; unsigned values above int64's range are `def`.
int64_t AsInt64(const json& j, int64_t def) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? def
                                                                          : static_cast<int64_t>(v);
  }
  return j.get<int64_t>();
}

bool InRange(int64_t value, int64_t lo, int64_t hi) { return value >= lo && value <= hi; }

// An int32 field: out-of-range values read as `def` too.
int32_t Int32(const json& j, const char* key, int32_t def = 0) {
  const int64_t v = Int(j, key, def);
  return v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()
             ? def
             : static_cast<int32_t>(v);
}

absl::Status Corrupt(const EventDocument& d, absl::string_view field) {
  return absl::InternalError(
      absl::StrCat(d.kind, " ", d.id, ": stored payload is corrupt (", field, ")"));
}

json FilterToJson(const EventFilter& f) {
  json types = json::array();
  for (EventType t : f.types) types.push_back(static_cast<int>(t));
  return {
      {"objective", f.objective_id}, {"team", f.team_id}, {"cycle", f.cycle_id}, {"types", types}};
}
EventFilter FilterFromJson(const json& j) {
  EventFilter f;
  if (!j.is_object()) return f;
  f.objective_id = Str(j, "objective");
  f.team_id = Str(j, "team");
  f.cycle_id = Str(j, "cycle");
  if (auto it = j.find("types"); it != j.end() && it->is_array()) {
    for (const json& t : *it) {
      // A value outside int is no event type and is dropped; an unknown one matches none.
      const int64_t v = t.is_number_integer() ? AsInt64(t, kNotAType) : kNotAType;
      if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) continue;
      f.types.push_back(static_cast<EventType>(static_cast<int>(v)));
    }
  }
  return f;
}

}  // namespace

json TimeToJson(absl::Time t) {
  if (t == absl::InfinitePast()) return nullptr;
  return absl::ToUnixMicros(t);
}
absl::Time TimeFromJson(const json& j) {
  // Not an integer, or beyond int64 (no time we wrote): as if absent.
  if (!j.is_number_integer()) return absl::InfinitePast();
  const int64_t micros = AsInt64(j, kNotAType);
  return micros == kNotAType ? absl::InfinitePast() : absl::FromUnixMicros(micros);
}
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t Int(const json& j, const char* key, int64_t def) {
  auto it = j.find(key);
  if (it == j.end()) return def;
  if (it->is_number_integer()) return AsInt64(*it, def);
  if (it->is_number_float()) {
    // A double outside int64's range has no conversion (undefined behaviour): the default.
    const double v = it->get<double>();
    constexpr double kLimit = 9223372036854775808.0;  // 2^63
    return std::isfinite(v) && v > -kLimit && v < kLimit ? static_cast<int64_t>(v) : def;
  }
  return def;
}
double Num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0;
}
absl::Time Time(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? absl::InfinitePast() : TimeFromJson(*it);
}

absl::StatusOr<json> Parse(const EventDocument& doc) {
  json j = json::parse(doc.payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InternalError(absl::StrCat(doc.kind, " ", doc.id, ": stored payload is corrupt"));
  }
  return j;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

EventDocument SubscriptionDoc(const Subscription& s) {
  EventDocument d{kSubscription, s.id, "", s.meta};
  d.payload = Dump(
      {{"target_url", s.target_url}, {"secret", s.secret}, {"filter", FilterToJson(s.filter)}});
  return d;
}
absl::StatusOr<Subscription> SubscriptionFromDoc(const EventDocument& d) {
  OKR_ASSIGN_OR_RETURN(json j, Parse(d));
  Subscription s;
  s.id = d.id;
  s.meta = d.meta;
  s.target_url = Str(j, "target_url");
  s.secret = Str(j, "secret");
  if (auto it = j.find("filter"); it != j.end()) s.filter = FilterFromJson(*it);
  return s;
}

std::string DeliveryPayload(const DeliveryState& s) {
  return Dump({{"delivered", s.delivered_sequence},
               {"state", static_cast<int>(s.state)},
               {"error", s.last_error},
               {"failing_since", TimeToJson(s.failing_since)},
               {"attempts", s.attempts},
               {"next", TimeToJson(s.next_attempt)}});
}
absl::StatusOr<DeliveryState> DeliveryFromDoc(const EventDocument& d) {
  OKR_ASSIGN_OR_RETURN(json j, Parse(d));
  DeliveryState s;
  s.delivered_sequence = Int(j, "delivered");
  const int64_t state = Int(j, "state", 1);
  if (!InRange(state, 1, 2)) return Corrupt(d, "state");
  s.state = static_cast<SubscriptionState>(state);
  s.last_error = Str(j, "error");
  s.failing_since = Time(j, "failing_since");
  s.attempts = Int32(j, "attempts");
  s.next_attempt = Time(j, "next");
  return s;
}

EventDocument RuleDoc(const Rule& r) {
  EventDocument d{kRule, r.id, "", r.meta};
  d.payload = Dump({{"objective", r.objective_id},
                    {"team", r.team_id},
                    {"condition", static_cast<int>(r.condition)},
                    {"threshold", r.threshold},
                    {"days", r.days},
                    {"action", static_cast<int>(r.action)},
                    {"subscription", r.subscription_id},
                    {"tracker", static_cast<int>(r.tracker)}});
  return d;
}
absl::StatusOr<Rule> RuleFromDoc(const EventDocument& d) {
  OKR_ASSIGN_OR_RETURN(json j, Parse(d));
  Rule r;
  r.id = d.id;
  r.meta = d.meta;
  r.objective_id = Str(j, "objective");
  r.team_id = Str(j, "team");
  const int64_t condition = Int(j, "condition", 1);
  const int64_t action = Int(j, "action", 1);
  const int64_t tracker = Int(j, "tracker", 1);
  if (!InRange(condition, 1, 4)) return Corrupt(d, "condition");
  if (!InRange(action, 1, 3)) return Corrupt(d, "action");
  if (!InRange(tracker, 1, 3)) return Corrupt(d, "tracker");
  r.condition = static_cast<RuleConditionType>(condition);
  r.threshold = Num(j, "threshold");
  r.days = Int32(j, "days");
  r.action = static_cast<RuleActionType>(action);
  r.subscription_id = Str(j, "subscription");
  r.tracker = static_cast<Tracker>(tracker);
  return r;
}

std::string IssueActionPayload(const IssueAction& a) {
  return Dump({{"rule", a.rule_id},
               {"objective", a.objective_id},
               {"key_result", a.key_result_id},
               {"tracker", static_cast<int>(a.tracker)},
               {"project", a.project},
               {"issue_type", a.issue_type},
               {"title", a.title},
               {"description", a.description},
               {"url", a.url},
               {"attempts", a.attempts},
               {"next", TimeToJson(a.next_attempt)},
               {"error", a.last_error}});
}
absl::StatusOr<IssueAction> IssueActionFromDoc(const EventDocument& d) {
  OKR_ASSIGN_OR_RETURN(json j, Parse(d));
  IssueAction a;
  a.id = d.id;
  a.rule_id = Str(j, "rule");
  a.objective_id = Str(j, "objective");
  a.key_result_id = Str(j, "key_result");
  const int64_t tracker = Int(j, "tracker", 1);
  if (!InRange(tracker, 1, 3)) return Corrupt(d, "tracker");
  a.tracker = static_cast<Tracker>(tracker);
  a.project = Str(j, "project");
  a.issue_type = Str(j, "issue_type");
  a.title = Str(j, "title");
  a.description = Str(j, "description");
  a.url = Str(j, "url");
  a.attempts = Int32(j, "attempts");
  a.next_attempt = Time(j, "next");
  a.last_error = Str(j, "error");
  return a;
}

}  // namespace okr::core::internal
