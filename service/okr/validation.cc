#include "service/okr/validation.h"

#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "service/okr/status_macros.h"
#include "service/okr/trackers.h"

namespace okr {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
}

absl::Status CheckText(absl::string_view value, absl::string_view field, size_t max,
                       bool required) {
  if (required && absl::StripAsciiWhitespace(value).empty()) {
    return Invalid(field, "is required");
  }
  if (value.size() > max) return Invalid(field, absl::StrCat("is longer than ", max, " bytes"));
  return absl::OkStatus();
}

absl::Status CheckFinite(double v, absl::string_view field) {
  if (!std::isfinite(v)) return Invalid(field, "must be a finite number");
  return absl::OkStatus();
}

absl::Status CheckWeight(double w, absl::string_view field) {
  if (!std::isfinite(w) || w < 0) return Invalid(field, "must be a finite number >= 0");
  return absl::OkStatus();
}

absl::Status CheckNoControlCharacters(absl::string_view value, absl::string_view field) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid(field, "must not contain control characters (tabs, line breaks)");
    }
  }
  return absl::OkStatus();
}

// A work-items key result's scopes, by the tracker table's scope fields: a query, or a
// project (the tracker's syntax) with at least one label and an optional milestone. Labels
// travel comma-separated to the tracker, so they hold no commas.
absl::Status CheckScopes(const KeyResult& kr) {
  constexpr size_t kMaxQueryBytes = 4096;
  constexpr size_t kMaxLabelBytes = 255;
  constexpr size_t kMaxLabels = 20;
  for (const auto& [tracker, scope] : kr.scopes) {
    const TrackerTraits* t = FindTracker(tracker);
    if (t == nullptr) {
      return Invalid("key_result.scopes", "names a tracker the service does not know");
    }
    auto field = [&](const char* name) { return absl::StrCat("key_result.work_items.", name); };
    const bool any = !scope.query.empty() || !scope.project.empty() || !scope.labels.empty() ||
                     !scope.milestone.empty();
    if (any && kr.type != KeyResultType::kWorkItems) {
      return Invalid("key_result.work_items", "scopes are only for work-items key results");
    }
    if (!scope.query.empty()) {
      if (t->scope_query_field == nullptr) {
        return Invalid("key_result.scopes",
                       absl::StrCat("a ", t->display_name, " scope takes no query"));
      }
      OKR_RETURN_IF_ERROR(
          CheckText(scope.query, field(t->scope_query_field), kMaxQueryBytes, false));
      // Line breaks and tabs are whitespace to a query language; other control bytes are not.
      for (char c : scope.query) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\n' && c != '\r' && c != '\t') || u == 0x7f) {
          return Invalid(field(t->scope_query_field), "must not contain control characters");
        }
      }
    }
    if (scope.project.empty() && scope.labels.empty() && scope.milestone.empty()) continue;
    if (t->scope_project_field == nullptr) {
      return Invalid(
          "key_result.scopes",
          absl::StrCat("a ", t->display_name, " scope takes no project, labels or milestone"));
    }
    if (scope.project.empty()) {
      return Invalid(field(t->scope_project_field),
                     absl::StrCat("is required with ", t->scope_labels_field, " or ",
                                  t->scope_milestone_field));
    }
    if (!t->is_project(scope.project)) {
      return Invalid(field(t->scope_project_field),
                     absl::StrCat("must be ", t->project_description));
    }
    if (scope.labels.empty()) {
      return Invalid(field(t->scope_labels_field),
                     absl::StrCat("needs at least one label with ", t->scope_project_field));
    }
    if (scope.labels.size() > kMaxLabels) {
      return Invalid(field(t->scope_labels_field),
                     absl::StrCat("has more than ", kMaxLabels, " labels"));
    }
    for (const std::string& label : scope.labels) {
      if (absl::StripAsciiWhitespace(label).empty()) {
        return Invalid(field(t->scope_labels_field), "must not contain an empty label");
      }
      OKR_RETURN_IF_ERROR(CheckText(label, field(t->scope_labels_field), kMaxLabelBytes, false));
      OKR_RETURN_IF_ERROR(CheckNoControlCharacters(label, field(t->scope_labels_field)));
      if (absl::StrContains(label, ',')) {
        return Invalid(field(t->scope_labels_field), "must not contain a label with a comma");
      }
    }
    OKR_RETURN_IF_ERROR(
        CheckText(scope.milestone, field(t->scope_milestone_field), kMaxLabelBytes, false));
    OKR_RETURN_IF_ERROR(CheckNoControlCharacters(scope.milestone, field(t->scope_milestone_field)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTeam(const Team& team) {
  OKR_RETURN_IF_ERROR(CheckText(team.display_name, "team.display_name", kMaxTitleBytes, true));
  for (const auto& [tracker, project] : team.projects) {
    const TrackerTraits* t = FindTracker(tracker);
    if (t == nullptr) return Invalid("team.projects", "names a tracker the service does not know");
    if (!project.empty() && !t->is_project(project)) {
      return Invalid(absl::StrCat("team.", t->team_project_field),
                     absl::StrCat("must be ", t->project_description));
    }
  }
  for (const auto& [tracker, issue_type] : team.issue_types) {
    const TrackerTraits* t = FindTracker(tracker);
    if (t == nullptr || t->team_issue_type_field == nullptr) {
      return Invalid("team.issue_types", "names a tracker without issue types");
    }
    OKR_RETURN_IF_ERROR(CheckText(issue_type, absl::StrCat("team.", t->team_issue_type_field),
                                  kMaxIssueTypeBytes, false));
  }
  return absl::OkStatus();
}

absl::Status ValidateCycle(const Cycle& cycle) {
  if (auto s = CheckText(cycle.display_name, "cycle.display_name", kMaxTitleBytes, true); !s.ok()) {
    return s;
  }
  if (cycle.start_time == absl::InfinitePast()) return Invalid("cycle.start_time", "is required");
  if (cycle.end_time == absl::InfinitePast()) return Invalid("cycle.end_time", "is required");
  if (cycle.end_time <= cycle.start_time) {
    return Invalid("cycle.end_time", "must be after cycle.start_time");
  }
  return absl::OkStatus();
}

absl::Status ValidateObjective(const Objective& o) {
  if (auto s = CheckText(o.title, "objective.title", kMaxTitleBytes, true); !s.ok()) return s;
  if (auto s = CheckText(o.description, "objective.description", kMaxTextBytes, false); !s.ok()) {
    return s;
  }
  if (o.team_id.empty()) return Invalid("objective.team", "is required");
  if (o.cycle_id.empty()) return Invalid("objective.cycle", "is required");
  if (!o.parent_id.empty() && o.parent_id == o.id) {
    return Invalid("objective.parent", "must not be the objective itself");
  }
  if (auto s = CheckWeight(o.weight, "objective.weight"); !s.ok()) return s;
  if (o.progress_source != ProgressSource::kKeyResults &&
      o.progress_source != ProgressSource::kKeyResultsAndChildren) {
    return Invalid("objective.progress_source", "must be KEY_RESULTS or KEY_RESULTS_AND_CHILDREN");
  }
  return absl::OkStatus();
}

absl::Status ValidateKeyResult(const KeyResult& kr) {
  if (auto s = CheckText(kr.title, "key_result.title", kMaxTitleBytes, true); !s.ok()) return s;
  if (auto s = CheckWeight(kr.weight, "key_result.weight"); !s.ok()) return s;
  if (kr.type == KeyResultType::kMetric) {
    if (auto s = CheckFinite(kr.metric.start_value, "key_result.metric.start_value"); !s.ok()) {
      return s;
    }
    if (auto s = CheckFinite(kr.metric.target_value, "key_result.metric.target_value"); !s.ok()) {
      return s;
    }
    if (auto s = CheckFinite(kr.metric.current_value, "key_result.metric.current_value"); !s.ok()) {
      return s;
    }
    if (kr.metric.start_value == kr.metric.target_value) {
      return Invalid("key_result.metric.target_value", "must differ from start_value");
    }
    if (auto s = CheckText(kr.metric.unit, "key_result.metric.unit", 64, false); !s.ok()) {
      return s;
    }
  }
  if (auto s = CheckText(kr.metric_key, "key_result.metric.metric_key", kMaxMetricKeyBytes, false);
      !s.ok()) {
    return s;
  }
  OKR_RETURN_IF_ERROR(CheckNoControlCharacters(kr.metric_key, "key_result.metric.metric_key"));
  return CheckScopes(kr);
}

absl::Status ValidateAgreement(const Agreement& a) {
  if (a.team_id.empty()) return Invalid("team", "is required");
  if (auto s = CheckText(a.agreed_by, "agreed_by", kMaxTitleBytes, false); !s.ok()) return s;
  return CheckNoControlCharacters(a.agreed_by, "agreed_by");
}

absl::Status ValidateCheckIn(const CheckIn& c, KeyResultType type) {
  if (c.confidence.has_value() &&
      (!std::isfinite(*c.confidence) || *c.confidence < 0 || *c.confidence > 1)) {
    return Invalid("check_in.confidence", "must be between 0 and 1");
  }
  if (auto s = CheckText(c.note, "check_in.note", kMaxTextBytes, false); !s.ok()) return s;
  if (auto s = CheckText(c.author, "check_in.author", kMaxTitleBytes, false); !s.ok()) return s;
  switch (type) {
    case KeyResultType::kMetric:
      if (!c.value.has_value())
        return Invalid("check_in.value", "is required for a metric key result");
      return CheckFinite(*c.value, "check_in.value");
    case KeyResultType::kMilestone:
      if (c.value.has_value() && *c.value != 0 && *c.value != 1) {
        return Invalid("check_in.value", "must be 0 or 1 for a milestone key result");
      }
      return absl::OkStatus();
    case KeyResultType::kWorkItems:
      if (c.value.has_value()) {
        return Invalid("check_in.value",
                       "is not allowed for a work-items key result (progress comes from "
                       "linked items)");
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status ValidateWorkItem(const WorkItem& item) {
  if (item.key.empty()) return Invalid("work_item.key", "is required");
  if (item.key.size() > kMaxWorkItemKeyBytes) return Invalid("work_item.key", "is too long");
  const TrackerTraits* tracker = FindTracker(item.tracker);
  if (tracker == nullptr) {
    std::vector<std::string> names;
    for (const TrackerTraits& t : AllTrackers()) names.push_back(t.enum_name);
    return Invalid("work_item.tracker", absl::StrCat("must be ", absl::StrJoin(names, " or ")));
  }
  if (!tracker->is_issue_key(item.key)) {
    return Invalid("work_item.key",
                   absl::StrCat("\"", item.key, "\" is not ", tracker->issue_key_description));
  }
  if (auto s = CheckText(item.title, "work_item.title", kMaxTextBytes, false); !s.ok()) return s;
  if (auto s = CheckText(item.url, "work_item.url", kMaxUrlBytes, false); !s.ok()) return s;
  return CheckWeight(item.weight, "work_item.weight");
}

}  // namespace okr
