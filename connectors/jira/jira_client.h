// JiraClient: the typed Jira REST client of the connector. It searches issues (polling and
// reconciliation), reads one issue, writes the key-result link back into an issue, and
// looks up projects and creates issues (for rules that open issues), over an injected
// HttpClient that already carries auth and retry:
//
//   CurlHttpClient -> RetryingHttpClient -> AuthenticatingHttpClient(BasicAuth) -> JiraClient
//
// Usage:
//   JiraClientOptions options;
//   options.site_base_url = "https://acme.atlassian.net";
//   options.fields.story_points_field = "customfield_10016";
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<JiraClient> jira,
//                        JiraClient::Create(authenticated, std::move(options)));
//   OKR_ASSIGN_OR_RETURN(std::vector<JiraIssue> issues, jira->SearchIssuesByIds(tracked_ids));
//   OKR_ASSIGN_OR_RETURN(RemoteLinkResult link, jira->UpsertRemoteLink("10001", remote_link));
//
// Contract:
//  - Thread-safe if the HttpClient is; holds a non-owning reference to it, which must
//    outlive the client. No method logs credentials, bodies or query strings.
//  - Cloud uses POST /rest/api/3/search/jql (nextPageToken/isLast paging); Data Center uses
//    POST /rest/api/2/search (startAt/maxResults/total paging) and /rest/api/2 elsewhere.
//  - Searches and remote-link upserts are marked idempotent, so a RetryingHttpClient below
//    may replay them after a 5xx or transport error (a search only reads; an upsert with the
//    same globalId converges to the same link). CreateIssue is not: a replay after a lost
//    response would open a second issue, so it is retried only on 429 (Jira did not process
//    it); callers make retries safe by searching first (JiraIssueOpener).
//  - Errors: every non-2xx answer is mapped by service/outbound/status_mapping (404 ->
//    NOT_FOUND, 401 -> UNAUTHENTICATED, 429 -> RESOURCE_EXHAUSTED, ...); transport errors
//    pass through with their code; INVALID_ARGUMENT for bad arguments (checked before any
//    request); INTERNAL for a 2xx response that is not the JSON Jira documents (including an
//    issue lacking a mapped field, or paging that does not advance). Messages carry the
//    operation and never the credentials.
#ifndef OKR_CONNECTORS_JIRA_JIRA_CLIENT_H_
#define OKR_CONNECTORS_JIRA_JIRA_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "connectors/jira/mapper.h"
#include "service/outbound/http_client.h"

