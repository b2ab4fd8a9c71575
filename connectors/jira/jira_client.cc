#include "connectors/jira/jira_client.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "connectors/json/json_util.h"
#include "service/okr/status_macros.h"
#include "service/outbound/auth.h"
#include "service/outbound/status_mapping.h"

namespace okr::connectors::jira {
namespace {

using json_util::GetArray;
using json_util::GetBool;
using json_util::GetInt;
using json_util::GetObject;
using json_util::GetString;

// Backstop for response bodies (the HttpClient has its own, usually smaller, limit).
constexpr size_t kMaxResponseBytes = size_t{32} << 20;
constexpr size_t kMaxGlobalIdBytes = 255;
constexpr size_t kMaxIssueIdDigits = 19;
constexpr size_t kMaxIssueKeyBytes = 300;
constexpr int kMaxPageSize = 1000;
// Jira's limits on a summary (characters) and a label (characters; checked in bytes).
constexpr size_t kMaxSummaryChars = 255;
constexpr size_t kMaxLabelBytes = 255;
constexpr size_t kMaxProjectKeyBytes = 255;
// createmeta issue types: Jira's page limit, and how many (and how long names) are read.
constexpr int kCreateMetaPageSize = 200;
constexpr size_t kMaxIssueTypes = 1000;
constexpr size_t kMaxIssueTypeBytes = 255;

// JSON text of `value`; invalid UTF-8 in caller-supplied strings is replaced, not thrown.
std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool IsNumericId(absl::string_view id) {
  return !id.empty() && id.size() <= kMaxIssueIdDigits &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// PROJECT-123: a letter, then letters, digits or underscores, a dash and digits.
bool IsIssueKey(absl::string_view key) {
  if (key.size() > kMaxIssueKeyBytes) return false;
  const size_t dash = key.rfind('-');
  if (dash == absl::string_view::npos || dash == 0) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key.substr(0, dash)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return IsNumericId(key.substr(dash + 1));
}

// A project key: a letter, then letters, digits or underscores.
bool IsProjectKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxProjectKeyBytes) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(key[0]))) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool HasControlChars(absl::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_iscntrl(static_cast<unsigned char>(c)); });
}

