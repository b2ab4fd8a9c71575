#include "connectors/gitlab/gitlab_client.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <unordered_map>
#include <unordered_set>
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

namespace okr::connectors::gitlab {
namespace {

using ::okr::outbound::NextLinkUrl;
using ::okr::outbound::UrlEncode;

constexpr absl::string_view kJsonContentType = "application/json";

bool HasControlChars(absl::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_iscntrl(static_cast<unsigned char>(c)); });
}

absl::Status Invalid(absl::string_view operation, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(operation, ": ", problem));
}

absl::Status Internal(absl::string_view operation, absl::string_view problem) {
  return absl::InternalError(absl::StrCat(operation, ": ", problem));
}

absl::Status CheckIid(absl::string_view operation, int64_t iid) {
  if (iid <= 0) return Invalid(operation, absl::StrCat("iid must be positive, got ", iid));
  return absl::OkStatus();
}

absl::Status CheckProject(absl::string_view operation, absl::string_view project_path) {
  absl::Status status = ValidateProjectPath(project_path);
  if (!status.ok()) return Invalid(operation, status.message());
  return absl::OkStatus();
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

absl::Status CheckNoteBody(absl::string_view operation, absl::string_view body) {
  if (body.empty()) return Invalid(operation, "note body is empty");
  if (body.size() > kMaxNoteBodyBytes) {
    return Invalid(operation, absl::StrCat("note body exceeds ", kMaxNoteBodyBytes, " bytes"));
  }
  return absl::OkStatus();
}

// `http(s)://authority[/path]` without query, fragment, userinfo, whitespace or control
// characters; returns it without trailing slashes.
absl::StatusOr<std::string> NormalizeBaseUrl(absl::string_view url) {
  while (absl::EndsWith(url, "/")) url.remove_suffix(1);
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError("GitLab base_url must start with http:// or https://");
  }
  const absl::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) return absl::InvalidArgumentError("GitLab base_url has no host");
  for (char c : url) {
    if (c == '?' || c == '#' || c == ' ' || absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          "GitLab base_url must not contain a query, fragment, spaces or control characters");
    }
  }
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError("GitLab base_url must not contain credentials");
  }
  return std::string(url);
}

outbound::HttpRequest JsonRequest(absl::string_view method, std::string url,
                                  const nlohmann::json& body) {
  outbound::HttpRequest request;
  request.method = std::string(method);
  request.url = std::move(url);
  request.headers.emplace_back("Content-Type", std::string(kJsonContentType));
  request.body = json_util::DumpJson(body);
  return request;
}

// Keeps the first position of each issue and the newest version of it.
class IssueCollector {
 public:
  void Add(GitLabIssue issue) {
    auto [it, inserted] = index_.emplace(issue.iid, issues_.size());
    if (inserted) {
      issues_.push_back(std::move(issue));
    } else if (issue.updated_at > issues_[it->second].updated_at) {
      issues_[it->second] = std::move(issue);
    }
  }
  std::vector<GitLabIssue> Take() && { return std::move(issues_); }

 private:
  std::vector<GitLabIssue> issues_;
  std::unordered_map<int64_t, size_t> index_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GitLabClient>> GitLabClient::Create(outbound::HttpClient& http,
                                                                   GitLabClientOptions options) {
  OKR_ASSIGN_OR_RETURN(options.base_url, NormalizeBaseUrl(options.base_url));
  if (options.private_token.empty() || HasControlChars(options.private_token)) {
    return absl::InvalidArgumentError(
        "GitLab private_token must be non-empty and free of control characters");
  }
  if (options.per_page < 1 || options.per_page > kMaxPerPage) {
    return absl::InvalidArgumentError("GitLab per_page must be in 1..100");
  }
  if (options.iids_per_request < 1 || options.iids_per_request > kMaxPerPage) {
    return absl::InvalidArgumentError("GitLab iids_per_request must be in 1..100");
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("GitLab request_timeout must be positive");
  }
  if (options.max_pages < 1) return absl::InvalidArgumentError("GitLab max_pages must be >= 1");
  return std::unique_ptr<GitLabClient>(new GitLabClient(http, std::move(options)));
}

GitLabClient::GitLabClient(outbound::HttpClient& http, GitLabClientOptions options)
    : http_(http, outbound::HeaderAuth("PRIVATE-TOKEN", options.private_token)),
      options_(std::move(options)),
      api_root_(absl::StrCat(options_.base_url, "/api/v4/")) {}

std::string GitLabClient::ProjectUrl(absl::string_view project_path) const {
  return absl::StrCat(api_root_, "projects/", UrlEncode(project_path));
}

absl::StatusOr<outbound::HttpResponse> GitLabClient::Send(absl::string_view operation,
                                                          outbound::HttpRequest request) {
  request.timeout = options_.request_timeout;
  request.headers.emplace_back("Accept", std::string(kJsonContentType));
  absl::StatusOr<outbound::HttpResponse> response = http_.Send(request);
  if (!response.ok()) {
    return absl::Status(response.status().code(),
                        absl::StrCat(operation, ": ", response.status().message()));
  }
  if (absl::Status status = outbound::HttpResponseToStatus(request, *response); !status.ok()) {
    return absl::Status(status.code(), absl::StrCat(operation, ": ", status.message()));
  }
  return response;
}

absl::StatusOr<nlohmann::json> GitLabClient::Call(absl::string_view operation,
                                                  outbound::HttpRequest request) {
  OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Send(operation, std::move(request)));
  absl::StatusOr<nlohmann::json> json =
      json_util::ParseBoundedJson(response.body, std::numeric_limits<size_t>::max());
  if (!json.ok()) return Internal(operation, json.status().message());
  return json;
}

