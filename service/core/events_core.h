// EventsCore: the use cases around the event outbox (service/okr/events.h): reading the
// event history, webhook subscriptions and their delivery bookkeeping, rules and their
// firing state, and the tracker issues rules ask for. Subscriptions, rules, delivery and
// firing state are stored as documents (OkrTransaction::Document) in the same database
// as the OKRs, so a rule firing, its RULE_FIRED event and its queued issue commit
// together, and a restart resumes deliveries and issue creation where they stopped.
//
// Callers: the gRPC API (List/Create/Get/Delete), service/events (EventHub reads events,
// SubscriptionDeliverer records deliveries, RuleEngine records verdicts and works off issue
// actions). Errors as OkrCore's: INVALID_ARGUMENT naming the field, NOT_FOUND for the
// addressed resource. Thread-safe: no mutable state of its own (options are fixed at
// construction).
#ifndef OKR_SERVICE_CORE_EVENTS_CORE_H_
#define OKR_SERVICE_CORE_EVENTS_CORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/paging.h"
#include "service/okr/alignment.h"
#include "service/okr/clock.h"
#include "service/okr/events.h"
#include "service/okr/model.h"
#include "service/storage/okr_store.h"

namespace okr::core {

// Whose events ListEvents returns: a key result's (objective_id + key_result_id), an
// objective's with its key results' (objective_id), or a team's (team_id).
struct EventParent {
  std::string objective_id;
  std::string key_result_id;
  std::string team_id;
};

// Where deliveries to one subscription stand.
struct DeliveryState {
  int64_t delivered_sequence = 0;
  SubscriptionState state = SubscriptionState::kActive;
  std::string last_error;
  absl::Time failing_since = absl::InfinitePast();  // first failure of the current streak
  int32_t attempts = 0;                             // failed attempts of the head event
  absl::Time next_attempt = absl::InfinitePast();
};

// An issue a rule firing asked for, queued until the tracker has it.
struct IssueAction {
  std::string id;  // the firing's id; also the issue's dedupe label suffix
  std::string rule_id;
  std::string objective_id;
  std::string key_result_id;
  Tracker tracker = Tracker::kJira;
  std::string project;
  // The team's issue type in `tracker` when the rule fired (Team::issue_types; empty: the
  // connector's default).
  std::string issue_type;
  std::string title;
  std::string description;
  std::string url;
  int32_t attempts = 0;
  absl::Time next_attempt = absl::InfinitePast();
  std::string last_error;
};

// Text of an issue a firing rule opens (the rule engine composes it).
struct IssueText {
  std::string title;
  std::string description;
  std::string url;
};

// What RecordVerdict did.
struct VerdictRecord {
  bool fired = false;         // the condition newly holds: RULE_FIRED was appended
  bool issue_queued = false;  // OPEN_ISSUE: an IssueAction was queued
  // OPEN_ISSUE: the rule already queued max_issues_per_rule_per_day issues in the last
  // 24 hours, so this firing queued none (its RULE_FIRED event was still appended).
  bool issue_capped = false;
};

struct EventsCoreOptions {
  // Most issues one OPEN_ISSUE rule queues in any 24 hours (by the injected clock),
  // counted over all its key results. Firings over it emit RULE_FIRED but queue no issue.
  int max_issues_per_rule_per_day = 10;
  // Checks a subscription's target_url at CreateSubscription beyond its syntax (the
  // composition root injects service/outbound's AddressGuard: no loopback, private, ...
  // address). Its error fails the create with its code and the message prefixed
  // "subscription.target_url: ". Empty: no check. Must be thread-safe; may block (DNS).
  std::function<absl::Status(const std::string& url)> target_url_check;
  // Most subscriptions / rules that may exist (service/core/limits.h); a create beyond
  // fails RESOURCE_EXHAUSTED. <= 0: no limit.
  int64_t max_subscriptions = 1000;
  int64_t max_rules = 1000;
};

class EventsCore {
 public:
  EventsCore(storage::OkrStore& store, const Clock& clock, EventsCoreOptions options = {})
      : store_(store), clock_(clock), options_(std::move(options)) {}

  const EventsCoreOptions& options() const { return options_; }

  // ---- Event history ----
  // Events of `parent`, oldest first. NOT_FOUND if the parent does not exist (deleted
  // objectives keep their history: an objective parent is looked up in the events first).
  absl::StatusOr<ListResult<Event>> ListEvents(const EventParent& parent, const PageRequest& page);
  // Every event after `after_sequence`, at most `limit` (the stream's source).
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after_sequence, int limit);
  absl::StatusOr<int64_t> LastEventSequence();
  // Retention (service/core/retention.h): deletes, in one transaction, at most `limit`
  // events older than `before` that every subscription has delivered; returns how many.
  absl::StatusOr<int64_t> PruneDeliveredEvents(absl::Time before, int limit);
  // Retention of rule firing state: in one transaction, looks at the `limit` firing
  // records after `*after_seq` (creation order) and deletes those last changed before
  // `before` that no longer matter -- re-armed (the condition stopped holding, the same as
  // no record), or of a rule or key result that no longer exists. Advances `*after_seq`;
  // `*more` tells whether records follow. Returns how many were deleted.
  absl::StatusOr<int64_t> PruneFirings(absl::Time before, int limit, int64_t* after_seq,
                                       bool* more);

