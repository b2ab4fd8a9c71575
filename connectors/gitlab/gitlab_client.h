// GitLabClient: the typed GitLab REST v4 client of the connector. It lists tracked issues
// (reconciliation by iid, label-scope discovery), reads one issue (deletion check), writes
// the key-result marker back into an issue (a label plus one note that is edited in place)
// and creates issues (for rules that open issues), over an injected HttpClient; the client adds
// `PRIVATE-TOKEN` itself through AuthenticatingHttpClient:
//
//   CurlHttpClient -> RetryingHttpClient -> [AuthenticatingHttpClient(PRIVATE-TOKEN)
//                                            -> GitLabClient]
//
// Usage:
//   GitLabClientOptions options;
//   options.base_url = "https://gitlab.example.com";  // The client appends /api/v4/...
//   options.private_token = token;
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<GitLabClient> gitlab,
//                        GitLabClient::Create(retrying, std::move(options)));
//   OKR_ASSIGN_OR_RETURN(std::vector<GitLabIssue> issues,
//                        gitlab->ListIssuesByIids("acme/checkout", tracked_iids));
//   OKR_ASSIGN_OR_RETURN(int64_t note_id, gitlab->CreateNote("acme/checkout", 7, text));
//   absl::Status s = gitlab->UpdateNote("acme/checkout", 7, note_id, new_text);
//   if (absl::IsNotFound(s)) { /* the note was deleted: create it again */ }
//
// Contract:
//  - Thread-safe if the HttpClient is; holds a non-owning reference to it, which must
//    outlive the client. Nothing logs the token, bodies or query strings.
//  - Projects are addressed by path, sent URL-encoded as :id ("acme/sub/checkout" ->
//    "acme%2Fsub%2Fcheckout"); issues by iid. Bodies are JSON.
//  - Listings ask for per_page=100 and state=all and follow the `link` rel="next" header
//    (accepted only if it points below `<base_url>/api/v4/`; otherwise, or without a link,
//    `x-next-page` is used) until there is no next page. Issues are returned once each (the
//    newest version if offset pagination served one twice). Offset pagination is not a
//    snapshot: an issue that changes while a listing runs can be missed, so callers that
//    use `updated_after` keep an overlap and run full reconciliations now and then.
//  - GETs and PUTs are idempotent (a RetryingHttpClient below may replay them after a 5xx or
//    transport error); CreateNote and CreateIssue are POSTs and are replayed only on 429
//    (GitLab did not process the request).
//  - Errors: every non-2xx answer is mapped by service/outbound/status_mapping (404 ->
//    NOT_FOUND, 401 -> UNAUTHENTICATED, 403 -> PERMISSION_DENIED, 429 ->
//    RESOURCE_EXHAUSTED, ...), prefixed with the operation; transport errors pass through
//    with their code; INVALID_ARGUMENT for bad arguments (checked before any request);
//    INTERNAL for a 2xx response that is not the JSON GitLab documents, a listing over
//    max_pages or pagination that repeats a page; FAILED_PRECONDITION for a next-page link
//    outside base_url with no x-next-page to fall back on (GitLab's external_url differs
//    from base_url).
#ifndef OKR_CONNECTORS_GITLAB_GITLAB_CLIENT_H_
#define OKR_CONNECTORS_GITLAB_GITLAB_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "connectors/gitlab/mapper.h"
#include "service/outbound/auth.h"
#include "service/outbound/http_client.h"

namespace okr::connectors::gitlab {

// GitLab's per_page maximum, and the most iids[] the client puts in one list request.
inline constexpr int kMaxPerPage = 100;
// GitLab's limit on a note body (characters; checked here in bytes).
inline constexpr size_t kMaxNoteBodyBytes = 1000000;
// GitLab's limits on an issue title (characters) and description (characters; checked
// here in bytes).
inline constexpr size_t kMaxIssueTitleChars = 255;
inline constexpr size_t kMaxIssueDescriptionBytes = 1048576;

struct GitLabClientOptions {
  // Instance URL without the API path: "https://gitlab.example.com", or with a relative URL
  // root "https://example.com/gitlab". A trailing slash is dropped.
  std::string base_url;
  // Personal, project or group access token, sent as `PRIVATE-TOKEN`. Secret; required.
  std::string private_token;
  // per_page of every listing, 1..100.
  int per_page = kMaxPerPage;
  // iids[] per list request of ListIssuesByIids, 1..100; with the defaults 10,000 tracked
  // issues take 100 list requests.
  int iids_per_request = kMaxPerPage;
  // Per-request timeout (the retrying layer below may shorten it to its deadline).
  absl::Duration request_timeout = absl::Seconds(30);
  // A listing stops with INTERNAL after this many pages (10,000 x 100 issues).
  int max_pages = 10000;
  // Which issues count as done, per project (default: state "closed").
  GitLabDoneMapping done;
};

class GitLabClient final {
 public:
  // INVALID_ARGUMENT for a base URL that is not http(s)://host[:port][/path] without query,
  // fragment or userinfo, an empty token or one with control characters, or options out of
  // range.
  static absl::StatusOr<std::unique_ptr<GitLabClient>> Create(outbound::HttpClient& http,
                                                              GitLabClientOptions options);