absl::StatusOr<std::optional<std::string>> GitLabClient::NextPageUrl(
    const outbound::HttpResponse& response, const std::string& first_url) const {
  bool foreign_link = false;
  if (std::optional<std::string> link = response.Header("link")) {
    if (std::optional<std::string> next = NextLinkUrl(*link)) {
      if (absl::StartsWith(*next, api_root_) && !HasControlChars(*next)) return next;
      foreign_link = true;
    }
  }
  if (std::optional<std::string> next_page = response.Header("x-next-page");
      next_page.has_value() && !next_page->empty()) {
    int64_t page = 0;
    if (!absl::SimpleAtoi(*next_page, &page) || page < 1) {
      return absl::InternalError("x-next-page is not a page number");
    }
    return std::optional<std::string>(absl::StrCat(first_url, "&page=", page));
  }
  if (foreign_link) {
    return absl::FailedPreconditionError(
        "the next-page link points outside base_url (does GitLab's external_url match?) and "
        "there is no x-next-page header");
  }
  return std::optional<std::string>();
}

absl::Status GitLabClient::ListPages(absl::string_view operation, absl::string_view project_path,
                                     const std::string& first_url,
                                     const std::function<void(GitLabIssue)>& on_issue) {
  std::string url = first_url;
  for (int page = 1;; ++page) {
    if (page > options_.max_pages) {
      return Internal(operation, absl::StrCat("more than ", options_.max_pages, " pages"));
    }
    outbound::HttpRequest request;
    request.url = url;
    OKR_ASSIGN_OR_RETURN(outbound::HttpResponse response, Send(operation, std::move(request)));
    absl::StatusOr<nlohmann::json> json =
        json_util::ParseBoundedJson(response.body, std::numeric_limits<size_t>::max());
    if (!json.ok()) return Internal(operation, json.status().message());
    if (!json->is_array()) return Internal(operation, "response is not a JSON array");
    for (size_t i = 0; i < json->size(); ++i) {
      absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(
          (*json)[i], project_path, absl::StrCat("issues[", i, "]"), options_.done);
      if (!issue.ok()) return Internal(operation, issue.status().message());
      on_issue(*std::move(issue));
    }
    absl::StatusOr<std::optional<std::string>> next = NextPageUrl(response, first_url);
    if (!next.ok())
      return absl::Status(next.status().code(),
                          absl::StrCat(operation, ": ", next.status().message()));
    if (!next->has_value()) return absl::OkStatus();
    if (**next == url) return Internal(operation, "pagination does not advance");
    url = **std::move(next);
  }
}

