#include "service/api/proto_convert.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"

namespace okr::api {
namespace {

// Largest/smallest seconds of a valid google.protobuf.Timestamp (years 1..9999).
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

v1::Health ToProto(Health h) {
  switch (h) {
    case Health::kOnTrack:
      return v1::ON_TRACK;
    case Health::kAtRisk:
      return v1::AT_RISK;
    case Health::kOffTrack:
      return v1::OFF_TRACK;
    case Health::kNotStarted:
      return v1::NOT_STARTED;
  }
  return v1::HEALTH_UNSPECIFIED;
}

v1::ObjectiveState ToProto(ObjectiveState s) {
  switch (s) {
    case ObjectiveState::kDraft:
      return v1::DRAFT;
    case ObjectiveState::kProposed:
      return v1::PROPOSED;
    case ObjectiveState::kAgreed:
      return v1::AGREED;
    case ObjectiveState::kClosed:
      return v1::CLOSED;
  }
  return v1::OBJECTIVE_STATE_UNSPECIFIED;
}

v1::ObjectiveKind ToProto(ObjectiveKind k) {
  return k == ObjectiveKind::kAspirational ? v1::ASPIRATIONAL : v1::COMMITTED;
}

// The domain's tracker values are the API's (service/okr/trackers.h).
v1::Tracker ToProto(Tracker t) {
  return FindTracker(t) == nullptr ? v1::TRACKER_UNSPECIFIED : static_cast<v1::Tracker>(t);
}

v1::ProgressSource ToProto(ProgressSource source) {
  return source == ProgressSource::kKeyResultsAndChildren ? v1::KEY_RESULTS_AND_CHILDREN
                                                          : v1::KEY_RESULTS;
}

v1::Outcome ToProto(Outcome outcome) {
  switch (outcome) {
    case Outcome::kMet:
      return v1::MET;
    case Outcome::kMissed:
      return v1::MISSED;
    case Outcome::kUnspecified:
      break;
  }
  return v1::OUTCOME_UNSPECIFIED;
}

v1::FindingCode ToProto(FindingCode code) {
  switch (code) {
    case FindingCode::kCycleInAlignment:
      return v1::CYCLE_IN_ALIGNMENT;
    case FindingCode::kCycleOutsideParent:
      return v1::CYCLE_OUTSIDE_PARENT;
    case FindingCode::kOrphan:
      return v1::ORPHAN;
    case FindingCode::kContradiction:
      return v1::CONTRADICTION;
    case FindingCode::kDependencyAtRisk:
      return v1::DEPENDENCY_AT_RISK;
    case FindingCode::kTooManyKeyResults:
      return v1::TOO_MANY_KEY_RESULTS;
    case FindingCode::kNoKeyResults:
      return v1::NO_KEY_RESULTS;
    case FindingCode::kOutputOnly:
      return v1::OUTPUT_ONLY;
  }
  return v1::FINDING_CODE_UNSPECIFIED;
}

v1::Severity ToProto(Severity severity) {
  switch (severity) {
    case Severity::kError:
      return v1::ERROR;
    case Severity::kWarning:
      return v1::WARNING;
  }
  return v1::SEVERITY_UNSPECIFIED;
}

absl::StatusOr<std::string> OptionalName(const std::string& name, absl::string_view field,
                                         absl::StatusOr<std::string> (*parse)(absl::string_view,
                                                                              absl::string_view)) {
  if (name.empty()) return std::string();
  return parse(name, field);
}

}  // namespace

absl::StatusOr<absl::Time> FromProtoTime(const google::protobuf::Timestamp& ts,
                                         absl::string_view field) {
  if (ts.seconds() < kMinSeconds || ts.seconds() > kMaxSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not a valid timestamp"));
  }
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProtoTime(absl::Time t, google::protobuf::Timestamp* out) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return;
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

namespace {

// The string field of Team called `name` (a tracker table team field); nullptr for no name
// or one the message lacks.
const google::protobuf::FieldDescriptor* TeamField(const char* name) {
  if (name == nullptr) return nullptr;
  const google::protobuf::FieldDescriptor* f = v1::Team::descriptor()->FindFieldByName(name);
  if (f == nullptr || f->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      f->is_repeated()) {
    return nullptr;
  }
  return f;
}

// Per tracker, the Team fields of its project and issue type with the Team map they fill.
struct TeamTrackerField {
  Tracker tracker;
  const google::protobuf::FieldDescriptor* field;
  std::map<Tracker, std::string> Team::*member;
};

std::vector<TeamTrackerField> TeamTrackerFields() {
  std::vector<TeamTrackerField> out;
  for (const TrackerTraits& t : AllTrackers()) {
    if (const auto* f = TeamField(t.team_project_field))
      out.push_back({t.tracker, f, &Team::projects});
    if (const auto* f = TeamField(t.team_issue_type_field)) {
      out.push_back({t.tracker, f, &Team::issue_types});
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> TeamTrackerPaths(const v1::Team& in, bool all) {
  const google::protobuf::Reflection* r = in.GetReflection();
  std::vector<std::string> paths;
  for (const TeamTrackerField& f : TeamTrackerFields()) {
    if (all || !r->GetString(in, f.field).empty()) paths.push_back(f.field->name());
  }
  return paths;
}

void ToProto(const Team& team, v1::Team* out) {
  out->set_name(names::Team(team.id));
  out->set_display_name(team.display_name);
  if (!team.parent_id.empty()) out->set_parent(names::Team(team.parent_id));
  out->set_etag(core::FormatEtag(team.meta.revision));
  ToProtoTime(team.meta.create_time, out->mutable_create_time());
  ToProtoTime(team.meta.update_time, out->mutable_update_time());
  const google::protobuf::Reflection* r = out->GetReflection();
  for (const TeamTrackerField& f : TeamTrackerFields()) {
    const std::map<Tracker, std::string>& values = team.*f.member;
    if (auto it = values.find(f.tracker); it != values.end())
      r->SetString(out, f.field, it->second);
  }
}

void ToProto(const Cycle& cycle, v1::Cycle* out) {
  out->set_name(names::Cycle(cycle.id));
  out->set_display_name(cycle.display_name);
  ToProtoTime(cycle.start_time, out->mutable_start_time());
  ToProtoTime(cycle.end_time, out->mutable_end_time());
  out->set_etag(core::FormatEtag(cycle.meta.revision));
  ToProtoTime(cycle.meta.create_time, out->mutable_create_time());
  ToProtoTime(cycle.meta.update_time, out->mutable_update_time());
}

void ToProto(const Objective& o, v1::Objective* out) {
  out->set_name(names::Objective(o.id));
  out->set_title(o.title);
  out->set_description(o.description);
  out->set_team(names::Team(o.team_id));
  out->set_cycle(names::Cycle(o.cycle_id));
  if (!o.parent_id.empty()) out->set_parent(names::Objective(o.parent_id));
  out->set_kind(ToProto(o.kind));
  out->set_state(ToProto(o.state));
  out->set_progress(o.progress);
  out->set_expected_progress(o.expected_progress);
  out->set_health(ToProto(o.health));
  out->set_etag(core::FormatEtag(o.meta.revision));
  ToProtoTime(o.meta.create_time, out->mutable_create_time());
  ToProtoTime(o.meta.update_time, out->mutable_update_time());
  out->set_progress_source(ToProto(o.progress_source));
  out->set_weight(o.weight);
  for (const std::string& kr : o.contributes_to) out->add_contributes_to(kr);
  for (const std::string& id : o.depends_on) out->add_depends_on(names::Objective(id));
  for (const Agreement& a : o.agreements) {
    v1::Agreement* agreement = out->add_agreements();
    agreement->set_team(names::Team(a.team_id));
    agreement->set_agreed_by(a.agreed_by);
    ToProtoTime(a.agree_time, agreement->mutable_agree_time());
  }
  if (o.scored) out->set_score(o.score);
  out->set_outcome(ToProto(o.outcome));
  out->set_reopen_reason(o.reopen_reason);
}

void ToProto(const KeyResult& kr, v1::KeyResult* out) {
  out->set_name(names::KeyResult(kr.objective_id, kr.id));
  out->set_title(kr.title);
  out->set_weight(kr.weight);
  switch (kr.type) {
    case KeyResultType::kMetric: {
      v1::MetricKeyResult* m = out->mutable_metric();
      m->set_start_value(kr.metric.start_value);
      m->set_target_value(kr.metric.target_value);
      m->set_current_value(kr.metric.current_value);
      m->set_unit(kr.metric.unit);
      m->set_metric_key(kr.metric_key);
      break;
    }
    case KeyResultType::kMilestone:
      out->mutable_milestone()->set_done(kr.milestone_done);
      break;
    case KeyResultType::kWorkItems: {
      v1::WorkItemsKeyResult* w = out->mutable_work_items();
      w->set_item_count(static_cast<int32_t>(kr.totals.item_count));
      w->set_done_count(static_cast<int32_t>(kr.totals.done_count));
      w->set_total_weight(kr.totals.total_weight);
      w->set_done_weight(kr.totals.done_weight);
      w->set_excluded_count(static_cast<int32_t>(kr.totals.excluded_count));
      ScopesToProto(kr.scopes, w);
      break;
    }
  }
  out->set_progress(kr.progress);
  out->set_raw_progress(kr.raw_progress);
  out->set_expected_progress(kr.expected_progress);
  out->set_health(ToProto(kr.health));
  out->set_etag(core::FormatEtag(kr.meta.revision));
  ToProtoTime(kr.meta.create_time, out->mutable_create_time());
  ToProtoTime(kr.meta.update_time, out->mutable_update_time());
  if (kr.score.has_value()) out->set_score(*kr.score);
  out->set_score_reason(kr.score_reason);
}

void ToProto(const CheckIn& c, v1::CheckIn* out) {
  out->set_name(names::CheckIn(c.objective_id, c.key_result_id, c.id));
  if (c.value.has_value()) out->set_value(*c.value);
  if (c.confidence.has_value()) out->set_confidence(*c.confidence);
  out->set_note(c.note);
  out->set_author(c.author);
  ToProtoTime(c.meta.create_time, out->mutable_create_time());
}

void ToProto(const WorkItem& item, v1::WorkItem* out) {
  out->set_tracker(ToProto(item.tracker));
  out->set_key(item.key);
  out->set_title(item.title);
  out->set_url(item.url);
  out->set_done(item.done);
  out->set_weight(item.weight);
  ToProtoTime(item.update_time, out->mutable_update_time());
  out->set_credit(ItemCreditShare(item));
  out->set_status(item.status);
  out->set_excluded(item.excluded());
  out->set_exclusion_reason(item.exclusion);
}

void ToProto(const WorkItemLink& link, v1::WorkItemLink* out) {
  out->set_name(names::WorkItemLink(link.objective_id, link.key_result_id, link.id));
  ToProto(link.item, out->mutable_work_item());
  ToProtoTime(link.meta.create_time, out->mutable_create_time());
}

void ToProto(const Finding& finding, v1::Finding* out) {
  out->set_code(ToProto(finding.code));
  out->set_severity(ToProto(finding.severity));
  for (const std::string& subject : finding.subjects) out->add_subjects(subject);
  out->set_message(finding.message);
}

void ToProto(const core::AlignmentNode& node, v1::AlignmentNode* out) {
  const Objective& o = node.objective;
  out->set_objective(names::Objective(o.id));
  out->set_title(o.title);
  out->set_team(names::Team(o.team_id));
  out->set_cycle(names::Cycle(o.cycle_id));
  out->set_state(ToProto(o.state));
  out->set_progress(o.progress);
  out->set_expected_progress(o.expected_progress);
  out->set_health(ToProto(o.health));
  for (const core::AlignmentNode& child : node.children) ToProto(child, out->add_children());
}

absl::StatusOr<Team> FromProto(const v1::Team& in, const std::string& team_id) {
  Team team;
  team.id = team_id;
  team.display_name = in.display_name();
  OKR_ASSIGN_OR_RETURN(team.parent_id, OptionalName(in.parent(), "team.parent", names::ParseTeam));
  const google::protobuf::Reflection* r = in.GetReflection();
  for (const TeamTrackerField& f : TeamTrackerFields()) {
    std::string value = r->GetString(in, f.field);
    if (!value.empty()) (team.*f.member)[f.tracker] = std::move(value);
  }
  return team;
}

absl::StatusOr<Cycle> FromProto(const v1::Cycle& in, const std::string& cycle_id) {
  Cycle cycle;
  cycle.id = cycle_id;
  cycle.display_name = in.display_name();
  if (in.has_start_time()) {
    OKR_ASSIGN_OR_RETURN(cycle.start_time, FromProtoTime(in.start_time(), "cycle.start_time"));
  }
  if (in.has_end_time()) {
    OKR_ASSIGN_OR_RETURN(cycle.end_time, FromProtoTime(in.end_time(), "cycle.end_time"));
  }
  return cycle;
}

absl::StatusOr<Objective> FromProto(const v1::Objective& in) {
  Objective o;
  o.title = in.title();
  o.description = in.description();
  OKR_ASSIGN_OR_RETURN(o.team_id, OptionalName(in.team(), "objective.team", names::ParseTeam));
  OKR_ASSIGN_OR_RETURN(o.cycle_id, OptionalName(in.cycle(), "objective.cycle", names::ParseCycle));
  OKR_ASSIGN_OR_RETURN(o.parent_id,
                       OptionalName(in.parent(), "objective.parent", names::ParseObjective));
  switch (in.kind()) {
    case v1::OBJECTIVE_KIND_UNSPECIFIED:
    case v1::COMMITTED:
      o.kind = ObjectiveKind::kCommitted;
      break;
    case v1::ASPIRATIONAL:
      o.kind = ObjectiveKind::kAspirational;
      break;
    default:
      return absl::InvalidArgumentError("objective.kind must be COMMITTED or ASPIRATIONAL");
  }
  switch (in.progress_source()) {
    case v1::PROGRESS_SOURCE_UNSPECIFIED:
    case v1::KEY_RESULTS:
      o.progress_source = ProgressSource::kKeyResults;
      break;
    case v1::KEY_RESULTS_AND_CHILDREN:
      o.progress_source = ProgressSource::kKeyResultsAndChildren;
      break;
    default:
      return absl::InvalidArgumentError(
          "objective.progress_source must be KEY_RESULTS or KEY_RESULTS_AND_CHILDREN");
  }
  o.weight = in.has_weight() ? in.weight() : 1.0;
  for (const std::string& name : in.contributes_to()) {
    OKR_ASSIGN_OR_RETURN(names::KeyResultName kr,
                         names::ParseKeyResult(name, "objective.contributes_to"));
    o.contributes_to.push_back(names::KeyResult(kr.objective_id, kr.key_result_id));
  }
  for (const std::string& name : in.depends_on()) {
    OKR_ASSIGN_OR_RETURN(std::string id, names::ParseObjective(name, "objective.depends_on"));
    o.depends_on.push_back(std::move(id));
  }
  return o;
}

absl::StatusOr<KeyResult> FromProto(const v1::KeyResult& in) {
  KeyResult kr;
  kr.title = in.title();
  kr.weight = in.has_weight() ? in.weight() : 1.0;
  switch (in.measure_case()) {
    case v1::KeyResult::kMetric:
      kr.type = KeyResultType::kMetric;
      kr.metric.start_value = in.metric().start_value();
      kr.metric.target_value = in.metric().target_value();
      kr.metric.current_value =
          in.metric().has_current_value() ? in.metric().current_value() : in.metric().start_value();
      kr.metric.unit = in.metric().unit();
      kr.metric_key = in.metric().metric_key();
      break;
    case v1::KeyResult::kMilestone:
      kr.type = KeyResultType::kMilestone;
      kr.milestone_done = in.milestone().done();
      break;
    case v1::KeyResult::kWorkItems:
      kr.type = KeyResultType::kWorkItems;
      kr.scopes = ScopesFromProto(in.work_items());
      break;
    case v1::KeyResult::MEASURE_NOT_SET:
      return absl::InvalidArgumentError(
          "key_result.measure: one of metric, milestone or work_items is required");
  }
  return kr;
}

absl::StatusOr<Tracker> FromProto(v1::Tracker tracker, absl::string_view field) {
  const Tracker t = static_cast<Tracker>(tracker);
  if (FindTracker(t) != nullptr) return t;
  std::vector<std::string> names;
  for (const TrackerTraits& known : AllTrackers()) names.push_back(known.enum_name);
  return absl::InvalidArgumentError(absl::StrCat(field, " must be ", absl::StrJoin(names, " or ")));
}

absl::StatusOr<WorkItem> FromProto(const v1::WorkItem& in) {
  WorkItem item;
  OKR_ASSIGN_OR_RETURN(item.tracker, FromProto(in.tracker(), "work_item.tracker"));
  item.key = in.key();
  item.title = in.title();
  item.url = in.url();
  item.done = in.done();
  item.weight = in.has_weight() ? in.weight() : 1.0;
  return item;
}

absl::StatusOr<ExplicitScores> FromProto(
    const google::protobuf::RepeatedPtrField<v1::KeyResultScore>& scores,
    const std::string& objective_id) {
  ExplicitScores out;
  for (int i = 0; i < scores.size(); ++i) {
    const v1::KeyResultScore& in = scores.Get(i);
    const std::string field = absl::StrCat("key_result_scores[", i, "]");
    OKR_ASSIGN_OR_RETURN(
        names::KeyResultName kr,
        names::ParseKeyResult(in.key_result(), absl::StrCat(field, ".key_result")));
    if (kr.objective_id != objective_id) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".key_result: ", in.key_result(),
                                                     " is not a key result of ",
                                                     names::Objective(objective_id)));
    }
    if (!out.emplace(kr.key_result_id, ExplicitScore{in.score(), in.reason()}).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".key_result: ", in.key_result(), " is listed twice"));
    }
  }
  return out;
}

namespace {

// The string field of WorkItemsKeyResult called `name` (a tracker table scope field);
// nullptr for no name, or one the message lacks or of another shape.
const google::protobuf::FieldDescriptor* ScopeField(const char* name, bool repeated) {
  if (name == nullptr) return nullptr;
  const google::protobuf::FieldDescriptor* f =
      v1::WorkItemsKeyResult::descriptor()->FindFieldByName(name);
  if (f == nullptr || f->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      f->is_repeated() != repeated) {
    return nullptr;
  }
  return f;
}

// The scope fields of a tracker with their TrackerScope member, in API order.
struct ScopeParts {
  const google::protobuf::FieldDescriptor* query;
  const google::protobuf::FieldDescriptor* project;
  const google::protobuf::FieldDescriptor* labels;
  const google::protobuf::FieldDescriptor* milestone;
};

ScopeParts PartsOf(const TrackerTraits& t) {
  return ScopeParts{
      ScopeField(t.scope_query_field, false), ScopeField(t.scope_project_field, false),
      ScopeField(t.scope_labels_field, true), ScopeField(t.scope_milestone_field, false)};
}

}  // namespace

void ScopesToProto(const std::map<Tracker, TrackerScope>& scopes, v1::WorkItemsKeyResult* out) {
  const google::protobuf::Reflection* r = out->GetReflection();
  for (const auto& [tracker, scope] : scopes) {
    const TrackerTraits* t = FindTracker(tracker);
    if (t == nullptr) continue;
    const ScopeParts parts = PartsOf(*t);
    if (parts.query != nullptr) r->SetString(out, parts.query, scope.query);
    if (parts.project != nullptr) r->SetString(out, parts.project, scope.project);
    if (parts.labels != nullptr) {
      r->ClearField(out, parts.labels);
      for (const std::string& label : scope.labels) r->AddString(out, parts.labels, label);
    }
    if (parts.milestone != nullptr) r->SetString(out, parts.milestone, scope.milestone);
  }
}

std::map<Tracker, TrackerScope> ScopesFromProto(const v1::WorkItemsKeyResult& in) {
  const google::protobuf::Reflection* r = in.GetReflection();
  std::map<Tracker, TrackerScope> scopes;
  for (const TrackerTraits& t : AllTrackers()) {
    const ScopeParts parts = PartsOf(t);
    TrackerScope scope;
    if (parts.query != nullptr) scope.query = r->GetString(in, parts.query);
    if (parts.project != nullptr) scope.project = r->GetString(in, parts.project);
    if (parts.labels != nullptr) {
      for (int i = 0; i < r->FieldSize(in, parts.labels); ++i) {
        scope.labels.push_back(r->GetRepeatedString(in, parts.labels, i));
      }
    }
    if (parts.milestone != nullptr) scope.milestone = r->GetString(in, parts.milestone);
    if (!scope.query.empty() || !scope.project.empty() || !scope.labels.empty() ||
        !scope.milestone.empty()) {
      scopes[t.tracker] = std::move(scope);
    }
  }
  return scopes;
}

std::vector<std::string> ScopePaths(const v1::WorkItemsKeyResult& in, bool all) {
  const google::protobuf::Reflection* r = in.GetReflection();
  std::vector<std::string> paths;
  for (const TrackerTraits& t : AllTrackers()) {
    const ScopeParts parts = PartsOf(t);
    for (const google::protobuf::FieldDescriptor* f :
         {parts.query, parts.project, parts.labels, parts.milestone}) {
      if (f == nullptr) continue;
      const bool set = f->is_repeated() ? r->FieldSize(in, f) > 0 : !r->GetString(in, f).empty();
      if (all || set) paths.push_back(absl::StrCat("work_items.", f->name()));
    }
  }
  return paths;
}

std::vector<std::string> MaskPaths(const google::protobuf::FieldMask& mask,
                                   std::vector<std::string> defaults) {
  if (mask.paths_size() == 0) return defaults;
  return std::vector<std::string>(mask.paths().begin(), mask.paths().end());
}

core::PageRequest ToPageRequest(int32_t page_size, const std::string& page_token) {
  return core::PageRequest{page_size, page_token};
}

// ---- Events, subscriptions, rules ----

namespace {

v1::FindingCode FindingCodeFromName(const std::string& name) {
  v1::FindingCode code = v1::FINDING_CODE_UNSPECIFIED;
  if (!name.empty()) v1::FindingCode_Parse(name, &code);
  return code;
}

}  // namespace

void ToProto(const Event& e, v1::Event* out) {
  out->set_name(absl::StrCat("events/", e.sequence));
  out->set_sequence(e.sequence);
  out->set_type(static_cast<v1::EventType>(static_cast<int>(e.type)));
  ToProtoTime(e.time, out->mutable_event_time());
  out->set_subject(EventSubject(e));
  if (!e.objective_id.empty()) out->set_objective(names::Objective(e.objective_id));
  if (!e.key_result_id.empty()) {
    out->set_key_result(names::KeyResult(e.objective_id, e.key_result_id));
  }
  if (!e.team_id.empty()) out->set_team(names::Team(e.team_id));
  if (!e.cycle_id.empty()) out->set_cycle(names::Cycle(e.cycle_id));
  v1::EventCause* cause = out->mutable_cause();
  cause->set_kind(static_cast<v1::CauseKind>(static_cast<int>(e.cause.kind)));
  cause->set_ref(e.cause.ref);
  cause->set_via(e.cause.via);
  cause->set_detail(e.cause.detail);
  out->set_old_progress(e.old_progress);
  out->set_new_progress(e.new_progress);
  out->set_threshold(e.threshold);
  if (e.type == EventType::kHealthChanged) {
    out->set_old_health(ToProto(e.old_health));
    out->set_new_health(ToProto(e.new_health));
  }
  if (e.type == EventType::kStateChanged) {
    out->set_old_state(ToProto(e.old_state));
    out->set_new_state(ToProto(e.new_state));
  }
  out->set_old_total_weight(e.old_total_weight);
  out->set_new_total_weight(e.new_total_weight);
  out->set_finding_code(FindingCodeFromName(e.finding_code));
  out->set_finding_subject(e.finding_subject);
  out->set_resolved(e.resolved);
  if (!e.rule_id.empty()) out->set_rule(absl::StrCat("rules/", e.rule_id));
  if (!e.subscription_id.empty()) {
    out->set_subscription(absl::StrCat("subscriptions/", e.subscription_id));
  }
  out->set_message(e.message);
}

std::string EventToJson(const Event& event) {
  v1::Event message;
  ToProto(event, &message);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  // Receivers see every field, zeros included (e.g. oldProgress 0 on a first check-in).
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

void ToProto(const EventFilter& f, v1::EventFilter* out) {
  if (!f.objective_id.empty()) out->set_objective(names::Objective(f.objective_id));
  if (!f.team_id.empty()) out->set_team(names::Team(f.team_id));
  if (!f.cycle_id.empty()) out->set_cycle(names::Cycle(f.cycle_id));
  for (EventType t : f.types) out->add_event_types(static_cast<v1::EventType>(static_cast<int>(t)));
}

absl::StatusOr<EventFilter> FromProto(const v1::EventFilter& in, absl::string_view field) {
  EventFilter f;
  OKR_ASSIGN_OR_RETURN(
      f.objective_id,
      OptionalName(in.objective(), absl::StrCat(field, ".objective"), names::ParseObjective));
  OKR_ASSIGN_OR_RETURN(f.team_id,
                       OptionalName(in.team(), absl::StrCat(field, ".team"), names::ParseTeam));
  OKR_ASSIGN_OR_RETURN(f.cycle_id,
                       OptionalName(in.cycle(), absl::StrCat(field, ".cycle"), names::ParseCycle));
  for (int t : in.event_types()) {
    if (t <= 0 || t > kMaxEventType) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".event_types: unknown event type ", t));
    }
    f.types.push_back(static_cast<EventType>(t));
  }
  return f;
}