// Code points of UTF-8 `text` (continuation bytes are not counted).
size_t Utf8Length(absl::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

absl::Status CheckProjectKey(absl::string_view key) {
  if (IsProjectKey(key)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("not a Jira project key: \"", absl::CEscape(key.substr(0, 64)), "\""));
}

absl::Status CheckNewIssue(const NewJiraIssue& issue) {
  OKR_RETURN_IF_ERROR(CheckProjectKey(issue.project_key));
  if (issue.summary.empty() || Utf8Length(issue.summary) > kMaxSummaryChars ||
      HasControlChars(issue.summary)) {
    return absl::InvalidArgumentError(absl::StrCat("Jira issue summary must have 1 to ",
                                                   kMaxSummaryChars, " characters on one line"));
  }
  if (issue.issue_type.empty() || HasControlChars(issue.issue_type)) {
    return absl::InvalidArgumentError("Jira issue type name is required");
  }
  if (!issue.issue_type_id.empty() && !IsNumericId(issue.issue_type_id)) {
    return absl::InvalidArgumentError("Jira issue type id must be a number");
  }
  for (const std::string& label : issue.labels) {
    if (label.empty() || label.size() > kMaxLabelBytes ||
        std::any_of(label.begin(), label.end(), [](char c) {
          return absl::ascii_isspace(static_cast<unsigned char>(c)) ||
                 absl::ascii_iscntrl(static_cast<unsigned char>(c));
        })) {
      return absl::InvalidArgumentError(
          absl::StrCat("Jira labels must have 1 to ", kMaxLabelBytes, " bytes and no whitespace"));
    }
  }
  return absl::OkStatus();
}

// Appends `line` to an ADF paragraph's content, occurrences of `link_url` as links.
void AppendAdfText(absl::string_view line, absl::string_view link_url, nlohmann::json& content,
                   bool& linked) {
  auto text = [&](absl::string_view part) {
    if (!part.empty()) content.push_back({{"type", "text"}, {"text", std::string(part)}});
  };
  while (!line.empty()) {
    const size_t at = link_url.empty() ? absl::string_view::npos : line.find(link_url);
    if (at == absl::string_view::npos) {
      text(line);
      return;
    }
    text(line.substr(0, at));
    content.push_back(
        {{"type", "text"},
         {"text", std::string(link_url)},
         {"marks", {{{"type", "link"}, {"attrs", {{"href", std::string(link_url)}}}}}}});
    linked = true;
    line.remove_prefix(at + link_url.size());
  }
}

absl::Status CheckIdOrKey(absl::string_view id_or_key) {
  if (IsNumericId(id_or_key) || IsIssueKey(id_or_key)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("not a Jira issue id or key: \"", absl::CEscape(id_or_key.substr(0, 64)), "\""));
}

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string QueryEscape(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// "https://host[:port][/path]" without userinfo, query or fragment.
bool IsValidBaseUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return false;
  }
  if (rest.empty() || rest.front() == '/') return false;
  for (char c : url) {
    if (c == '?' || c == '#' || c == '@' || absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

absl::Status WithContext(absl::string_view operation, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("Jira ", operation, ": ", status.message()));
}

absl::Status Malformed(absl::string_view operation, absl::string_view what) {
  return absl::InternalError(absl::StrCat("Jira ", operation, ": malformed response: ", what));
}

nlohmann::json IconToJson(const RemoteLinkIcon& icon) {
  nlohmann::json json = nlohmann::json::object();
  if (!icon.url16x16.empty()) json["url16x16"] = icon.url16x16;
  if (!icon.title.empty()) json["title"] = icon.title;
  if (!icon.link.empty()) json["link"] = icon.link;
  return json;
}

RemoteLinkIcon IconFromJson(const nlohmann::json& json) {
  RemoteLinkIcon icon;
  icon.url16x16 = GetString(json, "url16x16").value_or("");
  icon.title = GetString(json, "title").value_or("");
  icon.link = GetString(json, "link").value_or("");
  return icon;
}

}  // namespace

absl::StatusOr<std::string> IdsJql(absl::Span<const std::string> ids) {
  for (const std::string& id : ids) {
    if (!IsNumericId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a numeric Jira issue id: \"",
                       absl::CEscape(absl::string_view(id).substr(0, 64)), "\""));
    }
  }
  if (ids.empty()) return absl::InvalidArgumentError("no issue ids");
  return absl::StrCat("id in (", absl::StrJoin(ids, ","), ")");
}

nlohmann::json RemoteLinkToJson(const RemoteLink& link) {
  nlohmann::json body = nlohmann::json::object();
  body["globalId"] = link.global_id;
  if (!link.application_type.empty() || !link.application_name.empty()) {
    nlohmann::json application = nlohmann::json::object();
    if (!link.application_type.empty()) application["type"] = link.application_type;
    if (!link.application_name.empty()) application["name"] = link.application_name;
    body["application"] = std::move(application);
  }
  if (!link.relationship.empty()) body["relationship"] = link.relationship;
  nlohmann::json object = nlohmann::json::object();
  object["url"] = link.url;
  object["title"] = link.title;
  object["summary"] = link.summary;
  if (link.icon.has_value()) object["icon"] = IconToJson(*link.icon);
  nlohmann::json status = nlohmann::json::object();
  status["resolved"] = link.resolved;
  if (link.status_icon.has_value()) status["icon"] = IconToJson(*link.status_icon);
  object["status"] = std::move(status);
  body["object"] = std::move(object);
  return body;
}

absl::Status CheckNewJiraIssue(const NewJiraIssue& issue) { return CheckNewIssue(issue); }

nlohmann::json DescriptionToAdf(absl::string_view text, absl::string_view link_url) {
  nlohmann::json paragraphs = nlohmann::json::array();
  nlohmann::json content = nlohmann::json::array();
  bool linked = false;
  auto flush = [&] {
    if (!content.empty()) {
      paragraphs.push_back({{"type", "paragraph"}, {"content", std::move(content)}});
    }
    content = nlohmann::json::array();
  };
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (absl::StripAsciiWhitespace(line).empty()) {
      flush();
      continue;
    }
    if (!content.empty()) content.push_back({{"type", "hardBreak"}});
    AppendAdfText(line, link_url, content, linked);
  }
  flush();
  if (!linked && !link_url.empty()) {
    AppendAdfText(link_url, link_url, content, linked);
    flush();
  }
  return {{"type", "doc"}, {"version", 1}, {"content", std::move(paragraphs)}};
}

