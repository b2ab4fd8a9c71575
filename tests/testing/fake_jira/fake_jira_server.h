// FakeJiraServer: an in-memory Jira Cloud for tests, served by cpp-httplib on 127.0.0.1 and
// an ephemeral port from a background thread. It speaks the slice of the REST API the
// connector uses, with Jira's real shapes and limits:
//
//   POST /rest/api/3/search/jql           enhanced search: nextPageToken (opaque) / isLast,
//                                         maxResults capped at 100 (5000 if only id/key are
//                                         requested), unknown body keys -> 400
//   POST /rest/api/2/search               Data Center search: startAt / maxResults / total
//   GET  /rest/api/{2,3}/issue/{idOrKey}  404 with Jira's error body when missing
//   POST /rest/api/{2,3}/issue/{idOrKey}/remotelink   upsert by globalId (201 / 200)
//   GET  /rest/api/{2,3}/issue/{idOrKey}/remotelink[?globalId=]
//   DELETE /rest/api/{2,3}/issue/{idOrKey}/remotelink?globalId=   204 (no body); 400
//                                         without globalId; 404 for an unknown issue or
//                                         link (so a repeated delete answers 404)
//   GET  /rest/api/{2,3}/project/{idOrKey}           404 when the project is unknown
//   GET  /rest/api/{2,3}/issue/createmeta/{projectIdOrKey}/issuetypes   the project's issue
//                                         types, startAt / maxResults (default 50, over 200
//                                         -> 400); v3 {issueTypes, startAt, maxResults,
//                                         total}, v2 (Data Center) {values, ..., isLast};
//                                         an unknown project -> 400
//   POST /rest/api/{2,3}/issue            create: fields project {key|id}, summary,
//                                         issuetype {name|id} (one of the project's
//                                         types), labels, description (an ADF
//                                         doc on v3, a string on v2); 201 {id, key, self};
//                                         every invalid field named in one 400
//                                         {"errorMessages":[],"errors":{field: message}}
//                                         (an unknown project included, as Jira does)
//
// Projects are those added with AddProject plus those of the issues put (by key prefix).
// JQL subset: clauses joined by AND, each `id|key|issuekey|project|labels = value` or
// `id|key|issuekey|project|labels in (v1, v2, ...)` (values bare or quoted, with backslash
// escapes inside quotes), then an optional
// `ORDER BY id|key|created|updated [ASC|DESC]`. Anything else, and a query without a
// restriction, is a 400 with a Jira-like errorMessages body. Results are ordered by numeric
// id unless ORDER BY says otherwise.
//
// Every request needs `Authorization: Basic base64(email:api_token)` (401 otherwise).
// Failure modes: FailNextRequests (e.g. 429 + Retry-After: 1, or 500), FailNextCreates
// (before or after the issue is created: a lost response), DenyRemoteLinkWrites (403 on one
// issue's remote-link writes, as for an account without the Link Issues permission there)
// and a fixed delay before every response. Counters record requests per endpoint, issues created
// and remote-link writes per issue.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<FakeJiraServer>> jira = FakeJiraServer::Start();
//   ASSERT_TRUE(jira.ok()) << jira.status();
//   (*jira)->PutIssues(MakeFakeIssues(3));
//   options.site_base_url = (*jira)->base_url();  // JiraClient talks to the fake.
//
// Thread-safe: all methods may be called while requests are being served.
#ifndef OKR_TESTS_TESTING_FAKE_JIRA_FAKE_JIRA_SERVER_H_
#define OKR_TESTS_TESTING_FAKE_JIRA_FAKE_JIRA_SERVER_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace okr::testing {

// One issue as the fake stores it.
struct FakeJiraIssue {
  std::string id;   // Numeric, e.g. "10001".
  std::string key;  // e.g. "OKRX-1"; the project key is the part before the last '-'.
  std::string summary;
  std::string status_category = "new";  // "new", "indeterminate", "done" or "undefined".
  // Workflow status name; empty: the usual one of the category (FakeStatusFor).
  std::string status_name;
  std::optional<double> story_points;
  std::vector<std::string> labels;
  std::string issue_type = "Story";  // One of FakeJiraOptions::issue_types.
  // fields.resolution's name while the status category is "done" ("Won't Do",
  // "Duplicate", ...); empty there: "Done". Other categories have resolution null.
  std::string resolution;
  // As the create request sent it (an ADF doc or a string; null if none). Not rendered.
  nlohmann::json description;
  absl::Time created = absl::FromUnixMillis(1748772000000);  // 2025-06-01T10:00:00Z
  absl::Time updated = absl::FromUnixMillis(1749031387381);  // 2025-06-04T10:03:07.381Z
};