void ToProto(const Subscription& s, v1::Subscription* out) {
  out->set_name(absl::StrCat("subscriptions/", s.id));
  out->set_target_url(s.target_url);
  ToProto(s.filter, out->mutable_filter());
  out->set_state(s.state == SubscriptionState::kFailing ? v1::SUBSCRIPTION_FAILING
                                                        : v1::SUBSCRIPTION_ACTIVE);
  out->set_delivered_sequence(s.delivered_sequence);
  out->set_last_error(s.last_error);
  if (s.failing_since != absl::InfinitePast()) {
    ToProtoTime(s.failing_since, out->mutable_failing_since());
  }
  ToProtoTime(s.meta.create_time, out->mutable_create_time());
  out->set_etag(core::FormatEtag(s.meta.revision));
}

absl::StatusOr<Subscription> FromProto(const v1::Subscription& in, const std::string& id) {
  Subscription s;
  s.id = id;
  s.target_url = in.target_url();
  s.secret = in.secret();
  OKR_ASSIGN_OR_RETURN(s.filter, FromProto(in.filter(), "subscription.filter"));
  return s;
}

void ToProto(const TrackerFreshness& f, v1::TrackerFreshness* out) {
  out->set_tracker(ToProto(f.tracker));
  out->set_site(f.site);
  if (f.confirm_time.has_value()) ToProtoTime(*f.confirm_time, out->mutable_confirm_time());
  out->set_stale(f.stale);
  out->set_stale_reason(f.stale_reason);
}

