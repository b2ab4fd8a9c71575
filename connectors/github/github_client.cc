#include "connectors/github/github_client.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "connectors/json/json_util.h"
#include "service/okr/status_macros.h"
#include "service/outbound/status_mapping.h"
#include "service/outbound/url_util.h"

namespace okr::connectors::github {
namespace {

using ::okr::outbound::NextLinkUrl;
using ::okr::outbound::UrlEncode;

bool HasControlChars(absl::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_iscntrl(static_cast<unsigned char>(c)); });
}

absl::Status Prefixed(absl::string_view operation, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(operation, ": ", status.message()));
}

absl::Status Invalid(absl::string_view operation, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(operation, ": ", problem));
}

absl::Status Internal(absl::string_view operation, absl::string_view problem) {
  return absl::InternalError(absl::StrCat(operation, ": ", problem));
}

absl::Status CheckRepo(absl::string_view operation, absl::string_view repo) {
  absl::Status s = ValidateRepoName(repo);
  return s.ok() ? s : Invalid(operation, s.message());
}

absl::Status CheckNumber(absl::string_view operation, int64_t number) {
  return number > 0
             ? absl::OkStatus()
             : Invalid(operation, absl::StrCat("issue number must be positive, got ", number));
}

absl::Status CheckLabels(absl::string_view operation, absl::Span<const std::string> labels) {
  if (labels.empty()) return Invalid(operation, "at least one label is required");
  for (const std::string& label : labels) {
    if (label.empty() || absl::StrContains(label, ',') || HasControlChars(label)) {
      return Invalid(operation, "labels must be non-empty, without ',' or control characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeBaseUrl(absl::string_view url) {
  while (absl::EndsWith(url, "/")) url.remove_suffix(1);
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError("GitHub base_url must start with http:// or https://");
  }
  const absl::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) return absl::InvalidArgumentError("GitHub base_url has no host");
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError("GitHub base_url must not contain credentials");
  }
  for (char c : url) {
    if (c == '?' || c == '#' || c == ' ' || absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "GitHub base_url must not contain a query, fragment, spaces or control characters");
    }
  }
  return std::string(url);
}

outbound::HttpRequest JsonRequest(absl::string_view method, std::string url,
                                  const nlohmann::json& body) {
  outbound::HttpRequest request;
  request.method = std::string(method);
  request.url = std::move(url);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = json_util::DumpJson(body);
  return request;
}

// The message of a GitHub error body ("" if none).
std::string ErrorMessage(const outbound::HttpResponse& response) {
  absl::StatusOr<nlohmann::json> json = json_util::ParseBoundedJson(response.body, 1 << 20);
  if (!json.ok() || !json->is_object()) return "";
  return json_util::GetString(*json, "message").value_or("");
}

}  // namespace

const char kNodesQuery[] =
    "query($ids: [ID!]!) {\n"
    "  nodes(ids: $ids) {\n"
    "    __typename\n"
    "    ... on Issue {\n"
    "      id number title state stateReason(enableDuplicate: true) updatedAt closedAt url\n"
    "      labels(first: 100) { totalCount nodes { name } }\n"
    "      repository { nameWithOwner }\n"
    "    }\n"
    "  }\n"
    "  rateLimit { cost remaining resetAt }\n"
    "}\n";

std::string GraphQLUrl(absl::string_view base_url) {
  while (absl::EndsWith(base_url, "/")) base_url.remove_suffix(1);
  if (absl::EndsWith(base_url, "/api/v3")) {
    base_url.remove_suffix(2);  // "v3"
    return absl::StrCat(base_url, "graphql");
  }
  return absl::StrCat(base_url, "/graphql");
}

absl::StatusOr<std::unique_ptr<GitHubClient>> GitHubClient::Create(outbound::HttpClient& http,
                                                                   GitHubClientOptions options) {
  OKR_ASSIGN_OR_RETURN(options.base_url, NormalizeBaseUrl(options.base_url));
  if (options.token.empty() || HasControlChars(options.token)) {
    return absl::InvalidArgumentError(
        "GitHub token must be non-empty and free of control characters");
  }
  if (options.per_page < 1 || options.per_page > kMaxPerPage || options.nodes_per_query < 1 ||
      options.nodes_per_query > kMaxNodesPerQuery) {
    return absl::InvalidArgumentError("GitHub per_page and nodes_per_query must be in 1..100");
  }
  if (options.user_agent.empty() || HasControlChars(options.user_agent)) {
    return absl::InvalidArgumentError("GitHub user_agent must be non-empty");
  }
  if (options.max_pages < 1 || options.max_rate_limit_retries < 0) {
    return absl::InvalidArgumentError("GitHub max_pages must be >= 1, retries >= 0");
  }
  return std::unique_ptr<GitHubClient>(new GitHubClient(http, std::move(options)));
}

