// GitHubIssueOpener: opens the issue a rule asks for in a team's GitHub repository, at most
// once per rule firing (sync::TrackerIssueOpener over the typed GitHubClient).
//
//   GitHubIssueOpener opener(github_client);
//   sync::NewIssue issue{.project = "acme/app", .title = "Key result at risk: NPS",
//                        .dedupe_label = "okr-rule-3f9c2a"};
//   OKR_ASSIGN_OR_RETURN(WorkItem item, opener.OpenIssue(issue));  // "acme/app#12"
//
// Contract: OpenIssue first lists the repository's issues (any state) carrying
// `dedupe_label` and returns the lowest-numbered one; only otherwise POSTs
// /repos/{o}/{r}/issues {title, body, labels: [dedupe_label]}. The body is the description
// plus the url if the text lacks it. Titles are made one line and cut to 256 characters.
// INVALID_ARGUMENT before any request for a missing project/title/dedupe label or a project
// that is not owner/repo; other errors are the client's.
#ifndef OKR_CONNECTORS_GITHUB_GITHUB_ISSUE_OPENER_H_
#define OKR_CONNECTORS_GITHUB_GITHUB_ISSUE_OPENER_H_

#include "absl/status/statusor.h"
#include "connectors/github/github_client.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::github {

class GitHubIssueOpener final : public sync::TrackerIssueOpener {
 public:
  explicit GitHubIssueOpener(GitHubClient& client);
  Tracker tracker() const override { return Tracker::kGitHub; }
  absl::StatusOr<WorkItem> OpenIssue(const sync::NewIssue& issue) override;

 private:
  GitHubClient& client_;
};

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_GITHUB_ISSUE_OPENER_H_