nlohmann::json NewIssueToJson(const NewJiraIssue& issue, JiraDeployment deployment) {
  nlohmann::json fields = nlohmann::json::object();
  fields["project"] = {{"key", issue.project_key}};
  fields["summary"] = issue.summary;
  if (issue.issue_type_id.empty()) {
    fields["issuetype"] = {{"name", issue.issue_type}};
  } else {
    fields["issuetype"] = {{"id", issue.issue_type_id}};
  }
  if (!issue.labels.empty()) fields["labels"] = issue.labels;
  if (!issue.description.empty() || !issue.link_url.empty()) {
    if (deployment == JiraDeployment::kCloud) {
      fields["description"] = DescriptionToAdf(issue.description, issue.link_url);
    } else {
      std::string description = issue.description;
      if (!issue.link_url.empty() && !absl::StrContains(description, issue.link_url)) {
        absl::StrAppend(&description, description.empty() ? "" : "\n\n", issue.link_url);
      }
      fields["description"] = std::move(description);
    }
  }
  return {{"fields", std::move(fields)}};
}

std::string JqlQuote(absl::string_view value) {
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

absl::StatusOr<std::unique_ptr<JiraClient>> JiraClient::Create(outbound::HttpClient& http,
                                                               JiraClientOptions options) {
  while (absl::EndsWith(options.site_base_url, "/")) options.site_base_url.pop_back();
  if (!IsValidBaseUrl(options.site_base_url)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jira site_base_url must look like https://acme.atlassian.net, got \"",
                     outbound::RedactedUrl(options.site_base_url), "\""));
  }
  if (options.page_size < 1 || options.page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jira page_size must be in [1, ", kMaxPageSize, "]"));
  }
  if (options.ids_per_search < 1 || options.ids_per_search > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jira ids_per_search must be in [1, ", kMaxPageSize, "]"));
  }
  if (options.request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Jira request_timeout must be positive");
  }
  if (options.max_pages < 1) return absl::InvalidArgumentError("Jira max_pages must be >= 1");
  return std::unique_ptr<JiraClient>(new JiraClient(http, std::move(options)));
}

JiraClient::JiraClient(outbound::HttpClient& http, JiraClientOptions options)
    : http_(http), options_(std::move(options)) {}

std::string JiraClient::ApiUrl(absl::string_view path) const {
  const absl::string_view api =
      options_.deployment == JiraDeployment::kCloud ? "/rest/api/3" : "/rest/api/2";
  return absl::StrCat(options_.site_base_url, api, path);
}

absl::StatusOr<nlohmann::json> JiraClient::Call(absl::string_view operation,
                                                outbound::HttpRequest request, int* http_status) {
  request.timeout = options_.request_timeout;
  request.headers.emplace_back("Accept", "application/json");
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  absl::StatusOr<outbound::HttpResponse> response = http_.Send(request);
  if (!response.ok()) return WithContext(operation, response.status());
  if (absl::Status status = outbound::HttpResponseToStatus(request, *response); !status.ok()) {
    return WithContext(operation, status);
  }
  if (http_status != nullptr) *http_status = response->status;
  absl::StatusOr<nlohmann::json> json =
      json_util::ParseBoundedJson(response->body, kMaxResponseBytes);
  if (!json.ok()) return Malformed(operation, json.status().message());
  if (!json->is_object()) return Malformed(operation, "not a JSON object");
  return json;
}

absl::StatusOr<std::vector<JiraIssue>> JiraClient::MapIssues(const nlohmann::json& response) {
  const nlohmann::json* issues = GetArray(response, "issues");
  if (issues == nullptr) return Malformed("search", "no issues array");
  std::vector<JiraIssue> page;
  page.reserve(issues->size());
  for (size_t i = 0; i < issues->size(); ++i) {
    absl::StatusOr<JiraIssue> issue = IssueFromJson((*issues)[i], options_.fields);
    if (!issue.ok()) {
      return Malformed("search", absl::StrCat("issues[", i, "]: ", issue.status().message()));
    }
    page.push_back(*std::move(issue));
  }
  return page;
}

