// FakeGitLabServer: an in-memory GitLab REST v4 server for hermetic tests, and a webhook
// sender that plays GitLab's part towards the service's inbound endpoint.
//
// It is a real HTTP server (cpp-httplib) on 127.0.0.1 and an ephemeral port, serving on its
// own threads until destroyed. It implements the slice of GitLab the connector uses, with
// GitLab's wire details: projects addressed by URL-encoded path (`acme%2Fsub%2Fcheckout`) or
// numeric id, issues by iid, labels as strings in REST and as objects in hooks, offset
// pagination headers (x-page, x-per-page, x-next-page, x-prev-page, x-total, x-total-pages
// and `link` with rel="prev"/"next"/"first"/"last"; x-total, x-total-pages and rel="last"
// are omitted above 10,000 matches), RateLimit-* headers on every response, and
// `PRIVATE-TOKEN` (or `Authorization: Bearer`) authentication.
//
// Endpoints (under /api/v4):
//   GET  /projects/:id/issues              state, labels (all must match; None/Any),
//        iids[], milestone (title; None/Any), updated_after/updated_before, order_by
//        (created_at|updated_at), sort (asc|desc), with_labels_details, page, per_page
//        (default 20, max 100)
//   GET  /projects/:id/issues/:iid         404 {"message":"404 Not found"}
//   POST /projects/:id/issues              title (required, <= 255 characters), description,
//        labels (comma list or array; missing project labels are created) -> 201 + issue;
//        400 {"error":"title is missing"} / {"message":{"title":["can't be blank"]}}
//   PUT  /projects/:id/issues/:iid         add_labels, remove_labels, labels, state_event
//        (close|reopen), title, weight; JSON or form body; scoped labels exclusive on
//        request (FakeGitLabOptions::scoped_labels_exclusive)
//   GET  /projects/:id/issues/:iid/notes   paginated like issues
//   POST /projects/:id/issues/:iid/notes   body -> 201 + note
//   PUT  /projects/:id/issues/:iid/notes/:note_id   body -> 200; 404 for an unknown note
// An unknown project answers 404 {"message":"404 Project Not Found"}. Anything else answers
// 404 {"error":"404 Not Found"}; a missing or wrong token 401
// {"message":"401 Unauthorized"}.
//
// Usage:
//   FakeGitLabOptions options;
//   options.clock = &fake_clock;  // Timestamps and RateLimit-Reset follow the test's clock.
//   absl::StatusOr<std::unique_ptr<FakeGitLabServer>> gitlab = FakeGitLabServer::Start(options);
//   ASSERT_TRUE(gitlab.ok()) << gitlab.status();
//   (*gitlab)->AddProject("acme/checkout");
//   FakeGitLabIssue issue;
//   issue.iid = 7;
//   issue.labels = {"OKR::abc"};
//   ASSERT_TRUE((*gitlab)->AddIssue("acme/checkout", issue).ok());
//   (*gitlab)->RateLimitNextRequests(3, absl::Seconds(30));
//   ... point the client at (*gitlab)->base_url() with (*gitlab)->private_token() ...
//   EXPECT_EQ((*gitlab)->RequestCount(FakeGitLabEndpoint::kListIssues), 1);
//
//   // Webhooks: mutate the fake and get the matching Issue Hook, then deliver it (or not,
//   // twice, or out of order).
//   absl::StatusOr<FakeGitLabIssueHook> hook = (*gitlab)->CloseIssue("acme/checkout", 7);
//   SendIssueHook(receiver_url, "hook-secret", *hook);
//
// Like GitLab, creating or editing a note touches the issue's updated_at (and sends no
// Issue Hook), and add_labels creates missing project labels.
//
// Contract: every method is thread-safe. Counters count every request routed to an
// endpoint, including those answered with an injected fault. Injected faults (429/5xx) are
// served before authentication and routing, like a rate limiter in front of the app.
#ifndef OKR_TESTS_TESTING_FAKE_GITLAB_FAKE_GITLAB_SERVER_H_
#define OKR_TESTS_TESTING_FAKE_GITLAB_FAKE_GITLAB_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/okr/clock.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace okr::testing {

