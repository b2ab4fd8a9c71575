#include "connectors/jira/jira_issue_opener.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "connectors/jira/jira_sync.h"
#include "connectors/jira/mapper.h"
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

JiraIssueOpener::JiraIssueOpener(JiraClient& client, std::string site_base_url,
                                 std::string issue_type)
    : client_(client),
      site_base_url_(std::move(site_base_url)),
      issue_type_(std::move(issue_type)) {}

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
  create.issue_type = issue_type_;
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

  OKR_ASSIGN_OR_RETURN(CreatedJiraIssue created, client_.CreateIssue(create));
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
