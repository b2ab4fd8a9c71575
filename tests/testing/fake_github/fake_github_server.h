// FakeGitHubServer: an in-memory GitHub REST v3 + GraphQL server for hermetic tests, and a
// webhook sender that plays GitHub's part towards the service's inbound endpoint.
//
// It is a real HTTP server (cpp-httplib) on 127.0.0.1 and an ephemeral port, serving on its
// own threads until destroyed. It implements the slice of GitHub the connector uses
// (../shared/docs/integrations.md section 3), with GitHub's wire details: issues addressed
// as /repos/{owner}/{repo}/issues/{number}, pull requests listed by the issues endpoints
// with a `pull_request` key, `link` pagination (rel="next"/"prev"/"first"/"last", absent on
// a single page), x-ratelimit-* headers on every response, `Authorization: Bearer <token>`
// (or `token <token>`) authentication, JSON errors {message, documentation_url, status}.
//
// Layout (FakeGitHubOptions::path_prefix): "" = GitHub.com (REST at /, GraphQL at
// /graphql); "/api/v3" = GitHub Enterprise Server (REST under /api/v3, GraphQL at
// /api/graphql).
//
// REST endpoints (under the prefix):
//   GET    /repos/{o}/{r}/issues                 state (open|closed|all), labels (comma
//          list, all must match), since, sort (created|updated), direction (asc|desc),
//          per_page (default 30, max 100), page
//   GET    /repos/{o}/{r}/issues/{n}             404; 410 after delete; 301 after transfer
//   PATCH  /repos/{o}/{r}/issues/{n}             title, body, state, state_reason, labels
//   POST   /repos/{o}/{r}/issues                 title (required, else 422), body, labels -> 201
//   GET    /repos/{o}/{r}/issues/{n}/comments    ascending id, paginated like issues
//   POST   /repos/{o}/{r}/issues/{n}/comments    {"body"} -> 201
//   PATCH  /repos/{o}/{r}/issues/comments/{id}   {"body"} -> 200; 404 unknown
//   DELETE /repos/{o}/{r}/issues/comments/{id}   204; 404 unknown
//   POST   /repos/{o}/{r}/issues/{n}/labels      {"labels":[...]} -> 200 + all labels of the
//          issue; creates missing repository labels; 422 for a name over 50 characters
//   DELETE /repos/{o}/{r}/issues/{n}/labels/{name}  200 + remaining labels; 404
//          {"message":"Label does not exist"}
//   GET    /repositories/{repo_id}/issues/{n}    where a 301 after a transfer points
// GraphQL: POST {prefix}/graphql with the `nodes(ids: $ids)` query of section 3.5 (other
// queries: HTTP 200 with an error of type "UNSUPPORTED").
//
// Request rules: a wrong or missing token answers 401 {"message":"Bad credentials"}; a
// missing User-Agent 403; an X-GitHub-Api-Version other than 2022-11-28 / 2026-03-10 400.
//
// Usage:
//   FakeGitHubOptions options;
//   options.clock = &fake_clock;  // Timestamps and x-ratelimit-reset follow the test's clock.
//   absl::StatusOr<std::unique_ptr<FakeGitHubServer>> github = FakeGitHubServer::Start(options);
//   ASSERT_TRUE(github.ok()) << github.status();
//   (*github)->AddRepo("acme/checkout");
//   FakeGitHubIssue issue;
//   issue.labels = {"weight:3"};
//   absl::StatusOr<FakeGitHubIssue> added = (*github)->AddIssue("acme/checkout", issue);
//   ... point the connector at (*github)->base_url() with (*github)->token() ...
//   EXPECT_EQ((*github)->RequestCount(FakeGitHubEndpoint::kListIssues), 1);
//
//   // Webhooks: mutate the fake and get the matching delivery, then send it (or not,
//   // twice, or out of order).
//   absl::StatusOr<FakeGitHubDelivery> d = (*github)->CloseIssue("acme/checkout", 1, "completed");
//   SendGitHubWebhook(receiver_url, "hook-secret", *d);
//
// Contract: every method is thread-safe. Counters count every request routed to an
// endpoint, including those answered with an injected fault. Injected faults are served
// after authentication (like GitHub's rate limiter, which counts per user) and before
// routing.
#ifndef OKR_TESTS_TESTING_FAKE_GITHUB_FAKE_GITHUB_SERVER_H_
#define OKR_TESTS_TESTING_FAKE_GITHUB_FAKE_GITHUB_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <utility>
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

