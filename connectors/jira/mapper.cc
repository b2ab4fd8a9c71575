#include "connectors/jira/mapper.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "connectors/json/json_util.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::jira {
namespace {

using json_util::GetMember;
using json_util::GetObject;
using json_util::GetString;

// Jira issue ids are positive integers; 19 digits bound them to int64.
constexpr size_t kMaxIssueIdDigits = 19;
// Jira keys are PROJECT-123 with a project key of at most 255 characters.
constexpr size_t kMaxIssueKeyBytes = 300;
// Long enough for any Jira date-time with nanoseconds and an offset.
constexpr size_t kMaxTimeTextBytes = 64;

absl::Status Missing(absl::string_view path) {
  return absl::InvalidArgumentError(absl::StrCat("missing or malformed field ", path));
}

bool IsAllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<std::string> ReadId(const nlohmann::json& issue) {
  const nlohmann::json* id = GetMember(issue, "id");
  if (id != nullptr && id->is_string()) {
    const std::string& text = id->get_ref<const std::string&>();
    if (IsAllDigits(text) && text.size() <= kMaxIssueIdDigits) return text;
  } else if (id != nullptr && id->is_number_unsigned()) {
    return std::to_string(id->get<uint64_t>());
  } else if (id != nullptr && id->is_number_integer() && id->get<int64_t>() >= 0) {
    return std::to_string(id->get<int64_t>());
  }
  return Missing("issue.id");
}

absl::StatusOr<std::string> ReadKey(const nlohmann::json& issue) {
  std::optional<std::string> key = GetString(issue, "key");
  if (!key.has_value() || key->empty() || key->size() > kMaxIssueKeyBytes) {
    return Missing("issue.key");
  }
  return *std::move(key);
}

// Story points: a finite, non-negative number, else "no estimate".
std::optional<double> ReadStoryPoints(const nlohmann::json* fields, const JiraFieldConfig& config) {
  if (fields == nullptr || config.story_points_field.empty()) return std::nullopt;
  const nlohmann::json* value = GetMember(*fields, config.story_points_field);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  const double points = value->get<double>();
  if (!std::isfinite(points) || points < 0) return std::nullopt;
  return points;
}

// A bounded name: longer ones are treated as absent.
std::string BoundedName(std::optional<std::string> name) {
  if (!name.has_value() || name->size() > kMaxJiraNameBytes) return "";
  return *std::move(name);
}

std::string ReadStatusName(const nlohmann::json* fields) {
  if (fields == nullptr) return "";
  const nlohmann::json* status = GetObject(*fields, "status");
  if (status == nullptr) return "";
  return BoundedName(GetString(*status, "name"));
}

// fields.resolution.name; "" for null, absent or malformed.
std::string ReadResolutionName(const nlohmann::json* fields) {
  if (fields == nullptr) return "";
  const nlohmann::json* resolution = GetObject(*fields, "resolution");
  if (resolution == nullptr) return "";
  return BoundedName(GetString(*resolution, "name"));
}

const JiraDoneRule* RuleFor(const JiraFieldConfig& config, absl::string_view project_key) {
  auto rule = config.done_by_project.find(std::string(project_key));
  return rule == config.done_by_project.end() ? nullptr : &rule->second;
}

std::optional<std::string> ReadStatusCategoryKey(const nlohmann::json* fields) {
  if (fields == nullptr) return std::nullopt;
  const nlohmann::json* status = GetObject(*fields, "status");
  if (status == nullptr) return std::nullopt;
  const nlohmann::json* category = GetObject(*status, "statusCategory");
  if (category == nullptr) return std::nullopt;
  std::optional<std::string> key = GetString(*category, "key");
  if (!key.has_value() || key->empty()) return std::nullopt;
  return key;
}

}  // namespace

bool IsDoneStatusCategory(absl::string_view status_category_key) {
  return status_category_key == kStatusCategoryDone;
}

std::string ProjectKeyOf(absl::string_view issue_key) {
  const size_t dash = issue_key.rfind('-');
  return dash == absl::string_view::npos ? "" : std::string(issue_key.substr(0, dash));
}

bool IsDone(const JiraFieldConfig& config, absl::string_view project_key,
            absl::string_view status_name, absl::string_view status_category_key) {
  const JiraDoneRule* rule = RuleFor(config, project_key);
  if (rule == nullptr || (rule->statuses.empty() && rule->status_categories.empty())) {
    return IsDoneStatusCategory(status_category_key);
  }
  for (const std::string& name : rule->statuses) {
    if (!status_name.empty() && absl::EqualsIgnoreCase(name, status_name)) return true;
  }
  for (const std::string& category : rule->status_categories) {
    if (!status_category_key.empty() && category == status_category_key) return true;
  }
  return false;
}

