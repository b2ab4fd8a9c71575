#include "connectors/gitlab/gitlab_issue_opener.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "connectors/gitlab/gitlab_sync.h"
#include "connectors/gitlab/mapper.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::gitlab {
namespace {

constexpr absl::string_view kOperation = "GitLab open issue";

// One line, at most kMaxIssueTitleChars code points, "…" marking a cut.
std::string OneLineTitle(absl::string_view text) {
  std::string title(absl::StripAsciiWhitespace(text));
  for (char& c : title) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) c = ' ';
  }
  size_t chars = 0;
  for (size_t i = 0; i < title.size(); ++i) {
    if ((static_cast<unsigned char>(title[i]) & 0xC0) == 0x80) continue;
    if (++chars < kMaxIssueTitleChars) continue;
    size_t rest = i + 1;  // After the last character that fits.
    while (rest < title.size() && (static_cast<unsigned char>(title[rest]) & 0xC0) == 0x80) ++rest;
    if (rest < title.size()) {
      title.resize(i);
      absl::StrAppend(&title, "\xE2\x80\xA6");
    }
    break;
  }
  return title;
}

absl::Status Invalid(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(kOperation, ": ", problem));
}

}  // namespace

GitLabIssueOpener::GitLabIssueOpener(GitLabClient& client) : client_(client) {}

absl::StatusOr<WorkItem> GitLabIssueOpener::OpenIssue(const sync::NewIssue& issue) {
  if (issue.project.empty()) return Invalid("no project");
  if (absl::StripAsciiWhitespace(issue.title).empty()) return Invalid("no title");
  if (issue.dedupe_label.empty()) return Invalid("no dedupe label");
  if (absl::Status status = ValidateProjectPath(issue.project, "project"); !status.ok()) {
    return Invalid(status.message());
  }
  if (absl::StrContains(issue.dedupe_label, ',') ||
      std::any_of(issue.dedupe_label.begin(), issue.dedupe_label.end(),
                  [](char c) { return absl::ascii_iscntrl(static_cast<unsigned char>(c)); })) {
    return Invalid("the dedupe label must not contain ',' or control characters");
  }
  std::string description = issue.description;
  if (!issue.url.empty() && !absl::StrContains(description, issue.url)) {
    absl::StrAppend(&description, description.empty() ? "" : "\n\n", issue.url);
  }
  if (description.size() > kMaxIssueDescriptionBytes) return Invalid("description too long");

  const std::vector<std::string> labels = {issue.dedupe_label};
  OKR_ASSIGN_OR_RETURN(std::vector<GitLabIssue> existing,
                       client_.ListIssuesByLabels(issue.project, labels));
  if (!existing.empty()) {
    const GitLabIssue& oldest =
        *std::min_element(existing.begin(), existing.end(),
                          [](const GitLabIssue& a, const GitLabIssue& b) { return a.iid < b.iid; });
    return SyncedWorkItem(oldest);
  }
  OKR_ASSIGN_OR_RETURN(
      GitLabIssue created,
      client_.CreateIssue(issue.project, OneLineTitle(issue.title), description, labels));
  return SyncedWorkItem(created);
}

}  // namespace okr::connectors::gitlab