namespace okr::connectors::jira {

enum class JiraDeployment { kCloud, kDataCenter };

struct JiraClientOptions {
  // Site base URL without the API path: "https://acme.atlassian.net" (Cloud) or
  // "https://jira.acme.internal/jira" (Data Center). A trailing slash is dropped.
  std::string site_base_url;
  JiraDeployment deployment = JiraDeployment::kCloud;
  JiraFieldConfig fields;
  // maxResults per search request, 1..1000. Jira Cloud caps it at 100 when fields other than
  // id/key are requested, and may return fewer; paging copes with either.
  int page_size = 100;
  // Ids per `id in (...)` query of SearchIssuesByIds, 1..1000; with the defaults 10,000
  // tracked issues take 100 search requests.
  int ids_per_search = 100;
  // Per-request timeout (the retrying layer below may shorten it to its deadline).
  absl::Duration request_timeout = absl::Seconds(30);
  // A search stops with INTERNAL after this many pages (protection against a server that
  // never says isLast).
  int max_pages = 10000;
};

// An icon of a remote link (object.icon or object.status.icon).
struct RemoteLinkIcon {
  std::string url16x16;
  std::string title;
  std::string link;  // Optional; only meaningful on the status icon.
};

// A remote issue link as the OKR service writes it. Jira upserts by (issue, global_id) and
// nulls whatever an update omits, so UpsertRemoteLink always sends the full object.
struct RemoteLink {
  std::string global_id;         // Required, at most 255 bytes, e.g. "okr-service:kr=KR-17".
  std::string application_type;  // Optional, e.g. "com.acme.okr".
  std::string application_name;  // Optional, e.g. "ACME OKR".
  std::string relationship = "serves key result";
  std::string url;      // Required.
  std::string title;    // Required.
  std::string summary;  // Optional.
  std::optional<RemoteLinkIcon> icon;
  bool resolved = false;  // Renders the link struck through.
  std::optional<RemoteLinkIcon> status_icon;
};

struct RemoteLinkResult {
  int64_t id = 0;        // Jira's link id (0 if the response omitted it).
  bool created = false;  // 201 (created) vs 200 (updated an existing globalId).
};

// A project as GetProject reports it.
struct JiraProject {
  std::string id;  // Numeric, e.g. "10000".
  std::string key;
  std::string name;
};

// An issue to create. Cloud (v3) sends `description` as Atlassian Document Format
// (DescriptionToAdf), Data Center (v2) as a plain string.
struct NewJiraIssue {
  std::string project_key;          // Required, e.g. "OKRX".
  std::string summary;              // Required, 1..255 characters, one line.
  std::string issue_type = "Task";  // Issue type name; must exist in the project.
  // The issue type's numeric id (ListCreateIssueTypes); when set it is sent instead of the
  // name, which then only names the type in messages.
  std::string issue_type_id;
  std::string description;          // Plain text; paragraphs separated by blank lines.
  std::string link_url;             // Optional; occurrences in `description` become links.
  std::vector<std::string> labels;  // Each 1..255 bytes without whitespace.
};

// An issue type a project offers for new issues (createmeta). Standard types have
// hierarchy level 0 and are not subtasks; epics are level 1, subtasks -1.
struct JiraIssueType {
  std::string id;    // Numeric, e.g. "10002".
  std::string name;  // e.g. "Task".
  bool subtask = false;
  // Cloud reports it; Data Center does not (then -1 for subtasks, else 0).
  int hierarchy_level = 0;
};

// What Jira answers to a create: the new issue's identity.
struct CreatedJiraIssue {
  std::string id;   // Numeric id.
  std::string key;  // e.g. "OKRX-12".
};

class JiraClient final {
 public:
  // Called once per result page, in order; a non-OK return stops the search and is returned.
  using PageCallback = absl::FunctionRef<absl::Status(std::vector<JiraIssue> page)>;

  // INVALID_ARGUMENT for a base URL that is not http(s)://host[/path] without query or
  // fragment, or options out of range.
  static absl::StatusOr<std::unique_ptr<JiraClient>> Create(outbound::HttpClient& http,
                                                            JiraClientOptions options);

  JiraClient(const JiraClient&) = delete;
  JiraClient& operator=(const JiraClient&) = delete;

  // Runs `jql` (which must be bounded, e.g. "project = OKRX AND labels = okr") and hands
  // every page of issues to `on_page`. Requests exactly MappedFieldIds(options.fields):
  // the mapper decides what is fetched, so the two cannot drift apart.
  absl::Status SearchByJql(absl::string_view jql, PageCallback on_page);

  // The issues among `ids` (numeric ids, duplicates ignored) that still exist and are
  // visible; missing ones are simply absent (deleted and forbidden look alike). One search
  // per ids_per_search ids (more only if Jira returns short pages). INVALID_ARGUMENT if an
  // id is not a number.
  absl::StatusOr<std::vector<JiraIssue>> SearchIssuesByIds(absl::Span<const std::string> ids);

  // GET one issue by numeric id or key. NOT_FOUND if it does not exist or is not visible.
  // INVALID_ARGUMENT unless `id_or_key` is a number or a key like OKRX-101.
  absl::StatusOr<JiraIssue> GetIssue(absl::string_view id_or_key);

  // Creates or updates (by global_id) the remote link on the issue. INVALID_ARGUMENT for a
  // link without global_id, url or title, or a global_id over 255 bytes.
  absl::StatusOr<RemoteLinkResult> UpsertRemoteLink(absl::string_view issue_id_or_key,
                                                    const RemoteLink& link);

