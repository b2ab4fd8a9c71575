// Events: what the service tells the world about changes that matter (progress, health,
// thresholds, scope, lifecycle state, alignment findings, rule firings), and the two
// things that consume them from outside: webhook subscriptions and rules. Plain value
// types and pure functions; the core writes events into the store's outbox in the same
// transaction as the change (service/core/unit_of_work.h), service/events
// streams and delivers them.
#ifndef OKR_SERVICE_OKR_EVENTS_H_
#define OKR_SERVICE_OKR_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/model.h"

namespace okr {

enum class EventType {
  kProgressChanged = 1,
  kHealthChanged = 2,
  kThresholdCrossed = 3,
  kScopeChanged = 4,
  kStateChanged = 5,
  kAlignmentFinding = 6,
  kRuleFired = 7,
};
inline constexpr int kMaxEventType = 7;
absl::string_view EventTypeName(EventType type);

// Why something changed: the root cause of the transaction that produced the event.
enum class CauseKind {
  kUnspecified = 0,
  kCheckIn = 1,            // ref: the check-in's resource name
  kWorkItemClosed = 2,     // ref: "JIRA OKRX-1" / "GITLAB acme/app#3"
  kWorkItemReopened = 3,   // ref: as above
  kWorkItemAdded = 4,      // ref: as above (linked, or matched a scope)
  kWorkItemRemoved = 5,    // ref: as above (unlinked, deleted, left a scope)
  kWorkItemChanged = 6,    // ref: as above (weight or title changed)
  kChildObjective = 7,     // ref: the child objective that moved (set on roll-up)
  kEdit = 8,               // ref: the edited resource (key result / objective update)
  kLifecycle = 9,          // ref: the objective (propose/agree/reopen/close/carry over)
  kScopeSync = 10,         // ref: the key result whose tracker scope was reconciled
  kRule = 11,              // ref: the rule's resource name
  kAlignmentCheck = 12,    // ref: the cycle checked
  kTimePassed = 13,        // ref: the cycle whose expected progress moved with time
  kWorkItemExcluded = 14,  // ref: as for work items; detail: e.g. "closed as Won't Do"
};
absl::string_view CauseKindName(CauseKind kind);

struct EventCause {
  CauseKind kind = CauseKind::kUnspecified;
  std::string ref;
  // The resource directly below the subject whose change moved it (roll-up: the key
  // result or child objective); empty for the subject changed by the cause itself.
  std::string via;
  // What happened, for people, when the kind alone does not say it: "closed as Won't Do",
  // "moved to In Review (credit 50%)". Empty otherwise.
  std::string detail;
};

struct Event {
  int64_t sequence = 0;  // assigned by the store's outbox; grows in commit order
  EventType type = EventType::kProgressChanged;
  absl::Time time = absl::InfinitePast();
  // Subject: a key result (key_result_id set) or an objective; team and cycle are the
  // objective's (filters). Empty objective_id for events about a cycle (findings).
  std::string objective_id;
  std::string key_result_id;
  std::string team_id;
  std::string cycle_id;
  EventCause cause;
  // PROGRESS_CHANGED, THRESHOLD_CROSSED, SCOPE_CHANGED: progress before and after.
  double old_progress = 0;
  double new_progress = 0;
  double threshold = 0;  // THRESHOLD_CROSSED: the mark crossed (up if new > old)
  // HEALTH_CHANGED.
  Health old_health = Health::kNotStarted;
  Health new_health = Health::kNotStarted;
  // STATE_CHANGED.
  ObjectiveState old_state = ObjectiveState::kDraft;
  ObjectiveState new_state = ObjectiveState::kDraft;
  // SCOPE_CHANGED: a work-items key result's total weight (the denominator).
  double old_total_weight = 0;
  double new_total_weight = 0;
  // ALIGNMENT_FINDING: the finding's code and subject; resolved=false when it appeared.
  std::string finding_code;
  std::string finding_subject;
  bool resolved = false;
  // RULE_FIRED: the rule, and the subscription its action calls (empty: none).
  std::string rule_id;
  std::string subscription_id;
  // One human sentence saying what happened and why.
  std::string message;
};

// "objectives/{o}/keyResults/{k}", "objectives/{o}" or "cycles/{c}".
std::string EventSubject(const Event& event);

// Progress marks whose crossing is an event.
inline constexpr double kDefaultThresholds[] = {0.25, 0.5, 0.75, 1.0};

// What one subject looked like before and after a transaction.
struct SubjectState {
  double progress = 0;
  Health health = Health::kNotStarted;
  std::optional<ObjectiveState> state;  // objectives only
  std::optional<double> total_weight;   // work-items key results only
  std::optional<double> done_weight;    // work-items key results only
};

// The events of one subject that went from `before` to `after`, in this order:
// SCOPE_CHANGED, PROGRESS_CHANGED, THRESHOLD_CROSSED (one per mark crossed), HEALTH_CHANGED,
// STATE_CHANGED. `base` carries subject, time and cause; sequences are left 0.
std::vector<Event> ChangeEvents(const Event& base, const SubjectState& before,
                                const SubjectState& after);

// Which events a watcher or subscription wants. Every set field must match; empty
// matches all. `objective_id` selects the objective's subtree: itself, its key results
// and every objective below it (resolved by the caller, see EventMatches).
struct EventFilter {
  std::string objective_id;
  std::string team_id;
  std::string cycle_id;
  std::vector<EventType> types;
};
absl::Status ValidateEventFilter(const EventFilter& filter);
// Whether `event` passes the filter; `in_subtree` answers whether an objective id is
// the filter's objective or below it (only called when filter.objective_id is set).
template <typename InSubtree>
bool EventMatches(const EventFilter& filter, const Event& event, InSubtree in_subtree) {
  if (!filter.types.empty()) {
    bool any = false;
    for (EventType t : filter.types) any = any || t == event.type;
    if (!any) return false;
  }
  if (!filter.team_id.empty() && filter.team_id != event.team_id) return false;
  if (!filter.cycle_id.empty() && filter.cycle_id != event.cycle_id) return false;
  if (!filter.objective_id.empty()) {
    if (event.objective_id.empty()) return false;
    if (event.objective_id != filter.objective_id && !in_subtree(event.objective_id)) {
      return false;
    }
  }
  return true;
}

// ---- Outbound webhooks ----

enum class SubscriptionState { kActive = 1, kFailing = 2 };

struct Subscription {
  std::string id;
  std::string target_url;  // http(s)://...
  EventFilter filter;
  std::string secret;  // HMAC key; write-only through the API
  EntityMeta meta;
  // Delivery state (kept apart from the user's fields, service/events).
  SubscriptionState state = SubscriptionState::kActive;
  int64_t delivered_sequence = 0;  // every matching event up to here was delivered
  std::string last_error;
  absl::Time failing_since = absl::InfinitePast();
};
// INVALID_ARGUMENT naming `subscription.target_url`, `subscription.secret` or the filter.
absl::Status ValidateSubscription(const Subscription& subscription);

// ---- Rules ----

enum class RuleConditionType {
  kHealthAtRisk = 1,   // health becomes AT_RISK or OFF_TRACK
  kBehindPace = 2,     // expected - progress > threshold
  kLowConfidence = 3,  // confidence of the last check-in < threshold
  kNoCheckIn = 4,      // no check-in for `days` days (cycle running)
};
enum class RuleActionType {
  kEmitEvent = 1,         // only the RULE_FIRED event (every rule emits it)
  kCallSubscription = 2,  // deliver the RULE_FIRED event to `subscription_id`
  kOpenIssue = 3,         // open an issue in the owning team's tracker
};

struct Rule {
  std::string id;
  // Scope: the key results of this objective, or of every objective of this team.
  std::string objective_id;
  std::string team_id;
  RuleConditionType condition = RuleConditionType::kHealthAtRisk;
  double threshold = 0;  // kBehindPace: 0..1; kLowConfidence: 0..1
  int32_t days = 0;      // kNoCheckIn
  RuleActionType action = RuleActionType::kEmitEvent;
  std::string subscription_id;       // kCallSubscription
  Tracker tracker = Tracker::kJira;  // kOpenIssue: which of the team's trackers
  EntityMeta meta;
};
absl::Status ValidateRule(const Rule& rule);

// What a rule condition looks at for one key result at `now`.
struct RuleInput {
  double progress = 0;
  double expected_progress = 0;
  Health health = Health::kNotStarted;
  std::optional<double> last_confidence;            // of the newest check-in, if it has one
  absl::Time last_check_in = absl::InfinitePast();  // InfinitePast: never
  absl::Time cycle_start = absl::InfinitePast();
  absl::Time cycle_end = absl::InfinitePast();
  absl::Time now = absl::InfinitePast();
};
// Whether the condition holds, and a sentence saying why (for the event and the issue).
struct RuleVerdict {
  bool holds = false;
  std::string reason;
};
RuleVerdict EvaluateRule(const Rule& rule, const RuleInput& input);

}  // namespace okr

#endif  // OKR_SERVICE_OKR_EVENTS_H_
