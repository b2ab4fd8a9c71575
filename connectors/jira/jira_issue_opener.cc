#include "connectors/jira/jira_issue_opener.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "connectors/jira/jira_sync.h"
#include "connectors/jira/mapper.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::jira {
namespace {

constexpr size_t kMaxSummaryChars = 255;

// One line, at most kMaxSummaryChars code points, "…" marking a cut.
std::string SummaryFromTitle(absl::string_view title) {
  std::string summary(absl::StripAsciiWhitespace(title));
  for (char& c : summary) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) c = ' ';
  }
  size_t chars = 0;
  for (size_t i = 0; i < summary.size(); ++i) {
    if ((static_cast<unsigned char>(summary[i]) & 0xC0) == 0x80) continue;
    if (++chars == kMaxSummaryChars) {
      // `i` starts the last character that fits with the ellipsis.
      size_t rest = i + 1;
      while (rest < summary.size() && (static_cast<unsigned char>(summary[rest]) & 0xC0) == 0x80) {
        ++rest;
      }
      if (rest < summary.size()) {
        summary.resize(i);
        absl::StrAppend(&summary, "\xE2\x80\xA6");
      }
      break;
    }
  }
  return summary;
}

}  // namespace

std::string DedupeJql(absl::string_view project_key, absl::string_view dedupe_label) {
  return absl::StrCat("project = ", JqlQuote(project_key), " AND labels = ", JqlQuote(dedupe_label),
                      " ORDER BY created ASC");
}

std::optional<JiraIssueType> ChooseIssueType(absl::Span<const JiraIssueType> types,
                                             absl::string_view wanted) {
  for (const JiraIssueType& type : types) {
    if (!type.subtask && absl::EqualsIgnoreCase(type.name, wanted)) return type;
  }
  auto standard = [](const JiraIssueType& type) {
    return !type.subtask && type.hierarchy_level == 0;
  };
  for (absl::string_view preferred : {"Task", "Story", "Bug"}) {
    for (const JiraIssueType& type : types) {
      if (standard(type) && absl::EqualsIgnoreCase(type.name, preferred)) return type;
    }
  }
  for (const JiraIssueType& type : types) {
    if (standard(type)) return type;
  }
  return std::nullopt;
}

JiraIssueOpener::JiraIssueOpener(JiraClient& client, std::string site_base_url,
                                 JiraIssueOpenerOptions options)
    : client_(client),
      site_base_url_(std::move(site_base_url)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()) {}

absl::StatusOr<std::vector<JiraIssueType>> JiraIssueOpener::IssueTypes(const std::string& project) {
  const std::string key = absl::AsciiStrToUpper(project);
  const absl::Time now = clock_.Now();
  if (auto it = issue_types_.find(key); it != issue_types_.end()) {
    if (now - it->second.read < options_.issue_types_ttl && now >= it->second.read) {
      return it->second.types;
    }
    issue_types_.erase(it);
  }
  OKR_ASSIGN_OR_RETURN(std::vector<JiraIssueType> types, client_.ListCreateIssueTypes(project));
  if (options_.max_cached_projects == 0) return types;
  if (issue_types_.size() >= options_.max_cached_projects) {
    // Full: drop what has expired, else the entry read longest ago.
    absl::erase_if(issue_types_, [&](const auto& entry) {
      return now - entry.second.read >= options_.issue_types_ttl;
    });
    if (issue_types_.size() >= options_.max_cached_projects) {
      auto oldest = issue_types_.begin();
      for (auto it = issue_types_.begin(); it != issue_types_.end(); ++it) {
        if (it->second.read < oldest->second.read) oldest = it;
      }
      issue_types_.erase(oldest);
    }
  }
  issue_types_[key] = CachedTypes{now, types};
  return types;
}

absl::StatusOr<WorkItem> JiraIssueOpener::OpenIssue(const sync::NewIssue& issue) {
  if (issue.project.empty()) return absl::InvalidArgumentError("Jira open issue: no project");
  if (absl::StripAsciiWhitespace(issue.title).empty()) {
    return absl::InvalidArgumentError("Jira open issue: no title");
  }
  if (issue.dedupe_label.empty()) {
    return absl::InvalidArgumentError("Jira open issue: no dedupe label");
  }
  NewJiraIssue create;
  create.project_key = issue.project;
  create.summary = SummaryFromTitle(issue.title);
  const std::string wanted = std::string(absl::StripAsciiWhitespace(
      issue.issue_type.empty() ? options_.default_issue_type : issue.issue_type));
  create.issue_type = wanted;
  create.description = issue.description;
  create.link_url = issue.url;
  create.labels = {issue.dedupe_label};
  // Everything CreateIssue would refuse is refused before the first request.
  if (absl::Status status = CheckNewJiraIssue(create); !status.ok()) {
    return absl::Status(status.code(), absl::StrCat("Jira open issue: ", status.message()));
  }

  OKR_RETURN_IF_ERROR(client_.GetProject(issue.project).status());
  std::optional<JiraIssue> existing;
  OKR_RETURN_IF_ERROR(client_.SearchByJql(DedupeJql(issue.project, issue.dedupe_label),
                                          [&](std::vector<JiraIssue> page) {
                                            if (!existing.has_value() && !page.empty())
                                              existing = std::move(page.front());
                                            return absl::OkStatus();
                                          }));
  if (existing.has_value()) return SyncedWorkItem(*existing, site_base_url_);

  std::optional<JiraIssueType> fallback;  // Set when the project lacks `wanted`.
  bool wanted_is_subtask = false;         // The project has it, as a subtask type.
  absl::StatusOr<std::vector<JiraIssueType>> types = IssueTypes(issue.project);
  if (types.ok()) {
    std::optional<JiraIssueType> chosen = ChooseIssueType(*types, wanted);
    if (!chosen.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Jira project ", issue.project, " has no issue type \"", wanted,
                       "\" and no standard issue type to open the issue as"));
    }
    if (!absl::EqualsIgnoreCase(chosen->name, wanted)) {
      fallback = chosen;
      wanted_is_subtask = std::any_of(types->begin(), types->end(), [&](const JiraIssueType& t) {
        return t.subtask && absl::EqualsIgnoreCase(t.name, wanted);
      });
    }
    create.issue_type = chosen->name;
    create.issue_type_id = chosen->id;
  } else if (types.status().code() != absl::StatusCode::kNotFound) {
    // NOT_FOUND: a Data Center without the endpoint; the create goes by name.
    return types.status();
  }

  absl::StatusOr<CreatedJiraIssue> created_or = client_.CreateIssue(create);
  if (!created_or.ok()) {
    // The project's types may have changed: read them afresh next time.
    issue_types_.erase(absl::AsciiStrToUpper(issue.project));
    return created_or.status();
  }
  const CreatedJiraIssue& created = *created_or;
  if (fallback.has_value()) {
    log::Warn(wanted_is_subtask
                  ? absl::StrCat("jira: issue type \"", wanted, "\" of project ", issue.project,
                                 " is a subtask type; opened the issue as \"", fallback->name, "\"")
                  : absl::StrCat("jira: project ", issue.project, " has no issue type \"", wanted,
                                 "\"; opened the issue as \"", fallback->name, "\""),
              {{"issue", created.key}});
  }
  WorkItem item;
  item.tracker = Tracker::kJira;
  item.key = created.key;
  item.external_id = created.id;
  item.title = create.summary;
  item.url = BrowseUrl(site_base_url_, created.key);
  item.done = false;
  return item;
}

}  // namespace okr::connectors::jira
