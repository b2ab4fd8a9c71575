#include "tests/testing/fake_jira/fake_jira_server.h"

#include <httplib.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace okr::testing {
namespace {

// What Jira sends. (Also keeps cpp-httplib from brotli-compressing every response, which it
// does for exactly "application/json" when the client accepts it.)
constexpr char kJson[] = "application/json;charset=UTF-8";
constexpr char kIssueNotFound[] = "Issue does not exist or you do not have permission to see it.";
constexpr int kMaxResultsDefault = 50;
constexpr int kMaxResultsCap = 100;
constexpr int kMaxResultsIdsOnlyCap = 5000;
constexpr int kDataCenterMaxResultsCap = 1000;
constexpr int kCreateMetaMaxResultsCap = 200;

std::string Dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void ReplyJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(Dump(body), kJson);
}

// Jira's ErrorCollection.
void ReplyError(httplib::Response& res, int status, std::vector<std::string> messages,
                nlohmann::json errors = nlohmann::json::object()) {
  nlohmann::json body = nlohmann::json::object();
  body["errorMessages"] = std::move(messages);
  body["errors"] = std::move(errors);
  ReplyJson(res, status, body);
}

// Answers an injected failure (Jira's ErrorCollection, rate-limit headers if set).
void ReplyFailure(httplib::Response& res, const FakeJiraFailure& failure) {
  if (failure.retry_after.has_value()) res.set_header("Retry-After", *failure.retry_after);
  if (failure.rate_limit_reset.has_value()) {
    res.set_header("X-RateLimit-Reset", *failure.rate_limit_reset);
  }
  ReplyError(res, failure.status,
             {failure.status == 429 ? "Rate limit exceeded." : "Internal server error."});
}

bool IsSubtaskType(absl::string_view name) { return name == "Sub-task" || name == "Subtask"; }

// The issue type's id: fixed for the usual names, else derived from the name (stable and
// distinct for the few names a test uses).
std::string IssueTypeId(absl::string_view name) {
  static constexpr std::pair<const char*, const char*> kTypes[] = {{"Epic", "10000"},
                                                                   {"Story", "10001"},
                                                                   {"Task", "10002"},
                                                                   {"Bug", "10003"},
                                                                   {"Sub-task", "10004"}};
  for (const auto& [type_name, type_id] : kTypes) {
    if (name == type_name) return type_id;
  }
  uint32_t hash = 2166136261u;  // FNV-1a
  for (char c : name) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  return absl::StrCat(10100 + hash % 89900);
}

// The issue type object Jira renders.
nlohmann::json IssueTypeJson(absl::string_view name, absl::string_view api_url) {
  const std::string id = IssueTypeId(name);
  return {{"self", absl::StrCat(api_url, "/issuetype/", id)},
          {"id", id},
          {"description", absl::StrCat(name, " issue type.")},
          {"name", std::string(name)},
          {"subtask", IsSubtaskType(name)},
          {"hierarchyLevel", name == "Epic"        ? 1
                             : IsSubtaskType(name) ? -1
                                                   : 0}};
}

// Parses a request body as a JSON object; answers 400 and returns nullopt otherwise.
std::optional<nlohmann::json> ParseObjectBody(const httplib::Request& req, httplib::Response& res) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    ReplyError(res, 400,
               {"Invalid request payload. Refer to the REST API documentation and try "
                "again."});
    return std::nullopt;
  }
  return body;
}

bool IsDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

std::pair<size_t, std::string> IdOrderKey(absl::string_view id) {
  return {id.size(), std::string(id)};
}

absl::string_view ProjectOf(absl::string_view key) {
  const size_t dash = key.rfind('-');
  return dash == absl::string_view::npos ? key : key.substr(0, dash);
}

// ---- JQL subset -------------------------------------------------------------------------

struct JqlClause {
  std::string field;                // Lower-cased: id, key, project, labels.
  std::vector<std::string> values;  // `=` has one value, `in` one or more.
};

struct JqlQuery {
  std::vector<JqlClause> clauses;
  std::string order_field = "id";
  bool descending = false;
};

struct JqlToken {
  enum Kind { kWord, kQuoted, kPunct } kind;
  std::string text;
};

absl::StatusOr<std::vector<JqlToken>> Tokenize(absl::string_view jql) {
  std::vector<JqlToken> tokens;
  size_t i = 0;
  while (i < jql.size()) {
    const char c = jql[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')' || c == ',' || c == '=') {
      tokens.push_back({JqlToken::kPunct, std::string(1, c)});
      ++i;
    } else if (c == '"' || c == '\'') {
      // A backslash escapes the next character (\" and \\ in particular).
      std::string text;
      size_t end = i + 1;
      for (; end < jql.size() && jql[end] != c; ++end) {
        if (jql[end] == '\\' && end + 1 < jql.size()) ++end;
        text.push_back(jql[end]);
      }
      if (end >= jql.size()) return absl::InvalidArgumentError("unterminated quoted string");
      tokens.push_back({JqlToken::kQuoted, std::move(text)});
      i = end + 1;
    } else if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
               c == '.') {
      size_t end = i;
      while (end < jql.size() && (absl::ascii_isalnum(static_cast<unsigned char>(jql[end])) ||
                                  jql[end] == '_' || jql[end] == '-' || jql[end] == '.')) {
        ++end;
      }
      tokens.push_back({JqlToken::kWord, std::string(jql.substr(i, end - i))});
      i = end;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected character '", std::string(1, c), "' at position ", i));
    }
  }
  return tokens;
}