absl::StatusOr<std::vector<GitLabIssue>> GitLabClient::ListIssuesByIids(
    absl::string_view project_path, absl::Span<const int64_t> iids) {
  constexpr absl::string_view kOperation = "GitLab list issues by iid";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  std::vector<int64_t> unique;
  std::unordered_set<int64_t> seen;
  for (int64_t iid : iids) {
    OKR_RETURN_IF_ERROR(CheckIid(kOperation, iid));
    if (seen.insert(iid).second) unique.push_back(iid);
  }
  IssueCollector collector;
  const size_t batch_size = static_cast<size_t>(options_.iids_per_request);
  for (size_t start = 0; start < unique.size(); start += batch_size) {
    const absl::Span<const int64_t> batch = absl::MakeConstSpan(unique).subspan(start, batch_size);
    const std::unordered_set<int64_t> wanted(batch.begin(), batch.end());
    std::string url =
        absl::StrCat(ProjectUrl(project_path), "/issues?state=all&per_page=", options_.per_page);
    for (int64_t iid : batch) absl::StrAppend(&url, "&iids%5B%5D=", iid);
    OKR_RETURN_IF_ERROR(ListPages(kOperation, project_path, url, [&](GitLabIssue issue) {
      if (wanted.count(issue.iid) > 0) collector.Add(std::move(issue));
    }));
  }
  return std::move(collector).Take();
}

absl::StatusOr<std::vector<GitLabIssue>> GitLabClient::ListIssuesByLabels(
    absl::string_view project_path, absl::Span<const std::string> labels,
    std::optional<std::string> milestone, std::optional<absl::Time> updated_after) {
  constexpr absl::string_view kOperation = "GitLab list issues by labels";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  OKR_RETURN_IF_ERROR(CheckLabels(kOperation, labels));
  if (milestone.has_value() && (milestone->empty() || HasControlChars(*milestone))) {
    return Invalid(kOperation, "milestone must be non-empty, without control characters");
  }
  std::string url = absl::StrCat(ProjectUrl(project_path), "/issues?state=all&labels=",
                                 absl::StrJoin(labels, ",",
                                               [](std::string* out, const std::string& label) {
                                                 out->append(UrlEncode(label));
                                               }),
                                 "&order_by=updated_at&sort=asc&per_page=", options_.per_page);
  if (milestone.has_value()) absl::StrAppend(&url, "&milestone=", UrlEncode(*milestone));
  if (updated_after.has_value()) {
    absl::StrAppend(&url, "&updated_after=", UrlEncode(FormatGitLabTime(*updated_after)));
  }
  IssueCollector collector;
  OKR_RETURN_IF_ERROR(ListPages(kOperation, project_path, url,
                                [&](GitLabIssue issue) { collector.Add(std::move(issue)); }));
  return std::move(collector).Take();
}

absl::StatusOr<GitLabIssue> GitLabClient::GetIssue(absl::string_view project_path, int64_t iid) {
  constexpr absl::string_view kOperation = "GitLab get issue";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  OKR_RETURN_IF_ERROR(CheckIid(kOperation, iid));
  outbound::HttpRequest request;
  request.url = absl::StrCat(ProjectUrl(project_path), "/issues/", iid);
  OKR_ASSIGN_OR_RETURN(nlohmann::json json, Call(kOperation, std::move(request)));
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, project_path, "issue", options_.done);
  if (!issue.ok()) return Internal(kOperation, issue.status().message());
  if (issue->iid != iid) return Internal(kOperation, "response is another issue");
  return issue;
}

absl::StatusOr<GitLabIssue> GitLabClient::AddLabels(absl::string_view project_path, int64_t iid,
                                                    absl::Span<const std::string> labels) {
  constexpr absl::string_view kOperation = "GitLab add labels";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  OKR_RETURN_IF_ERROR(CheckIid(kOperation, iid));
  OKR_RETURN_IF_ERROR(CheckLabels(kOperation, labels));
  nlohmann::json body = nlohmann::json::object();
  body["add_labels"] = absl::StrJoin(labels, ",");
  OKR_ASSIGN_OR_RETURN(
      nlohmann::json json,
      Call(kOperation,
           JsonRequest("PUT", absl::StrCat(ProjectUrl(project_path), "/issues/", iid), body)));
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, project_path, "issue", options_.done);
  if (!issue.ok()) return Internal(kOperation, issue.status().message());
  return issue;
}

