// The `-o table` layout of each resource, and the small parsers behind the flags.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "cli/okrctl/command_util.h"
#include "google/protobuf/util/time_util.h"

namespace okr::cli {

using google::protobuf::RepeatedPtrField;

absl::StatusOr<int> EnumValue(const google::protobuf::EnumDescriptor* descriptor,
                              const std::string& text, const std::string& what,
                              const std::string& prefix) {
  const std::string wanted = absl::StrReplaceAll(absl::AsciiStrToUpper(text), {{"-", "_"}});
  std::vector<std::string> valid;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() == 0) continue;
    std::string name = v->name();
    if (!prefix.empty() && absl::StartsWith(name, prefix)) name = name.substr(prefix.size());
    if (wanted == v->name() || wanted == name) return v->number();
    valid.push_back(name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " must be one of ", absl::StrJoin(valid, ", "), ", not \"", text, "\""));
}

absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(const std::string& text,
                                                           const std::string& what) {
  std::string rfc3339 = text;
  if (text.size() == 10) rfc3339 += "T00:00:00Z";
  google::protobuf::Timestamp t;
  if (!google::protobuf::util::TimeUtil::FromString(rfc3339, &t)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a date (2026-10-01) or an RFC 3339 time, not \"", text, "\""));
  }
  return t;
}

namespace {

std::string Optional(bool has, double value) { return has ? FormatNumber(value) : ""; }

std::string Measure(const v1::KeyResult& kr) {
  switch (kr.measure_case()) {
    case v1::KeyResult::kMetric: {
      const v1::MetricKeyResult& m = kr.metric();
      const double current = m.has_current_value() ? m.current_value() : m.start_value();
      return absl::StrCat(FormatNumber(m.start_value()), " -> ", FormatNumber(m.target_value()),
                          m.unit().empty() ? "" : " ", m.unit(), " (now ", FormatNumber(current),
                          ")");
    }
    case v1::KeyResult::kMilestone:
      return kr.milestone().done() ? "done" : "not done";
    case v1::KeyResult::kWorkItems:
      return absl::StrCat(kr.work_items().done_count(), "/", kr.work_items().item_count(),
                          " items done");
    default:
      return "";
  }
}

std::string MeasureType(const v1::KeyResult& kr) {
  switch (kr.measure_case()) {
    case v1::KeyResult::kMetric:
      return "metric";
    case v1::KeyResult::kMilestone:
      return "milestone";
    case v1::KeyResult::kWorkItems:
      return "work-items";
    default:
      return "";
  }
}

std::string Filter(const v1::EventFilter& f) {
  std::vector<std::string> parts;
  if (!f.objective().empty()) parts.push_back(f.objective());
  if (!f.team().empty()) parts.push_back(f.team());
  if (!f.cycle().empty()) parts.push_back(f.cycle());
  for (int t : f.event_types()) parts.push_back(v1::EventType_Name(static_cast<v1::EventType>(t)));
  return parts.empty() ? "all events" : absl::StrJoin(parts, " ");
}

std::string Condition(const v1::RuleCondition& c) {
  std::string out = v1::RuleConditionType_Name(c.type());
  switch (c.type()) {
    case v1::BEHIND_PACE:
      return absl::StrCat(out, " > ", FormatNumber(c.threshold()));
    case v1::LOW_CONFIDENCE:
      return absl::StrCat(out, " < ", FormatNumber(c.threshold()));
    case v1::NO_CHECK_IN:
      return absl::StrCat(out, " ", c.days(), "d");
    default:
      return out;
  }
}

std::string Action(const v1::RuleAction& a) {
  std::string out = v1::RuleActionType_Name(a.type());
  if (a.type() == v1::CALL_SUBSCRIPTION) absl::StrAppend(&out, " ", a.subscription());
  if (a.type() == v1::OPEN_ISSUE) absl::StrAppend(&out, " ", v1::Tracker_Name(a.tracker()));
  return out;
}

}  // namespace

std::string TeamTable(const RepeatedPtrField<v1::Team>& teams, bool colour) {
  Table t({"NAME", "DISPLAY NAME", "PARENT", "JIRA PROJECT", "GITLAB PROJECT"});
  for (const v1::Team& x : teams) {
    t.AddRow({x.name(), x.display_name(), x.parent(), x.jira_project_key(), x.gitlab_project()});
  }
  return t.Render(colour);
}

std::string CycleTable(const RepeatedPtrField<v1::Cycle>& cycles, bool colour) {
  Table t({"NAME", "DISPLAY NAME", "START", "END"});
  for (const v1::Cycle& x : cycles) {
    t.AddRow({x.name(), x.display_name(), FormatTime(x.start_time()), FormatTime(x.end_time())});
  }
  return t.Render(colour);
}

std::string ObjectiveTable(const RepeatedPtrField<v1::Objective>& objectives, bool colour) {
  Table t({"NAME", "TEAM", "CYCLE", "STATE", "PROGRESS", "HEALTH", "TITLE"});
  for (const v1::Objective& x : objectives) {
    t.AddRow({x.name(), x.team(), x.cycle(), v1::ObjectiveState_Name(x.state()),
              Percent(x.progress()), HealthCell(x.health()), x.title()});
  }
  return t.Render(colour);
}