class JqlParser {
 public:
  explicit JqlParser(std::vector<JqlToken> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<JqlQuery> Parse() {
    JqlQuery query;
    while (pos_ < tokens_.size() && !IsWord("order")) {
      if (!query.clauses.empty()) {
        if (!IsWord("and")) return Error("expected AND (only AND is supported)");
        ++pos_;
      }
      absl::StatusOr<JqlClause> clause = ParseClause();
      if (!clause.ok()) return clause.status();
      query.clauses.push_back(*std::move(clause));
    }
    if (pos_ < tokens_.size()) {
      ++pos_;  // ORDER
      if (!IsWord("by")) return Error("expected BY after ORDER");
      ++pos_;
      if (pos_ >= tokens_.size() || tokens_[pos_].kind != JqlToken::kWord) {
        return Error("expected a field after ORDER BY");
      }
      query.order_field = absl::AsciiStrToLower(tokens_[pos_++].text);
      if (query.order_field == "issuekey") query.order_field = "key";
      if (query.order_field != "id" && query.order_field != "key" &&
          query.order_field != "created" && query.order_field != "updated") {
        return Error(absl::StrCat("ORDER BY ", query.order_field, " is not supported"));
      }
      if (IsWord("asc") || IsWord("desc")) {
        query.descending = IsWord("desc");
        ++pos_;
      }
      if (pos_ < tokens_.size()) return Error("unexpected input after ORDER BY");
    }
    return query;
  }

 private:
  bool IsWord(absl::string_view word) const {
    return pos_ < tokens_.size() && tokens_[pos_].kind == JqlToken::kWord &&
           absl::EqualsIgnoreCase(tokens_[pos_].text, word);
  }
  bool IsPunct(char c) const {
    return pos_ < tokens_.size() && tokens_[pos_].kind == JqlToken::kPunct &&
           tokens_[pos_].text[0] == c;
  }
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(what, " (token ", pos_ + 1, ")"));
  }
  absl::StatusOr<std::string> Value() {
    if (pos_ >= tokens_.size() || tokens_[pos_].kind == JqlToken::kPunct) {
      return Error("expected a value");
    }
    return tokens_[pos_++].text;
  }

  absl::StatusOr<JqlClause> ParseClause() {
    if (pos_ >= tokens_.size() || tokens_[pos_].kind != JqlToken::kWord) {
      return Error("expected a field");
    }
    JqlClause clause;
    clause.field = absl::AsciiStrToLower(tokens_[pos_++].text);
    if (clause.field == "issuekey") clause.field = "key";
    if (clause.field != "id" && clause.field != "key" && clause.field != "project" &&
        clause.field != "labels") {
      return Error(absl::StrCat("field '", clause.field, "' is not supported by the fake"));
    }
    if (IsPunct('=')) {
      ++pos_;
      absl::StatusOr<std::string> value = Value();
      if (!value.ok()) return value.status();
      clause.values.push_back(*std::move(value));
      return clause;
    }
    if (!IsWord("in")) return Error("expected = or IN");
    ++pos_;
    if (!IsPunct('(')) return Error("expected ( after IN");
    ++pos_;
    while (true) {
      absl::StatusOr<std::string> value = Value();
      if (!value.ok()) return value.status();
      clause.values.push_back(*std::move(value));
      if (IsPunct(',')) {
        ++pos_;
        continue;
      }
      if (IsPunct(')')) {
        ++pos_;
        return clause;
      }
      return Error("expected , or ) in IN list");
    }
  }

  std::vector<JqlToken> tokens_;
  size_t pos_ = 0;
};

absl::StatusOr<JqlQuery> ParseJql(absl::string_view jql) {
  absl::StatusOr<std::vector<JqlToken>> tokens = Tokenize(jql);
  if (!tokens.ok()) return tokens.status();
  return JqlParser(*std::move(tokens)).Parse();
}

bool Matches(const JqlClause& clause, const FakeJiraIssue& issue) {
  for (const std::string& value : clause.values) {
    if (clause.field == "id" && value == issue.id) return true;
    if (clause.field == "key" && absl::EqualsIgnoreCase(value, issue.key)) return true;
    if (clause.field == "project" && absl::EqualsIgnoreCase(value, ProjectOf(issue.key))) {
      return true;
    }
    if (clause.field == "labels" &&
        std::find(issue.labels.begin(), issue.labels.end(), value) != issue.labels.end()) {
      return true;
    }
  }
  return false;
}

// ---- nextPageToken ------------------------------------------------------------------------

// Opaque to clients: base64url("fake-jira|<offset>|<hash of the JQL>").
std::string MakePageToken(absl::string_view jql, size_t offset) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("fake-jira|", offset, "|", std::hash<std::string>()(std::string(jql))));
}

std::optional<size_t> ReadPageToken(absl::string_view token, absl::string_view jql) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded)) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(decoded, '|');
  size_t offset = 0;
  if (parts.size() != 3 || parts[0] != "fake-jira" || !absl::SimpleAtoi(parts[1], &offset) ||
      parts[2] != absl::StrCat(std::hash<std::string>()(std::string(jql)))) {
    return std::nullopt;
  }
  return offset;
}

// Requested field ids from a JSON array of strings; nullopt if malformed.
std::optional<std::vector<std::string>> ReadFields(const nlohmann::json& body) {
  auto it = body.find("fields");
  if (it == body.end()) return std::vector<std::string>{"id"};  // Jira's default.
  if (!it->is_array()) return std::nullopt;
  std::vector<std::string> fields;
  for (const nlohmann::json& field : *it) {
    if (!field.is_string()) return std::nullopt;
    for (absl::string_view part : absl::StrSplit(field.get_ref<const std::string&>(), ',')) {
      part = absl::StripAsciiWhitespace(part);
      if (!part.empty()) fields.emplace_back(part);
    }
  }
  return fields;
}