struct FakeGitHubOptions {
  std::string token = "ghp_fake_github_token";
  // Source of "now" for timestamps and x-ratelimit-reset; nullptr: the system clock. Must
  // outlive the server.
  const okr::Clock* clock = nullptr;
  // "": GitHub.com layout (REST at /, GraphQL at /graphql); "/api/v3": GHES layout (REST
  // under /api/v3, GraphQL at /api/graphql).
  std::string path_prefix = "";
  // x-ratelimit-limit advertised (per hour, REST and GraphQL counted apart; the fake never
  // limits by itself, only through RateLimitNextRequests).
  int rate_limit = 5000;
};

// One issue (or pull request) as the fake stores it. Zero/empty fields are filled in by
// AddIssue.
struct FakeGitHubIssue {
  int64_t number = 0;   // 0: the next free number of the repository (shared with PRs).
  int64_t id = 0;       // 0: assigned (instance-wide).
  std::string node_id;  // Empty: assigned ("I_kwDO..." for issues, "PR_kwDO..." for PRs).
  std::string title;
  std::string body;
  std::string state = "open";  // "open" | "closed".
  // "completed" | "not_planned" | "duplicate" | "reopened" | nullopt (JSON null).
  std::optional<std::string> state_reason;
  std::vector<std::string> labels;
  bool pull_request = false;  // A PR: listed by the issues endpoints with `pull_request`.
  // InfinitePast: the clock's now (closed_at: now if the state is closed, else null).
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  absl::Time closed_at = absl::InfinitePast();
  std::string html_url;  // Empty: https://github.example.test/<owner>/<repo>/issues/<n>.
};

struct FakeGitHubComment {
  int64_t id = 0;
  std::string node_id;
  std::string body;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

enum class FakeGitHubEndpoint {
  kListIssues,
  kGetIssue,  // Also GET /repositories/{id}/issues/{n}.
  kCreateIssue,
  kUpdateIssue,
  kListComments,
  kCreateComment,
  kUpdateComment,
  kDeleteComment,
  kAddLabels,
  kRemoveLabel,
  kGraphQL,
  kOther,  // Unknown routes.
};

enum class FakeGitHubRateLimit {
  kPrimary,     // 403, x-ratelimit-remaining: 0, "API rate limit exceeded for ...".
  kPrimary429,  // The same with 429.
  kSecondary,   // 403 with retry-after (seconds) and the secondary-limit message.
};

// What the fake saw of one request.
struct FakeGitHubRequest {
  std::string method;
  std::string target;  // Raw request target as sent: path (still URL-encoded) and query.
  FakeGitHubEndpoint endpoint = FakeGitHubEndpoint::kOther;
  std::string authorization_scheme;  // "Bearer", "token", other as sent, "" if absent.
  std::string user_agent;
  std::string accept;
  std::string api_version;  // X-GitHub-Api-Version ("" if absent).
  std::string body;
  int status = 0;  // What the fake answered.
};

// One webhook delivery, ready to send (and re-send) with SendGitHubWebhook.
struct FakeGitHubDelivery {
  std::string event = "issues";  // X-GitHub-Event.
  std::string guid;              // X-GitHub-Delivery: a fresh UUID, the same across re-sends.
  nlohmann::json body;
  int64_t hook_id = 0;                     // X-GitHub-Hook-ID.
  std::string target_type = "repository";  // X-GitHub-Hook-Installation-Target-Type.
  int64_t target_id = 0;                   // X-GitHub-Hook-Installation-Target-ID.
  std::string Serialize() const;
};

class FakeGitHubServer {
 public:
  // The webhook id the fake's deliveries carry.
  static constexpr int64_t kHookId = 460817029;

  // Binds 127.0.0.1:0 and waits (with a deadline) until the server accepts connections.
  static absl::StatusOr<std::unique_ptr<FakeGitHubServer>> Start(FakeGitHubOptions options = {});

  ~FakeGitHubServer();
  FakeGitHubServer(const FakeGitHubServer&) = delete;
  FakeGitHubServer& operator=(const FakeGitHubServer&) = delete;

  // The REST base the connector is configured with: "http://127.0.0.1:<port>" +
  // path_prefix (e.g. ".../api/v3").
  std::string base_url() const;
  // "http://127.0.0.1:<port>/graphql" or ".../api/graphql".
  std::string graphql_url() const;
  const std::string& token() const { return options_.token; }

  // --- Data -------------------------------------------------------------------------------