  GitLabClient(const GitLabClient&) = delete;
  GitLabClient& operator=(const GitLabClient&) = delete;

  // The issues of `project_path` among `iids` (duplicates ignored) that exist and are
  // visible; missing ones are simply absent (deleted and forbidden look alike). GET
  // /projects/:id/issues?iids[]=..&state=all&per_page=100, one request per
  // iids_per_request iids (more only if GitLab returns short pages). Issues GitLab returns
  // that were not asked for are dropped. INVALID_ARGUMENT for an invalid path or an iid <= 0.
  absl::StatusOr<std::vector<GitLabIssue>> ListIssuesByIids(absl::string_view project_path,
                                                            absl::Span<const int64_t> iids);

  // All issues of `project_path` carrying every label in `labels` (GitLab's `labels=a,b`
  // means all must match), any state, optionally only in `milestone` (its title) and only
  // updated after `updated_after`; ordered by updated_at ascending. INVALID_ARGUMENT for an
  // invalid path, no labels, or a label that is empty, contains ',' or control characters.
  absl::StatusOr<std::vector<GitLabIssue>> ListIssuesByLabels(
      absl::string_view project_path, absl::Span<const std::string> labels,
      std::optional<std::string> milestone = std::nullopt,
      std::optional<absl::Time> updated_after = std::nullopt);

  // GET /projects/:id/issues/:iid. NOT_FOUND if the issue was deleted, moved away or is not
  // visible.
  absl::StatusOr<GitLabIssue> GetIssue(absl::string_view project_path, int64_t iid);

  // PUT /projects/:id/issues/:iid {"add_labels": "a,b"}: attaches the labels, creating
  // missing project labels; already attached labels are left alone. Returns the issue as
  // GitLab reports it afterwards.
  absl::StatusOr<GitLabIssue> AddLabels(absl::string_view project_path, int64_t iid,
                                        absl::Span<const std::string> labels);

  // PUT /projects/:id/issues/:iid {"add_labels": "a,b", "remove_labels": "c"}: one request
  // that attaches `add` (like AddLabels) and detaches `remove` (labels the issue does not
  // carry are ignored by GitLab). Either list may be empty, not both. Returns the issue as
  // GitLab reports it afterwards.
  absl::StatusOr<GitLabIssue> UpdateLabels(absl::string_view project_path, int64_t iid,
                                           absl::Span<const std::string> add,
                                           absl::Span<const std::string> remove);

  // POST /projects/:id/issues/:iid/notes {"body": ...}; returns the new note's id. Not
  // idempotent: store the id and use UpdateNote afterwards. INVALID_ARGUMENT for an empty
  // body or one over kMaxNoteBodyBytes.
  absl::StatusOr<int64_t> CreateNote(absl::string_view project_path, int64_t iid,
                                     absl::string_view body);

  // PUT /projects/:id/issues/:iid/notes/:note_id {"body": ...}: edits the note in place.
  // NOT_FOUND if the note (or the issue) was deleted, so the caller can create it again.
  absl::Status UpdateNote(absl::string_view project_path, int64_t iid, int64_t note_id,
                          absl::string_view body);

  // POST /projects/:id/issues {"title", "description", "labels": "a,b"}: opens an issue
  // (missing project labels are created) and returns it as GitLab reports it (201). Not
  // idempotent (see the contract above). INVALID_ARGUMENT, before any request, for an
  // invalid path, a title that is empty, over kMaxIssueTitleChars or has control
  // characters, a description over kMaxIssueDescriptionBytes, or a label that is empty,
  // contains ',' or control characters (`labels` may be empty). NOT_FOUND for an unknown
  // project.
  absl::StatusOr<GitLabIssue> CreateIssue(absl::string_view project_path, absl::string_view title,
                                          absl::string_view description,
                                          absl::Span<const std::string> labels);

  const GitLabClientOptions& options() const { return options_; }

 private:
  GitLabClient(outbound::HttpClient& http, GitLabClientOptions options);

  // "<base_url>/api/v4/projects/<encoded path>".
  std::string ProjectUrl(absl::string_view project_path) const;
  // Sends, maps non-2xx through status_mapping (prefixed with `operation`).
  absl::StatusOr<outbound::HttpResponse> Send(absl::string_view operation,
                                              outbound::HttpRequest request);
  // Send plus a JSON body that must parse.
  absl::StatusOr<nlohmann::json> Call(absl::string_view operation, outbound::HttpRequest request);
  // GETs `first_url` and every next page; maps each issue and hands it to `on_issue`.
  absl::Status ListPages(absl::string_view operation, absl::string_view project_path,
                         const std::string& first_url,
                         const std::function<void(GitLabIssue)>& on_issue);
  // The next page's URL, if any (see the class contract).
  absl::StatusOr<std::optional<std::string>> NextPageUrl(const outbound::HttpResponse& response,
                                                         const std::string& first_url) const;

  outbound::AuthenticatingHttpClient http_;
  const GitLabClientOptions options_;
  const std::string api_root_;  // "<base_url>/api/v4/"
};

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_GITLAB_CLIENT_H_