absl::Status JiraClient::SearchByJql(absl::string_view jql, PageCallback on_page) {
  if (absl::StripAsciiWhitespace(jql).empty()) {
    return absl::InvalidArgumentError("Jira search: empty JQL");
  }
  return options_.deployment == JiraDeployment::kCloud ? SearchCloud(jql, on_page)
                                                       : SearchDataCenter(jql, on_page);
}

absl::Status JiraClient::SearchCloud(absl::string_view jql, PageCallback on_page) {
  nlohmann::json body = nlohmann::json::object();
  body["jql"] = std::string(jql);
  body["fields"] = MappedFieldIds(options_.fields);
  body["maxResults"] = options_.page_size;
  std::optional<std::string> token;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return Malformed("search", absl::StrCat("still not isLast after ", page, " pages"));
    }
    if (token.has_value()) body["nextPageToken"] = *token;
    outbound::HttpRequest request;
    request.method = "POST";
    request.url = ApiUrl("/search/jql");
    request.body = Dump(body);
    request.idempotent = true;  // Read-only despite POST.
    OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("search", std::move(request)));
    OKR_ASSIGN_OR_RETURN(std::vector<JiraIssue> issues, MapIssues(response));
    OKR_RETURN_IF_ERROR(on_page(std::move(issues)));

    std::optional<std::string> next = GetString(response, "nextPageToken");
    const bool is_last = GetBool(response, "isLast").value_or(!next.has_value());
    if (is_last || !next.has_value() || next->empty()) return absl::OkStatus();
    if (token.has_value() && *token == *next) {
      return Malformed("search", "nextPageToken did not change");
    }
    token = std::move(next);
  }
}

absl::Status JiraClient::SearchDataCenter(absl::string_view jql, PageCallback on_page) {
  nlohmann::json body = nlohmann::json::object();
  body["jql"] = std::string(jql);
  body["fields"] = MappedFieldIds(options_.fields);
  body["maxResults"] = options_.page_size;
  int64_t start_at = 0;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return Malformed("search", absl::StrCat("still more results after ", page, " pages"));
    }
    body["startAt"] = start_at;
    outbound::HttpRequest request;
    request.method = "POST";
    request.url = ApiUrl("/search");
    request.body = Dump(body);
    request.idempotent = true;
    OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("search", std::move(request)));
    OKR_ASSIGN_OR_RETURN(std::vector<JiraIssue> issues, MapIssues(response));
    const size_t count = issues.size();
    OKR_RETURN_IF_ERROR(on_page(std::move(issues)));

    std::optional<int64_t> total = GetInt(response, "total");
    if (!total.has_value()) return Malformed("search", "no total");
    start_at = GetInt(response, "startAt").value_or(start_at) + static_cast<int64_t>(count);
    // An empty page ends the loop even if `total` says otherwise (issues deleted meanwhile).
    if (count == 0 || start_at >= *total) return absl::OkStatus();
  }
}

absl::StatusOr<std::vector<JiraIssue>> JiraClient::SearchIssuesByIds(
    absl::Span<const std::string> ids) {
  std::vector<std::string> unique;
  unique.reserve(ids.size());
  absl::flat_hash_set<absl::string_view> seen;
  for (const std::string& id : ids) {
    if (!IsNumericId(id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Jira search: not a numeric issue id: \"",
                       absl::CEscape(absl::string_view(id).substr(0, 64)), "\""));
    }
    if (seen.insert(id).second) unique.push_back(id);
  }

  std::vector<JiraIssue> result;
  absl::flat_hash_map<std::string, size_t> index_by_id;  // Search may repeat an issue.
  for (size_t begin = 0; begin < unique.size(); begin += options_.ids_per_search) {
    const size_t end = std::min(unique.size(), begin + options_.ids_per_search);
    OKR_ASSIGN_OR_RETURN(std::string jql,
                         IdsJql(absl::MakeConstSpan(unique).subspan(begin, end - begin)));
    OKR_RETURN_IF_ERROR(SearchByJql(jql, [&](std::vector<JiraIssue> page) {
      for (JiraIssue& issue : page) {
        auto [it, inserted] = index_by_id.try_emplace(issue.id, result.size());
        if (inserted) {
          result.push_back(std::move(issue));
        } else {
          result[it->second] = std::move(issue);
        }
      }
      return absl::OkStatus();
    }));
  }
  return result;
}

