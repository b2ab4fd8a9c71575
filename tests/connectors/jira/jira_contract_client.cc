// jira_contract_client: drives the production JiraClient (over CurlHttpClient with Basic
// auth, no retries so that nothing hides a failure) against a Jira base URL, typically a
// Prism proxy validating against Atlassian's OpenAPI file in front of fake_jira_main.
//
//   jira_contract_client --base_url=http://127.0.0.1:4010 [--email=E] [--api_token=T]
//
// Expects the fake's seed (fake_jira_main --seed=3: OKRX-1..3, ids 10001..10003, and
// --project_issue_types=OKRS:Epic,Story,Bug,Sub-task); creates OKRX-4 through the issue
// opener (project check, dedupe search, createmeta issue types, create by type id) and
// OKRS-1, a project without Task, as a Story. Prints one
// line per step and exits 1 on the first failure (a Prism violation shows up as a 422 for the
// request or a 500 for the response, i.e. as a failed step).
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "connectors/jira/jira_client.h"
#include "connectors/jira/jira_issue_opener.h"
#include "service/outbound/auth.h"
#include "service/outbound/curl_http_client.h"

namespace {

using okr::connectors::jira::JiraClient;
using okr::connectors::jira::JiraIssue;
using okr::connectors::jira::RemoteLink;
using okr::connectors::jira::RemoteLinkResult;

int failures = 0;

void Check(const std::string& step, bool ok, const std::string& detail = "") {
  std::cout << (ok ? "PASS " : "FAIL ") << step;
  if (!detail.empty()) std::cout << ": " << detail;
  std::cout << std::endl;
  if (!ok) ++failures;
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], prefix)) return std::string(argv[i]).substr(prefix.size());
  }
  return fallback;
}

