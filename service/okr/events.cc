#include "service/okr/events.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "service/okr/lifecycle.h"
#include "service/okr/names.h"
#include "service/okr/trackers.h"

namespace okr {
namespace {

absl::string_view HealthText(Health h) {
  switch (h) {
    case Health::kOnTrack:
      return "ON_TRACK";
    case Health::kAtRisk:
      return "AT_RISK";
    case Health::kOffTrack:
      return "OFF_TRACK";
    case Health::kNotStarted:
      return "NOT_STARTED";
  }
  return "UNSPECIFIED";
}

std::string Percent(double v) { return absl::StrFormat("%.0f%%", v * 100); }

std::string CauseText(const EventCause& cause) {
  std::string text;
  switch (cause.kind) {
    case CauseKind::kCheckIn:
      text = absl::StrCat("check-in ", cause.ref);
      break;
    case CauseKind::kWorkItemClosed:
      text = absl::StrCat("work item ", cause.ref, " closed");
      break;
    case CauseKind::kWorkItemReopened:
      text = absl::StrCat("work item ", cause.ref, " reopened");
      break;
    case CauseKind::kWorkItemAdded:
      text = absl::StrCat("work item ", cause.ref, " added");
      break;
    case CauseKind::kWorkItemRemoved:
      text = absl::StrCat("work item ", cause.ref, " removed");
      break;
    case CauseKind::kWorkItemChanged:
      text = absl::StrCat("work item ", cause.ref, " changed");
      break;
    case CauseKind::kWorkItemExcluded:
      text = absl::StrCat("work item ", cause.ref, " excluded");
      break;
    case CauseKind::kChildObjective:
      text = absl::StrCat("child objective ", cause.ref);
      break;
    case CauseKind::kEdit:
      text = absl::StrCat("edit of ", cause.ref);
      break;
    case CauseKind::kLifecycle:
      text = absl::StrCat("lifecycle of ", cause.ref);
      break;
    case CauseKind::kScopeSync:
      text = absl::StrCat("scope sync of ", cause.ref);
      break;
    case CauseKind::kRule:
      text = absl::StrCat("rule ", cause.ref);
      break;
    case CauseKind::kAlignmentCheck:
      text = absl::StrCat("alignment check of ", cause.ref);
      break;
    case CauseKind::kTimePassed:
      text = absl::StrCat("time passing in ", cause.ref, ": expected progress moved");
      break;
    case CauseKind::kUnspecified:
      text = "an update";
      break;
  }
  // A work item's own words replace the kind's: "work item JIRA OKRX-7 closed as Won't Do:
  // left the key result".
  if (!cause.detail.empty() && absl::StartsWith(text, "work item ")) {
    text = absl::StrCat("work item ", cause.ref, " ", cause.detail);
    if (cause.kind == CauseKind::kWorkItemExcluded) absl::StrAppend(&text, ": left the key result");
  }
  if (!cause.via.empty()) absl::StrAppend(&text, " (via ", cause.via, ")");
  return text;
}

}  // namespace

absl::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kProgressChanged:
      return "PROGRESS_CHANGED";
    case EventType::kHealthChanged:
      return "HEALTH_CHANGED";
    case EventType::kThresholdCrossed:
      return "THRESHOLD_CROSSED";
    case EventType::kScopeChanged:
      return "SCOPE_CHANGED";
    case EventType::kStateChanged:
      return "STATE_CHANGED";
    case EventType::kAlignmentFinding:
      return "ALIGNMENT_FINDING";
    case EventType::kRuleFired:
      return "RULE_FIRED";
  }
  return "EVENT_TYPE_UNSPECIFIED";
}