GitHubClient::GitHubClient(outbound::HttpClient& http, GitHubClientOptions options)
    : http_(http, outbound::BearerAuth(options.token)),
      options_(std::move(options)),
      graphql_url_(GraphQLUrl(options_.base_url)) {}

absl::Time GitHubClient::Now() const {
  return options_.sleeper != nullptr ? options_.sleeper->Now() : absl::Now();
}

std::string GitHubClient::RepoUrl(absl::string_view repo) const {
  const size_t slash = repo.find('/');
  return absl::StrCat(options_.base_url, "/repos/", UrlEncode(repo.substr(0, slash)), "/",
                      UrlEncode(repo.substr(slash + 1)));
}

absl::StatusOr<outbound::HttpResponse> GitHubClient::Exchange(absl::string_view operation,
                                                              outbound::HttpRequest request) {
  request.timeout = options_.request_timeout;
  request.headers.emplace_back("Accept", "application/vnd.github+json");
  request.headers.emplace_back("X-GitHub-Api-Version", std::string(kApiVersion));
  request.headers.emplace_back("User-Agent", options_.user_agent);
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<outbound::HttpResponse> response = http_.Send(request);
    if (!response.ok()) return Prefixed(operation, response.status());
    const bool limited_status = response->status == 403 || response->status == 429;
    bool graphql_limited = false;
    if (response->status == 200 && request.url == graphql_url_ &&
        response->Header("x-ratelimit-remaining").value_or("") == "0" &&
        absl::StrContains(response->body, "RATE_LIMITED")) {
      graphql_limited = true;
    }
    if (!limited_status && !graphql_limited) return response;
    std::optional<absl::Duration> wait;
    int64_t seconds = 0;
    const absl::Time now = Now();
    if (std::optional<std::string> after = response->Header("retry-after");
        after.has_value() && absl::SimpleAtoi(*after, &seconds) && seconds >= 0) {
      wait = absl::Seconds(seconds);
    } else if (response->Header("x-ratelimit-remaining").value_or("") == "0") {
      int64_t reset = 0;
      if (absl::SimpleAtoi(response->Header("x-ratelimit-reset").value_or(""), &reset)) {
        wait = std::max(absl::ZeroDuration(), absl::FromUnixSeconds(reset) - now);
      } else {
        wait = kSecondaryRateLimitWait;
      }
    } else if (response->status == 403 &&
               absl::StrContains(absl::AsciiStrToLower(ErrorMessage(*response)),
                                 "secondary rate limit")) {
      wait = kSecondaryRateLimitWait;
    }
    if (!wait.has_value()) return response;  // a plain 403/429: status_mapping decides
    if (*wait > options_.max_rate_limit_wait || attempt >= options_.max_rate_limit_retries) {
      return absl::ResourceExhaustedError(
          absl::StrCat(operation, ": GitHub rate limit (HTTP ", response->status, "); retry after ",
                       absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now + *wait, absl::UTCTimeZone()),
                       " (in ", absl::FormatDuration(*wait), ")"));
    }
    if (options_.sleeper != nullptr) {
      options_.sleeper->SleepFor(*wait);
    } else {
      absl::SleepFor(*wait);
    }
  }
}

absl::StatusOr<outbound::HttpResponse> GitHubClient::Send(absl::string_view operation,
                                                          outbound::HttpRequest request) {
  const std::string method = request.method;
  const std::string url = request.url;
  OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Exchange(operation, std::move(request)));
  if (response.status == 410) {
    return absl::NotFoundError(absl::StrCat(operation, ": HTTP 410 Gone (the issue was deleted)"));
  }
  if (absl::Status s = outbound::HttpResponseToStatus(method, url, response); !s.ok()) {
    return Prefixed(operation, s);
  }
  return response;
}

