#include "connectors/github/github_issue_opener.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "connectors/github/mapper.h"
#include "service/okr/status_macros.h"

namespace okr::connectors::github {
namespace {

absl::Status Invalid(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("GitHub open issue: ", problem));
}

std::string OneLineTitle(absl::string_view text) {
  std::string title(absl::StripAsciiWhitespace(text));
  for (char& c : title) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) c = ' ';
  }
  size_t chars = 0;
  for (size_t i = 0; i < title.size(); ++i) {
    if ((static_cast<unsigned char>(title[i]) & 0xC0) == 0x80) continue;
    if (++chars > kMaxIssueTitleChars) {
      title.resize(i);
      break;
    }
  }
  return title;
}

}  // namespace

GitHubIssueOpener::GitHubIssueOpener(GitHubClient& client) : client_(client) {}

absl::StatusOr<WorkItem> GitHubIssueOpener::OpenIssue(const sync::NewIssue& issue) {
  if (issue.project.empty()) return Invalid("no project");
  if (absl::StripAsciiWhitespace(issue.title).empty()) return Invalid("no title");
  if (issue.dedupe_label.empty()) return Invalid("no dedupe label");
  if (absl::Status s = ValidateRepoName(issue.project, "project"); !s.ok()) {
    return Invalid(s.message());
  }
  if (absl::StrContains(issue.dedupe_label, ',') ||
      std::any_of(issue.dedupe_label.begin(), issue.dedupe_label.end(),
                  [](char c) { return absl::ascii_iscntrl(static_cast<unsigned char>(c)); })) {
    return Invalid("the dedupe label must not contain ',' or control characters");
  }
  std::string body = issue.description;
  if (!issue.url.empty() && !absl::StrContains(body, issue.url)) {
    absl::StrAppend(&body, body.empty() ? "" : "\n\n", issue.url);
  }
  const std::vector<std::string> labels = {issue.dedupe_label};
  OKR_ASSIGN_OR_RETURN(std::vector<GitHubIssue> existing,
                       client_.ListIssuesByLabels(issue.project, labels));
  if (!existing.empty()) {
    return ToWorkItem(*std::min_element(
        existing.begin(), existing.end(),
        [](const GitHubIssue& a, const GitHubIssue& b) { return a.number < b.number; }));
  }
  OKR_ASSIGN_OR_RETURN(GitHubIssue created,
                       client_.CreateIssue(issue.project, OneLineTitle(issue.title), body, labels));
  return ToWorkItem(created);
}

}  // namespace okr::connectors::github