// `count` issues OKRX-1.. with ids first_id.., cycling through the status categories
// new/indeterminate/done and story points 1, 2, 3, 5, 8 (every fifth without an estimate).
std::vector<FakeJiraIssue> MakeFakeIssues(int count, int64_t first_id = 10001,
                                          absl::string_view project_key = "OKRX");

// The workflow status Jira would show for a status category.
struct FakeJiraStatus {
  std::string id;
  std::string name;
  int category_id;
  std::string category_key;
  std::string category_color;
  std::string category_name;
};
FakeJiraStatus FakeStatusFor(absl::string_view status_category);

// The issue's `fields` object as Jira renders it (all navigable fields the fake knows,
// the story points field null when unset). `api_url` is e.g. "http://host/rest/api/3".
nlohmann::json FakeIssueFieldsJson(const FakeJiraIssue& issue, absl::string_view api_url,
                                   absl::string_view story_points_field);

// Jira's date-time format: "2025-06-04T10:03:07.381+0000".
std::string FormatJiraTime(absl::Time time);

struct FakeJiraOptions {
  std::string email = "okr-bot@example.com";
  std::string api_token = "test-api-token";
  std::string story_points_field = "customfield_10016";
  // Port to bind on 127.0.0.1; 0 picks a free one.
  int port = 0;
  // Issue type names of every project without its own list (SetProjectIssueTypes). "Epic"
  // has hierarchyLevel 1, "Sub-task"/"Subtask" are subtasks (level -1), others level 0.
  std::vector<std::string> issue_types = {"Epic", "Story", "Task", "Bug"};
};

// A project as the fake stores it.
struct FakeJiraProject {
  std::string id;  // Numeric, e.g. "10000".
  std::string key;
  std::string name;
  // The issue types creates accept, as createmeta lists them; empty: the options' list.
  std::vector<std::string> issue_types;
};

enum class FakeJiraEndpoint {
  kSearchJql,         // POST /rest/api/3/search/jql
  kSearchV2,          // POST /rest/api/2/search
  kGetIssue,          // GET  /rest/api/{2,3}/issue/{idOrKey}
  kRemoteLinkWrite,   // POST .../remotelink
  kRemoteLinkRead,    // GET  .../remotelink
  kGetProject,        // GET  /rest/api/{2,3}/project/{idOrKey}
  kCreateIssue,       // POST /rest/api/{2,3}/issue
  kCreateMeta,        // GET  /rest/api/{2,3}/issue/createmeta/{projectIdOrKey}/issuetypes
  kRemoteLinkDelete,  // DELETE .../remotelink?globalId=
};
inline constexpr int kFakeJiraEndpointCount = 9;

// What FailNextRequests answers instead of serving.
struct FakeJiraFailure {
  int status = 429;
  std::optional<std::string> retry_after = "1";  // Retry-After header value.
  std::optional<std::string> rate_limit_reset;   // X-RateLimit-Reset header value.
};

// A stored remote link: its id and the full request body of the last write.
struct FakeRemoteLink {
  int64_t id = 0;
  std::string global_id;
  nlohmann::json body;
};

class FakeJiraServer {
 public:
  // Binds 127.0.0.1:options.port, starts serving and waits (bounded) until it accepts.
  static absl::StatusOr<std::unique_ptr<FakeJiraServer>> Start(FakeJiraOptions options = {});

  ~FakeJiraServer();
  FakeJiraServer(const FakeJiraServer&) = delete;
  FakeJiraServer& operator=(const FakeJiraServer&) = delete;

  // "http://127.0.0.1:<port>": the site base URL (the API lives under /rest/api/...).
  std::string base_url() const;
  int port() const { return port_; }
  const FakeJiraOptions& options() const { return options_; }

  // Adds a project (idempotent by key, case-insensitive); returns its id.
  std::string AddProject(absl::string_view key, absl::string_view name = "");
  // Gives the project (added if needed) its own issue types, in createmeta order.
  void SetProjectIssueTypes(absl::string_view key, std::vector<std::string> issue_types);
  // Inserts or replaces (by id) an issue; adds its project if needed.
  void PutIssue(FakeJiraIssue issue);
  void PutIssues(const std::vector<FakeJiraIssue>& issues);
  // Removes the issue (by id or key) and its remote links; false if there was none.
  bool DeleteIssue(absl::string_view id_or_key);
  std::optional<FakeJiraIssue> GetIssue(absl::string_view id_or_key) const;

  // Remote links on the issue (by id or key), in creation order.
  std::vector<FakeRemoteLink> RemoteLinks(absl::string_view id_or_key) const;