// Member `name` if it is a string, else "" (never throws, unlike json::value()).
std::string StringMember(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The issues matching every clause, in the query's order.
std::vector<const FakeJiraIssue*> Select(
    const std::map<std::pair<size_t, std::string>, FakeJiraIssue>& issues, const JqlQuery& query) {
  auto matches_all = [&](const FakeJiraIssue& issue) {
    return std::all_of(query.clauses.begin(), query.clauses.end(),
                       [&](const JqlClause& clause) { return Matches(clause, issue); });
  };
  std::vector<const FakeJiraIssue*> matches;
  auto id_clause = std::find_if(query.clauses.begin(), query.clauses.end(),
                                [](const JqlClause& clause) { return clause.field == "id"; });
  if (id_clause != query.clauses.end()) {
    // Look the ids up instead of scanning every issue (reconciliation asks for 100 at once).
    std::vector<std::pair<size_t, std::string>> ids;
    for (const std::string& id : id_clause->values) ids.push_back(IdOrderKey(id));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (const auto& id : ids) {
      auto it = issues.find(id);
      if (it != issues.end() && matches_all(it->second)) matches.push_back(&it->second);
    }
  } else {
    for (const auto& [order, issue] : issues) {
      if (matches_all(issue)) matches.push_back(&issue);
    }
  }
  const std::string& field = query.order_field;
  if (field != "id") {
    std::stable_sort(matches.begin(), matches.end(),
                     [&](const FakeJiraIssue* a, const FakeJiraIssue* b) {
                       if (field == "key") return a->key < b->key;
                       if (field == "created") return a->created < b->created;
                       return a->updated < b->updated;
                     });
  }
  if (query.descending) std::reverse(matches.begin(), matches.end());
  return matches;
}

bool OnlyIdOrKey(const std::vector<std::string>& fields) {
  return std::all_of(fields.begin(), fields.end(),
                     [](const std::string& f) { return f == "id" || f == "key"; });
}

std::optional<int> ReadMaxResults(const nlohmann::json& body) {
  auto it = body.find("maxResults");
  if (it == body.end() || it->is_null()) return kMaxResultsDefault;
  if (!it->is_number_integer()) return std::nullopt;
  const int64_t value = it->get<int64_t>();
  if (value < 0) return std::nullopt;
  if (value == 0) return kMaxResultsDefault;
  return static_cast<int>(std::min<int64_t>(value, INT32_MAX));
}

}  // namespace

// ---- issue rendering ----------------------------------------------------------------------

std::string FormatJiraTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%z", time, absl::UTCTimeZone());
}

FakeJiraStatus FakeStatusFor(absl::string_view status_category) {
  if (status_category == "done") return {"10001", "Done", 3, "done", "green", "Done"};
  if (status_category == "indeterminate") {
    return {"3", "In Progress", 4, "indeterminate", "yellow", "In Progress"};
  }
  if (status_category == "undefined") {
    return {"10099", "Triage", 1, "undefined", "medium-gray", "No Category"};
  }
  return {"10000", "To Do", 2, "new", "blue-gray", "To Do"};
}

std::vector<FakeJiraIssue> MakeFakeIssues(int count, int64_t first_id,
                                          absl::string_view project_key) {
  static constexpr const char* kCategories[] = {"new", "indeterminate", "done"};
  static constexpr double kPoints[] = {1, 2, 3, 5, 8};
  std::vector<FakeJiraIssue> issues;
  issues.reserve(count);
  for (int i = 0; i < count; ++i) {
    FakeJiraIssue issue;
    issue.id = absl::StrCat(first_id + i);
    issue.key = absl::StrCat(project_key, "-", i + 1);
    issue.summary = absl::StrCat("Work item ", i + 1);
    issue.status_category = kCategories[i % 3];
    if (i % 5 != 4) issue.story_points = kPoints[i % 5];
    issue.labels = {"okr"};
    issue.updated += absl::Seconds(i);
    issues.push_back(std::move(issue));
  }
  return issues;
}

nlohmann::json FakeIssueFieldsJson(const FakeJiraIssue& issue, absl::string_view api_url,
                                   absl::string_view story_points_field) {
  FakeJiraStatus status = FakeStatusFor(issue.status_category);
  if (!issue.status_name.empty()) status.name = issue.status_name;
  const std::string project_key(ProjectOf(issue.key));
  nlohmann::json category = {
      {"self", absl::StrCat(api_url, "/statuscategory/", status.category_id)},
      {"id", status.category_id},
      {"key", status.category_key},
      {"colorName", status.category_color},
      {"name", status.category_name},
  };
  nlohmann::json fields = {
      {"summary", issue.summary},
      {"status",
       {{"self", absl::StrCat(api_url, "/status/", status.id)},
        {"description", ""},
        {"iconUrl", absl::StrCat(api_url, "/images/icons/statuses/generic.png")},
        {"name", status.name},
        {"id", status.id},
        {"statusCategory", category}}},
      {"created", FormatJiraTime(issue.created)},
      {"updated", FormatJiraTime(issue.updated)},
      {"statuscategorychangedate", FormatJiraTime(issue.updated)},
      {"project",
       {{"self", absl::StrCat(api_url, "/project/", project_key)},
        {"id", "10000"},
        {"key", project_key},
        {"name", absl::StrCat(project_key, " project")},
        {"projectTypeKey", "software"},
        {"simplified", false}}},
      {"issuetype", IssueTypeJson(issue.issue_type, api_url)},
      {"labels", issue.labels},
  };
  if (issue.status_category == "done" && !issue.resolution.empty() && issue.resolution != "Done") {
    // A site's other resolutions ("Won't Do", "Duplicate", ...): ids from 10001 on.
    fields["resolution"] = {{"self", absl::StrCat(api_url, "/resolution/10001")},
                            {"id", "10001"},
                            {"description", ""},
                            {"name", issue.resolution}};
    fields["resolutiondate"] = FormatJiraTime(issue.updated);
  } else if (issue.status_category == "done") {
    fields["resolution"] = {{"self", absl::StrCat(api_url, "/resolution/10000")},
                            {"id", "10000"},
                            {"description", "Work has been completed on this issue."},
                            {"name", "Done"}};
    fields["resolutiondate"] = FormatJiraTime(issue.updated);
  } else {
    fields["resolution"] = nullptr;
    fields["resolutiondate"] = nullptr;
  }
  if (!story_points_field.empty()) {
    fields[std::string(story_points_field)] =
        issue.story_points.has_value() ? nlohmann::json(*issue.story_points) : nullptr;
  }
  return fields;
}

// ---- server -------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<FakeJiraServer>> FakeJiraServer::Start(FakeJiraOptions options) {
  std::unique_ptr<FakeJiraServer> fake(new FakeJiraServer(std::move(options)));
  fake->RegisterRoutes();
  httplib::Server& server = *fake->server_;
  if (fake->options_.port == 0) {
    fake->port_ = server.bind_to_any_port("127.0.0.1");
  } else if (server.bind_to_port("127.0.0.1", fake->options_.port)) {
    fake->port_ = fake->options_.port;
  }
  if (fake->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("fake Jira: cannot bind 127.0.0.1:", fake->options_.port));
  }
  fake->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // The socket already listens (connections queue in the backlog); wait until the accept
  // loop runs so that Stop() cannot race with its start.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!server.is_running()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("fake Jira did not start within 10 s");
    }
    std::this_thread::yield();
  }
  return fake;
}

