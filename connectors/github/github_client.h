// GitHubClient: the typed GitHub REST v3 + GraphQL client of the connector: batch reads of
// tracked issues over GraphQL `nodes(ids:)`, single issue reads (deletion / transfer
// checks), label-scope listings, the write-back (labels, one comment edited in place) and
// issue creation, over an injected HttpClient.
//
//   CurlHttpClient -> RetryingHttpClient -> [AuthenticatingHttpClient(Bearer) -> GitHubClient]
//
//   GitHubClientOptions options;
//   options.base_url = "https://api.github.com";  // or GHES "https://host/api/v3"
//   options.token = token;
//   OKR_ASSIGN_OR_RETURN(std::unique_ptr<GitHubClient> github,
//                        GitHubClient::Create(retrying, std::move(options)));
//   OKR_ASSIGN_OR_RETURN(std::vector<GitHubIssue> issues, github->GetNodes(node_ids));
//
// Contract:
//  - Thread-compatible; `http` (and the sleeper) must outlive the client. Every request
//    carries `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`,
//    `Authorization: Bearer <token>` and `User-Agent` (options.user_agent). The token never
//    appears in a Status message or log line.
//  - Rate limits (403/429; GraphQL 200 with RATE_LIMITED): `retry-after` seconds, else
//    `x-ratelimit-remaining: 0` until `x-ratelimit-reset`, else a 403 whose message
//    mentions a secondary rate limit waits kSecondaryRateLimitWait. A wait up to
//    options.max_rate_limit_wait is slept (options.sleeper) and the request sent again (at
//    most max_rate_limit_retries times); a longer one is not: RESOURCE_EXHAUSTED saying
//    when to retry, so reconciliation and write-back try later.
//  - Other non-2xx answers go through service/outbound/status_mapping, prefixed with the
//    operation; 410 Gone is NOT_FOUND. GraphQL `errors` are checked on every 200:
//    NOT_FOUND entries (an unresolvable id) are not fatal, the node is null; any other
//    entry fails the call (RESOURCE_EXHAUSTED for RATE_LIMITED, INTERNAL otherwise).
//  - Listings ask for per_page=100 and follow the `link` rel="next" URL (accepted only
//    below base_url), skipping pull requests.
#ifndef OKR_CONNECTORS_GITHUB_GITHUB_CLIENT_H_
#define OKR_CONNECTORS_GITHUB_GITHUB_CLIENT_H_

#include <cstdint>
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
#include "connectors/github/mapper.h"
#include "service/outbound/auth.h"
#include "service/outbound/http_client.h"
#include "service/outbound/retrying_http_client.h"

namespace okr::connectors::github {

inline constexpr int kMaxPerPage = 100;
inline constexpr int kMaxNodesPerQuery = 100;
inline constexpr absl::Duration kSecondaryRateLimitWait = absl::Seconds(60);
inline constexpr absl::string_view kApiVersion = "2022-11-28";
inline constexpr size_t kMaxCommentBodyBytes = 65536;
inline constexpr size_t kMaxIssueTitleChars = 256;

struct GitHubClientOptions {
  // REST base: "https://api.github.com" or GHES "https://host/api/v3" (trailing '/' dropped).
  std::string base_url = "https://api.github.com";
  std::string token;  // secret; required
  std::string user_agent = "okr-service";
  int per_page = kMaxPerPage;               // 1..100
  int nodes_per_query = kMaxNodesPerQuery;  // 1..100
  absl::Duration request_timeout = absl::Seconds(30);
  absl::Duration max_rate_limit_wait = absl::Seconds(30);
  int max_rate_limit_retries = 3;
  int max_pages = 10000;
  GitHubDoneMapping done;
  // Rate-limit waits and "now"; nullptr: the real clock.
  outbound::Sleeper* sleeper = nullptr;
};

// GraphQL endpoint for a REST base: ".../api/v3" -> ".../api/graphql"; else base + "/graphql".
std::string GraphQLUrl(absl::string_view base_url);

// The 3.5 query.
extern const char kNodesQuery[];

class GitHubClient final {
 public:
  static absl::StatusOr<std::unique_ptr<GitHubClient>> Create(outbound::HttpClient& http,
                                                              GitHubClientOptions options);
  GitHubClient(const GitHubClient&) = delete;
  GitHubClient& operator=(const GitHubClient&) = delete;

  // One REST read without following redirects: http_status 200 (issue set), 301 (location
  // set), 404 or 410. Other answers are errors.
  struct Lookup {
    int http_status = 0;
    std::optional<GitHubIssue> issue;
    std::string location;
  };
  absl::StatusOr<Lookup> LookupIssue(absl::string_view repo, int64_t number);

  // GET of the issue, following 301s (at most 5, only below base_url). NOT_FOUND for 404/410.
  absl::StatusOr<GitHubIssue> GetIssue(absl::string_view repo, int64_t number);

  // GraphQL nodes(ids:) in requests of at most nodes_per_query ids; null nodes and
  // non-Issue nodes (pull requests) are absent.
  absl::StatusOr<std::vector<GitHubIssue>> GetNodes(absl::Span<const std::string> node_ids);

  // Issues (any state, no PRs) of `repo` carrying every label.
  absl::StatusOr<std::vector<GitHubIssue>> ListIssuesByLabels(absl::string_view repo,
                                                              absl::Span<const std::string> labels);

  // POST .../issues/{n}/labels.
  absl::Status AddLabels(absl::string_view repo, int64_t number,
                         absl::Span<const std::string> labels);
  // DELETE .../issues/{n}/labels/{name}; a 404 "Label does not exist" is OK.
  absl::Status RemoveLabel(absl::string_view repo, int64_t number, absl::string_view label);
  // POST .../issues/{n}/comments -> comment id.
  absl::StatusOr<int64_t> CreateComment(absl::string_view repo, int64_t number,
                                        absl::string_view body);
  // PATCH .../issues/comments/{id}; NOT_FOUND if the comment is gone.
  absl::Status UpdateComment(absl::string_view repo, int64_t comment_id, absl::string_view body);
  // POST .../issues {title, body, labels} (201).
  absl::StatusOr<GitHubIssue> CreateIssue(absl::string_view repo, absl::string_view title,
                                          absl::string_view body,
                                          absl::Span<const std::string> labels);

  const GitHubClientOptions& options() const { return options_; }

 private:
  // A 404/410 or 301 as data, a 200 parsed into the issue, anything else an error.
  absl::StatusOr<Lookup> ToLookup(absl::string_view operation, absl::string_view url,
                                  const outbound::HttpResponse& response) const;
  GitHubClient(outbound::HttpClient& http, GitHubClientOptions options);
  std::string RepoUrl(absl::string_view repo) const;
  // Sends with the GitHub headers and the rate-limit rule; returns any HTTP answer.
  absl::StatusOr<outbound::HttpResponse> Exchange(absl::string_view operation,
                                                  outbound::HttpRequest request);
  // Exchange + non-2xx mapping.
  absl::StatusOr<outbound::HttpResponse> Send(absl::string_view operation,
                                              outbound::HttpRequest request);
  absl::StatusOr<nlohmann::json> Call(absl::string_view operation, outbound::HttpRequest request);
  absl::Time Now() const;

  outbound::AuthenticatingHttpClient http_;
  const GitHubClientOptions options_;
  const std::string graphql_url_;
};

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_GITHUB_CLIENT_H_