absl::StatusOr<nlohmann::json> GitHubClient::Call(absl::string_view operation,
                                                  outbound::HttpRequest request) {
  OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Send(operation, std::move(request)));
  absl::StatusOr<nlohmann::json> json =
      json_util::ParseBoundedJson(response.body, std::numeric_limits<size_t>::max());
  if (!json.ok()) return Internal(operation, json.status().message());
  return json;
}

absl::StatusOr<GitHubClient::Lookup> GitHubClient::ToLookup(
    absl::string_view operation, absl::string_view url,
    const outbound::HttpResponse& response) const {
  Lookup lookup;
  lookup.http_status = response.status;
  if (response.status == 404 || response.status == 410) return lookup;
  if (response.status == 301) {
    lookup.location = response.Header("location").value_or("");
    return lookup;
  }
  if (absl::Status s = outbound::HttpResponseToStatus("GET", url, response); !s.ok()) {
    return Prefixed(operation, s);
  }
  absl::StatusOr<nlohmann::json> json =
      json_util::ParseBoundedJson(response.body, std::numeric_limits<size_t>::max());
  if (!json.ok()) return Internal(operation, json.status().message());
  absl::StatusOr<GitHubIssue> issue = IssueFromRestJson(*json, "", "issue", options_.done);
  if (!issue.ok()) return Internal(operation, issue.status().message());
  lookup.issue = *std::move(issue);
  return lookup;
}

absl::StatusOr<GitHubClient::Lookup> GitHubClient::LookupIssue(absl::string_view repo,
                                                               int64_t number) {
  constexpr absl::string_view kOperation = "GitHub get issue";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  OKR_RETURN_IF_ERROR(CheckNumber(kOperation, number));
  outbound::HttpRequest request;
  request.url = absl::StrCat(RepoUrl(repo), "/issues/", number);
  const std::string url = request.url;
  OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Exchange(kOperation, std::move(request)));
  return ToLookup(kOperation, url, response);
}

absl::StatusOr<GitHubIssue> GitHubClient::GetIssue(absl::string_view repo, int64_t number) {
  constexpr absl::string_view kOperation = "GitHub get issue";
  OKR_ASSIGN_OR_RETURN(Lookup lookup, LookupIssue(repo, number));
  for (int hop = 0; hop < 5 && lookup.http_status == 301; ++hop) {
    if (!absl::StartsWith(lookup.location, absl::StrCat(options_.base_url, "/")) ||
        HasControlChars(lookup.location)) {
      return absl::FailedPreconditionError(absl::StrCat(kOperation, ": redirect outside base_url"));
    }
    outbound::HttpRequest request;
    request.url = lookup.location;
    OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Exchange(kOperation, request));
    OKR_ASSIGN_OR_RETURN(lookup, ToLookup(kOperation, request.url, response));
  }
  if (lookup.issue.has_value()) return *std::move(lookup.issue);
  if (lookup.http_status == 301) return Internal(kOperation, "too many redirects");
  return absl::NotFoundError(absl::StrCat(kOperation, ": ", WorkItemKey(repo, number),
                                          " answers HTTP ", lookup.http_status));
}

