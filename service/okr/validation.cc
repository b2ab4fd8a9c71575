#include "service/okr/validation.h"

#include <cctype>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/okr/status_macros.h"

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

bool IsJiraKey(absl::string_view key) {
  // PROJECT-123: project key starts with a letter, then letters/digits/underscore.
  size_t dash = key.rfind('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 >= key.size()) return false;
  if (!absl::ascii_isalpha(key[0])) return false;
  for (char c : key.substr(0, dash)) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  uint64_t n;
  return absl::SimpleAtoi(key.substr(dash + 1), &n) && n > 0 && absl::ascii_isdigit(key[dash + 1]);
}

bool IsGitLabKey(absl::string_view key) {
  size_t hash = key.rfind('#');
  if (hash == absl::string_view::npos || hash == 0 || hash + 1 >= key.size()) return false;
  absl::string_view path = key.substr(0, hash);
  if (path.front() == '/' || path.back() == '/' || !absl::StrContains(path, '/') ||
      absl::StrContains(path, "//")) {
    return false;
  }
  for (char c : path) {
    if (!absl::ascii_isalnum(c) && c != '/' && c != '-' && c != '_' && c != '.') return false;
  }
  uint64_t n;
  return absl::SimpleAtoi(key.substr(hash + 1), &n) && n > 0 && absl::ascii_isdigit(key[hash + 1]);
}

}  // namespace

absl::Status ValidateTeam(const Team& team) {
  OKR_RETURN_IF_ERROR(CheckText(team.display_name, "team.display_name", kMaxTitleBytes, true));
  // Jira project keys: an uppercase letter, then uppercase letters, digits or '_'.
  const std::string& key = team.jira_project_key;
  if (!key.empty()) {
    bool ok = key.size() <= 64 && key[0] >= 'A' && key[0] <= 'Z';
    for (char c : key) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (!ok) {
      return Invalid("team.jira_project_key",
                     "must be a Jira project key like OKRX (uppercase letters, digits, _)");
    }
  }
  const std::string& path = team.gitlab_project;
  if (!path.empty()) {
    bool ok = path.size() <= 255 && path.front() != '/' && path.back() != '/' &&
              path.find("//") == std::string::npos && path.find('/') != std::string::npos;
    for (char c : path) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' ||
                  c == '.');
    }
    if (!ok) {
      return Invalid("team.gitlab_project", "must be a GitLab project path like group/project");
    }
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
  return CheckNoControlCharacters(kr.metric_key, "key_result.metric.metric_key");
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
  switch (item.tracker) {
    case Tracker::kJira:
      if (!IsJiraKey(item.key)) {
        return Invalid("work_item.key",
                       absl::StrCat("\"", item.key, "\" is not a Jira issue key like OKRX-101"));
      }
      break;
    case Tracker::kGitLab:
      if (!IsGitLabKey(item.key)) {
        return Invalid("work_item.key",
                       absl::StrCat("\"", item.key,
                                    "\" is not a GitLab issue reference like group/project#7"));
      }
      break;
    default:
      return Invalid("work_item.tracker", "must be JIRA or GITLAB");
  }
  if (auto s = CheckText(item.title, "work_item.title", kMaxTextBytes, false); !s.ok()) return s;
  if (auto s = CheckText(item.url, "work_item.url", kMaxUrlBytes, false); !s.ok()) return s;
  return CheckWeight(item.weight, "work_item.weight");
}

}  // namespace okr