absl::string_view CauseKindName(CauseKind kind) {
  switch (kind) {
    case CauseKind::kCheckIn:
      return "CHECK_IN";
    case CauseKind::kWorkItemClosed:
      return "WORK_ITEM_CLOSED";
    case CauseKind::kWorkItemReopened:
      return "WORK_ITEM_REOPENED";
    case CauseKind::kWorkItemAdded:
      return "WORK_ITEM_ADDED";
    case CauseKind::kWorkItemRemoved:
      return "WORK_ITEM_REMOVED";
    case CauseKind::kWorkItemChanged:
      return "WORK_ITEM_CHANGED";
    case CauseKind::kChildObjective:
      return "CHILD_OBJECTIVE";
    case CauseKind::kEdit:
      return "EDIT";
    case CauseKind::kLifecycle:
      return "LIFECYCLE";
    case CauseKind::kScopeSync:
      return "SCOPE_SYNC";
    case CauseKind::kRule:
      return "RULE";
    case CauseKind::kAlignmentCheck:
      return "ALIGNMENT_CHECK";
    case CauseKind::kTimePassed:
      return "TIME_PASSED";
    case CauseKind::kWorkItemExcluded:
      return "WORK_ITEM_EXCLUDED";
    case CauseKind::kUnspecified:
      break;
  }
  return "CAUSE_UNSPECIFIED";
}

std::string EventSubject(const Event& event) {
  if (!event.key_result_id.empty()) {
    return names::KeyResult(event.objective_id, event.key_result_id);
  }
  if (!event.objective_id.empty()) return names::Objective(event.objective_id);
  return absl::StrCat("cycles/", event.cycle_id);
}

std::vector<Event> ChangeEvents(const Event& base, const SubjectState& before,
                                const SubjectState& after) {
  std::vector<Event> events;
  const std::string subject = EventSubject(base);
  const std::string why = CauseText(base.cause);
  auto make = [&](EventType type) {
    Event e = base;
    e.type = type;
    e.old_progress = before.progress;
    e.new_progress = after.progress;
    return e;
  };
  if (before.total_weight.has_value() && after.total_weight.has_value() &&
      *before.total_weight != *after.total_weight) {
    Event e = make(EventType::kScopeChanged);
    e.old_total_weight = *before.total_weight;
    e.new_total_weight = *after.total_weight;
    const bool grew = e.new_total_weight > e.old_total_weight;
    const bool work_undone = before.done_weight.has_value() && after.done_weight.has_value() &&
                             *after.done_weight < *before.done_weight;
    e.message = absl::StrCat(subject, ": total weight ", grew ? "grew" : "shrank", " from ",
                             e.old_total_weight, " to ", e.new_total_weight, " (", why, ")");
    if (grew && after.progress < before.progress && !work_undone) {
      absl::StrAppend(&e.message, ": the denominator moved, so progress fell from ",
                      Percent(before.progress), " to ", Percent(after.progress),
                      " without any work being undone");
    }
    events.push_back(std::move(e));
  }
  if (before.progress != after.progress) {
    Event e = make(EventType::kProgressChanged);
    e.message = absl::StrCat(subject, ": progress ", Percent(before.progress), " -> ",
                             Percent(after.progress), " (", why, ")");
    events.push_back(std::move(e));
    for (double mark : kDefaultThresholds) {
      const bool up = before.progress < mark && after.progress >= mark;
      const bool down = after.progress < mark && before.progress >= mark;
      if (!up && !down) continue;
      Event t = make(EventType::kThresholdCrossed);
      t.threshold = mark;
      t.message =
          absl::StrCat(subject, ": progress crossed ", Percent(mark), up ? " upward" : " downward",
                       " (", Percent(before.progress), " -> ", Percent(after.progress), ")");
      events.push_back(std::move(t));
    }
  }
  if (before.health != after.health) {
    Event e = make(EventType::kHealthChanged);
    e.old_health = before.health;
    e.new_health = after.health;
    e.message = absl::StrCat(subject, ": health ", HealthText(before.health), " -> ",
                             HealthText(after.health), " (", why, ")");
    events.push_back(std::move(e));
  }
  if (before.state.has_value() && after.state.has_value() && *before.state != *after.state) {
    Event e = make(EventType::kStateChanged);
    e.old_state = *before.state;
    e.new_state = *after.state;
    e.message = absl::StrCat(subject, ": state ", ObjectiveStateName(*before.state), " -> ",
                             ObjectiveStateName(*after.state));
    events.push_back(std::move(e));
  }
  return events;
}

