// GitLabIssueOpener: opens the issue a rule asks for in a team's GitLab project, at most
// once per rule firing. It implements sync::TrackerIssueOpener over the typed GitLabClient:
//
//   GitLabIssueOpener opener(gitlab_client);
//   sync::NewIssue issue{.project = "acme/checkout", .title = "Key result at risk: NPS",
//                        .description = "...", .url = kr_url,
//                        .dedupe_label = "okr-rule-3f9c2a"};
//   OKR_ASSIGN_OR_RETURN(WorkItem item, opener.OpenIssue(issue));  // "acme/checkout#12"
//
// Contract:
//  - Called from one thread at a time (the interface's rule); the GitLabClient must outlive
//    the opener.
//  - OpenIssue lists the project's issues carrying `dedupe_label` (any state) and returns
//    the oldest if there is one; only otherwise does it create the issue (title, labels =
//    [dedupe_label], description = the text, plus the url if the text lacks it). The create
//    is never replayed blindly (a retried OpenIssue lists again; GitLab's listing reads the
//    database, so a just-created issue is found), so calling OpenIssue again after any
//    failure, a lost response or a crash does not open a second issue.
//  - Titles are made one line (control characters become spaces) and cut to GitLab's 255
//    characters. INVALID_ARGUMENT, before any request, for a missing project, title or
//    dedupe_label, an invalid project path, or a label GitLab's `labels=` filter cannot
//    express (containing ',' or control characters); other errors are the GitLabClient's
//    (service/outbound/status_mapping codes: NOT_FOUND for an unknown project, ...).
#ifndef OKR_CONNECTORS_GITLAB_GITLAB_ISSUE_OPENER_H_
#define OKR_CONNECTORS_GITLAB_GITLAB_ISSUE_OPENER_H_

#include "absl/status/statusor.h"
#include "connectors/gitlab/gitlab_client.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::gitlab {

class GitLabIssueOpener final : public sync::TrackerIssueOpener {
 public:
  explicit GitLabIssueOpener(GitLabClient& client);

  Tracker tracker() const override { return Tracker::kGitLab; }
  absl::StatusOr<WorkItem> OpenIssue(const sync::NewIssue& issue) override;

 private:
  GitLabClient& client_;
};

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_GITLAB_ISSUE_OPENER_H_