  // Adds a repository "owner/repo" (idempotent) and returns its numeric id.
  int64_t AddRepo(absl::string_view full_name);
  // Adds an issue; returns it with ids, timestamps and html_url filled in. NOT_FOUND for an
  // unknown repository, ALREADY_EXISTS for a taken number.
  absl::StatusOr<FakeGitHubIssue> AddIssue(absl::string_view repo, FakeGitHubIssue issue);
  absl::StatusOr<FakeGitHubIssue> GetIssue(absl::string_view repo, int64_t number) const;
  // Applies `edit` and sets updated_at to now (closed_at follows state changes).
  absl::Status UpdateIssue(absl::string_view repo, int64_t number,
                           absl::FunctionRef<void(FakeGitHubIssue&)> edit);
  // Deletes an issue and its comments; REST GET then answers 410, GraphQL gives null.
  absl::Status DeleteIssue(absl::string_view repo, int64_t number);
  // Moves an issue (same id and node_id, comments kept) to `new_repo` under its next free
  // number, which is returned. GET of the old path then answers 301 to
  // <base>/repositories/<new repo id>/issues/<new number>.
  absl::StatusOr<int64_t> TransferIssue(absl::string_view repo, int64_t number,
                                        absl::string_view new_repo);
  // The token loses read access: every request about the repository answers 404.
  absl::Status RemoveRepoAccess(absl::string_view repo);
  // Comments of an issue, ascending id (empty for an unknown issue).
  std::vector<FakeGitHubComment> Comments(absl::string_view repo, int64_t number) const;
  // Deletes a comment (as a user would in the UI).
  absl::Status DeleteComment(absl::string_view repo, int64_t comment_id);

  // --- Faults -----------------------------------------------------------------------------

  // The next `count` requests answer `http_status` with a GitHub-style JSON error body.
  void FailNextRequests(int count, int http_status = 500);
  // The next `count` requests are rate limited (see FakeGitHubRateLimit) with
  // x-ratelimit-reset = now + `reset_after` (epoch seconds, rounded up; retry-after the
  // same in seconds for kSecondary). GraphQL requests under a primary limit answer HTTP
  // 200 with an error of type RATE_LIMITED and x-ratelimit-remaining: 0.
  void RateLimitNextRequests(int count, FakeGitHubRateLimit kind, absl::Duration reset_after);
  // Every response is delayed by `delay` (zero: no delay).
  void SetResponseDelay(absl::Duration delay);

  // --- Observations -----------------------------------------------------------------------

  int64_t RequestCount(FakeGitHubEndpoint endpoint) const;
  // The last 10,000 requests, oldest first.
  std::vector<FakeGitHubRequest> Requests() const;
  // Number of ids of every GraphQL `nodes` request, in order.
  std::vector<int> GraphQLIdsRequested() const;
  void ResetObservations();

  // --- Webhooks ---------------------------------------------------------------------------

  // The `issues` delivery GitHub would send for the issue's current state: action, issue
  // (the REST issue object), repository {id, node_id, name, full_name, owner{login},
  // html_url}, sender {login, id}, plus the keys of `extra` (e.g. label, changes).
  absl::StatusOr<FakeGitHubDelivery> BuildIssuesEvent(
      absl::string_view repo, int64_t number, absl::string_view action,
      nlohmann::json extra = nlohmann::json::object()) const;
  // Mutate the fake like a user would and return the matching delivery.
  absl::StatusOr<FakeGitHubDelivery> OpenIssue(absl::string_view repo, FakeGitHubIssue issue);
  // `state_reason`: "completed" | "not_planned" | "duplicate".
  absl::StatusOr<FakeGitHubDelivery> CloseIssue(absl::string_view repo, int64_t number,
                                                absl::string_view state_reason = "completed");
  // state open, state_reason "reopened".
  absl::StatusOr<FakeGitHubDelivery> ReopenIssue(absl::string_view repo, int64_t number);
  // "edited" with changes.title.from / changes.body.from for what `edit` changed.
  absl::StatusOr<FakeGitHubDelivery> EditIssue(absl::string_view repo, int64_t number,
                                               absl::FunctionRef<void(FakeGitHubIssue&)> edit);
  // "labeled" / "unlabeled" with a top-level `label` object.
  absl::StatusOr<FakeGitHubDelivery> LabelIssue(absl::string_view repo, int64_t number,
                                                absl::string_view label);
  absl::StatusOr<FakeGitHubDelivery> UnlabelIssue(absl::string_view repo, int64_t number,
                                                  absl::string_view label);
  // "deleted" (built before deletion); the issue is then gone (REST 410).
  absl::StatusOr<FakeGitHubDelivery> DeleteIssueEvent(absl::string_view repo, int64_t number);
  // "transferred" (the old issue and repository) with changes.new_issue and
  // changes.new_repository; the issue then lives in `new_repo`.
  absl::StatusOr<FakeGitHubDelivery> TransferIssueEvent(absl::string_view repo, int64_t number,
                                                        absl::string_view new_repo);
  // Event "ping" with zen, hook_id, hook (and repository when `repo` is known).
  FakeGitHubDelivery Ping(absl::string_view repo = "") const;