absl::StatusOr<std::vector<GitHubIssue>> GitHubClient::GetNodes(
    absl::Span<const std::string> node_ids) {
  constexpr absl::string_view kOperation = "GitHub GraphQL nodes";
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& id : node_ids) {
    if (id.empty() || HasControlChars(id)) return Invalid(kOperation, "node ids must be non-empty");
    if (seen.insert(id).second) unique.push_back(id);
  }
  std::vector<GitHubIssue> out;
  const size_t batch = static_cast<size_t>(options_.nodes_per_query);
  for (size_t begin = 0; begin < unique.size(); begin += batch) {
    nlohmann::json ids = nlohmann::json::array();
    for (size_t i = begin; i < std::min(unique.size(), begin + batch); ++i)
      ids.push_back(unique[i]);
    nlohmann::json body = {{"query", kNodesQuery}, {"variables", {{"ids", ids}}}};
    outbound::HttpRequest request = JsonRequest("POST", graphql_url_, body);
    request.idempotent = true;  // a read
    OKR_ASSIGN_OR_RETURN(nlohmann::json json, Call(kOperation, std::move(request)));
    if (!json.is_object()) return Internal(kOperation, "response is not a JSON object");
    if (const nlohmann::json* errors = json_util::GetArray(json, "errors")) {
      for (const nlohmann::json& error : *errors) {
        const std::string type = json_util::GetString(error, "type").value_or("");
        if (type == "NOT_FOUND") continue;
        const std::string message = json_util::GetString(error, "message").value_or("");
        if (type == "RATE_LIMITED") {
          return absl::ResourceExhaustedError(
              absl::StrCat(kOperation, ": RATE_LIMITED: ", message));
        }
        return Internal(kOperation, absl::StrCat("GraphQL error ",
                                                 type.empty() ? "(untyped)" : type, ": ", message));
      }
    }
    const nlohmann::json* data = json_util::GetObject(json, "data");
    const nlohmann::json* nodes = data == nullptr ? nullptr : json_util::GetArray(*data, "nodes");
    if (nodes == nullptr) return Internal(kOperation, "data.nodes is missing or not an array");
    for (size_t i = 0; i < nodes->size(); ++i) {
      const nlohmann::json& node = (*nodes)[i];
      if (node.is_null()) continue;
      if (json_util::GetString(node, "__typename").value_or("") != "Issue") continue;
      absl::StatusOr<GitHubIssue> issue =
          IssueFromGraphQLNode(node, absl::StrCat("data.nodes[", i, "]"), options_.done);
      if (!issue.ok()) return Internal(kOperation, issue.status().message());
      out.push_back(*std::move(issue));
    }
  }
  return out;
}

absl::StatusOr<std::vector<GitHubIssue>> GitHubClient::ListIssuesByLabels(
    absl::string_view repo, absl::Span<const std::string> labels) {
  constexpr absl::string_view kOperation = "GitHub list issues by labels";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  OKR_RETURN_IF_ERROR(CheckLabels(kOperation, labels));
  std::string url = absl::StrCat(
      RepoUrl(repo), "/issues?state=all&labels=",
      absl::StrJoin(labels, ",",
                    [](std::string* out, const std::string& l) { out->append(UrlEncode(l)); }),
      "&per_page=", options_.per_page);
  std::vector<GitHubIssue> out;
  std::set<int64_t> seen;
  for (int page = 1;; ++page) {
    if (page > options_.max_pages) {
      return Internal(kOperation, absl::StrCat("more than ", options_.max_pages, " pages"));
    }
    outbound::HttpRequest request;
    request.url = url;
    OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Send(kOperation, std::move(request)));
    absl::StatusOr<nlohmann::json> json =
        json_util::ParseBoundedJson(response.body, std::numeric_limits<size_t>::max());
    if (!json.ok()) return Internal(kOperation, json.status().message());
    if (!json->is_array()) return Internal(kOperation, "response is not a JSON array");
    for (size_t i = 0; i < json->size(); ++i) {
      const nlohmann::json* pr = json_util::GetMember((*json)[i], "pull_request");
      if (pr != nullptr && !pr->is_null()) continue;
      absl::StatusOr<GitHubIssue> issue =
          IssueFromRestJson((*json)[i], repo, absl::StrCat("issues[", i, "]"), options_.done);
      if (!issue.ok()) return Internal(kOperation, issue.status().message());
      if (seen.insert(issue->number).second) out.push_back(*std::move(issue));
    }
    std::optional<std::string> next;
    if (std::optional<std::string> link = response.Header("link")) next = NextLinkUrl(*link);
    if (!next.has_value()) return out;
    if (!absl::StartsWith(*next, absl::StrCat(options_.base_url, "/")) || HasControlChars(*next)) {
      return absl::FailedPreconditionError(
          absl::StrCat(kOperation, ": the next-page link points outside base_url"));
    }
    if (*next == url) return Internal(kOperation, "pagination does not advance");
    url = *std::move(next);
  }
}

absl::Status GitHubClient::AddLabels(absl::string_view repo, int64_t number,
                                     absl::Span<const std::string> labels) {
  constexpr absl::string_view kOperation = "GitHub add labels";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  OKR_RETURN_IF_ERROR(CheckNumber(kOperation, number));
  OKR_RETURN_IF_ERROR(CheckLabels(kOperation, labels));
  nlohmann::json body = {{"labels", std::vector<std::string>(labels.begin(), labels.end())}};
  outbound::HttpRequest request =
      JsonRequest("POST", absl::StrCat(RepoUrl(repo), "/issues/", number, "/labels"), body);
  request.idempotent = true;  // adding a label twice is a no-op
  return Send(kOperation, std::move(request)).status();
}

