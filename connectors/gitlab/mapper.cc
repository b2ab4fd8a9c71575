#include "connectors/gitlab/mapper.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "connectors/json/json_util.h"

namespace okr::connectors::gitlab {
namespace {

using json_util::GetArray;
using json_util::GetInt;
using json_util::GetNumber;
using json_util::GetObject;
using json_util::GetString;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", problem));
}

std::string Field(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

bool IsPathChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// The parts both shapes share: iid, id, title, state/done, weight, updated_at.
absl::Status ReadCommon(const nlohmann::json& object, absl::string_view prefix,
                        GitLabIssue& issue) {
  const std::optional<int64_t> iid = GetInt(object, "iid");
  if (!iid.has_value()) return Invalid(Field(prefix, "iid"), "is missing or not an integer");
  if (*iid <= 0) return Invalid(Field(prefix, "iid"), "must be positive");
  issue.iid = *iid;
  issue.id = GetInt(object, "id").value_or(0);
  issue.title = GetString(object, "title").value_or("");

  std::optional<std::string> state = GetString(object, "state");
  if (!state.has_value()) return Invalid(Field(prefix, "state"), "is missing or not a string");
  issue.state = *std::move(state);

  // Weight is a Premium feature: absent, null or garbage means "no weight".
  if (std::optional<double> weight = GetNumber(object, "weight"); weight && *weight >= 0) {
    issue.weight = *weight;
  }

  const std::optional<std::string> updated = GetString(object, "updated_at");
  if (!updated.has_value()) {
    return Invalid(Field(prefix, "updated_at"), "is missing or not a string");
  }
  absl::StatusOr<absl::Time> updated_at = ParseGitLabTime(*updated);
  if (!updated_at.ok()) return Invalid(Field(prefix, "updated_at"), "is not a GitLab timestamp");
  issue.updated_at = *updated_at;
  return absl::OkStatus();
}

// Label titles from an array of strings (REST) or label objects (hooks); anything else is
// skipped.
std::vector<std::string> LabelTitles(const nlohmann::json& labels) {
  std::vector<std::string> titles;
  for (const nlohmann::json& label : labels) {
    if (label.is_string()) {
      titles.push_back(label.get<std::string>());
    } else if (std::optional<std::string> title = GetString(label, "title")) {
      titles.push_back(*std::move(title));
    }
  }
  return titles;
}

}  // namespace

absl::StatusOr<absl::Time> ParseGitLabTime(absl::string_view text) {
  static constexpr const char* kFormats[] = {
      "%Y-%m-%d%ET%H:%M:%E*S%Ez",  // 2013-12-03T17:15:43Z, ...43.996Z, ...43+02:00
      "%Y-%m-%d%ET%H:%M:%E*S%z",   // 2013-12-03T17:15:43+0200
      "%Y-%m-%d %H:%M:%E*S UTC",   // 2017-09-15 16:50:55 UTC
      "%Y-%m-%d %H:%M:%E*S %z",    // 2017-09-15 16:50:55 +0200
  };
  const bool plausible = !text.empty() && text.size() <= 64 &&
                         absl::ascii_isdigit(static_cast<unsigned char>(text.front())) &&
                         absl::ascii_isalnum(static_cast<unsigned char>(text.back()));
  if (plausible) {
    const std::string input(text);
    for (const char* format : kFormats) {
      absl::Time time;
      if (absl::ParseTime(format, input, absl::UTCTimeZone(), &time, nullptr) &&
          time != absl::InfinitePast() && time != absl::InfiniteFuture()) {
        return time;
      }
    }
  }
  return absl::InvalidArgumentError("not a GitLab timestamp");
}

std::string FormatGitLabTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

absl::Status ValidateProjectPath(absl::string_view path, absl::string_view field) {
  if (path.empty()) return Invalid(field, "is empty");
  if (path.size() > kMaxWorkItemKeyBytes) return Invalid(field, "is too long");
  int segments = 0;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    ++segments;
    if (segment.empty() || segment == "." || segment == "..") {
      return Invalid(field, "must be group/project with non-empty segments");
    }
    for (char c : segment) {
      if (!IsPathChar(c)) {
        return Invalid(field, "may only contain letters, digits, '_', '-', '.' and '/'");
      }
    }
  }
  if (segments < 2) return Invalid(field, "must include the namespace (group/project)");
  return absl::OkStatus();
}

std::string WorkItemKey(absl::string_view project_path, int64_t iid) {
  return absl::StrCat(project_path, "#", iid);
}