  // ---- Subscriptions ----
  // Stores the subscription (id generated if empty); it receives events committed after
  // its creation. INVALID_ARGUMENT naming `subscription.target_url` when options'
  // target_url_check refuses the URL (checked before anything is written);
  // RESOURCE_EXHAUSTED when options' max_subscriptions exist already.
  absl::StatusOr<Subscription> CreateSubscription(Subscription subscription);
  absl::StatusOr<Subscription> GetSubscription(const std::string& id);
  // Applies the fields named in `paths` (target_url, filter, secret) when `etag` is empty
  // or matches (ABORTED naming subscription.etag otherwise), validated like
  // CreateSubscription -- a new target_url passes options' target_url_check first. The
  // delivery cursor and state are kept. INVALID_ARGUMENT naming update_mask for other paths.
  absl::StatusOr<Subscription> UpdateSubscription(const Subscription& patch,
                                                  const std::vector<std::string>& paths,
                                                  const std::string& etag);
  absl::StatusOr<ListResult<Subscription>> ListSubscriptions(const PageRequest& page);
  absl::StatusOr<std::vector<Subscription>> AllSubscriptions();
  absl::Status DeleteSubscription(const std::string& id);
  // Delivery bookkeeping; NOT_FOUND once the subscription is deleted.
  absl::Status SaveDeliveryState(const std::string& subscription_id, const DeliveryState& state);
  absl::StatusOr<DeliveryState> GetDeliveryState(const std::string& subscription_id);

  // ---- Alignment findings ----
  // Compares `findings` (CheckAlignment of `cycle_id` now) with the findings recorded at
  // the previous call and, in one transaction, appends an ALIGNMENT_FINDING event for each
  // new one (resolved=false) and each gone one (resolved=true), then records the new set.
  // Returns the number of events appended.
  absl::StatusOr<int> RecordFindings(const std::string& cycle_id,
                                     const std::vector<Finding>& findings);

  // ---- Health moved by time alone ----
  // When the health watch last ran (InfinitePast: never).
  absl::StatusOr<absl::Time> HealthWatchTime();
  // Appends `events` (HEALTH_CHANGED caused by time) and records `now` as the watch time,
  // in one transaction. ABORTED if the watch time moved since `previous` (another round
  // ran meanwhile): nothing is appended.
  absl::Status RecordHealthWatch(absl::Time previous, absl::Time now, std::vector<Event> events);

  // ---- Rules ----
  // Stores the rule (id generated if empty) after checking that its objective or team
  // exists (INVALID_ARGUMENT naming `rule.parent`), its subscription exists, and for
  // OPEN_ISSUE that the owning team has a project for the tracker. RESOURCE_EXHAUSTED
  // when options' max_rules exist already.
  absl::StatusOr<Rule> CreateRule(Rule rule);
  absl::StatusOr<Rule> GetRule(const std::string& id);
  // Applies the fields named in `paths` ("condition": type, threshold, days; "action":
  // type, subscription, tracker) when `etag` is empty or matches, validated like
  // CreateRule. The parent cannot change. Firing state is kept: a key result the rule
  // fired for fires again only once the (new) condition stopped holding for it.
  absl::StatusOr<Rule> UpdateRule(const Rule& patch, const std::vector<std::string>& paths,
                                  const std::string& etag);
  absl::StatusOr<ListResult<Rule>> ListRules(const PageRequest& page);
  absl::StatusOr<std::vector<Rule>> AllRules();
  // Deletes the rule and, in the same transaction, cancels its queued issue actions (those
  // not opened yet) and forgets its issue count.
  absl::Status DeleteRule(const std::string& id);

  // Records the verdict of `rule` on one key result. When the condition newly holds (it did
  // not at the last evaluation), in one transaction: marks the firing, appends a RULE_FIRED
  // event (with the rule's subscription for CALL_SUBSCRIPTION) and, for OPEN_ISSUE, queues
  // an IssueAction with `issue` -- unless the rule already queued
  // options().max_issues_per_rule_per_day issues in the last 24 hours (issue_capped). A
  // condition that stops holding re-arms the rule. Re-evaluations and restarts never fire
  // twice for one streak.
  absl::StatusOr<VerdictRecord> RecordVerdict(const Rule& rule, const KeyResult& kr,
                                              const Objective& objective,
                                              const RuleVerdict& verdict, const IssueText& issue);
  // Queued issue actions whose next attempt is due at `now`, oldest first.
  absl::StatusOr<std::vector<IssueAction>> DueIssueActions(absl::Time now, int limit);
  // The tracker has the issue: the action is done (the firing remembers the issue key).
  absl::Status CompleteIssueAction(const IssueAction& action, const std::string& issue_key);
  // The attempt failed: try again at `next_attempt`.
  absl::Status DeferIssueAction(const IssueAction& action, const std::string& error,
                                absl::Time next_attempt);

 private:
  // options' target_url_check of `url`, its error prefixed "subscription.target_url: ".
  absl::Status CheckTargetUrl(const std::string& url) const;

  // Whether `rule_id` may queue one more issue at `now` (under the 24-hour cap); if so,
  // counts it, in `tx`.
  absl::StatusOr<bool> CountIssue(storage::OkrTransaction& tx, const std::string& rule_id,
                                  absl::Time now);

  storage::OkrStore& store_;
  const Clock& clock_;
  const EventsCoreOptions options_;
};

}  // namespace okr::core

#endif  // OKR_SERVICE_CORE_EVENTS_CORE_H_