void ToProto(const ApiToken& t, const std::string& secret, v1::ApiToken* out) {
  out->set_name(absl::StrCat("apiTokens/", t.id));
  out->set_display_name(t.display_name);
  switch (t.role) {
    case Role::kViewer:
      out->set_role(v1::VIEWER);
      break;
    case Role::kEditor:
      out->set_role(v1::EDITOR);
      break;
    case Role::kAdmin:
      out->set_role(v1::ADMIN);
      break;
    case Role::kUnspecified:
      out->set_role(v1::ROLE_UNSPECIFIED);
      break;
  }
  for (const std::string& team : t.team_ids) out->add_teams(names::Team(team));
  if (!secret.empty()) out->set_secret(secret);
  ToProtoTime(t.meta.create_time, out->mutable_create_time());
}

absl::StatusOr<ApiToken> FromProto(const v1::ApiToken& in, const std::string& id) {
  ApiToken t;
  t.id = id;
  t.display_name = in.display_name();
  switch (in.role()) {
    case v1::VIEWER:
      t.role = Role::kViewer;
      break;
    case v1::EDITOR:
      t.role = Role::kEditor;
      break;
    case v1::ADMIN:
      t.role = Role::kAdmin;
      break;
    default:
      t.role = Role::kUnspecified;
      break;
  }
  for (const std::string& team : in.teams()) {
    OKR_ASSIGN_OR_RETURN(std::string team_id, names::ParseTeam(team, "api_token.teams"));
    t.team_ids.push_back(std::move(team_id));
  }
  return t;
}