// One issue as the fake stores it. Zero/empty fields are filled in by AddIssue.
struct FakeGitLabIssue {
  int64_t iid = 0;  // 0: the next free iid of the project.
  int64_t id = 0;   // Instance-wide id; 0: assigned.
  std::string title;
  std::string description;
  std::string state = "opened";  // "opened" | "closed".
  std::optional<int64_t> weight;
  std::vector<std::string> labels;
  std::string milestone;  // Milestone title; empty: none.
  bool confidential = false;
  // InfinitePast: the clock's now (closed_at: now if the state is closed).
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  absl::Time closed_at = absl::InfinitePast();
  std::string web_url;  // Empty: <base_url>/<path>/-/issues/<iid>.
  // Marked a duplicate of this issue (iid, same project; 0: not a duplicate). While closed
  // and the target exists, REST shows `_links.closed_as_duplicate_of` (the target's API
  // URL) and hooks `object_attributes.duplicated_to_id` (the target's id); null otherwise.
  int64_t duplicate_of_iid = 0;
};

struct FakeGitLabNote {
  int64_t id = 0;
  std::string body;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

enum class FakeGitLabEndpoint {
  kListIssues,
  kCreateIssue,
  kGetIssue,
  kEditIssue,
  kListNotes,
  kCreateNote,
  kUpdateNote,
  kOther,  // Unknown routes.
};

// What the fake saw of one request.
struct FakeGitLabRequest {
  std::string method;
  std::string target;  // Raw request target as sent: path (still URL-encoded) and query.
  FakeGitLabEndpoint endpoint = FakeGitLabEndpoint::kOther;
  std::string private_token;  // PRIVATE-TOKEN header ("" if absent).
  std::string content_type;
  std::string body;
  int status = 0;  // What the fake answered.
};

// Which pagination headers list responses carry (real GitLab sends both).
enum class FakeGitLabPagination {
  kLinkAndHeaders,
  kLinkOnly,     // Only `link` (like keyset pagination).
  kHeadersOnly,  // Only x-* headers, no `link`.
};

// Timestamp style of hook payloads (GitLab has used both, sometimes in one payload).
enum class GitLabHookTimeFormat {
  kIso8601,    // "2013-12-03T17:15:43Z"
  kUtcSuffix,  // "2017-09-15 16:50:55 UTC"
  kMixed,      // object_attributes.updated_at and changes in kUtcSuffix, the rest ISO.
};

// One Issue Hook delivery, ready to send (and re-send) with SendIssueHook.
struct FakeGitLabIssueHook {
  nlohmann::json body;
  std::string idempotency_key;  // New per event, the same across re-sends.
  std::string event_uuid;       // X-Gitlab-Event-UUID.
  bool confidential = false;    // X-Gitlab-Event: Confidential Issue Hook.
  std::string Serialize() const;
};

struct FakeGitLabOptions {
  std::string private_token = "glpat-fake-gitlab-token";
  // Source of "now" for timestamps and RateLimit-Reset; nullptr: the system clock. Must
  // outlive the server.
  const okr::Clock* clock = nullptr;
  // RateLimit-Limit advertised (and counted per minute in RateLimit-Observed/-Remaining;
  // the fake never limits by itself, only through RateLimitNextRequests).
  int rate_limit_per_minute = 2000;
  // GitLab Premium/Ultimate scoped labels: adding "key::value" (add_labels, labels) drops
  // the issue's other labels of the same scope ("key" = everything before the last "::"),
  // and of a `labels` list only the last one of each scope stays. false: GitLab Free, where
  // "::" is an ordinary character.
  bool scoped_labels_exclusive = false;
};

class FakeGitLabServer {
 public:
  // Binds 127.0.0.1:0 and waits (with a deadline) until the server accepts connections.
  static absl::StatusOr<std::unique_ptr<FakeGitLabServer>> Start(FakeGitLabOptions options = {});

  ~FakeGitLabServer();
  FakeGitLabServer(const FakeGitLabServer&) = delete;
  FakeGitLabServer& operator=(const FakeGitLabServer&) = delete;

  // "http://127.0.0.1:<port>" (the instance URL; the API is under /api/v4).
  std::string base_url() const;
  const std::string& private_token() const { return options_.private_token; }

  // --- Data -------------------------------------------------------------------------------