absl::StatusOr<JiraIssue> JiraClient::GetIssue(absl::string_view id_or_key) {
  OKR_RETURN_IF_ERROR(CheckIdOrKey(id_or_key));
  outbound::HttpRequest request;
  request.method = "GET";
  std::vector<std::string> fields = MappedFieldIds(options_.fields);
  for (std::string& field : fields) field = QueryEscape(field);
  request.url = ApiUrl(absl::StrCat("/issue/", id_or_key, "?fields=", absl::StrJoin(fields, ",")));
  OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("get issue", std::move(request)));
  absl::StatusOr<JiraIssue> issue = IssueFromJson(response, options_.fields);
  if (!issue.ok()) return Malformed("get issue", issue.status().message());
  return issue;
}

absl::StatusOr<RemoteLinkResult> JiraClient::UpsertRemoteLink(absl::string_view issue_id_or_key,
                                                              const RemoteLink& link) {
  OKR_RETURN_IF_ERROR(CheckIdOrKey(issue_id_or_key));
  if (link.global_id.empty() || link.global_id.size() > kMaxGlobalIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("remote link global_id must have 1 to ", kMaxGlobalIdBytes, " bytes"));
  }
  if (link.url.empty()) return absl::InvalidArgumentError("remote link url is required");
  if (link.title.empty()) return absl::InvalidArgumentError("remote link title is required");

  outbound::HttpRequest request;
  request.method = "POST";
  request.url = ApiUrl(absl::StrCat("/issue/", issue_id_or_key, "/remotelink"));
  request.body = Dump(RemoteLinkToJson(link));
  request.idempotent = true;  // Upsert by globalId: a replay updates the same link.
  int http_status = 0;
  OKR_ASSIGN_OR_RETURN(nlohmann::json response,
                       Call("remote link upsert", std::move(request), &http_status));
  RemoteLinkResult result;
  result.id = GetInt(response, "id").value_or(0);
  result.created = http_status == 201;
  return result;
}

absl::StatusOr<RemoteLink> JiraClient::GetRemoteLink(absl::string_view issue_id_or_key,
                                                     absl::string_view global_id) {
  OKR_RETURN_IF_ERROR(CheckIdOrKey(issue_id_or_key));
  if (global_id.empty()) return absl::InvalidArgumentError("remote link global_id is required");
  outbound::HttpRequest request;
  request.method = "GET";
  request.url = ApiUrl(
      absl::StrCat("/issue/", issue_id_or_key, "/remotelink?globalId=", QueryEscape(global_id)));
  OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("get remote link", std::move(request)));

  RemoteLink link;
  link.global_id = GetString(response, "globalId").value_or("");
  if (link.global_id != global_id) {
    return Malformed("get remote link", "globalId differs from the one asked for");
  }
  if (const nlohmann::json* application = GetObject(response, "application")) {
    link.application_type = GetString(*application, "type").value_or("");
    link.application_name = GetString(*application, "name").value_or("");
  }
  link.relationship = GetString(response, "relationship").value_or("");
  const nlohmann::json* object = GetObject(response, "object");
  if (object == nullptr) return Malformed("get remote link", "no object");
  link.url = GetString(*object, "url").value_or("");
  link.title = GetString(*object, "title").value_or("");
  link.summary = GetString(*object, "summary").value_or("");
  if (const nlohmann::json* icon = GetObject(*object, "icon")) link.icon = IconFromJson(*icon);
  if (const nlohmann::json* status = GetObject(*object, "status")) {
    link.resolved = GetBool(*status, "resolved").value_or(false);
    if (const nlohmann::json* icon = GetObject(*status, "icon")) {
      link.status_icon = IconFromJson(*icon);
    }
  }
  return link;
}