void ToProto(const Rule& r, v1::Rule* out) {
  out->set_name(absl::StrCat("rules/", r.id));
  out->set_parent(r.objective_id.empty() ? names::Team(r.team_id)
                                         : names::Objective(r.objective_id));
  v1::RuleCondition* c = out->mutable_condition();
  c->set_type(static_cast<v1::RuleConditionType>(static_cast<int>(r.condition)));
  c->set_threshold(r.threshold);
  c->set_days(r.days);
  v1::RuleAction* a = out->mutable_action();
  a->set_type(static_cast<v1::RuleActionType>(static_cast<int>(r.action)));
  if (!r.subscription_id.empty())
    a->set_subscription(absl::StrCat("subscriptions/", r.subscription_id));
  if (r.action == RuleActionType::kOpenIssue) a->set_tracker(ToProto(r.tracker));
  ToProtoTime(r.meta.create_time, out->mutable_create_time());
  out->set_etag(core::FormatEtag(r.meta.revision));
}

absl::StatusOr<Rule> FromProto(const v1::Rule& in, const std::string& id) {
  Rule r;
  r.id = id;
  if (absl::StartsWith(in.parent(), "teams/")) {
    OKR_ASSIGN_OR_RETURN(r.team_id, names::ParseTeam(in.parent(), "rule.parent"));
  } else if (absl::StartsWith(in.parent(), "objectives/")) {
    OKR_ASSIGN_OR_RETURN(r.objective_id, names::ParseObjective(in.parent(), "rule.parent"));
  } else {
    return absl::InvalidArgumentError(
        "rule.parent: must be objectives/{objective} or teams/{team}");
  }
  const int type = in.condition().type();
  if (type < 1 || type > 4) {
    return absl::InvalidArgumentError("rule.condition.type: is required");
  }
  r.condition = static_cast<RuleConditionType>(type);
  r.threshold = in.condition().threshold();
  r.days = in.condition().days();
  const int action = in.action().type();
  if (action < 1 || action > 3) return absl::InvalidArgumentError("rule.action.type: is required");
  r.action = static_cast<RuleActionType>(action);
  if (!in.action().subscription().empty()) {
    constexpr absl::string_view kPrefix = "subscriptions/";
    if (!absl::StartsWith(in.action().subscription(), kPrefix)) {
      return absl::InvalidArgumentError(
          "rule.action.subscription: must be subscriptions/{subscription}");
    }
    r.subscription_id = in.action().subscription().substr(kPrefix.size());
    OKR_RETURN_IF_ERROR(names::ValidateId(r.subscription_id, "rule.action.subscription"));
  }
  if (r.action == RuleActionType::kOpenIssue) {
    OKR_ASSIGN_OR_RETURN(r.tracker, FromProto(in.action().tracker(), "rule.action.tracker"));
  }
  return r;
}

}  // namespace okr::api