  // Adds a project (idempotent) and returns its numeric id.
  int64_t AddProject(absl::string_view path);
  // Adds an issue; returns it with ids, timestamps and web_url filled in. NOT_FOUND for an
  // unknown project, ALREADY_EXISTS for a taken iid.
  absl::StatusOr<FakeGitLabIssue> AddIssue(absl::string_view project_path, FakeGitLabIssue issue);
  absl::StatusOr<FakeGitLabIssue> GetIssue(absl::string_view project_path, int64_t iid) const;
  // Applies `edit` and sets updated_at to now (closed_at follows state changes).
  absl::Status UpdateIssue(absl::string_view project_path, int64_t iid,
                           absl::FunctionRef<void(FakeGitLabIssue&)> edit);
  // Deletes an issue and its notes (GitLab sends no webhook for this).
  absl::Status DeleteIssue(absl::string_view project_path, int64_t iid);
  std::vector<FakeGitLabNote> Notes(absl::string_view project_path, int64_t iid) const;
  // Deletes a note (as a user would in the UI).
  absl::Status DeleteNote(absl::string_view project_path, int64_t iid, int64_t note_id);

  // --- Faults -----------------------------------------------------------------------------

  // The next `count` requests answer `http_status` with a GitLab-style JSON error body.
  void FailNextRequests(int count, int http_status = 500);
  // The next `count` requests answer 429 "Retry later" with RateLimit-Reset = now +
  // `reset_after` (absolute epoch seconds, rounded up), RateLimit-ResetTime and, if
  // `send_retry_after`, Retry-After (seconds).
  void RateLimitNextRequests(int count, absl::Duration reset_after, bool send_retry_after = true);
  // The next `count` create-issue requests (authenticated, to a known project) answer
  // `http_status`: instead of creating, or, with `after_create`, after the issue was
  // created (the response is lost on the way back).
  void FailNextCreates(int count, int http_status = 500, bool after_create = false);
  // Every response is delayed by `delay` (zero: no delay).
  void SetResponseDelay(absl::Duration delay);
  void SetPagination(FakeGitLabPagination pagination);

  // --- Observations -----------------------------------------------------------------------

  int64_t RequestCount(FakeGitLabEndpoint endpoint) const;
  // How often the issue was part of a list response (GET .../issues).
  int64_t TimesListed(absl::string_view project_path, int64_t iid) const;
  int64_t NoteCreates(absl::string_view project_path, int64_t iid) const;
  // Issues created through POST /projects/:id/issues (including those whose response was
  // lost); not reset by ResetObservations.
  int64_t IssueCreates() const;
  int64_t NoteUpdates(absl::string_view project_path, int64_t iid) const;
  // The last 10,000 requests, oldest first.
  std::vector<FakeGitLabRequest> Requests() const;
  void ResetObservations();

  // --- Webhooks ---------------------------------------------------------------------------

  // The Issue Hook GitLab would send for the issue's current state. `action` is "open",
  // "close", "reopen" or "update"; `changes` becomes the `changes` object verbatim.
  absl::StatusOr<FakeGitLabIssueHook> BuildIssueHook(
      absl::string_view project_path, int64_t iid, absl::string_view action,
      GitLabHookTimeFormat format = GitLabHookTimeFormat::kIso8601,
      nlohmann::json changes = nlohmann::json::object()) const;
  // Mutate the fake like a user would and return the matching hook (with `changes`).
  absl::StatusOr<FakeGitLabIssueHook> OpenIssue(
      absl::string_view project_path, FakeGitLabIssue issue,
      GitLabHookTimeFormat format = GitLabHookTimeFormat::kIso8601);
  absl::StatusOr<FakeGitLabIssueHook> CloseIssue(
      absl::string_view project_path, int64_t iid,
      GitLabHookTimeFormat format = GitLabHookTimeFormat::kIso8601);
  absl::StatusOr<FakeGitLabIssueHook> ReopenIssue(
      absl::string_view project_path, int64_t iid,
      GitLabHookTimeFormat format = GitLabHookTimeFormat::kIso8601);
  // Applies `edit` (title, labels, weight, description, ...) and returns an "update" hook
  // whose `changes` lists what differs.
  absl::StatusOr<FakeGitLabIssueHook> EditIssue(
      absl::string_view project_path, int64_t iid, absl::FunctionRef<void(FakeGitLabIssue&)> edit,
      GitLabHookTimeFormat format = GitLabHookTimeFormat::kIso8601);

 private:
  struct Issue {
    FakeGitLabIssue data;
    std::map<int64_t, FakeGitLabNote> notes;
    int64_t times_listed = 0;
    int64_t note_creates = 0;
    int64_t note_updates = 0;
  };
  struct Project {
    int64_t id = 0;
    std::string path;
    std::map<int64_t, Issue> issues;        // By iid.
    std::map<std::string, int64_t> labels;  // Title -> label id.
    int64_t next_iid = 1;
  };
  struct Fault {
    int status = 0;
    absl::Duration reset_after;
    bool retry_after = false;
  };