  // Reads back the remote link with `global_id`; NOT_FOUND if the issue or the link is
  // missing.
  absl::StatusOr<RemoteLink> GetRemoteLink(absl::string_view issue_id_or_key,
                                           absl::string_view global_id);

  // DELETE /issue/{idOrKey}/remotelink?globalId= (URL-encoded): removes the remote link
  // with `global_id` (204). NOT_FOUND if the issue or the link is missing (a repeated
  // delete). Idempotent.
  absl::Status DeleteRemoteLink(absl::string_view issue_id_or_key, absl::string_view global_id);

  // GET /project/{key}. NOT_FOUND if the project does not exist or is not visible.
  // INVALID_ARGUMENT unless `key` looks like a project key (a letter, then letters, digits
  // or underscores).
  absl::StatusOr<JiraProject> GetProject(absl::string_view key);

  // GET /issue/createmeta/{key}/issuetypes, every page (startAt/maxResults 200; Cloud's
  // `issueTypes`, Data Center's `values`): the issue types the caller may create in the
  // project, in Jira's order. Entries without a numeric id or a name (or a name over 255
  // bytes) are skipped; at most 1000 types are read. INVALID_ARGUMENT for a malformed key;
  // Jira's 400 for an unknown project is INVALID_ARGUMENT too; NOT_FOUND from a Data
  // Center older than 8.4, which lacks the endpoint.
  absl::StatusOr<std::vector<JiraIssueType>> ListCreateIssueTypes(absl::string_view project_key);

  // POST /issue with fields project.key, summary, issuetype (the id if `issue_type_id` is
  // set, else the name), labels and description.
  // Not idempotent (see the contract above). INVALID_ARGUMENT, before any request, for a
  // missing or malformed project key, summary (empty, over 255 characters, or with control
  // characters), issue type or label; Jira's own 400 (unknown project or issue type, ...) is
  // INVALID_ARGUMENT too.
  absl::StatusOr<CreatedJiraIssue> CreateIssue(const NewJiraIssue& issue);

  const JiraClientOptions& options() const { return options_; }

 private:
  JiraClient(outbound::HttpClient& http, JiraClientOptions options);

  // "<base>/rest/api/3" or "<base>/rest/api/2".
  std::string ApiUrl(absl::string_view path) const;
  // Sends, maps non-2xx through status_mapping and parses the JSON body.
  absl::StatusOr<nlohmann::json> Call(absl::string_view operation, outbound::HttpRequest request,
                                      int* http_status = nullptr);
  absl::Status SearchCloud(absl::string_view jql, PageCallback on_page);
  absl::Status SearchDataCenter(absl::string_view jql, PageCallback on_page);
  // Maps `issues[]` of a search response.
  absl::StatusOr<std::vector<JiraIssue>> MapIssues(const nlohmann::json& response);

  outbound::HttpClient& http_;
  const JiraClientOptions options_;
};

// Pure helpers, exposed for tests.

// `id in (1,2,3)` for numeric ids; INVALID_ARGUMENT names the first non-numeric id.
absl::StatusOr<std::string> IdsJql(absl::Span<const std::string> ids);

// The JSON body UpsertRemoteLink sends (RemoteIssueLinkRequest).
nlohmann::json RemoteLinkToJson(const RemoteLink& link);

// `text` as an Atlassian Document Format doc: one paragraph per blank-line-separated block,
// single newlines as hardBreak nodes, and every occurrence of `link_url` (if not empty) as
// text with a link mark. Never an empty text node (ADF forbids them).
nlohmann::json DescriptionToAdf(absl::string_view text, absl::string_view link_url);

// OK if CreateIssue would send `issue`; INVALID_ARGUMENT naming the problem otherwise.
absl::Status CheckNewJiraIssue(const NewJiraIssue& issue);

// The JSON body CreateIssue sends (IssueUpdateDetails with `fields` only).
nlohmann::json NewIssueToJson(const NewJiraIssue& issue, JiraDeployment deployment);

// A JQL string literal: `value` in double quotes, with `"` and `\` escaped by a backslash.
std::string JqlQuote(absl::string_view value);

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_JIRA_CLIENT_H_