absl::StatusOr<std::pair<std::string, int64_t>> ParseWorkItemKey(absl::string_view key) {
  if (key.size() > kMaxWorkItemKeyBytes) return Invalid("work item key", "is too long");
  const size_t hash = key.rfind('#');
  if (hash == absl::string_view::npos) {
    return Invalid("work item key", "must look like group/project#7");
  }
  const absl::string_view path = key.substr(0, hash);
  const absl::string_view number = key.substr(hash + 1);
  if (absl::Status status = ValidateProjectPath(path, "work item key path"); !status.ok()) {
    return status;
  }
  int64_t iid = 0;
  const bool digits_only = !number.empty() && std::all_of(number.begin(), number.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (!digits_only || number.front() == '0' || !absl::SimpleAtoi(number, &iid) || iid <= 0) {
    return Invalid("work item key iid", "must be a positive integer without leading zeros");
  }
  return std::make_pair(std::string(path), iid);
}

bool IsDone(const GitLabIssue& issue, const GitLabDoneMapping& mapping) {
  auto rule = mapping.by_project.find(issue.project_path);
  if (rule == mapping.by_project.end() ||
      (rule->second.states.empty() && rule->second.labels.empty())) {
    return issue.state == kStateClosed;
  }
  for (const std::string& state : rule->second.states) {
    if (state == issue.state) return true;
  }
  for (const std::string& label : rule->second.labels) {
    if (std::find(issue.labels.begin(), issue.labels.end(), label) != issue.labels.end()) {
      return true;
    }
  }
  return false;
}

void ApplyDoneRules(GitLabIssue& issue, const GitLabDoneMapping& mapping) {
  auto found = mapping.by_project.find(issue.project_path);
  const GitLabDoneRule* rule = found == mapping.by_project.end() ? nullptr : &found->second;
  static const GitLabExcludedRule* const kDefaultExcluded = new GitLabExcludedRule();
  const GitLabExcludedRule& excluded =
      rule != nullptr && rule->excluded.has_value() ? *rule->excluded : *kDefaultExcluded;
  issue.done = IsDone(issue, mapping);
  // Names kept for people are bounded (GitLab caps label titles at 255 characters).
  constexpr size_t kMaxNameBytes = 255;
  issue.status = issue.state.size() <= kMaxNameBytes ? issue.state : "";
  issue.partial_credit = 0;
  issue.exclusion.clear();
  if (excluded.duplicates && issue.closed_as_duplicate && issue.state == kStateClosed) {
    issue.exclusion = "duplicate";
    issue.done = true;
    return;
  }
  for (const std::string& label : issue.labels) {
    if (label.size() > kMaxNameBytes) continue;
    for (const std::string& name : excluded.labels) {
      if (absl::EqualsIgnoreCase(label, name)) {
        issue.exclusion = label;
        return;
      }
    }
  }
  if (issue.done || rule == nullptr) return;
  if (auto state = rule->credit.find(issue.state); state != rule->credit.end()) {
    issue.partial_credit = state->second;
  }
  for (const std::string& label : issue.labels) {
    if (label.size() > kMaxNameBytes) continue;
    auto share = rule->credit.find(label);
    if (share != rule->credit.end() && share->second > issue.partial_credit) {
      issue.partial_credit = share->second;
      issue.status = label;
    }
  }
}

absl::StatusOr<GitLabIssue> IssueFromRestJson(const nlohmann::json& issue,
                                              absl::string_view project_path,
                                              absl::string_view field_prefix,
                                              const GitLabDoneMapping& done) {
  if (!issue.is_object()) return Invalid(field_prefix, "is not an object");
  GitLabIssue result;
  result.project_path = std::string(project_path);
  if (absl::Status status = ReadCommon(issue, field_prefix, result); !status.ok()) return status;
  result.project_id = GetInt(issue, "project_id").value_or(0);
  result.url = GetString(issue, "web_url").value_or("");
  if (const nlohmann::json* labels = GetArray(issue, "labels")) {
    result.labels = LabelTitles(*labels);
  }
  if (const nlohmann::json* links = GetObject(issue, "_links")) {
    const nlohmann::json* duplicate_of = json_util::GetMember(*links, "closed_as_duplicate_of");
    result.closed_as_duplicate = duplicate_of != nullptr && !duplicate_of->is_null();
  }
  ApplyDoneRules(result, done);
  return result;
}

absl::StatusOr<GitLabIssue> IssueFromHookJson(const nlohmann::json& body,
                                              const GitLabDoneMapping& done) {
  if (!body.is_object()) return Invalid("body", "is not a JSON object");
  const nlohmann::json* attributes = GetObject(body, "object_attributes");
  if (attributes == nullptr) return Invalid("object_attributes", "is missing or not an object");
  GitLabIssue result;
  if (absl::Status status = ReadCommon(*attributes, "object_attributes", result); !status.ok()) {
    return status;
  }
  const nlohmann::json* project = GetObject(body, "project");
  if (project == nullptr) return Invalid("project", "is missing or not an object");
  std::optional<std::string> path = GetString(*project, "path_with_namespace");
  if (!path.has_value()) {
    return Invalid("project.path_with_namespace", "is missing or not a string");
  }
  if (absl::Status status = ValidateProjectPath(*path, "project.path_with_namespace");
      !status.ok()) {
    return status;
  }
  result.project_path = *std::move(path);
  result.project_id =
      GetInt(*project, "id").value_or(GetInt(*attributes, "project_id").value_or(0));
  result.url = GetString(*attributes, "url").value_or("");
  if (const nlohmann::json* labels = GetArray(*attributes, "labels")) {
    result.labels = LabelTitles(*labels);
  } else if (const nlohmann::json* top_labels = GetArray(body, "labels")) {
    result.labels = LabelTitles(*top_labels);
  }
  const nlohmann::json* duplicated_to = json_util::GetMember(*attributes, "duplicated_to_id");
  result.closed_as_duplicate = duplicated_to != nullptr && !duplicated_to->is_null();
  ApplyDoneRules(result, done);
  return result;
}

okr::WorkItem ToWorkItem(const GitLabIssue& issue) {
  okr::WorkItem item;
  item.tracker = okr::Tracker::kGitLab;
  item.key = WorkItemKey(issue.project_path, issue.iid);
  item.title = issue.title;
  item.url = issue.url;
  item.done = issue.done;
  item.status = issue.status;
  item.partial_credit = issue.partial_credit;
  item.exclusion = issue.exclusion;
  item.weight = issue.weight.value_or(1.0);
  item.update_time = issue.updated_at;
  if (issue.id > 0) item.external_id = absl::StrCat(issue.id);
  item.source_updated = issue.updated_at;
  return item;
}

}  // namespace okr::connectors::gitlab
