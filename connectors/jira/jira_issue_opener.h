// JiraIssueOpener: opens the issue a rule asks for in a team's Jira project, at most once
// per rule firing. It implements sync::TrackerIssueOpener over the typed JiraClient:
//
//   JiraIssueOpener opener(jira_client, "https://acme.atlassian.net");
//   sync::NewIssue issue{.project = "OKRX", .title = "Key result at risk: NPS >= 45",
//                        .description = "...", .url = kr_url,
//                        .dedupe_label = "okr-rule-3f9c2a", .issue_type = "Bug"};
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
//  - Issue type: `issue.issue_type` (empty: options.default_issue_type, "Task"). Before a
//    create the opener reads the project's issue types (JiraClient::ListCreateIssueTypes,
//    cached per project for options.issue_types_ttl, at most options.max_cached_projects
//    projects; dropped after a failed create) and creates with the id of the type whose
//    name matches case-insensitively (subtask types never match: they need a parent). A
//    project without it gets a standard type (not a subtask, hierarchy level 0): Task,
//    else Story, else Bug, else the first one Jira lists; the opener then logs one line,
//    `jira: project OKRX has no issue type "Task"; opened the issue as "Story"` (or, when
//    the name is one of the project's subtask types, `jira: issue type "Sub-task" of
//    project OKRX is a subtask type; opened the issue as "Task"`). No
//    standard type at all: FAILED_PRECONDITION naming the project and the wanted type.
//    A Data Center without the createmeta endpoint (NOT_FOUND) gets the create by name.
//  - Limitation: Jira's search is eventually consistent, so a second OpenIssue within a
//    moment of the first create can miss it; callers retry after a back-off, not at once.
//  - Titles are made one line (control characters become spaces) and cut to Jira's 255
//    characters. INVALID_ARGUMENT, before any request, for a missing project, title or
//    dedupe_label, or a label Jira cannot hold (whitespace, over 255 bytes); other errors
//    are the JiraClient's (service/outbound/status_mapping codes), unchanged.
#ifndef OKR_CONNECTORS_JIRA_JIRA_ISSUE_OPENER_H_
#define OKR_CONNECTORS_JIRA_JIRA_ISSUE_OPENER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "connectors/jira/jira_client.h"
#include "service/okr/clock.h"
#include "service/okr/model.h"
#include "service/sync/tracker_sync.h"

namespace okr::connectors::jira {

struct JiraIssueOpenerOptions {
  // The issue type of a NewIssue without one.
  std::string default_issue_type = "Task";
  // How long a project's issue types are reused, and for how many projects.
  absl::Duration issue_types_ttl = absl::Minutes(10);
  size_t max_cached_projects = 256;
  // Source of "now" for the cache; nullptr: SystemClock. Must outlive the opener.
  const Clock* clock = nullptr;
};

class JiraIssueOpener final : public sync::TrackerIssueOpener {
 public:
  // `site_base_url` is the Jira site for browse links (with OAuth the client's API base
  // differs from it).
  JiraIssueOpener(JiraClient& client, std::string site_base_url,
                  JiraIssueOpenerOptions options = {});

  Tracker tracker() const override { return Tracker::kJira; }
  absl::StatusOr<WorkItem> OpenIssue(const sync::NewIssue& issue) override;

 private:
  struct CachedTypes {
    absl::Time read;
    std::vector<JiraIssueType> types;
  };
  // The project's issue types, from the cache while fresh.
  absl::StatusOr<std::vector<JiraIssueType>> IssueTypes(const std::string& project);

  JiraClient& client_;
  const std::string site_base_url_;
  const JiraIssueOpenerOptions options_;
  const Clock& clock_;
  // By upper-cased project key.
  absl::flat_hash_map<std::string, CachedTypes> issue_types_;
};

// The type to open an issue of type `wanted` as, among a project's `types`: the non-subtask
// type named `wanted` (ASCII case-insensitive), else the first standard type (not a
// subtask, hierarchy level 0) named Task, Story or Bug in that order of preference, else
// the first standard type. nullopt if there is no standard type (and no match).
std::optional<JiraIssueType> ChooseIssueType(absl::Span<const JiraIssueType> types,
                                             absl::string_view wanted);

// The JQL OpenIssue searches with: `project = "<key>" AND labels = "<label>" ORDER BY
// created ASC`, both values quoted with JqlQuote.
std::string DedupeJql(absl::string_view project_key, absl::string_view dedupe_label);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_JIRA_ISSUE_OPENER_H_