FakeJiraServer::FakeJiraServer(FakeJiraOptions options)
    : options_(std::move(options)),
      expected_authorization_(absl::StrCat(
          "Basic ", absl::Base64Escape(absl::StrCat(options_.email, ":", options_.api_token)))),
      server_(std::make_unique<httplib::Server>()) {}

FakeJiraServer::~FakeJiraServer() { Stop(); }

void FakeJiraServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string FakeJiraServer::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

const FakeJiraProject& FakeJiraServer::AddProjectLocked(absl::string_view key,
                                                        absl::string_view name) {
  auto [it, inserted] = projects_.try_emplace(absl::AsciiStrToUpper(key));
  if (inserted) {
    it->second.id = absl::StrCat(next_project_id_++);
    it->second.key = std::string(key);
    it->second.name = name.empty() ? absl::StrCat(key, " project") : std::string(name);
  }
  return it->second;
}

const FakeJiraProject* FakeJiraServer::FindProjectLocked(absl::string_view id_or_key) const {
  if (IsDigits(id_or_key)) {
    for (const auto& [key, project] : projects_) {
      if (project.id == id_or_key) return &project;
    }
    return nullptr;
  }
  auto it = projects_.find(absl::AsciiStrToUpper(id_or_key));
  return it == projects_.end() ? nullptr : &it->second;
}

std::string FakeJiraServer::AddProject(absl::string_view key, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  return AddProjectLocked(key, name).id;
}

void FakeJiraServer::SetProjectIssueTypes(absl::string_view key,
                                          std::vector<std::string> issue_types) {
  absl::MutexLock lock(&mu_);
  AddProjectLocked(key, "");
  projects_[absl::AsciiStrToUpper(key)].issue_types = std::move(issue_types);
}

void FakeJiraServer::PutIssue(FakeJiraIssue issue) {
  absl::MutexLock lock(&mu_);
  AddProjectLocked(ProjectOf(issue.key), "");
  auto key = IdOrderKey(issue.id);
  if (auto it = issues_.find(key); it != issues_.end()) id_by_key_.erase(it->second.key);
  id_by_key_[absl::AsciiStrToUpper(issue.key)] = issue.id;
  issues_[key] = std::move(issue);
}

void FakeJiraServer::PutIssues(const std::vector<FakeJiraIssue>& issues) {
  for (const FakeJiraIssue& issue : issues) PutIssue(issue);
}

std::string FakeJiraServer::ResolveLocked(absl::string_view id_or_key) const {
  if (IsDigits(id_or_key)) {
    return issues_.count(IdOrderKey(id_or_key)) ? std::string(id_or_key) : "";
  }
  auto it = id_by_key_.find(absl::AsciiStrToUpper(id_or_key));
  return it == id_by_key_.end() ? "" : it->second;
}

bool FakeJiraServer::DeleteIssue(absl::string_view id_or_key) {
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  if (id.empty()) return false;
  auto it = issues_.find(IdOrderKey(id));
  id_by_key_.erase(absl::AsciiStrToUpper(it->second.key));
  issues_.erase(it);
  links_by_issue_id_.erase(id);
  return true;
}

std::optional<FakeJiraIssue> FakeJiraServer::GetIssue(absl::string_view id_or_key) const {
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  if (id.empty()) return std::nullopt;
  return issues_.at(IdOrderKey(id));
}

std::vector<FakeRemoteLink> FakeJiraServer::RemoteLinks(absl::string_view id_or_key) const {
  absl::MutexLock lock(&mu_);
  std::string id = ResolveLocked(id_or_key);
  if (id.empty() && IsDigits(id_or_key)) id = std::string(id_or_key);
  auto it = links_by_issue_id_.find(id);
  return it == links_by_issue_id_.end() ? std::vector<FakeRemoteLink>{} : it->second;
}

void FakeJiraServer::FailNextRequests(int count, FakeJiraFailure failure) {
  absl::MutexLock lock(&mu_);
  failures_left_ = count;
  failure_ = std::move(failure);
}

void FakeJiraServer::FailNextCreates(int count, FakeJiraFailure failure, bool after_create) {
  absl::MutexLock lock(&mu_);
  create_failures_left_ = count;
  create_failure_ = std::move(failure);
  create_failure_after_ = after_create;
}

std::optional<FakeJiraFailure> FakeJiraServer::TakeCreateFailure(bool after_create) {
  absl::MutexLock lock(&mu_);
  if (create_failures_left_ <= 0 || create_failure_after_ != after_create) return std::nullopt;
  --create_failures_left_;
  ++injected_failures_;
  return create_failure_;
}

int64_t FakeJiraServer::IssuesCreated() const {
  absl::MutexLock lock(&mu_);
  return issues_created_;
}

void FakeJiraServer::Reset() {
  absl::MutexLock lock(&mu_);
  issues_.clear();
  projects_.clear();
  issues_created_ = 0;
  next_project_id_ = 10000;
  create_failures_left_ = 0;
  create_failure_after_ = false;
  create_failure_ = FakeJiraFailure{};
  id_by_key_.clear();
  links_by_issue_id_.clear();
  link_writes_by_issue_id_.clear();
  denied_link_writes_by_issue_id_.clear();
  next_link_id_ = 10000;
  failures_left_ = 0;
  failure_ = FakeJiraFailure{};
  delay_ = absl::ZeroDuration();
  request_counts_ = {};
  unauthorized_ = 0;
  injected_failures_ = 0;
  last_authorization_.clear();
}

void FakeJiraServer::SetResponseDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

int64_t FakeJiraServer::RequestCount(FakeJiraEndpoint endpoint) const {
  absl::MutexLock lock(&mu_);
  return request_counts_[static_cast<int>(endpoint)];
}