RemoteLink Link(const std::string& title, bool resolved) {
  RemoteLink link;
  link.global_id = "okr-service:kr=KR-17";
  link.application_type = "com.acme.okr";
  link.application_name = "ACME OKR";
  link.url = "https://okr.example/kr/KR-17";
  link.title = title;
  link.summary = "Progress 60% (3 of 5 linked issues done)";
  link.icon =
      okr::connectors::jira::RemoteLinkIcon{"https://okr.example/icon16.png", "Key result", ""};
  link.resolved = resolved;
  link.status_icon = okr::connectors::jira::RemoteLinkIcon{
      "https://okr.example/on-track16.png", "On track", "https://okr.example/kr/KR-17"};
  return link;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string base_url = Flag(argc, argv, "base_url", "");
  if (base_url.empty()) {
    std::cerr << "usage: jira_contract_client --base_url=URL [--email=E] [--api_token=T]\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<okr::outbound::CurlHttpClient>> curl =
      okr::outbound::CurlHttpClient::Create({});
  if (!curl.ok()) {
    std::cerr << curl.status() << "\n";
    return 1;
  }
  okr::outbound::AuthenticatingHttpClient authenticated(
      **curl, okr::outbound::BasicAuth(Flag(argc, argv, "email", "okr-bot@example.com"),
                                       Flag(argc, argv, "api_token", "test-api-token")));
  okr::connectors::jira::JiraClientOptions options;
  options.site_base_url = base_url;
  options.fields.story_points_field = "customfield_10016";
  options.page_size = 2;  // Three seeded issues: two pages, so nextPageToken is exercised.
  options.request_timeout = absl::Seconds(60);
  absl::StatusOr<std::unique_ptr<JiraClient>> client =
      JiraClient::Create(authenticated, std::move(options));
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 1;
  }
  JiraClient& jira = **client;

  std::vector<size_t> pages;
  absl::Status search = jira.SearchByJql("project = OKRX AND labels = okr ORDER BY key ASC",
                                         [&](std::vector<JiraIssue> page) {
                                           pages.push_back(page.size());
                                           return absl::OkStatus();
                                         });
  Check("search/jql with nextPageToken paging", search.ok() && pages.size() == 2,
        search.ok() ? absl::StrCat(pages.size(), " pages") : search.ToString());

  absl::StatusOr<std::vector<JiraIssue>> by_ids =
      jira.SearchIssuesByIds({"10001", "10002", "10003", "10999"});
  Check("search/jql by ids", by_ids.ok() && by_ids->size() == 3,
        by_ids.ok() ? absl::StrCat(by_ids->size(), " issues") : by_ids.status().ToString());

  absl::StatusOr<JiraIssue> issue = jira.GetIssue("OKRX-3");
  Check("GET issue by key", issue.ok() && issue->id == "10003" && issue->done,
        issue.ok() ? issue->key : issue.status().ToString());
  issue = jira.GetIssue("10001");
  Check("GET issue by id", issue.ok() && issue->key == "OKRX-1",
        issue.ok() ? issue->key : issue.status().ToString());
  issue = jira.GetIssue("OKRX-999");
  Check("GET missing issue is NOT_FOUND", issue.status().code() == absl::StatusCode::kNotFound,
        issue.status().ToString());

  absl::StatusOr<RemoteLinkResult> created =
      jira.UpsertRemoteLink("10001", Link("KR-17 v1", false));
  Check("remote link create (201)", created.ok() && created->created,
        created.ok() ? absl::StrCat("id ", created->id) : created.status().ToString());
  absl::StatusOr<RemoteLinkResult> updated =
      jira.UpsertRemoteLink("OKRX-1", Link("KR-17 v2", true));
  Check("remote link update by globalId (200)",
        updated.ok() && !updated->created && created.ok() && updated->id == created->id,
        updated.ok() ? absl::StrCat("id ", updated->id) : updated.status().ToString());
  absl::StatusOr<RemoteLink> read = jira.GetRemoteLink("10001", "okr-service:kr=KR-17");
  Check("GET remote link by globalId", read.ok() && read->title == "KR-17 v2" && read->resolved,
        read.ok() ? read->title : read.status().ToString());
  absl::StatusOr<RemoteLink> missing = jira.GetRemoteLink("10001", "okr-service:kr=none");
  Check("GET missing remote link is NOT_FOUND",
        missing.status().code() == absl::StatusCode::kNotFound, missing.status().ToString());
  absl::Status deleted = jira.DeleteRemoteLink("10001", "okr-service:kr=KR-17");
  Check("DELETE remote link by globalId (204)", deleted.ok(), deleted.ToString());
  deleted = jira.DeleteRemoteLink("10001", "okr-service:kr=KR-17");
  Check("DELETE again is NOT_FOUND", deleted.code() == absl::StatusCode::kNotFound,
        deleted.ToString());
  missing = jira.GetRemoteLink("10001", "okr-service:kr=KR-17");
  Check("the deleted remote link is gone", missing.status().code() == absl::StatusCode::kNotFound,
        missing.status().ToString());

  absl::StatusOr<okr::connectors::jira::JiraProject> project = jira.GetProject("OKRX");
  Check("GET project", project.ok() && project->key == "OKRX",
        project.ok() ? project->id : project.status().ToString());
  project = jira.GetProject("NOPE");
  Check("GET missing project is NOT_FOUND", project.status().code() == absl::StatusCode::kNotFound,
        project.status().ToString());

  okr::connectors::jira::JiraIssueOpener opener(jira, base_url);
  okr::sync::NewIssue new_issue;
  new_issue.project = "OKRX";
  new_issue.title = "Key result at risk: Checkout NPS >= 45";
  new_issue.description =
      "Checkout NPS is at 20% (expected 50%).\nhttps://okr.example/objectives/o1/keyResults/nps";
  new_issue.url = "https://okr.example/objectives/o1/keyResults/nps";
  new_issue.dedupe_label = "okr-rule-3f9c2a";
  absl::StatusOr<okr::WorkItem> opened = opener.OpenIssue(new_issue);
  Check("create issue (201) with an ADF description", opened.ok() && opened->key == "OKRX-4",
        opened.ok() ? opened->key : opened.status().ToString());
  absl::StatusOr<okr::WorkItem> again = opener.OpenIssue(new_issue);
  Check("open again finds the issue by its label",
        again.ok() && opened.ok() && again->external_id == opened->external_id,
        again.ok() ? again->key : again.status().ToString());

  absl::StatusOr<std::vector<okr::connectors::jira::JiraIssueType>> types =
      jira.ListCreateIssueTypes("OKRX");
  Check("createmeta issue types of a project",
        types.ok() && types->size() == 4 && (*types)[2].name == "Task" &&
            (*types)[2].id == "10002" && !(*types)[2].subtask && (*types)[0].hierarchy_level == 1,
        types.ok() ? absl::StrCat(types->size(), " types") : types.status().ToString());
  types = jira.ListCreateIssueTypes("OKRS");
  Check("createmeta issue types with a subtask type",
        types.ok() && types->size() == 4 && types->back().subtask &&
            types->back().hierarchy_level == -1,
        types.ok() ? absl::StrCat(types->size(), " types") : types.status().ToString());
  new_issue.project = "OKRS";
  new_issue.dedupe_label = "okr-rule-4a0d3b";
  absl::StatusOr<okr::WorkItem> fallback = opener.OpenIssue(new_issue);
  Check("open in a project without Task (created by a standard type's id)",
        fallback.ok() && fallback->key == "OKRS-1",
        fallback.ok() ? fallback->key : fallback.status().ToString());
  new_issue.issue_type = "Sub-task";
  new_issue.dedupe_label = "okr-rule-5b1e4c";
  fallback = opener.OpenIssue(new_issue);
  Check("a subtask type is never used", fallback.ok() && fallback->key == "OKRS-2",
        fallback.ok() ? fallback->key : fallback.status().ToString());

  okr::connectors::jira::NewJiraIssue bad_type;
  bad_type.project_key = "OKRX";
  bad_type.summary = "s";
  bad_type.issue_type = "Incident";
  absl::StatusOr<okr::connectors::jira::CreatedJiraIssue> rejected = jira.CreateIssue(bad_type);
  Check("create with an unknown issue type is INVALID_ARGUMENT (400)",
        rejected.status().code() == absl::StatusCode::kInvalidArgument,
        rejected.status().ToString());

  std::cout << (failures == 0 ? "contract OK" : absl::StrCat(failures, " step(s) failed"))
            << std::endl;
  return failures == 0 ? 0 : 1;
}