absl::Status GitHubClient::RemoveLabel(absl::string_view repo, int64_t number,
                                       absl::string_view label) {
  constexpr absl::string_view kOperation = "GitHub remove label";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  OKR_RETURN_IF_ERROR(CheckNumber(kOperation, number));
  if (label.empty() || HasControlChars(label)) return Invalid(kOperation, "bad label");
  outbound::HttpRequest request;
  request.method = "DELETE";
  request.url = absl::StrCat(RepoUrl(repo), "/issues/", number, "/labels/", UrlEncode(label));
  const std::string url = request.url;
  OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Exchange(kOperation, std::move(request)));
  if (response.status == 404 && absl::StrContains(ErrorMessage(response), "Label does not exist")) {
    return absl::OkStatus();
  }
  if (response.status == 410)
    return absl::NotFoundError(absl::StrCat(kOperation, ": HTTP 410 Gone"));
  if (absl::Status s = outbound::HttpResponseToStatus("DELETE", url, response); !s.ok()) {
    return Prefixed(kOperation, s);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> GitHubClient::CreateComment(absl::string_view repo, int64_t number,
                                                    absl::string_view body) {
  constexpr absl::string_view kOperation = "GitHub create comment";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  OKR_RETURN_IF_ERROR(CheckNumber(kOperation, number));
  if (body.empty() || body.size() > kMaxCommentBodyBytes) {
    return Invalid(kOperation, "comment body must have 1 to 65536 bytes");
  }
  outbound::HttpRequest request =
      JsonRequest("POST", absl::StrCat(RepoUrl(repo), "/issues/", number, "/comments"),
                  {{"body", std::string(body)}});
  request.idempotent = false;
  OKR_ASSIGN_OR_RETURN(nlohmann::json json, Call(kOperation, std::move(request)));
  const std::optional<int64_t> id = json_util::GetInt(json, "id");
  if (!id.has_value() || *id <= 0) return Internal(kOperation, "response has no comment id");
  return *id;
}

absl::Status GitHubClient::UpdateComment(absl::string_view repo, int64_t comment_id,
                                         absl::string_view body) {
  constexpr absl::string_view kOperation = "GitHub update comment";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  if (comment_id <= 0) return Invalid(kOperation, "comment id must be positive");
  if (body.empty() || body.size() > kMaxCommentBodyBytes) {
    return Invalid(kOperation, "comment body must have 1 to 65536 bytes");
  }
  return Send(kOperation,
              JsonRequest("PATCH", absl::StrCat(RepoUrl(repo), "/issues/comments/", comment_id),
                          {{"body", std::string(body)}}))
      .status();
}

absl::StatusOr<GitHubIssue> GitHubClient::CreateIssue(absl::string_view repo,
                                                      absl::string_view title,
                                                      absl::string_view body,
                                                      absl::Span<const std::string> labels) {
  constexpr absl::string_view kOperation = "GitHub create issue";
  OKR_RETURN_IF_ERROR(CheckRepo(kOperation, repo));
  if (absl::StripAsciiWhitespace(title).empty() || HasControlChars(title)) {
    return Invalid(kOperation, "title must be one non-empty line");
  }
  if (!labels.empty()) OKR_RETURN_IF_ERROR(CheckLabels(kOperation, labels));
  nlohmann::json json_body = {{"title", std::string(title)}};
  if (!body.empty()) json_body["body"] = std::string(body);
  if (!labels.empty()) json_body["labels"] = std::vector<std::string>(labels.begin(), labels.end());
  outbound::HttpRequest request =
      JsonRequest("POST", absl::StrCat(RepoUrl(repo), "/issues"), json_body);
  request.idempotent = false;  // a replay would open a second issue
  OKR_ASSIGN_OR_RETURN(nlohmann::json json, Call(kOperation, std::move(request)));
  absl::StatusOr<GitHubIssue> issue = IssueFromRestJson(json, repo, "issue", options_.done);
  if (!issue.ok()) return Internal(kOperation, issue.status().message());
  return issue;
}

}  // namespace okr::connectors::github