void FakeJiraServer::DenyRemoteLinkWrites(absl::string_view id_or_key) {
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  denied_link_writes_by_issue_id_.emplace(id.empty() ? std::string(id_or_key) : id, 0);
}

int64_t FakeJiraServer::DeniedRemoteLinkWrites(absl::string_view id_or_key) const {
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  auto it = denied_link_writes_by_issue_id_.find(id.empty() ? std::string(id_or_key) : id);
  return it == denied_link_writes_by_issue_id_.end() ? 0 : it->second;
}

int64_t FakeJiraServer::RemoteLinkWrites(absl::string_view issue_id) const {
  absl::MutexLock lock(&mu_);
  auto it = link_writes_by_issue_id_.find(std::string(issue_id));
  return it == link_writes_by_issue_id_.end() ? 0 : it->second;
}

int64_t FakeJiraServer::UnauthorizedCount() const {
  absl::MutexLock lock(&mu_);
  return unauthorized_;
}

int64_t FakeJiraServer::InjectedFailureCount() const {
  absl::MutexLock lock(&mu_);
  return injected_failures_;
}

std::string FakeJiraServer::LastAuthorization() const {
  absl::MutexLock lock(&mu_);
  return last_authorization_;
}

bool FakeJiraServer::Admit(FakeJiraEndpoint endpoint, const httplib::Request& req,
                           httplib::Response& res) {
  absl::Duration delay;
  std::optional<FakeJiraFailure> failure;
  bool authorized = false;
  {
    absl::MutexLock lock(&mu_);
    ++request_counts_[static_cast<int>(endpoint)];
    delay = delay_;
    last_authorization_ = req.get_header_value("Authorization");
    authorized = last_authorization_ == expected_authorization_;
    if (failures_left_ > 0) {
      --failures_left_;
      ++injected_failures_;
      failure = failure_;
    } else if (!authorized) {
      ++unauthorized_;
    }
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);  // Simulated server latency.
  if (failure.has_value()) {
    ReplyFailure(res, *failure);
    return false;
  }
  if (!authorized) {
    ReplyError(res, 401, {"Client must be authenticated to access this resource."});
    return false;
  }
  return true;
}

void FakeJiraServer::RegisterRoutes() {
  httplib::Server& server = *server_;
  server.Post("/rest/api/3/search/jql",
              [this](const httplib::Request& req, httplib::Response& res) {
                if (Admit(FakeJiraEndpoint::kSearchJql, req, res)) HandleSearchJql(req, res);
              });
  server.Post("/rest/api/2/search", [this](const httplib::Request& req, httplib::Response& res) {
    if (Admit(FakeJiraEndpoint::kSearchV2, req, res)) HandleSearchV2(req, res);
  });
  server.Get(R"(/rest/api/([23])/issue/([^/]+)/remotelink)",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (Admit(FakeJiraEndpoint::kRemoteLinkRead, req, res)) {
                 HandleReadRemoteLink(req, res);
               }
             });
  server.Delete(R"(/rest/api/([23])/issue/([^/]+)/remotelink)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (Admit(FakeJiraEndpoint::kRemoteLinkDelete, req, res)) {
                    HandleDeleteRemoteLink(req, res);
                  }
                });
  server.Post(R"(/rest/api/([23])/issue/([^/]+)/remotelink)",
              [this](const httplib::Request& req, httplib::Response& res) {
                if (Admit(FakeJiraEndpoint::kRemoteLinkWrite, req, res)) {
                  HandleWriteRemoteLink(req, res);
                }
              });
  server.Get(R"(/rest/api/([23])/project/([^/]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (Admit(FakeJiraEndpoint::kGetProject, req, res)) HandleGetProject(req, res);
             });
  server.Get(R"(/rest/api/([23])/issue/createmeta/([^/]+)/issuetypes)",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (Admit(FakeJiraEndpoint::kCreateMeta, req, res)) {
                 HandleCreateMetaIssueTypes(req, res);
               }
             });
  server.Post(R"(/rest/api/([23])/issue)",
              [this](const httplib::Request& req, httplib::Response& res) {
                if (Admit(FakeJiraEndpoint::kCreateIssue, req, res)) HandleCreateIssue(req, res);
              });
  server.Get(R"(/rest/api/([23])/issue/([^/]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (Admit(FakeJiraEndpoint::kGetIssue, req, res)) HandleGetIssue(req, res);
             });
}

nlohmann::json FakeJiraServer::IssueJsonLocked(const FakeJiraIssue& issue,
                                               absl::string_view api_version,
                                               const std::vector<std::string>& fields) const {
  const std::string api_url = absl::StrCat(base_url(), "/rest/api/", api_version);
  nlohmann::json all = FakeIssueFieldsJson(issue, api_url, options_.story_points_field);
  const bool everything = std::any_of(fields.begin(), fields.end(), [](const std::string& f) {
    return f == "*all" || f == "*navigable";
  });
  nlohmann::json selected = nlohmann::json::object();
  if (everything) {
    selected = std::move(all);
  } else {
    for (const std::string& field : fields) {
      if (auto it = all.find(field); it != all.end()) selected[field] = *it;
    }
  }
  nlohmann::json json = {
      {"expand", ""},
      {"id", issue.id},
      {"self", absl::StrCat(api_url, "/issue/", issue.id)},
      {"key", issue.key},
  };
  if (!selected.empty()) json["fields"] = std::move(selected);
  return json;
}