absl::StatusOr<GitLabIssue> GitLabClient::UpdateLabels(absl::string_view project_path, int64_t iid,
                                                       absl::Span<const std::string> add,
                                                       absl::Span<const std::string> remove) {
  constexpr absl::string_view kOperation = "GitLab update labels";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  OKR_RETURN_IF_ERROR(CheckIid(kOperation, iid));
  if (add.empty() && remove.empty()) return Invalid(kOperation, "no labels to add or remove");
  nlohmann::json body = nlohmann::json::object();
  if (!add.empty()) {
    OKR_RETURN_IF_ERROR(CheckLabels(kOperation, add));
    body["add_labels"] = absl::StrJoin(add, ",");
  }
  if (!remove.empty()) {
    OKR_RETURN_IF_ERROR(CheckLabels(kOperation, remove));
    body["remove_labels"] = absl::StrJoin(remove, ",");
  }
  OKR_ASSIGN_OR_RETURN(
      nlohmann::json json,
      Call(kOperation,
           JsonRequest("PUT", absl::StrCat(ProjectUrl(project_path), "/issues/", iid), body)));
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, project_path, "issue", options_.done);
  if (!issue.ok()) return Internal(kOperation, issue.status().message());
  return issue;
}

absl::StatusOr<int64_t> GitLabClient::CreateNote(absl::string_view project_path, int64_t iid,
                                                 absl::string_view body) {
  constexpr absl::string_view kOperation = "GitLab create note";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  OKR_RETURN_IF_ERROR(CheckIid(kOperation, iid));
  OKR_RETURN_IF_ERROR(CheckNoteBody(kOperation, body));
  nlohmann::json request_body = nlohmann::json::object();
  request_body["body"] = std::string(body);
  outbound::HttpRequest request = JsonRequest(
      "POST", absl::StrCat(ProjectUrl(project_path), "/issues/", iid, "/notes"), request_body);
  request.idempotent = false;
  OKR_ASSIGN_OR_RETURN(nlohmann::json json, Call(kOperation, std::move(request)));
  const std::optional<int64_t> id = json_util::GetInt(json, "id");
  if (!id.has_value() || *id <= 0) return Internal(kOperation, "response has no note id");
  return *id;
}

absl::Status GitLabClient::UpdateNote(absl::string_view project_path, int64_t iid, int64_t note_id,
                                      absl::string_view body) {
  constexpr absl::string_view kOperation = "GitLab update note";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  OKR_RETURN_IF_ERROR(CheckIid(kOperation, iid));
  if (note_id <= 0) return Invalid(kOperation, "note id must be positive");
  OKR_RETURN_IF_ERROR(CheckNoteBody(kOperation, body));
  nlohmann::json request_body = nlohmann::json::object();
  request_body["body"] = std::string(body);
  return Send(kOperation, JsonRequest("PUT",
                                      absl::StrCat(ProjectUrl(project_path), "/issues/", iid,
                                                   "/notes/", note_id),
                                      request_body))
      .status();
}

absl::StatusOr<GitLabIssue> GitLabClient::CreateIssue(absl::string_view project_path,
                                                      absl::string_view title,
                                                      absl::string_view description,
                                                      absl::Span<const std::string> labels) {
  constexpr absl::string_view kOperation = "GitLab create issue";
  OKR_RETURN_IF_ERROR(CheckProject(kOperation, project_path));
  const size_t title_chars =
      static_cast<size_t>(std::count_if(title.begin(), title.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }));
  if (absl::StripAsciiWhitespace(title).empty() || title_chars > kMaxIssueTitleChars ||
      HasControlChars(title)) {
    return Invalid(kOperation, absl::StrCat("title must have 1 to ", kMaxIssueTitleChars,
                                            " characters on one line"));
  }
  if (description.size() > kMaxIssueDescriptionBytes) {
    return Invalid(kOperation,
                   absl::StrCat("description exceeds ", kMaxIssueDescriptionBytes, " bytes"));
  }
  if (!labels.empty()) OKR_RETURN_IF_ERROR(CheckLabels(kOperation, labels));
  nlohmann::json body = nlohmann::json::object();
  body["title"] = std::string(title);
  if (!description.empty()) body["description"] = std::string(description);
  if (!labels.empty()) body["labels"] = absl::StrJoin(labels, ",");
  outbound::HttpRequest request =
      JsonRequest("POST", absl::StrCat(ProjectUrl(project_path), "/issues"), body);
  // A replay after a lost response would open a second issue.
  request.idempotent = false;
  OKR_ASSIGN_OR_RETURN(nlohmann::json json, Call(kOperation, std::move(request)));
  absl::StatusOr<GitLabIssue> issue = IssueFromRestJson(json, project_path);
  if (!issue.ok()) return Internal(kOperation, issue.status().message());
  return issue;
}

}  // namespace okr::connectors::gitlab