absl::Status ValidateEventFilter(const EventFilter& filter) {
  for (EventType t : filter.types) {
    const int v = static_cast<int>(t);
    if (v < 1 || v > kMaxEventType) {
      return absl::InvalidArgumentError(absl::StrCat("filter.event_types: unknown event type ", v));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSubscription(const Subscription& s) {
  if (!absl::StartsWith(s.target_url, "http://") && !absl::StartsWith(s.target_url, "https://")) {
    return absl::InvalidArgumentError(
        "subscription.target_url: must be an http:// or https:// URL");
  }
  if (s.target_url.size() > 2048) {
    return absl::InvalidArgumentError("subscription.target_url: longer than 2048 characters");
  }
  for (char c : s.target_url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError(
          "subscription.target_url: must not contain spaces or control characters");
    }
  }
  if (s.secret.size() < 16) {
    return absl::InvalidArgumentError(
        "subscription.secret: at least 16 characters are required to sign deliveries");
  }
  if (s.secret.size() > 1024) {
    return absl::InvalidArgumentError("subscription.secret: longer than 1024 characters");
  }
  return ValidateEventFilter(s.filter);
}

absl::Status ValidateRule(const Rule& r) {
  if (r.objective_id.empty() == r.team_id.empty()) {
    return absl::InvalidArgumentError(
        "rule.parent: a rule belongs to exactly one objective or one team");
  }
  switch (r.condition) {
    case RuleConditionType::kHealthAtRisk:
      break;
    case RuleConditionType::kBehindPace:
    case RuleConditionType::kLowConfidence:
      if (!(r.threshold > 0 && r.threshold <= 1)) {
        return absl::InvalidArgumentError("rule.condition.threshold: must be in (0, 1]");
      }
      break;
    case RuleConditionType::kNoCheckIn:
      if (r.days < 1 || r.days > 366) {
        return absl::InvalidArgumentError("rule.condition.days: must be in 1..366");
      }
      break;
    default:
      return absl::InvalidArgumentError("rule.condition.type: is required");
  }
  switch (r.action) {
    case RuleActionType::kEmitEvent:
    case RuleActionType::kOpenIssue:
      break;
    case RuleActionType::kCallSubscription:
      if (r.subscription_id.empty()) {
        return absl::InvalidArgumentError(
            "rule.action.subscription: is required for CALL_SUBSCRIPTION");
      }
      break;
    default:
      return absl::InvalidArgumentError("rule.action.type: is required");
  }
  if (r.action == RuleActionType::kOpenIssue && FindTracker(r.tracker) == nullptr) {
    std::vector<std::string> names;
    for (const TrackerTraits& t : AllTrackers()) names.push_back(t.enum_name);
    return absl::InvalidArgumentError(
        absl::StrCat("rule.action.tracker: must be ", absl::StrJoin(names, " or ")));
  }
  return absl::OkStatus();
}

RuleVerdict EvaluateRule(const Rule& rule, const RuleInput& in) {
  RuleVerdict v;
  const bool running = in.now >= in.cycle_start && in.now < in.cycle_end;
  switch (rule.condition) {
    case RuleConditionType::kHealthAtRisk:
      v.holds = in.health == Health::kAtRisk || in.health == Health::kOffTrack;
      v.reason =
          absl::StrCat("health is ", HealthText(in.health), " (progress ", Percent(in.progress),
                       ", expected ", Percent(in.expected_progress), ")");
      break;
    case RuleConditionType::kBehindPace:
      v.holds = running && in.expected_progress - in.progress > rule.threshold;
      v.reason =
          absl::StrCat("progress ", Percent(in.progress), " is behind the expected ",
                       Percent(in.expected_progress), " by more than ", Percent(rule.threshold));
      break;
    case RuleConditionType::kLowConfidence:
      v.holds = in.last_confidence.has_value() && *in.last_confidence < rule.threshold;
      v.reason = absl::StrCat(
          "confidence of the last check-in is ",
          in.last_confidence.has_value() ? Percent(*in.last_confidence) : std::string("unknown"),
          ", below ", Percent(rule.threshold));
      break;
    case RuleConditionType::kNoCheckIn: {
      const absl::Time since =
          in.last_check_in == absl::InfinitePast() ? in.cycle_start : in.last_check_in;
      v.holds = running && in.now - since >= absl::Hours(24) * rule.days;
      v.reason = absl::StrCat("no check-in for ", rule.days, " days");
      break;
    }
  }
  return v;
}

}  // namespace okr