double CreditShare(const JiraFieldConfig& config, absl::string_view project_key,
                   absl::string_view status_name) {
  const JiraDoneRule* rule = RuleFor(config, project_key);
  if (rule == nullptr || status_name.empty()) return 0;
  for (const auto& [name, share] : rule->credit) {
    if (absl::EqualsIgnoreCase(name, status_name)) return share;
  }
  return 0;
}

std::string ExclusionOf(const JiraFieldConfig& config, absl::string_view project_key,
                        absl::string_view resolution_name) {
  if (resolution_name.empty()) return "";
  const JiraDoneRule* rule = RuleFor(config, project_key);
  if (rule != nullptr && rule->excluded_resolutions.has_value()) {
    for (const std::string& name : *rule->excluded_resolutions) {
      if (absl::EqualsIgnoreCase(name, resolution_name)) return std::string(resolution_name);
    }
    return "";
  }
  for (absl::string_view name : kDefaultExcludedResolutions) {
    if (absl::EqualsIgnoreCase(name, resolution_name)) return std::string(resolution_name);
  }
  return "";
}

absl::StatusOr<absl::Time> ParseJiraTime(absl::string_view text) {
  // absl's %Ez takes "+hh:mm", "+hhmm" and "Z"; %E*S takes optional fractional seconds.
  absl::Time time;
  if (text.size() <= kMaxTimeTextBytes && !text.empty() &&
      !absl::ascii_isspace(static_cast<unsigned char>(text.front())) &&
      !absl::ascii_isspace(static_cast<unsigned char>(text.back())) &&
      absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", text, &time, nullptr)) {
    return time;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("not a Jira date-time like 2025-06-04T12:03:07.381+0200: \"",
                   absl::CEscape(text.substr(0, kMaxTimeTextBytes)), "\""));
}

absl::StatusOr<JiraIssue> IssueFromJson(const nlohmann::json& issue, const JiraFieldConfig& config,
                                        FieldRequirement requirement) {
  if (!issue.is_object()) return Missing("issue");
  JiraIssue result;
  OKR_ASSIGN_OR_RETURN(result.id, ReadId(issue));
  OKR_ASSIGN_OR_RETURN(result.key, ReadKey(issue));
  const bool complete = requirement == FieldRequirement::kComplete;

  const nlohmann::json* fields = GetObject(issue, "fields");
  if (fields == nullptr && complete) return Missing("issue.fields");

  std::optional<std::string> summary = fields ? GetString(*fields, "summary") : std::nullopt;
  if (summary.has_value()) {
    result.summary = *std::move(summary);
  } else if (complete) {
    return Missing("issue.fields.summary");
  }

  if (std::optional<std::string> category = ReadStatusCategoryKey(fields)) {
    result.status_category_key = *std::move(category);
  } else if (complete) {
    return Missing("issue.fields.status.statusCategory.key");
  }

  std::optional<std::string> updated = fields ? GetString(*fields, "updated") : std::nullopt;
  if (!updated.has_value()) {
    if (complete) return Missing("issue.fields.updated");
  } else if (absl::StatusOr<absl::Time> time = ParseJiraTime(*updated); time.ok()) {
    result.updated = *time;
  } else if (complete) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed field issue.fields.updated: ", time.status().message()));
  }

  result.status_name = ReadStatusName(fields);
  result.resolution_name = ReadResolutionName(fields);
  const std::string project = ProjectKeyOf(result.key);
  result.done = !result.status_category_key.empty() &&
                IsDone(config, project, result.status_name, result.status_category_key);
  // A resolution excludes only closed work: inside a done status (category or rule).
  if (result.done || IsDoneStatusCategory(result.status_category_key)) {
    result.exclusion = ExclusionOf(config, project, result.resolution_name);
    if (!result.exclusion.empty()) result.done = true;
  }
  if (!result.done) result.partial_credit = CreditShare(config, project, result.status_name);
  result.story_points = ReadStoryPoints(fields, config);
  return result;
}

std::vector<std::string> MappedFieldIds(const JiraFieldConfig& config) {
  std::vector<std::string> fields = {"summary", "status", "resolution", "updated"};
  if (!config.story_points_field.empty()) fields.push_back(config.story_points_field);
  return fields;
}

std::string BrowseUrl(absl::string_view site_base_url, absl::string_view key) {
  return absl::StrCat(absl::StripSuffix(site_base_url, "/"), "/browse/", key);
}

okr::WorkItem ToWorkItem(const JiraIssue& issue, absl::string_view site_base_url) {
  okr::WorkItem item;
  item.tracker = okr::Tracker::kJira;
  item.key = issue.key;
  item.title = issue.summary;
  item.url = BrowseUrl(site_base_url, issue.key);
  item.done = issue.done;
  item.weight = issue.story_points.value_or(1.0);
  item.update_time = issue.updated;
  item.status = issue.status_name;
  item.partial_credit = issue.partial_credit;
  item.exclusion = issue.exclusion;
  return item;
}

}  // namespace okr::connectors::jira