absl::Status JiraClient::DeleteRemoteLink(absl::string_view issue_id_or_key,
                                          absl::string_view global_id) {
  constexpr absl::string_view kOperation = "delete remote link";
  OKR_RETURN_IF_ERROR(CheckIdOrKey(issue_id_or_key));
  if (global_id.empty() || global_id.size() > kMaxGlobalIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("remote link global_id must have 1 to ", kMaxGlobalIdBytes, " bytes"));
  }
  outbound::HttpRequest request;
  request.method = "DELETE";
  request.url = ApiUrl(
      absl::StrCat("/issue/", issue_id_or_key, "/remotelink?globalId=", QueryEscape(global_id)));
  request.idempotent = true;  // A replay deletes nothing more (404, already gone).
  request.timeout = options_.request_timeout;
  request.headers.emplace_back("Accept", "application/json");
  // 204 with no body: nothing to parse.
  absl::StatusOr<outbound::HttpResponse> response = http_.Send(request);
  if (!response.ok()) return WithContext(kOperation, response.status());
  absl::Status status = outbound::HttpResponseToStatus(request, *response);
  if (!status.ok()) return WithContext(kOperation, status);
  return absl::OkStatus();
}

absl::StatusOr<JiraProject> JiraClient::GetProject(absl::string_view key) {
  OKR_RETURN_IF_ERROR(CheckProjectKey(key));
  outbound::HttpRequest request;
  request.method = "GET";
  request.url = ApiUrl(absl::StrCat("/project/", key));
  OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("get project", std::move(request)));
  JiraProject project;
  project.id = GetString(response, "id").value_or("");
  project.key = GetString(response, "key").value_or("");
  project.name = GetString(response, "name").value_or("");
  if (!IsNumericId(project.id) || project.key.empty()) {
    return Malformed("get project", "no id or key");
  }
  return project;
}

absl::StatusOr<std::vector<JiraIssueType>> JiraClient::ListCreateIssueTypes(
    absl::string_view project_key) {
  OKR_RETURN_IF_ERROR(CheckProjectKey(project_key));
  std::vector<JiraIssueType> types;
  int64_t start_at = 0;
  for (int page = 0;; ++page) {
    if (page >= options_.max_pages) {
      return Malformed("issue types", absl::StrCat("still more results after ", page, " pages"));
    }
    outbound::HttpRequest request;
    request.method = "GET";
    request.url =
        ApiUrl(absl::StrCat("/issue/createmeta/", project_key, "/issuetypes?startAt=", start_at,
                            "&maxResults=", kCreateMetaPageSize));
    OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("issue types", std::move(request)));
    const nlohmann::json* entries = GetArray(response, "issueTypes");
    if (entries == nullptr) entries = GetArray(response, "values");  // Data Center
    if (entries == nullptr) return Malformed("issue types", "no issueTypes");
    for (const nlohmann::json& entry : *entries) {
      if (!entry.is_object()) continue;
      JiraIssueType type;
      type.id = GetString(entry, "id").value_or("");
      type.name = GetString(entry, "name").value_or("");
      if (!IsNumericId(type.id) || type.name.empty() || type.name.size() > kMaxIssueTypeBytes ||
          HasControlChars(type.name)) {
        continue;
      }
      type.subtask = GetBool(entry, "subtask").value_or(false);
      type.hierarchy_level =
          static_cast<int>(GetInt(entry, "hierarchyLevel").value_or(type.subtask ? -1 : 0));
      types.push_back(std::move(type));
      if (types.size() >= kMaxIssueTypes) return types;
    }
    const int64_t count = static_cast<int64_t>(entries->size());
    start_at = GetInt(response, "startAt").value_or(start_at) + count;
    const std::optional<int64_t> total = GetInt(response, "total");
    const bool is_last = GetBool(response, "isLast").value_or(false);
    if (count == 0 || is_last || !total.has_value() || start_at >= *total) return types;
  }
}

absl::StatusOr<CreatedJiraIssue> JiraClient::CreateIssue(const NewJiraIssue& issue) {
  OKR_RETURN_IF_ERROR(CheckNewJiraIssue(issue));
  outbound::HttpRequest request;
  request.method = "POST";
  request.url = ApiUrl("/issue");
  request.body = Dump(NewIssueToJson(issue, options_.deployment));
  // A replay after a lost response would open a second issue.
  request.idempotent = false;
  OKR_ASSIGN_OR_RETURN(nlohmann::json response, Call("create issue", std::move(request)));
  CreatedJiraIssue created;
  created.id = GetString(response, "id").value_or("");
  created.key = GetString(response, "key").value_or("");
  if (!IsNumericId(created.id) || !IsIssueKey(created.key)) {
    return Malformed("create issue", "no numeric id or issue key");
  }
  return created;
}

}  // namespace okr::connectors::jira