  // The next `count` requests (any endpoint, before the auth check) get `failure`.
  void FailNextRequests(int count, FakeJiraFailure failure = {});
  // The next `count` create-issue requests (after the auth check) get `failure`: instead of
  // creating, or, with `after_create`, after the issue was created (the response is lost).
  void FailNextCreates(int count, FakeJiraFailure failure = {}, bool after_create = false);
  // From now on, remote-link writes (POST) on this issue (by id or key) answer 403 with
  // Jira's permission error body, and are counted by DeniedRemoteLinkWrites.
  void DenyRemoteLinkWrites(absl::string_view id_or_key);
  // Remote-link writes answered 403 by DenyRemoteLinkWrites on the issue (by id or key).
  int64_t DeniedRemoteLinkWrites(absl::string_view id_or_key) const;
  // Wait this long before answering each request (zero by default).
  void SetResponseDelay(absl::Duration delay);

  // Requests received per endpoint, including failed and unauthorized ones.
  int64_t RequestCount(FakeJiraEndpoint endpoint) const;
  // Issues created through POST .../issue (including those whose response was lost).
  int64_t IssuesCreated() const;
  // Successful remote-link writes (201 or 200) on the issue with this numeric id.
  int64_t RemoteLinkWrites(absl::string_view issue_id) const;
  // Requests answered 401.
  int64_t UnauthorizedCount() const;
  // Requests answered with an injected failure.
  int64_t InjectedFailureCount() const;
  // The Authorization header of the last request ("" if none).
  std::string LastAuthorization() const;

  // Forgets all issues, remote links, counters, pending failures and the response delay, as
  // if just started (the port and options stay). For a fake shared by a whole test binary.
  void Reset();

  // Stops serving (also done by the destructor). Idempotent.
  void Stop();

 private:
  explicit FakeJiraServer(FakeJiraOptions options);

  // Common prologue: count, delay, injected failure, auth. False if the response is done.
  bool Admit(FakeJiraEndpoint endpoint, const httplib::Request& req, httplib::Response& res);
  void RegisterRoutes();
  void HandleSearchJql(const httplib::Request& req, httplib::Response& res);
  void HandleSearchV2(const httplib::Request& req, httplib::Response& res);
  void HandleGetIssue(const httplib::Request& req, httplib::Response& res);
  void HandleWriteRemoteLink(const httplib::Request& req, httplib::Response& res);
  void HandleReadRemoteLink(const httplib::Request& req, httplib::Response& res);
  void HandleDeleteRemoteLink(const httplib::Request& req, httplib::Response& res);
  void HandleGetProject(const httplib::Request& req, httplib::Response& res);
  void HandleCreateIssue(const httplib::Request& req, httplib::Response& res);
  void HandleCreateMetaIssueTypes(const httplib::Request& req, httplib::Response& res);
  // The injected create failure to answer with now, if any (`after_create`: the phase).
  std::optional<FakeJiraFailure> TakeCreateFailure(bool after_create);

  // The numeric id of the issue with this id or key, or "".
  std::string ResolveLocked(absl::string_view id_or_key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The project with this id or key (case-insensitive), or nullptr.
  const FakeJiraProject* FindProjectLocked(absl::string_view id_or_key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const FakeJiraProject& AddProjectLocked(absl::string_view key, absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  nlohmann::json IssueJsonLocked(const FakeJiraIssue& issue, absl::string_view api_version,
                                 const std::vector<std::string>& fields) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const FakeJiraOptions options_;
  const std::string expected_authorization_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  // Issues by numeric id (ordered numerically via the key (length, text)).
  std::map<std::pair<size_t, std::string>, FakeJiraIssue> issues_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> id_by_key_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<FakeRemoteLink>> links_by_issue_id_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> link_writes_by_issue_id_ ABSL_GUARDED_BY(mu_);
  // Issue ids whose remote-link writes answer 403, with the writes so answered.
  absl::flat_hash_map<std::string, int64_t> denied_link_writes_by_issue_id_ ABSL_GUARDED_BY(mu_);
  int64_t next_link_id_ ABSL_GUARDED_BY(mu_) = 10000;
  // Projects by upper-cased key.
  std::map<std::string, FakeJiraProject> projects_ ABSL_GUARDED_BY(mu_);
  int64_t next_project_id_ ABSL_GUARDED_BY(mu_) = 10000;
  int64_t issues_created_ ABSL_GUARDED_BY(mu_) = 0;
  int create_failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  bool create_failure_after_ ABSL_GUARDED_BY(mu_) = false;
  FakeJiraFailure create_failure_ ABSL_GUARDED_BY(mu_);
  int failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  FakeJiraFailure failure_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::array<int64_t, kFakeJiraEndpointCount> request_counts_ ABSL_GUARDED_BY(mu_) = {};
  int64_t unauthorized_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t injected_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_authorization_ ABSL_GUARDED_BY(mu_);
};

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_FAKE_JIRA_FAKE_JIRA_SERVER_H_