void FakeJiraServer::HandleSearchJql(const httplib::Request& req, httplib::Response& res) {
  std::optional<nlohmann::json> body = ParseObjectBody(req, res);
  if (!body.has_value()) return;
  // SearchAndReconcileRequestBean has additionalProperties: false.
  static const absl::flat_hash_set<std::string> kAllowed = {
      "jql",        "nextPageToken", "maxResults", "fields",         "expand",
      "properties", "fieldsByKeys",  "failFast",   "reconcileIssues"};
  for (const auto& [name, value] : body->items()) {
    if (!kAllowed.contains(name)) {
      ReplyError(res, 400, {absl::StrCat("Unrecognized field \"", name, "\"")});
      return;
    }
  }
  const std::string jql = StringMember(*body, "jql");
  std::optional<std::vector<std::string>> fields = ReadFields(*body);
  std::optional<int> max_results = ReadMaxResults(*body);
  if (!fields.has_value() || !max_results.has_value()) {
    ReplyError(res, 400,
               {"Invalid request payload. Refer to the REST API documentation and try "
                "again."});
    return;
  }
  absl::StatusOr<JqlQuery> query = ParseJql(jql);
  if (!query.ok()) {
    ReplyError(res, 400, {absl::StrCat("Error in the JQL Query: ", query.status().message())});
    return;
  }
  if (query->clauses.empty()) {
    ReplyError(res, 400,
               {"Unbounded JQL queries are not allowed here. Please add a search "
                "restriction to your query."});
    return;
  }
  size_t offset = 0;
  if (auto it = body->find("nextPageToken"); it != body->end() && !it->is_null()) {
    std::optional<size_t> decoded =
        it->is_string() ? ReadPageToken(it->get_ref<const std::string&>(), jql) : std::nullopt;
    if (!decoded.has_value()) {
      ReplyError(res, 400, {"The provided next page token is invalid or expired."});
      return;
    }
    offset = *decoded;
  }
  const size_t limit = static_cast<size_t>(
      std::min(*max_results, OnlyIdOrKey(*fields) ? kMaxResultsIdsOnlyCap : kMaxResultsCap));

  absl::MutexLock lock(&mu_);
  const std::vector<const FakeJiraIssue*> matches = Select(issues_, *query);
  nlohmann::json issues = nlohmann::json::array();
  const size_t end = std::min(matches.size(), offset + limit);
  for (size_t i = offset; i < end; ++i)
    issues.push_back(IssueJsonLocked(*matches[i], "3", *fields));
  nlohmann::json response = {{"issues", std::move(issues)}};
  if (end < matches.size()) {
    response["nextPageToken"] = MakePageToken(jql, end);
    response["isLast"] = false;
  } else {
    response["isLast"] = true;
  }
  ReplyJson(res, 200, response);
}

void FakeJiraServer::HandleSearchV2(const httplib::Request& req, httplib::Response& res) {
  std::optional<nlohmann::json> body = ParseObjectBody(req, res);
  if (!body.has_value()) return;
  const std::string jql = StringMember(*body, "jql");
  std::optional<std::vector<std::string>> fields = ReadFields(*body);
  std::optional<int> max_results = ReadMaxResults(*body);
  int64_t start_at = 0;
  if (auto it = body->find("startAt"); it != body->end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      fields.reset();
    } else {
      start_at = it->get<int64_t>();
    }
  }
  if (!fields.has_value() || !max_results.has_value()) {
    ReplyError(res, 400, {"Invalid request payload."});
    return;
  }
  if (body->find("fields") == body->end()) fields = {"*navigable"};  // DC's default.
  absl::StatusOr<JqlQuery> query = ParseJql(jql);
  if (!query.ok()) {
    ReplyError(res, 400, {absl::StrCat("Error in the JQL Query: ", query.status().message())});
    return;
  }
  const int limit = std::min(*max_results, kDataCenterMaxResultsCap);

  absl::MutexLock lock(&mu_);
  const std::vector<const FakeJiraIssue*> matches = Select(issues_, *query);
  nlohmann::json issues = nlohmann::json::array();
  for (size_t i = static_cast<size_t>(start_at);
       i < matches.size() && i < static_cast<size_t>(start_at) + limit; ++i) {
    issues.push_back(IssueJsonLocked(*matches[i], "2", *fields));
  }
  ReplyJson(res, 200,
            {{"expand", "schema,names"},
             {"startAt", start_at},
             {"maxResults", limit},
             {"total", matches.size()},
             {"issues", std::move(issues)}});
}

void FakeJiraServer::HandleGetIssue(const httplib::Request& req, httplib::Response& res) {
  const std::string api_version = req.matches[1];
  const std::string id_or_key = req.matches[2];
  std::vector<std::string> fields;
  auto range = req.params.equal_range("fields");
  for (auto it = range.first; it != range.second; ++it) {
    for (absl::string_view part : absl::StrSplit(it->second, ',')) {
      part = absl::StripAsciiWhitespace(part);
      if (!part.empty()) fields.emplace_back(part);
    }
  }
  if (fields.empty()) fields = {"*all"};
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  if (id.empty()) {
    ReplyError(res, 404, {kIssueNotFound});
    return;
  }
  ReplyJson(res, 200, IssueJsonLocked(issues_.at(IdOrderKey(id)), api_version, fields));
}

void FakeJiraServer::HandleWriteRemoteLink(const httplib::Request& req, httplib::Response& res) {
  const std::string api_version = req.matches[1];
  const std::string id_or_key = req.matches[2];
  std::optional<nlohmann::json> body = ParseObjectBody(req, res);
  if (!body.has_value()) return;
  auto object = body->find("object");
  if (object == body->end() || !object->is_object()) {
    ReplyError(res, 400, {}, {{"object", "'object' is required."}});
    return;
  }
  for (const char* required : {"url", "title"}) {
    auto it = object->find(required);
    if (it == object->end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      ReplyError(res, 400, {}, {{required, absl::StrCat("'", required, "' is required.")}});
      return;
    }
  }
  std::string global_id;
  if (auto it = body->find("globalId"); it != body->end() && it->is_string()) {
    global_id = it->get<std::string>();
  }
  if (global_id.size() > 255) {
    ReplyError(res, 400, {}, {{"globalId", "The globalId must be 255 characters or less."}});
    return;
  }

  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  if (id.empty()) {
    ReplyError(res, 404, {kIssueNotFound});
    return;
  }
  if (auto denied = denied_link_writes_by_issue_id_.find(id);
      denied != denied_link_writes_by_issue_id_.end()) {
    ++denied->second;
    ReplyError(res, 403, {"You do not have permission to link issues in this project."});
    return;
  }
  std::vector<FakeRemoteLink>& links = links_by_issue_id_[id];
  auto existing = global_id.empty()
                      ? links.end()
                      : std::find_if(links.begin(), links.end(), [&](const FakeRemoteLink& link) {
                          return link.global_id == global_id;
                        });
  int status = 200;
  int64_t link_id = 0;
  if (existing != links.end()) {
    existing->body = *std::move(body);  // Full replace: omitted fields become null.
    link_id = existing->id;
  } else {
    link_id = next_link_id_++;
    links.push_back({link_id, global_id, *std::move(body)});
    status = 201;
  }
  ++link_writes_by_issue_id_[id];
  ReplyJson(res, status,
            {{"id", link_id},
             {"self", absl::StrCat(base_url(), "/rest/api/", api_version, "/issue/", id,
                                   "/remotelink/", link_id)}});
}

