// JiraIssueOpener: opens the issue a rule asks for in a team's Jira project, at most once
// per rule firing. It implements sync::TrackerIssueOpener over the typed JiraClient:
//
//   JiraIssueOpener opener(jira_client, "https://acme.atlassian.net");  // issue type "Task"
//   sync::NewIssue issue{.project = "OKRX", .title = "Key result at risk: NPS >= 45",
//                        .description = "...", .url = kr_url,
//                        .dedupe_label = "okr-rule-3f9c2a"};
//   OKR_ASSIGN_OR_RETURN(WorkItem item, opener.OpenIssue(issue));  // key "OKRX-12"
//
// Contract:
//  - Called from one thread at a time (the interface's rule); the JiraClient must outlive
//    the opener.
//  - OpenIssue checks the project (GET /project/{key}: NOT_FOUND if it does not exist or is
//    not visible), then searches `project = "<key>" AND labels = "<dedupe_label>"` and
//    returns the oldest match if there is one; only otherwise does it create the issue
//    (summary = title, labels = [dedupe_label], description = the text with `url` as a
//    link). The create is never replayed blindly (a retried OpenIssue searches again), so
//    calling OpenIssue again after any failure, a lost response or a crash does not open a
//    second issue.
//  - Limitation: Jira's search is eventually consistent, so a second OpenIssue within a
//    moment of the first create can miss it; callers retry after a back-off, not at once.
//  - Titles are made one line (control characters become spaces) and cut to Jira's 255
//    characters. INVALID_ARGUMENT, before any request, for a missing project, title or
//    dedupe_label, or a label Jira cannot hold (whitespace, over 255 bytes); other errors
//    are the JiraClient's (service/outbound/status_mapping codes), unchanged.
#ifndef OKR_CONNECTORS_JIRA_JIRA_ISSUE_OPENER_H_
#define OKR_CONNECTORS_JIRA_JIRA_ISSUE_OPENER_H_

#include <string>

#include "absl/status/statusor.h"
#include "connectors/jira/jira_client.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::jira {

class JiraIssueOpener final : public sync::TrackerIssueOpener {
 public:
  // `site_base_url` is the Jira site for browse links (with OAuth the client's API base
  // differs from it); `issue_type` the name of the issue type to create.
  JiraIssueOpener(JiraClient& client, std::string site_base_url, std::string issue_type = "Task");

  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<WorkItem> OpenIssue(const sync::NewIssue& issue) override;

 private:
  JiraClient& client_;
  const std::string site_base_url_;
  const std::string issue_type_;
};

// The JQL OpenIssue searches with: `project = "<key>" AND labels = "<label>" ORDER BY
// created ASC`, both values quoted with JqlQuote.
std::string DedupeJql(absl::string_view project_key, absl::string_view dedupe_label);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_JIRA_ISSUE_OPENER_H_