  explicit FakeGitLabServer(FakeGitLabOptions options);

  absl::Time Now() const;
  void Handle(const httplib::Request& request, httplib::Response& response);
  // Routes an authenticated request; sets response status, body and endpoint.
  void Route(const httplib::Request& request, absl::string_view path, httplib::Response& response,
             FakeGitLabEndpoint& endpoint) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ListIssues(const httplib::Request& request, const std::string& raw_path, Project& project,
                  httplib::Response& response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EditIssueRequest(const httplib::Request& request, Project& project, Issue& issue,
                        httplib::Response& response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CreateIssueRequest(const httplib::Request& request, Project& project,
                          httplib::Response& response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers `fault` (429 with GitLab's rate-limit headers, or a JSON error).
  void ReplyFault(const Fault& fault, absl::Time now, httplib::Response& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetRateLimitHeaders(httplib::Response& response, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Project* FindProject(absl::string_view id_or_path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Project* FindProjectByPath(absl::string_view path) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Issue* FindIssue(absl::string_view path, int64_t iid) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Issue* FindIssue(absl::string_view path, int64_t iid) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  int64_t LabelId(Project& project, const std::string& title) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetLabels(Project& project, Issue& issue, std::vector<std::string> labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<FakeGitLabIssue> AddIssueLocked(Project& project, FakeGitLabIssue issue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  nlohmann::json IssueJson(const Project& project, const Issue& issue,
                           bool with_label_details) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  nlohmann::json NoteJson(const Project& project, const Issue& issue,
                          const FakeGitLabNote& note) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  nlohmann::json LabelJson(const Project& project, const std::string& title,
                           GitLabHookTimeFormat format) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<FakeGitLabIssueHook> BuildIssueHookLocked(
      const Project& project, const Issue& issue, absl::string_view action,
      GitLabHookTimeFormat format, nlohmann::json changes) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const FakeGitLabOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  std::map<int64_t, Project> projects_ ABSL_GUARDED_BY(mu_);  // By project id.
  int64_t next_project_id_ ABSL_GUARDED_BY(mu_) = 1000;
  int64_t next_issue_id_ ABSL_GUARDED_BY(mu_) = 50000;
  int64_t next_note_id_ ABSL_GUARDED_BY(mu_) = 900000;
  int64_t next_label_id_ ABSL_GUARDED_BY(mu_) = 200;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);  // Front first.
  int create_faults_left_ ABSL_GUARDED_BY(mu_) = 0;
  int create_fault_status_ ABSL_GUARDED_BY(mu_) = 500;
  bool create_fault_after_ ABSL_GUARDED_BY(mu_) = false;
  int64_t issue_creates_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  FakeGitLabPagination pagination_ ABSL_GUARDED_BY(mu_) = FakeGitLabPagination::kLinkAndHeaders;
  std::map<FakeGitLabEndpoint, int64_t> request_counts_ ABSL_GUARDED_BY(mu_);
  std::vector<FakeGitLabRequest> requests_ ABSL_GUARDED_BY(mu_);
  int64_t rate_window_start_ ABSL_GUARDED_BY(mu_) = 0;  // Epoch minute.
  int64_t rate_observed_ ABSL_GUARDED_BY(mu_) = 0;
};

// POSTs one Issue Hook delivery to `url` (http://host:port/path) the way GitLab does:
// Content-Type application/json, User-Agent GitLab/18.2.1, X-Gitlab-Event "Issue Hook" (or
// "Confidential Issue Hook"), X-Gitlab-Token (omitted when `token` is empty),
// Idempotency-Key (omitted when empty), a fresh X-Gitlab-Webhook-UUID per call,
// X-Gitlab-Event-UUID and X-Gitlab-Instance. `event_json` is sent as is (it may be
// malformed on purpose). Returns the receiver's HTTP status; UNAVAILABLE if no response
// arrived, INVALID_ARGUMENT for a URL that is not http://.
absl::StatusOr<int> SendIssueHook(absl::string_view url, absl::string_view token,
                                  absl::string_view event_json, absl::string_view idempotency_key,
                                  bool confidential = false);
// Sends `hook` (its body, idempotency key, event UUID and confidentiality).
absl::StatusOr<int> SendIssueHook(absl::string_view url, absl::string_view token,
                                  const FakeGitLabIssueHook& hook);

// A random RFC 4122 version-4 UUID string.
std::string NewGitLabUuid();

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_FAKE_GITLAB_FAKE_GITLAB_SERVER_H_
