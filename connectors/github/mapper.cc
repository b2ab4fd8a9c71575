#include "connectors/github/mapper.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "connectors/json/json_util.h"

namespace okr::connectors::github {
namespace {

using json_util::GetArray;
using json_util::GetInt;
using json_util::GetMember;
using json_util::GetObject;
using json_util::GetString;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", problem));
}

std::string Field(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

// "owner/repo" from ".../repos/owner/repo" or "https://github.com/owner/repo/issues/7".
std::string RepoFromUrls(const nlohmann::json& issue) {
  if (std::optional<std::string> url = GetString(issue, "repository_url")) {
    const size_t at = url->rfind("/repos/");
    if (at != std::string::npos) return url->substr(at + 7);
  }
  if (std::optional<std::string> url = GetString(issue, "html_url")) {
    absl::string_view rest = *url;
    if (absl::ConsumePrefix(&rest, "https://") || absl::ConsumePrefix(&rest, "http://")) {
      std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
      if (parts.size() >= 3) return absl::StrCat(parts[1], "/", parts[2]);
    }
  }
  return "";
}

absl::Status ReadNumber(const nlohmann::json& object, absl::string_view prefix, GitHubIssue& out) {
  const std::optional<int64_t> number = GetInt(object, "number");
  if (!number.has_value()) return Invalid(Field(prefix, "number"), "is missing or not an integer");
  if (*number <= 0) return Invalid(Field(prefix, "number"), "must be positive");
  out.number = *number;
  return absl::OkStatus();
}

absl::Status ReadUpdated(const nlohmann::json& object, absl::string_view prefix,
                         absl::string_view name, GitHubIssue& out) {
  const std::optional<std::string> updated = GetString(object, name);
  if (!updated.has_value()) return Invalid(Field(prefix, name), "is missing or not a string");
  absl::StatusOr<absl::Time> time = ParseGitHubTime(*updated);
  if (!time.ok()) return Invalid(Field(prefix, name), "is not an RFC 3339 timestamp");
  out.updated_at = *time;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::Time> ParseGitHubTime(absl::string_view text) {
  if (!text.empty() && text.size() <= 64) {
    absl::Time time;
    if (absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", std::string(text), absl::UTCTimeZone(), &time,
                        nullptr) &&
        time != absl::InfinitePast() && time != absl::InfiniteFuture()) {
      return time;
    }
  }
  return absl::InvalidArgumentError("not an RFC 3339 timestamp");
}

absl::Status ValidateRepoName(absl::string_view repo, absl::string_view field) {
  if (repo.empty()) return Invalid(field, "is empty");
  if (repo.size() > 256) return Invalid(field, "is too long");
  std::vector<absl::string_view> parts = absl::StrSplit(repo, '/');
  if (parts.size() != 2) return Invalid(field, "must be owner/repo");
  for (absl::string_view part : parts) {
    if (part.empty() || part == "." || part == "..") return Invalid(field, "must be owner/repo");
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return Invalid(field, "may only contain letters, digits, '-', '_', '.' and one '/'");
      }
    }
  }
  return absl::OkStatus();
}

std::string WorkItemKey(absl::string_view repo, int64_t number) {
  return absl::StrCat(repo, "#", number);
}

absl::StatusOr<std::pair<std::string, int64_t>> ParseWorkItemKey(absl::string_view key) {
  if (key.size() > kMaxWorkItemKeyBytes) return Invalid("work item key", "is too long");
  const size_t hash = key.rfind('#');
  if (hash == absl::string_view::npos)
    return Invalid("work item key", "must look like owner/repo#7");
  const absl::string_view repo = key.substr(0, hash);
  const absl::string_view digits = key.substr(hash + 1);
  if (absl::Status s = ValidateRepoName(repo, "work item key repo"); !s.ok()) return s;
  int64_t number = 0;
  const bool only_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (!only_digits || digits.front() == '0' || !absl::SimpleAtoi(digits, &number) || number <= 0) {
    return Invalid("work item key number", "must be a positive integer without leading zeros");
  }
  return std::make_pair(std::string(repo), number);
}