std::string KeyResultTable(const RepeatedPtrField<v1::KeyResult>& key_results, bool colour) {
  Table t({"NAME", "TYPE", "MEASURE", "PROGRESS", "HEALTH", "TITLE"});
  for (const v1::KeyResult& x : key_results) {
    t.AddRow({x.name(), MeasureType(x), Measure(x), Percent(x.progress()), HealthCell(x.health()),
              x.title()});
  }
  return t.Render(colour);
}

std::string CheckInTable(const RepeatedPtrField<v1::CheckIn>& check_ins, bool colour) {
  Table t({"NAME", "TIME", "VALUE", "CONFIDENCE", "AUTHOR", "NOTE"});
  for (const v1::CheckIn& x : check_ins) {
    t.AddRow({x.name(), FormatTime(x.create_time()), Optional(x.has_value(), x.value()),
              Optional(x.has_confidence(), x.confidence()), x.author(), x.note()});
  }
  return t.Render(colour);
}

std::string LinkTable(const RepeatedPtrField<v1::WorkItemLink>& links, bool colour) {
  Table t({"NAME", "TRACKER", "KEY", "DONE", "WEIGHT", "TITLE"});
  for (const v1::WorkItemLink& x : links) {
    const v1::WorkItem& w = x.work_item();
    t.AddRow({x.name(), v1::Tracker_Name(w.tracker()), w.key(), w.done() ? "yes" : "no",
              w.has_weight() ? FormatNumber(w.weight()) : "1", w.title()});
  }
  return t.Render(colour);
}

std::string TokenTable(const RepeatedPtrField<v1::ApiToken>& tokens, bool colour) {
  bool secrets = false;
  for (const v1::ApiToken& x : tokens) secrets |= !x.secret().empty();
  std::vector<std::string> headers = {"NAME", "DISPLAY NAME", "ROLE", "TEAMS"};
  if (secrets) headers.push_back("SECRET");
  Table t(headers);
  for (const v1::ApiToken& x : tokens) {
    std::vector<Cell> row = {x.name(), x.display_name(), v1::Role_Name(x.role()),
                             absl::StrJoin(x.teams(), ",")};
    if (secrets) row.push_back(x.secret());
    t.AddRow(row);
  }
  std::string out = t.Render(colour);
  if (secrets) absl::StrAppend(&out, "The secret is shown only this once: keep it now.\n");
  return out;
}

std::string SubscriptionTable(const RepeatedPtrField<v1::Subscription>& subscriptions,
                              bool colour) {
  Table t({"NAME", "URL", "STATE", "DELIVERED", "FILTER", "LAST ERROR"});
  for (const v1::Subscription& x : subscriptions) {
    Cell state(x.state() == v1::SUBSCRIPTION_FAILING ? "FAILING" : "ACTIVE",
               x.state() == v1::SUBSCRIPTION_FAILING ? Colour::kRed : Colour::kNone);
    t.AddRow({x.name(), x.target_url(), state, absl::StrCat(x.delivered_sequence()),
              Filter(x.filter()), x.last_error()});
  }
  return t.Render(colour);
}

std::string RuleTable(const RepeatedPtrField<v1::Rule>& rules, bool colour) {
  Table t({"NAME", "PARENT", "CONDITION", "ACTION"});
  for (const v1::Rule& x : rules) {
    t.AddRow({x.name(), x.parent(), Condition(x.condition()), Action(x.action())});
  }
  return t.Render(colour);
}

std::string FindingTable(const RepeatedPtrField<v1::Finding>& findings, bool colour) {
  if (findings.empty()) return "No findings.\n";
  Table t({"SEVERITY", "CODE", "SUBJECTS", "MESSAGE"});
  for (const v1::Finding& x : findings) {
    Cell severity(v1::Severity_Name(x.severity()),
                  x.severity() == v1::ERROR ? Colour::kRed : Colour::kYellow);
    t.AddRow(
        {severity, v1::FindingCode_Name(x.code()), absl::StrJoin(x.subjects(), ","), x.message()});
  }
  return t.Render(colour);
}

std::string EventTable(const RepeatedPtrField<v1::Event>& events, bool colour) {
  Table t({"SEQUENCE", "TIME", "TYPE", "SUBJECT", "MESSAGE"});
  for (const v1::Event& x : events) {
    t.AddRow({absl::StrCat(x.sequence()), FormatTime(x.event_time()), v1::EventType_Name(x.type()),
              x.subject(), x.message()});
  }
  return t.Render(colour);
}

std::string EventLine(const v1::Event& x, bool colour) {
  return absl::StrCat(x.sequence(), "  ", FormatTime(x.event_time()), "  ",
                      Paint(v1::EventType_Name(x.type()), Colour::kBold, colour), "  ", x.subject(),
                      "  ", x.message(), "\n");
}

}  // namespace okr::cli