 private:
  struct Issue {
    FakeGitHubIssue data;
    std::map<int64_t, FakeGitHubComment> comments;  // By id.
  };
  struct Repo {
    int64_t id = 0;
    std::string node_id;
    std::string full_name;
    std::map<int64_t, Issue> issues;                       // By number.
    std::map<std::string, int64_t> labels;                 // Name -> label id.
    std::map<int64_t, std::pair<int64_t, int64_t>> moved;  // Old number -> (repo id, number).
    std::map<int64_t, bool> deleted;                       // Numbers of deleted issues.
    int64_t next_number = 1;
    bool accessible = true;
  };
  struct Fault {
    int status = 0;
    bool rate_limit = false;
    FakeGitHubRateLimit kind = FakeGitHubRateLimit::kPrimary;
    absl::Duration reset_after;
  };

  explicit FakeGitHubServer(FakeGitHubOptions options);

  absl::Time Now() const;
  void Handle(const httplib::Request& request, httplib::Response& response);
  void Route(const httplib::Request& request, absl::string_view path, httplib::Response& response,
             FakeGitHubEndpoint& endpoint) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GraphQL(const httplib::Request& request, httplib::Response& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetRateLimitHeaders(httplib::Response& response, absl::Time now, bool graphql)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Repo* FindRepo(absl::string_view full_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Repo* FindRepo(absl::string_view full_name) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Repo* FindRepoById(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t LabelId(Repo& repo, const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<FakeGitHubIssue> AddIssueLocked(Repo& repo, FakeGitHubIssue issue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> TransferLocked(Repo& from, int64_t number, Repo& to)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Touch(Issue& issue) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  nlohmann::json IssueJson(const Repo& repo, const Issue& issue) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  nlohmann::json LabelJson(const Repo& repo, const std::string& name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  nlohmann::json CommentJson(const Repo& repo, const Issue& issue,
                             const FakeGitHubComment& comment) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  nlohmann::json RepoJson(const Repo& repo) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<FakeGitHubDelivery> BuildLocked(const Repo& repo, const Issue& issue,
                                                 absl::string_view action,
                                                 nlohmann::json extra) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const FakeGitHubOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  std::map<int64_t, Repo> repos_ ABSL_GUARDED_BY(mu_);  // By repository id.
  int64_t next_repo_id_ ABSL_GUARDED_BY(mu_) = 700000;
  int64_t next_issue_id_ ABSL_GUARDED_BY(mu_) = 1800000000;
  int64_t next_comment_id_ ABSL_GUARDED_BY(mu_) = 2400000000;
  int64_t next_label_id_ ABSL_GUARDED_BY(mu_) = 5000;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);  // Front first.
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  std::map<FakeGitHubEndpoint, int64_t> request_counts_ ABSL_GUARDED_BY(mu_);
  std::vector<FakeGitHubRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<int> graphql_ids_ ABSL_GUARDED_BY(mu_);
  int64_t core_used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t graphql_used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t window_start_ ABSL_GUARDED_BY(mu_) = 0;  // Epoch hour.
};

// POSTs one delivery to `url` (http://host:port/path) the way GitHub does: Content-Type
// application/json, User-Agent GitHub-Hookshot/abc123, X-GitHub-Event, X-GitHub-Delivery,
// X-GitHub-Hook-ID, X-GitHub-Hook-Installation-Target-Type/-ID, X-Hub-Signature-256
// ("sha256=" + hex HMAC-SHA256(secret, body)) and X-Hub-Signature ("sha1=" + hex
// HMAC-SHA1), both omitted when `secret` is empty. Returns the receiver's HTTP status;
// UNAVAILABLE if no response arrived, INVALID_ARGUMENT for a URL that is not http://.
absl::StatusOr<int> SendGitHubWebhook(absl::string_view url, absl::string_view secret,
                                      const FakeGitHubDelivery& delivery);
// Sends `body` as is with exactly `headers` (no others besides what HTTP needs), for
// malformed-input tests.
absl::StatusOr<int> SendGitHubWebhook(
    absl::string_view url, absl::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers);

// "sha256=" + hex HMAC-SHA256 / "sha1=" + hex HMAC-SHA1 of `body` keyed with `secret`.
std::string GitHubSignature256(absl::string_view secret, absl::string_view body);
std::string GitHubSignature1(absl::string_view secret, absl::string_view body);

// A random RFC 4122 version-4 UUID string.
std::string NewGitHubUuid();

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_FAKE_GITHUB_FAKE_GITHUB_SERVER_H_