void ApplyDoneRules(GitHubIssue& issue, const GitHubDoneMapping& mapping) {
  auto found = mapping.by_repo.find(issue.repo);
  const GitHubDoneRule* rule = found == mapping.by_repo.end() ? nullptr : &found->second;
  static const GitHubExcludedRule* const kDefaultExcluded = new GitHubExcludedRule();
  const GitHubExcludedRule& excluded =
      rule != nullptr && rule->excluded.has_value() ? *rule->excluded : *kDefaultExcluded;
  constexpr size_t kMaxNameBytes = 255;
  const bool closed = issue.state == kStateClosed;
  // not_planned / duplicate that the rule does not exclude count as closed (as GitLab's
  // duplicates do when not excluded).
  issue.done = closed && (issue.state_reason.empty() || issue.state_reason == "completed" ||
                          issue.state_reason == "not_planned" || issue.state_reason == "duplicate");
  issue.status = issue.state.size() <= kMaxNameBytes ? issue.state : "";
  issue.partial_credit = 0;
  issue.exclusion.clear();
  issue.weight.reset();
  if (!mapping.weight_label_prefix.empty()) {
    for (const std::string& label : issue.labels) {
      absl::string_view rest = label;
      if (!absl::ConsumePrefix(&rest, mapping.weight_label_prefix)) continue;
      double weight = 0;
      if (absl::SimpleAtod(absl::StripAsciiWhitespace(rest), &weight) && std::isfinite(weight) &&
          weight >= 0) {
        issue.weight = weight;
        break;
      }
    }
  }
  if (closed && !issue.state_reason.empty() &&
      std::find(excluded.state_reasons.begin(), excluded.state_reasons.end(), issue.state_reason) !=
          excluded.state_reasons.end()) {
    issue.exclusion = issue.state_reason;
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
  for (const std::string& label : issue.labels) {
    auto share = rule->credit.find(label);
    if (share != rule->credit.end() && share->second > issue.partial_credit) {
      issue.partial_credit = share->second;
      issue.status = label;
    }
  }
}

absl::StatusOr<GitHubIssue> IssueFromRestJson(const nlohmann::json& issue, absl::string_view repo,
                                              absl::string_view field,
                                              const GitHubDoneMapping& mapping) {
  if (!issue.is_object()) return Invalid(field, "is not an object");
  GitHubIssue out;
  if (absl::Status s = ReadNumber(issue, field, out); !s.ok()) return s;
  out.repo = repo.empty() ? RepoFromUrls(issue) : std::string(repo);
  if (absl::Status s = ValidateRepoName(out.repo, Field(field, "repository_url")); !s.ok()) {
    return s;
  }
  out.node_id = GetString(issue, "node_id").value_or("");
  out.title = GetString(issue, "title").value_or("");
  std::optional<std::string> state = GetString(issue, "state");
  if (!state.has_value()) return Invalid(Field(field, "state"), "is missing or not a string");
  out.state = absl::AsciiStrToLower(*state);
  const nlohmann::json* reason = GetMember(issue, "state_reason");
  if (reason != nullptr && !reason->is_null()) {
    if (!reason->is_string()) return Invalid(Field(field, "state_reason"), "is not a string");
    out.state_reason = absl::AsciiStrToLower(reason->get<std::string>());
  }
  if (absl::Status s = ReadUpdated(issue, field, "updated_at", out); !s.ok()) return s;
  out.url = GetString(issue, "html_url").value_or("");
  if (const nlohmann::json* labels = GetArray(issue, "labels")) {
    for (const nlohmann::json& label : *labels) {
      if (label.is_string()) {
        out.labels.push_back(label.get<std::string>());
      } else if (std::optional<std::string> name = GetString(label, "name")) {
        out.labels.push_back(*std::move(name));
      }
    }
  }
  const nlohmann::json* pr = GetMember(issue, "pull_request");
  out.pull_request = pr != nullptr && !pr->is_null();
  ApplyDoneRules(out, mapping);
  return out;
}

absl::StatusOr<GitHubIssue> IssueFromGraphQLNode(const nlohmann::json& node,
                                                 absl::string_view field,
                                                 const GitHubDoneMapping& mapping) {
  if (!node.is_object()) return Invalid(field, "is not an object");
  if (GetString(node, "__typename").value_or("Issue") != "Issue") {
    return Invalid(Field(field, "__typename"), "is not Issue");
  }
  GitHubIssue out;
  if (absl::Status s = ReadNumber(node, field, out); !s.ok()) return s;
  std::optional<std::string> id = GetString(node, "id");
  if (!id.has_value() || id->empty())
    return Invalid(Field(field, "id"), "is missing or not a string");
  out.node_id = *std::move(id);
  const nlohmann::json* repository = GetObject(node, "repository");
  std::optional<std::string> name;
  if (repository != nullptr) name = GetString(*repository, "nameWithOwner");
  if (!name.has_value()) {
    return Invalid(Field(field, "repository.nameWithOwner"), "is missing or not a string");
  }
  if (absl::Status s = ValidateRepoName(*name, Field(field, "repository.nameWithOwner")); !s.ok()) {
    return s;
  }
  out.repo = *std::move(name);
  out.title = GetString(node, "title").value_or("");
  std::optional<std::string> state = GetString(node, "state");
  if (!state.has_value()) return Invalid(Field(field, "state"), "is missing or not a string");
  out.state = absl::AsciiStrToLower(*state);
  const nlohmann::json* reason = GetMember(node, "stateReason");
  if (reason != nullptr && !reason->is_null()) {
    if (!reason->is_string()) return Invalid(Field(field, "stateReason"), "is not a string");
    out.state_reason = absl::AsciiStrToLower(reason->get<std::string>());
  }
  if (absl::Status s = ReadUpdated(node, field, "updatedAt", out); !s.ok()) return s;
  out.url = GetString(node, "url").value_or("");
  if (const nlohmann::json* labels = GetObject(node, "labels")) {
    if (const nlohmann::json* nodes = GetArray(*labels, "nodes")) {
      for (const nlohmann::json& label : *nodes) {
        if (std::optional<std::string> n = GetString(label, "name")) out.labels.push_back(*n);
      }
    }
  }
  ApplyDoneRules(out, mapping);
  return out;
}

okr::WorkItem ToWorkItem(const GitHubIssue& issue) {
  okr::WorkItem item;
  item.tracker = okr::Tracker::kGitHub;
  item.key = WorkItemKey(issue.repo, issue.number);
  item.external_id = issue.node_id;
  item.title = issue.title;
  item.url = issue.url;
  item.done = issue.done;
  item.status = issue.status;
  item.partial_credit = issue.partial_credit;
  item.exclusion = issue.exclusion;
  item.weight = issue.weight.value_or(1.0);
  const absl::Time updated = issue.updated_at == absl::InfinitePast()
                                 ? issue.updated_at
                                 : absl::FromUnixSeconds(absl::ToUnixSeconds(issue.updated_at));
  item.source_updated = updated;
  item.update_time = updated;
  return item;
}

}  // namespace okr::connectors::github