void FakeJiraServer::HandleDeleteRemoteLink(const httplib::Request& req, httplib::Response& res) {
  const std::string id_or_key = req.matches[2];
  if (!req.has_param("globalId") || req.get_param_value("globalId").empty()) {
    ReplyError(res, 400, {"The global ID of the remote issue link must be provided."});
    return;
  }
  const std::string global_id = req.get_param_value("globalId");  // decoded by httplib
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  if (id.empty()) {
    ReplyError(res, 404, {kIssueNotFound});
    return;
  }
  std::vector<FakeRemoteLink>& links = links_by_issue_id_[id];
  auto link = std::find_if(links.begin(), links.end(),
                           [&](const FakeRemoteLink& l) { return l.global_id == global_id; });
  if (link == links.end()) {
    ReplyError(res, 404, {"No remote link with the given globalId exists on this issue."});
    return;
  }
  links.erase(link);
  res.status = 204;  // No body.
}

void FakeJiraServer::HandleReadRemoteLink(const httplib::Request& req, httplib::Response& res) {
  const std::string api_version = req.matches[1];
  const std::string id_or_key = req.matches[2];
  absl::MutexLock lock(&mu_);
  const std::string id = ResolveLocked(id_or_key);
  if (id.empty()) {
    ReplyError(res, 404, {kIssueNotFound});
    return;
  }
  auto render = [&](const FakeRemoteLink& link) {
    nlohmann::json json = {
        {"id", link.id},
        {"self", absl::StrCat(base_url(), "/rest/api/", api_version, "/issue/", id, "/remotelink/",
                              link.id)},
    };
    for (const char* member : {"globalId", "application", "relationship", "object"}) {
      if (auto it = link.body.find(member); it != link.body.end() && !it->is_null()) {
        json[member] = *it;
      }
    }
    return json;
  };
  const std::vector<FakeRemoteLink>& links = links_by_issue_id_[id];
  if (req.has_param("globalId")) {
    const std::string global_id = req.get_param_value("globalId");
    for (const FakeRemoteLink& link : links) {
      if (link.global_id == global_id) {
        ReplyJson(res, 200, render(link));
        return;
      }
    }
    ReplyError(res, 404, {"No remote link with the given globalId exists on this issue."});
    return;
  }
  nlohmann::json all = nlohmann::json::array();
  for (const FakeRemoteLink& link : links) all.push_back(render(link));
  ReplyJson(res, 200, all);
}

void FakeJiraServer::HandleGetProject(const httplib::Request& req, httplib::Response& res) {
  const std::string api_version = req.matches[1];
  const std::string id_or_key = req.matches[2];
  absl::MutexLock lock(&mu_);
  const FakeJiraProject* project = FindProjectLocked(id_or_key);
  if (project == nullptr) {
    ReplyError(res, 404, {absl::StrCat("No project could be found with key '", id_or_key, "'.")});
    return;
  }
  ReplyJson(
      res, 200,
      {{"expand", "description,lead,issueTypes,url,projectKeys,permissions,insight"},
       {"self", absl::StrCat(base_url(), "/rest/api/", api_version, "/project/", project->id)},
       {"id", project->id},
       {"key", project->key},
       {"description", ""},
       {"name", project->name},
       {"projectTypeKey", "software"},
       {"simplified", false},
       {"style", "classic"},
       {"isPrivate", false},
       {"properties", nlohmann::json::object()}});
}

void FakeJiraServer::HandleCreateMetaIssueTypes(const httplib::Request& req,
                                                httplib::Response& res) {
  const std::string api_version = req.matches[1];
  const std::string id_or_key = req.matches[2];
  int64_t start_at = 0;
  int64_t max_results = kMaxResultsDefault;
  if (req.has_param("startAt") &&
      (!absl::SimpleAtoi(req.get_param_value("startAt"), &start_at) || start_at < 0)) {
    ReplyError(res, 400, {"Parameter 'startAt' must be a non-negative integer."});
    return;
  }
  if (req.has_param("maxResults")) {
    if (!absl::SimpleAtoi(req.get_param_value("maxResults"), &max_results) || max_results < 0) {
      ReplyError(res, 400, {"Parameter 'maxResults' must be a non-negative integer."});
      return;
    }
    if (max_results > kCreateMetaMaxResultsCap) {
      ReplyError(res, 400,
                 {absl::StrCat("Parameter 'maxResults' must not exceed the limit '",
                               kCreateMetaMaxResultsCap, "'")});
      return;
    }
  }
  absl::MutexLock lock(&mu_);
  const FakeJiraProject* project = FindProjectLocked(id_or_key);
  if (project == nullptr) {
    ReplyError(res, 400, {absl::StrCat("No project could be found with key '", id_or_key, "'.")});
    return;
  }
  const std::vector<std::string>& types =
      project->issue_types.empty() ? options_.issue_types : project->issue_types;
  const std::string api_url = absl::StrCat(base_url(), "/rest/api/", api_version);
  const int64_t total = static_cast<int64_t>(types.size());
  nlohmann::json page = nlohmann::json::array();
  for (int64_t i = start_at; i < total && i < start_at + max_results; ++i) {
    page.push_back(IssueTypeJson(types[static_cast<size_t>(i)], api_url));
  }
  nlohmann::json body = {{"startAt", start_at}, {"maxResults", max_results}, {"total", total}};
  if (api_version == "3") {
    body["issueTypes"] = std::move(page);
  } else {
    // Data Center's shape (8.4+): `values` and `isLast`.
    body["isLast"] = start_at + max_results >= total;
    body["values"] = std::move(page);
  }
  ReplyJson(res, 200, body);
}

void FakeJiraServer::HandleCreateIssue(const httplib::Request& req, httplib::Response& res) {
  const std::string api_version = req.matches[1];
  if (std::optional<FakeJiraFailure> failure = TakeCreateFailure(/*after_create=*/false)) {
    ReplyFailure(res, *failure);
    return;
  }
  std::optional<nlohmann::json> body = ParseObjectBody(req, res);
  if (!body.has_value()) return;
  auto fields_it = body->find("fields");
  const nlohmann::json fields =
      fields_it != body->end() && fields_it->is_object() ? *fields_it : nlohmann::json::object();
  // Jira validates every field and names each invalid one.
  nlohmann::json errors = nlohmann::json::object();
  static const absl::flat_hash_set<std::string> kKnown = {"project", "summary", "issuetype",
                                                          "labels", "description"};
  for (const auto& [name, value] : fields.items()) {
    if (!kKnown.contains(name)) {
      errors[name] = absl::StrCat("Field '", name,
                                  "' cannot be set. It is not on the appropriate screen, or "
                                  "unknown.");
    }
  }
  auto member = [](const nlohmann::json& object, const char* name) {
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  FakeJiraIssue issue;
  std::string project_key;
  const nlohmann::json project_ref = fields.value("project", nlohmann::json::object());
  const std::string summary = fields.contains("summary") && fields["summary"].is_string()
                                  ? fields["summary"].get<std::string>()
                                  : std::string();
  if (absl::StripAsciiWhitespace(summary).empty()) {
    errors["summary"] = "You must specify a summary of the issue.";
  } else if (absl::StrContains(summary, '\n') || absl::StrContains(summary, '\r')) {
    errors["summary"] = "The summary is invalid because it contains newline characters.";
  } else if (std::count_if(summary.begin(), summary.end(), [](char c) {
               return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
             }) > 255) {
    errors["summary"] = "Summary must be less than 255 characters.";
  }
  issue.summary = summary;
  const nlohmann::json type_ref = fields.value("issuetype", nlohmann::json::object());
  const bool type_given = type_ref.is_object() &&
                          (!member(type_ref, "name").empty() || !member(type_ref, "id").empty());
  if (!type_given) errors["issuetype"] = "Specify an issue type";
  if (auto it = fields.find("labels"); it != fields.end()) {
    if (!it->is_array()) {
      errors["labels"] = "Operation value must be an array of labels";
    } else {
      for (const nlohmann::json& label : *it) {
        const std::string text = label.is_string() ? label.get<std::string>() : std::string();
        if (text.empty() || text.size() > 255) {
          errors["labels"] = "Label must be 1 to 255 characters.";
        } else if (std::any_of(text.begin(), text.end(), [](char c) {
                     return absl::ascii_isspace(static_cast<unsigned char>(c));
                   })) {
          errors["labels"] =
              absl::StrCat("The label '", text, "' contains spaces which is invalid.");
        } else {
          issue.labels.push_back(text);
        }
      }
    }
  }
  if (auto it = fields.find("description"); it != fields.end() && !it->is_null()) {
    const bool adf = it->is_object() && member(*it, "type") == "doc" && it->contains("version") &&
                     (*it)["version"] == 1 && it->contains("content") &&
                     (*it)["content"].is_array();
    if (api_version == "3" && !adf) {
      errors["description"] =
          "Operation value must be an Atlassian Document (see the Atlassian Document Format)";
    } else if (api_version == "2" && !it->is_string()) {
      errors["description"] = "Operation value must be a string";
    }
    issue.description = *it;
  }

  {
    absl::MutexLock lock(&mu_);
    const FakeJiraProject* project = nullptr;
    if (project_ref.is_object()) {
      const std::string key = member(project_ref, "key");
      const std::string id = member(project_ref, "id");
      project = FindProjectLocked(!key.empty() ? key : id);
    }
    if (project == nullptr) {
      errors["project"] = "Specify a valid project ID or key";
      // No project, no issue type scheme that could hold the type.
      if (type_given) errors["issuetype"] = "Specify a valid issue type";
    } else {
      project_key = project->key;
      if (type_given) {
        // Only the project's own issue types (by name or id), as Jira checks the project's
        // issue type scheme.
        const std::string name = member(type_ref, "name");
        const std::string id = member(type_ref, "id");
        bool found = false;
        for (const std::string& type :
             project->issue_types.empty() ? options_.issue_types : project->issue_types) {
          if (name.empty() ? IssueTypeId(type) == id : type == name) {
            issue.issue_type = type;
            found = true;
            break;
          }
        }
        if (!found) errors["issuetype"] = "Specify a valid issue type";
      }
    }
    if (!errors.empty()) {
      ReplyError(res, 400, {}, std::move(errors));
      return;
    }
    // The next id after the largest, the next number in the project.
    int64_t max_id = 10000;
    int64_t max_number = 0;
    for (const auto& [order, stored] : issues_) {
      int64_t id = 0;
      if (absl::SimpleAtoi(stored.id, &id)) max_id = std::max(max_id, id);
      int64_t number = 0;
      if (absl::EqualsIgnoreCase(ProjectOf(stored.key), project_key) &&
          absl::SimpleAtoi(stored.key.substr(stored.key.rfind('-') + 1), &number)) {
        max_number = std::max(max_number, number);
      }
    }
    issue.id = absl::StrCat(max_id + 1);
    issue.key = absl::StrCat(project_key, "-", max_number + 1);
    issue.created = issue.updated = absl::Now();
    id_by_key_[absl::AsciiStrToUpper(issue.key)] = issue.id;
    issues_[IdOrderKey(issue.id)] = issue;
    ++issues_created_;
  }
  if (std::optional<FakeJiraFailure> failure = TakeCreateFailure(/*after_create=*/true)) {
    ReplyFailure(res, *failure);
    return;
  }
  ReplyJson(res, 201,
            {{"id", issue.id},
             {"key", issue.key},
             {"self", absl::StrCat(base_url(), "/rest/api/", api_version, "/issue/", issue.id)}});
}

}  // namespace okr::testing
