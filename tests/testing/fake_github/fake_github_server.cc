#include "tests/testing/fake_github/fake_github_server.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "service/outbound/signature.h"

namespace okr::testing {
namespace {

constexpr size_t kMaxRecordedRequests = 10000;
constexpr int kDefaultPerPage = 30;
constexpr int kMaxPerPage = 100;
constexpr int kMaxGraphQLIds = 100;
// GitHub refuses label names over 50 characters with 422 "name is too long (maximum is 50
// characters)". Not in GitHub's REST docs; observed against api.github.com
// (https://zenn.dev/shunsuke_suzuki/scraps/ee793cc40b3d03) and hit by flutter/packages PR
// #12263 ("an undocumented length limit of 50 characters for label names").
constexpr size_t kMaxLabelName = 50;
constexpr absl::string_view kHtmlHost = "https://github.example.test";
constexpr absl::string_view kDocs = "https://docs.github.com/rest";
// With a charset parameter: cpp-httplib would otherwise brotli-compress JSON for clients
// that accept it (libcurl does), which at its default quality costs seconds per page.
constexpr absl::string_view kJson = "application/json; charset=utf-8";

std::string Json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Reply(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(Json(body), std::string(kJson));
}

// GitHub's error body: {message, documentation_url, status} (+ errors for 422).
void Error(httplib::Response& response, int status, absl::string_view message,
           nlohmann::json errors = nullptr) {
  nlohmann::json body = {{"message", std::string(message)},
                         {"documentation_url", std::string(kDocs)},
                         {"status", absl::StrCat(status)}};
  if (!errors.is_null()) body["errors"] = std::move(errors);
  Reply(response, status, body);
}

void NotFound(httplib::Response& response) { Error(response, 404, "Not Found"); }

void Invalid(httplib::Response& response, absl::string_view resource, absl::string_view field,
             absl::string_view code, absl::string_view message = "Validation Failed") {
  Error(response, 422, message,
        nlohmann::json::array({{{"resource", std::string(resource)},
                                {"field", std::string(field)},
                                {"code", std::string(code)}}}));
}

// ISO-8601 UTC, whole seconds.
std::string Iso(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

nlohmann::json OptionalIso(absl::Time time) {
  if (time == absl::InfinitePast()) return nullptr;
  return Iso(time);
}

absl::Time Seconds(absl::Time time) { return absl::FromUnixSeconds(absl::ToUnixSeconds(time)); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

bool ParsePositive(absl::string_view text, int64_t* value) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return false;
  }
  return absl::SimpleAtoi(text, value) && *value > 0;
}

std::optional<absl::Time> ParseIsoTime(absl::string_view text) {
  for (const char* format : {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M:%E*S%z", "%Y-%m-%d"}) {
    absl::Time time;
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &time, nullptr)) return time;
  }
  return std::nullopt;
}

std::string StatusMessage(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return absl::StrCat("HTTP ", status);
  }
}

int64_t CeilSeconds(absl::Duration duration) {
  return static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(duration)));
}

std::string GetParam(const httplib::Request& request, const std::string& name) {
  return request.has_param(name.c_str()) ? request.get_param_value(name.c_str()) : "";
}

bool SameLabel(absl::string_view a, absl::string_view b) { return absl::EqualsIgnoreCase(a, b); }

bool HasLabel(const std::vector<std::string>& labels, absl::string_view name) {
  return std::any_of(labels.begin(), labels.end(),
                     [&](const std::string& l) { return SameLabel(l, name); });
}

// Label names of a JSON value: ["a", {"name": "b"}] (or nullopt if malformed).
std::optional<std::vector<std::string>> LabelNames(const nlohmann::json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<std::string> names;
  for (const nlohmann::json& item : value) {
    if (item.is_string()) {
      names.push_back(item.get<std::string>());
    } else if (item.is_object() && item.contains("name") && item["name"].is_string()) {
      names.push_back(item["name"].get<std::string>());
    } else {
      return std::nullopt;
    }
  }
  return names;
}

std::string NodeId(absl::string_view prefix, int64_t a, int64_t b) {
  return absl::StrCat(prefix, absl::WebSafeBase64Escape(absl::StrCat("0:", a, ":", b)));
}

std::pair<absl::string_view, absl::string_view> SplitRepo(absl::string_view full_name) {
  const size_t slash = full_name.find('/');
  if (slash == absl::string_view::npos) return {full_name, ""};
  return {full_name.substr(0, slash), full_name.substr(slash + 1)};
}

std::string DefaultHtmlUrl(absl::string_view full_name, const FakeGitHubIssue& issue) {
  return absl::StrCat(kHtmlHost, "/", full_name, issue.pull_request ? "/pull/" : "/issues/",
                      issue.number);
}

nlohmann::json User() {
  return {{"login", "okr-bot"},        {"id", 1},
          {"node_id", "MDQ6VXNlcjE="}, {"type", "User"},
          {"site_admin", false},       {"html_url", absl::StrCat(kHtmlHost, "/okr-bot")}};
}

nlohmann::json Sender() {
  return {{"login", "octocat"},
          {"id", 583231},
          {"node_id", "MDQ6VXNlcjU4MzIzMQ=="},
          {"type", "User"},
          {"site_admin", false},
          {"html_url", absl::StrCat(kHtmlHost, "/octocat")}};
}

// The endpoint and ids of a REST path (prefix removed, still URL-encoded).
struct RouteMatch {
  FakeGitHubEndpoint endpoint = FakeGitHubEndpoint::kOther;
  std::string repo;  // "owner/repo" (decoded); empty for /repositories/{id}.
  int64_t repo_id = 0;
  std::string number;
  std::string comment_id;
  std::string label;  // Decoded.
};

RouteMatch Classify(absl::string_view method, absl::string_view path) {
  RouteMatch route;
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() == 5 && parts[0].empty() && parts[1] == "repositories" && parts[3] == "issues") {
    if (method == "GET" && absl::SimpleAtoi(parts[2], &route.repo_id)) {
      route.endpoint = FakeGitHubEndpoint::kGetIssue;
      route.number = std::string(parts[4]);
    }
    return route;
  }
  // "", "repos", o, r, "issues", ...
  if (parts.size() < 5 || !parts[0].empty() || parts[1] != "repos" || parts[2].empty() ||
      parts[3].empty() || parts[4] != "issues") {
    return route;
  }
  route.repo = absl::StrCat(PercentDecode(parts[2]), "/", PercentDecode(parts[3]));
  if (parts.size() == 5) {
    if (method == "GET") route.endpoint = FakeGitHubEndpoint::kListIssues;
    if (method == "POST") route.endpoint = FakeGitHubEndpoint::kCreateIssue;
    return route;
  }
  if (parts.size() == 7 && parts[5] == "comments") {
    route.comment_id = std::string(parts[6]);
    if (method == "PATCH") route.endpoint = FakeGitHubEndpoint::kUpdateComment;
    if (method == "DELETE") route.endpoint = FakeGitHubEndpoint::kDeleteComment;
    return route;
  }
  route.number = std::string(parts[5]);
  if (parts.size() == 6) {
    if (method == "GET") route.endpoint = FakeGitHubEndpoint::kGetIssue;
    if (method == "PATCH") route.endpoint = FakeGitHubEndpoint::kUpdateIssue;
    return route;
  }
  if (parts.size() == 7 && parts[6] == "comments") {
    if (method == "GET") route.endpoint = FakeGitHubEndpoint::kListComments;
    if (method == "POST") route.endpoint = FakeGitHubEndpoint::kCreateComment;
    return route;
  }
  if (parts.size() == 7 && parts[6] == "labels") {
    if (method == "POST") route.endpoint = FakeGitHubEndpoint::kAddLabels;
    return route;
  }
  if (parts.size() == 8 && parts[6] == "labels" && !parts[7].empty()) {
    route.label = PercentDecode(parts[7]);
    if (method == "DELETE") route.endpoint = FakeGitHubEndpoint::kRemoveLabel;
  }
  return route;
}

// page and per_page of a list request (malformed values fall back to the defaults).
void PageParams(const httplib::Request& request, int64_t* page, int64_t* per_page) {
  *page = 1;
  *per_page = kDefaultPerPage;
  int64_t parsed = 0;
  if (ParsePositive(GetParam(request, "page"), &parsed)) *page = parsed;
  if (ParsePositive(GetParam(request, "per_page"), &parsed)) {
    *per_page = std::min<int64_t>(parsed, kMaxPerPage);
  }
}

// Slices `items` to the page and sets `link` (absent when everything fits on one page).
template <typename T>
std::vector<T> Paginate(const httplib::Request& request, const std::string& url_base,
                        const std::vector<T>& items, httplib::Response& response) {
  int64_t page = 1, per_page = kDefaultPerPage;
  PageParams(request, &page, &per_page);
  const int64_t total = static_cast<int64_t>(items.size());
  const int64_t last = std::max<int64_t>(1, (total + per_page - 1) / per_page);
  std::vector<T> out;
  for (int64_t i = (page - 1) * per_page; i < std::min(total, page * per_page); ++i) {
    out.push_back(items[static_cast<size_t>(i)]);
  }
  if (last == 1 && page == 1) return out;
  std::vector<std::string> params;
  for (const auto& [key, value] : request.params) {
    if (key == "page" || key == "per_page") continue;
    params.push_back(absl::StrCat(PercentEncode(key), "=", PercentEncode(value)));
  }
  auto url = [&](int64_t target) {
    std::vector<std::string> all = params;
    all.push_back(absl::StrCat("per_page=", per_page));
    all.push_back(absl::StrCat("page=", target));
    return absl::StrCat("<", url_base, "?", absl::StrJoin(all, "&"), ">");
  };
  std::vector<std::string> links;
  if (page > 1) links.push_back(absl::StrCat(url(std::min(page - 1, last)), "; rel=\"prev\""));
  if (page < last) links.push_back(absl::StrCat(url(page + 1), "; rel=\"next\""));
  if (page < last) links.push_back(absl::StrCat(url(last), "; rel=\"last\""));
  if (page > 1) links.push_back(absl::StrCat(url(1), "; rel=\"first\""));
  response.set_header("link", absl::StrJoin(links, ", "));
  return out;
}

std::optional<nlohmann::json> JsonBody(const httplib::Request& request) {
  nlohmann::json json = nlohmann::json::parse(request.body, nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  return json;
}

std::string GraphQLStateReason(const std::optional<std::string>& reason, bool with_duplicate) {
  if (!reason.has_value()) return "";
  // Without enableDuplicate GitHub's answer for a duplicate is undocumented; the fake
  // answers NOT_PLANNED (the pre-duplicate meaning).
  if (*reason == "duplicate" && !with_duplicate) return "NOT_PLANNED";
  return absl::AsciiStrToUpper(*reason);
}

}  // namespace

std::string NewGitHubUuid() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* bitgen = new absl::BitGen();
  uint64_t hi = 0, lo = 0;
  {
    absl::MutexLock lock(&mu);
    hi = absl::Uniform<uint64_t>(*bitgen);
    lo = absl::Uniform<uint64_t>(*bitgen);
  }
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x4000};            // Version 4.
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // RFC 4122 variant.
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & 0xFFFFFFFFFFFF);
}

std::string GitHubSignature256(absl::string_view secret, absl::string_view body) {
  return absl::StrCat("sha256=", okr::outbound::HmacSha256Hex(secret, body));
}

std::string GitHubSignature1(absl::string_view secret, absl::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest,
           &length) == nullptr) {
    return "";
  }
  return absl::StrCat(
      "sha1=", absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), length)));
}

std::string FakeGitHubDelivery::Serialize() const { return Json(body); }

FakeGitHubServer::FakeGitHubServer(FakeGitHubOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<FakeGitHubServer>> FakeGitHubServer::Start(
    FakeGitHubOptions options) {
  std::unique_ptr<FakeGitHubServer> fake(new FakeGitHubServer(std::move(options)));
  auto handler = [raw = fake.get()](const httplib::Request& request, httplib::Response& response) {
    raw->Handle(request, response);
  };
  fake->server_->Get(".*", handler);
  fake->server_->Post(".*", handler);
  fake->server_->Patch(".*", handler);
  fake->server_->Put(".*", handler);
  fake->server_->Delete(".*", handler);
  fake->port_ = fake->server_->bind_to_any_port("127.0.0.1");
  if (fake->port_ <= 0) return absl::UnavailableError("cannot bind 127.0.0.1:0");
  fake->thread_ = std::thread([raw = fake.get()] { raw->server_->listen_after_bind(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!fake->server_->is_running()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("fake GitHub did not start within 10 s");
    }
    std::this_thread::yield();
  }
  return fake;
}

FakeGitHubServer::~FakeGitHubServer() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

std::string FakeGitHubServer::base_url() const {
  return absl::StrCat("http://127.0.0.1:", port_, options_.path_prefix);
}

namespace {
// "/graphql" for GitHub.com, "/api/graphql" for GHES ("/api/v3").
std::string GraphQLPath(absl::string_view prefix) {
  absl::string_view base = prefix;
  absl::ConsumeSuffix(&base, "/v3");
  return absl::StrCat(base, "/graphql");
}
}  // namespace

std::string FakeGitHubServer::graphql_url() const {
  return absl::StrCat("http://127.0.0.1:", port_, GraphQLPath(options_.path_prefix));
}

absl::Time FakeGitHubServer::Now() const {
  return Seconds(options_.clock != nullptr ? options_.clock->Now() : absl::Now());
}

// --- Data ------------------------------------------------------------------------------------

int64_t FakeGitHubServer::AddRepo(absl::string_view full_name) {
  absl::MutexLock lock(&mu_);
  if (Repo* repo = FindRepo(full_name)) return repo->id;
  const int64_t id = next_repo_id_++;
  Repo& repo = repos_[id];
  repo.id = id;
  repo.full_name = std::string(full_name);
  repo.node_id = NodeId("R_kgDO", id, 0);
  return id;
}

FakeGitHubServer::Repo* FakeGitHubServer::FindRepo(absl::string_view full_name) {
  for (auto& [id, repo] : repos_) {
    if (absl::EqualsIgnoreCase(repo.full_name, full_name)) return &repo;
  }
  return nullptr;
}

const FakeGitHubServer::Repo* FakeGitHubServer::FindRepo(absl::string_view full_name) const {
  for (const auto& [id, repo] : repos_) {
    if (absl::EqualsIgnoreCase(repo.full_name, full_name)) return &repo;
  }
  return nullptr;
}

FakeGitHubServer::Repo* FakeGitHubServer::FindRepoById(int64_t id) {
  auto it = repos_.find(id);
  return it == repos_.end() ? nullptr : &it->second;
}

int64_t FakeGitHubServer::LabelId(Repo& repo, const std::string& name) {
  for (const auto& [existing, id] : repo.labels) {
    if (SameLabel(existing, name)) return id;
  }
  return repo.labels[name] = next_label_id_++;
}

void FakeGitHubServer::Touch(Issue& issue) { issue.data.updated_at = Now(); }

absl::StatusOr<FakeGitHubIssue> FakeGitHubServer::AddIssueLocked(Repo& repo,
                                                                 FakeGitHubIssue issue) {
  if (issue.number == 0) issue.number = repo.next_number;
  if (issue.number < 0 || repo.issues.count(issue.number) > 0 ||
      repo.moved.count(issue.number) > 0 || repo.deleted.count(issue.number) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(repo.full_name, "#", issue.number, " is taken"));
  }
  repo.next_number = std::max(repo.next_number, issue.number + 1);
  if (issue.id == 0) issue.id = next_issue_id_++;
  if (issue.node_id.empty()) {
    issue.node_id = NodeId(issue.pull_request ? "PR_kwDO" : "I_kwDO", repo.id, issue.id);
  }
  const absl::Time now = Now();
  if (issue.created_at == absl::InfinitePast()) issue.created_at = now;
  if (issue.updated_at == absl::InfinitePast()) issue.updated_at = now;
  if (issue.state == "closed" && issue.closed_at == absl::InfinitePast()) issue.closed_at = now;
  if (issue.state != "closed") issue.closed_at = absl::InfinitePast();
  if (issue.html_url.empty()) issue.html_url = DefaultHtmlUrl(repo.full_name, issue);
  for (const std::string& label : issue.labels) LabelId(repo, label);
  repo.issues[issue.number].data = issue;
  return issue;
}

absl::StatusOr<FakeGitHubIssue> FakeGitHubServer::AddIssue(absl::string_view repo_name,
                                                           FakeGitHubIssue issue) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr) return absl::NotFoundError(absl::StrCat("no repository ", repo_name));
  return AddIssueLocked(*repo, std::move(issue));
}

absl::StatusOr<FakeGitHubIssue> FakeGitHubServer::GetIssue(absl::string_view repo_name,
                                                           int64_t number) const {
  absl::ReaderMutexLock lock(&mu_);
  const Repo* repo = FindRepo(repo_name);
  if (repo == nullptr) return absl::NotFoundError(absl::StrCat("no repository ", repo_name));
  auto it = repo->issues.find(number);
  if (it == repo->issues.end()) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  return it->second.data;
}

absl::Status FakeGitHubServer::UpdateIssue(absl::string_view repo_name, int64_t number,
                                           absl::FunctionRef<void(FakeGitHubIssue&)> edit) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr || repo->issues.count(number) == 0) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  Issue& issue = repo->issues[number];
  const std::string state_before = issue.data.state;
  edit(issue.data);
  issue.data.number = number;
  const absl::Time now = Now();
  issue.data.updated_at = now;
  if (issue.data.state == "closed" &&
      (state_before != "closed" || issue.data.closed_at == absl::InfinitePast())) {
    issue.data.closed_at = now;
  }
  if (issue.data.state != "closed") issue.data.closed_at = absl::InfinitePast();
  for (const std::string& label : issue.data.labels) LabelId(*repo, label);
  return absl::OkStatus();
}

absl::Status FakeGitHubServer::DeleteIssue(absl::string_view repo_name, int64_t number) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr || repo->issues.erase(number) == 0) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  repo->deleted[number] = true;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FakeGitHubServer::TransferLocked(Repo& from, int64_t number, Repo& to) {
  auto it = from.issues.find(number);
  if (it == from.issues.end()) {
    return absl::NotFoundError(absl::StrCat("no issue ", from.full_name, "#", number));
  }
  if (&from == &to) return absl::InvalidArgumentError("transfer to the same repository");
  Issue issue = std::move(it->second);
  from.issues.erase(it);
  const bool default_url = issue.data.html_url == DefaultHtmlUrl(from.full_name, issue.data);
  const int64_t new_number = to.next_number++;
  issue.data.number = new_number;
  if (default_url) issue.data.html_url = DefaultHtmlUrl(to.full_name, issue.data);
  issue.data.updated_at = Now();
  for (const std::string& label : issue.data.labels) LabelId(to, label);
  to.issues[new_number] = std::move(issue);
  from.moved[number] = {to.id, new_number};
  return new_number;
}

absl::StatusOr<int64_t> FakeGitHubServer::TransferIssue(absl::string_view repo_name, int64_t number,
                                                        absl::string_view new_repo) {
  absl::MutexLock lock(&mu_);
  Repo* from = FindRepo(repo_name);
  Repo* to = FindRepo(new_repo);
  if (from == nullptr || to == nullptr) return absl::NotFoundError("unknown repository");
  return TransferLocked(*from, number, *to);
}

absl::Status FakeGitHubServer::RemoveRepoAccess(absl::string_view repo_name) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr) return absl::NotFoundError(absl::StrCat("no repository ", repo_name));
  repo->accessible = false;
  return absl::OkStatus();
}

std::vector<FakeGitHubComment> FakeGitHubServer::Comments(absl::string_view repo_name,
                                                          int64_t number) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<FakeGitHubComment> out;
  const Repo* repo = FindRepo(repo_name);
  if (repo == nullptr) return out;
  auto it = repo->issues.find(number);
  if (it == repo->issues.end()) return out;
  for (const auto& [id, comment] : it->second.comments) out.push_back(comment);
  return out;
}

absl::Status FakeGitHubServer::DeleteComment(absl::string_view repo_name, int64_t comment_id) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo != nullptr) {
    for (auto& [number, issue] : repo->issues) {
      if (issue.comments.erase(comment_id) > 0) return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("no comment ", comment_id, " in ", repo_name));
}

// --- Faults and observations -----------------------------------------------------------------

void FakeGitHubServer::FailNextRequests(int count, int http_status) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < count; ++i) faults_.push_back(Fault{http_status, false, {}, {}});
}

void FakeGitHubServer::RateLimitNextRequests(int count, FakeGitHubRateLimit kind,
                                             absl::Duration reset_after) {
  absl::MutexLock lock(&mu_);
  const int status = kind == FakeGitHubRateLimit::kPrimary429 ? 429 : 403;
  for (int i = 0; i < count; ++i) faults_.push_back(Fault{status, true, kind, reset_after});
}

void FakeGitHubServer::SetResponseDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

int64_t FakeGitHubServer::RequestCount(FakeGitHubEndpoint endpoint) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = request_counts_.find(endpoint);
  return it == request_counts_.end() ? 0 : it->second;
}

std::vector<FakeGitHubRequest> FakeGitHubServer::Requests() const {
  absl::ReaderMutexLock lock(&mu_);
  return requests_;
}

std::vector<int> FakeGitHubServer::GraphQLIdsRequested() const {
  absl::ReaderMutexLock lock(&mu_);
  return graphql_ids_;
}

void FakeGitHubServer::ResetObservations() {
  absl::MutexLock lock(&mu_);
  request_counts_.clear();
  requests_.clear();
  graphql_ids_.clear();
}

// --- HTTP ------------------------------------------------------------------------------------

void FakeGitHubServer::SetRateLimitHeaders(httplib::Response& response, absl::Time now,
                                           bool graphql) {
  const int64_t hour = absl::ToUnixSeconds(now) / 3600;
  if (hour != window_start_) {
    window_start_ = hour;
    core_used_ = 0;
    graphql_used_ = 0;
  }
  const int64_t used = graphql ? ++graphql_used_ : ++core_used_;
  response.set_header("x-ratelimit-limit", absl::StrCat(options_.rate_limit));
  response.set_header("x-ratelimit-remaining",
                      absl::StrCat(std::max<int64_t>(0, options_.rate_limit - used)));
  response.set_header("x-ratelimit-used", absl::StrCat(used));
  response.set_header("x-ratelimit-reset", absl::StrCat((hour + 1) * 3600));
  response.set_header("x-ratelimit-resource", graphql ? "graphql" : "core");
}

void FakeGitHubServer::Handle(const httplib::Request& request, httplib::Response& response) {
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    delay = delay_;
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);

  const absl::Time now = Now();
  const std::string target = request.target.empty() ? request.path : request.target;
  const std::string raw_path = target.substr(0, target.find('?'));
  const bool graphql = raw_path == GraphQLPath(options_.path_prefix);
  absl::string_view rest_path = raw_path;
  const bool under_prefix = absl::ConsumePrefix(&rest_path, options_.path_prefix) &&
                            (rest_path.empty() || rest_path[0] == '/');
  RouteMatch route;
  if (graphql) {
    route.endpoint =
        request.method == "POST" ? FakeGitHubEndpoint::kGraphQL : FakeGitHubEndpoint::kOther;
  } else if (under_prefix) {
    route = Classify(request.method, rest_path);
  }

  absl::MutexLock lock(&mu_);
  ++request_counts_[route.endpoint];
  SetRateLimitHeaders(response, now, graphql);
  FakeGitHubEndpoint endpoint = route.endpoint;

  const std::string authorization = request.get_header_value("Authorization");
  const size_t space = authorization.find(' ');
  const std::string scheme = authorization.substr(0, space);
  const std::string credential = space == std::string::npos ? "" : authorization.substr(space + 1);
  const bool authenticated =
      (absl::EqualsIgnoreCase(scheme, "Bearer") || absl::EqualsIgnoreCase(scheme, "token")) &&
      credential == options_.token;
  const std::string version = request.get_header_value("X-GitHub-Api-Version");

  if (!request.has_header("User-Agent") || request.get_header_value("User-Agent").empty()) {
    // GitHub.com: "Requests with no User-Agent header will be rejected."
    Error(response, 403,
          "Request forbidden by administrative rules. Please make sure your request has a "
          "User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api"
          "#user-agent-required). Check https://developer.github.com for other possible causes.");
  } else if (!authenticated) {
    if (graphql && authorization.empty()) {
      Reply(response, 401,
            {{"message", "This endpoint requires you to be authenticated."},
             {"documentation_url",
              "https://docs.github.com/graphql/guides/forming-calls-with-graphql"
              "#authenticating-with-graphql"}});
    } else {
      Error(response, 401, "Bad credentials");
    }
  } else if (!version.empty() && version != "2022-11-28" && version != "2026-03-10") {
    // docs.github.com/rest/about-the-rest-api/api-versions: "If you specify an API version
    // that is no longer supported, you will receive a 400 error." (integrations.md 3.1 says
    // 410; the docs win.)
    Error(response, 400, absl::StrCat("API version ", version, " is not supported."));
  } else if (!faults_.empty()) {
    const Fault fault = faults_.front();
    faults_.erase(faults_.begin());
    if (!fault.rate_limit) {
      Error(response, fault.status, StatusMessage(fault.status));
    } else {
      const int64_t seconds = std::max<int64_t>(1, CeilSeconds(fault.reset_after));
      const int64_t reset = absl::ToUnixSeconds(now) + seconds;
      if (fault.kind == FakeGitHubRateLimit::kSecondary) {
        response.set_header("retry-after", absl::StrCat(seconds));
        Error(response, 403,
              "You have exceeded a secondary rate limit. Please wait a few minutes before you "
              "try again. If you reach out to GitHub Support for help, please include the "
              "request ID 0000:0000:0000000:0000000:00000000.");
      } else {
        // set_header adds; the limit replaces what SetRateLimitHeaders wrote.
        for (const char* name :
             {"x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset"}) {
          response.headers.erase(name);
        }
        response.set_header("x-ratelimit-remaining", "0");
        response.set_header("x-ratelimit-used", absl::StrCat(options_.rate_limit));
        response.set_header("x-ratelimit-reset", absl::StrCat(reset));
        if (graphql) {
          Reply(response, 200,
                {{"data", nullptr},
                 {"errors", nlohmann::json::array(
                                {{{"type", "RATE_LIMITED"},
                                  {"message", "API rate limit exceeded for user ID 1."}}})}});
        } else {
          Error(response, fault.status,
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
                "help, please include the request ID 0000:0000:0000000:0000000:00000000.");
        }
      }
    }
  } else if (graphql) {
    if (request.method != "POST") {
      NotFound(response);
    } else {
      GraphQL(request, response);
    }
  } else if (!under_prefix) {
    NotFound(response);
  } else {
    Route(request, rest_path, response, endpoint);
  }

  FakeGitHubRequest record;
  record.method = request.method;
  record.target = target;
  record.endpoint = endpoint;
  record.authorization_scheme = scheme;
  record.user_agent = request.get_header_value("User-Agent");
  record.accept = request.get_header_value("Accept");
  record.api_version = version;
  record.body = request.body;
  record.status = response.status;
  if (requests_.size() >= kMaxRecordedRequests) requests_.erase(requests_.begin());
  requests_.push_back(std::move(record));
}

void FakeGitHubServer::Route(const httplib::Request& request, absl::string_view path,
                             httplib::Response& response, FakeGitHubEndpoint& endpoint) {
  const RouteMatch route = Classify(request.method, path);
  endpoint = route.endpoint;
  if (route.endpoint == FakeGitHubEndpoint::kOther) return NotFound(response);

  Repo* repo = route.repo_id != 0 ? FindRepoById(route.repo_id) : FindRepo(route.repo);
  if (repo == nullptr || !repo->accessible) return NotFound(response);
  const std::string base =
      absl::StrCat("http://", request.get_header_value("Host"), options_.path_prefix);
  const std::string url_base = absl::StrCat(base, path);

  // Requests naming an issue number: 301 (transferred), 410 (deleted) or 404.
  Issue* issue = nullptr;
  if (!route.number.empty()) {
    int64_t number = 0;
    if (!ParsePositive(route.number, &number)) return NotFound(response);
    auto it = repo->issues.find(number);
    if (it != repo->issues.end()) {
      issue = &it->second;
    } else if (auto moved = repo->moved.find(number); moved != repo->moved.end()) {
      // Follow chains of transfers to where the issue lives now.
      std::pair<int64_t, int64_t> at = moved->second;
      for (int hops = 0; hops < 100; ++hops) {
        Repo* next = FindRepoById(at.first);
        if (next == nullptr) break;
        auto again = next->moved.find(at.second);
        if (again == next->moved.end()) break;
        at = again->second;
      }
      Repo* to = FindRepoById(at.first);
      if (to == nullptr || !to->accessible || to->issues.count(at.second) == 0) {
        return NotFound(response);
      }
      const std::string location =
          absl::StrCat(base, "/repositories/", at.first, "/issues/", at.second);
      response.set_header("location", location);
      return Reply(response, 301,
                   {{"message", "Moved Permanently"},
                    {"url", location},
                    {"documentation_url", std::string(kDocs)}});
    } else if (repo->deleted.count(number) > 0) {
      return Error(response, 410, "This issue was deleted");
    } else {
      return NotFound(response);
    }
  }

  switch (route.endpoint) {
    case FakeGitHubEndpoint::kListIssues: {
      const std::string state =
          GetParam(request, "state").empty() ? "open" : GetParam(request, "state");
      if (state != "open" && state != "closed" && state != "all") {
        return Invalid(response, "Issue", "state", "invalid");
      }
      std::vector<std::string> labels;
      for (absl::string_view label :
           absl::StrSplit(GetParam(request, "labels"), ',', absl::SkipWhitespace())) {
        labels.emplace_back(absl::StripAsciiWhitespace(label));
      }
      std::optional<absl::Time> since;
      if (const std::string value = GetParam(request, "since"); !value.empty()) {
        since = ParseIsoTime(value);
        if (!since.has_value()) return Invalid(response, "Issue", "since", "invalid");
      }
      const std::string sort =
          GetParam(request, "sort").empty() ? "created" : GetParam(request, "sort");
      const std::string direction =
          GetParam(request, "direction").empty() ? "desc" : GetParam(request, "direction");
      if (sort != "created" && sort != "updated" && sort != "comments") {
        return Invalid(response, "Issue", "sort", "invalid");
      }
      if (direction != "asc" && direction != "desc") {
        return Invalid(response, "Issue", "direction", "invalid");
      }
      std::vector<const Issue*> matches;
      for (const auto& [number, candidate] : repo->issues) {
        const FakeGitHubIssue& data = candidate.data;
        if (state != "all" && data.state != state) continue;
        if (!std::all_of(labels.begin(), labels.end(),
                         [&](const std::string& label) { return HasLabel(data.labels, label); })) {
          continue;
        }
        if (since.has_value() && data.updated_at < *since) continue;
        matches.push_back(&candidate);
      }
      auto key = [&](const Issue* i) {
        if (sort == "updated") return std::make_pair(i->data.updated_at, i->data.number);
        if (sort == "comments") {
          return std::make_pair(absl::FromUnixSeconds(static_cast<int64_t>(i->comments.size())),
                                i->data.number);
        }
        return std::make_pair(i->data.created_at, i->data.number);
      };
      std::stable_sort(matches.begin(), matches.end(), [&](const Issue* a, const Issue* b) {
        return direction == "asc" ? key(a) < key(b) : key(b) < key(a);
      });
      nlohmann::json out = nlohmann::json::array();
      for (const Issue* i : Paginate(request, url_base, matches, response)) {
        out.push_back(IssueJson(*repo, *i));
      }
      return Reply(response, 200, out);
    }
    case FakeGitHubEndpoint::kGetIssue:
      return Reply(response, 200, IssueJson(*repo, *issue));
    case FakeGitHubEndpoint::kCreateIssue: {
      std::optional<nlohmann::json> body = JsonBody(request);
      if (!body.has_value() || !body->is_object()) {
        return Error(response, 400, "Problems parsing JSON");
      }
      if (!body->contains("title") || !(*body)["title"].is_string() ||
          (*body)["title"].get<std::string>().empty()) {
        return Invalid(response, "Issue", "title", "missing_field");
      }
      FakeGitHubIssue data;
      data.title = (*body)["title"].get<std::string>();
      if (body->contains("body") && (*body)["body"].is_string()) {
        data.body = (*body)["body"].get<std::string>();
      }
      if (body->contains("labels")) {
        std::optional<std::vector<std::string>> names = LabelNames((*body)["labels"]);
        if (!names.has_value()) return Invalid(response, "Issue", "labels", "invalid");
        for (const std::string& name : *names) {
          if (name.size() > kMaxLabelName) {
            return Invalid(response, "Label", "name", "invalid");
          }
          if (!HasLabel(data.labels, name)) data.labels.push_back(name);
        }
      }
      absl::StatusOr<FakeGitHubIssue> added = AddIssueLocked(*repo, std::move(data));
      if (!added.ok()) return Error(response, 500, added.status().message());
      response.set_header(
          "location", absl::StrCat(base, "/repos/", repo->full_name, "/issues/", added->number));
      return Reply(response, 201, IssueJson(*repo, repo->issues[added->number]));
    }
    case FakeGitHubEndpoint::kUpdateIssue: {
      std::optional<nlohmann::json> body = JsonBody(request);
      if (!body.has_value() || !body->is_object()) {
        return Error(response, 400, "Problems parsing JSON");
      }
      FakeGitHubIssue edited = issue->data;
      if (body->contains("title")) {
        if (!(*body)["title"].is_string()) return Invalid(response, "Issue", "title", "invalid");
        edited.title = (*body)["title"].get<std::string>();
      }
      if (body->contains("body")) {
        edited.body = (*body)["body"].is_string() ? (*body)["body"].get<std::string>() : "";
      }
      if (body->contains("labels")) {
        std::optional<std::vector<std::string>> names = LabelNames((*body)["labels"]);
        if (!names.has_value()) return Invalid(response, "Issue", "labels", "invalid");
        edited.labels.clear();
        for (const std::string& name : *names) {
          if (name.size() > kMaxLabelName) return Invalid(response, "Label", "name", "invalid");
          if (!HasLabel(edited.labels, name)) edited.labels.push_back(name);
        }
      }
      const absl::Time now = Now();
      if (body->contains("state")) {
        const nlohmann::json& state = (*body)["state"];
        if (!state.is_string() || (state != "open" && state != "closed")) {
          return Invalid(response, "Issue", "state", "invalid");
        }
        std::optional<std::string> reason;
        if (body->contains("state_reason") && (*body)["state_reason"].is_string()) {
          reason = (*body)["state_reason"].get<std::string>();
          if (*reason != "completed" && *reason != "not_planned" && *reason != "duplicate" &&
              *reason != "reopened") {
            return Invalid(response, "Issue", "state_reason", "invalid");
          }
        }
        // "state_reason ... Ignored unless state is changed."
        if (state == "closed" && edited.state != "closed") {
          edited.state = "closed";
          edited.state_reason = reason.has_value() && *reason != "reopened"
                                    ? reason
                                    : std::optional<std::string>("completed");
          edited.closed_at = now;
        } else if (state == "open" && edited.state != "open") {
          edited.state = "open";
          edited.state_reason = "reopened";
          edited.closed_at = absl::InfinitePast();
        }
      }
      for (const std::string& label : edited.labels) LabelId(*repo, label);
      edited.updated_at = now;
      issue->data = std::move(edited);
      return Reply(response, 200, IssueJson(*repo, *issue));
    }
    case FakeGitHubEndpoint::kListComments: {
      std::vector<const FakeGitHubComment*> all;
      for (const auto& [id, comment] : issue->comments) all.push_back(&comment);
      nlohmann::json out = nlohmann::json::array();
      for (const FakeGitHubComment* c : Paginate(request, url_base, all, response)) {
        out.push_back(CommentJson(*repo, *issue, *c));
      }
      return Reply(response, 200, out);
    }
    case FakeGitHubEndpoint::kCreateComment: {
      std::optional<nlohmann::json> body = JsonBody(request);
      if (!body.has_value() || !body->is_object()) {
        return Error(response, 400, "Problems parsing JSON");
      }
      if (!body->contains("body") || !(*body)["body"].is_string()) {
        return Invalid(response, "IssueComment", "body", "missing_field");
      }
      FakeGitHubComment comment;
      comment.id = next_comment_id_++;
      comment.node_id = NodeId("IC_kwDO", repo->id, comment.id);
      comment.body = (*body)["body"].get<std::string>();
      comment.created_at = comment.updated_at = Now();
      issue->comments[comment.id] = comment;
      Touch(*issue);
      response.set_header("location", absl::StrCat(base, "/repos/", repo->full_name,
                                                   "/issues/comments/", comment.id));
      return Reply(response, 201, CommentJson(*repo, *issue, comment));
    }
    case FakeGitHubEndpoint::kUpdateComment:
    case FakeGitHubEndpoint::kDeleteComment: {
      int64_t id = 0;
      if (!ParsePositive(route.comment_id, &id)) return NotFound(response);
      for (auto& [number, candidate] : repo->issues) {
        auto it = candidate.comments.find(id);
        if (it == candidate.comments.end()) continue;
        if (route.endpoint == FakeGitHubEndpoint::kDeleteComment) {
          candidate.comments.erase(it);
          response.status = 204;
          return;
        }
        std::optional<nlohmann::json> body = JsonBody(request);
        if (!body.has_value() || !body->is_object()) {
          return Error(response, 400, "Problems parsing JSON");
        }
        if (!body->contains("body") || !(*body)["body"].is_string()) {
          return Invalid(response, "IssueComment", "body", "missing_field");
        }
        it->second.body = (*body)["body"].get<std::string>();
        it->second.updated_at = Now();
        Touch(candidate);
        return Reply(response, 200, CommentJson(*repo, candidate, it->second));
      }
      return NotFound(response);
    }
    case FakeGitHubEndpoint::kAddLabels: {
      std::optional<nlohmann::json> body = JsonBody(request);
      if (!body.has_value()) return Error(response, 400, "Problems parsing JSON");
      // {"labels": [...]} or, as GitHub also accepts, a bare array.
      const nlohmann::json list =
          body->is_object() && body->contains("labels") ? (*body)["labels"] : *body;
      std::optional<std::vector<std::string>> names = LabelNames(list);
      if (!names.has_value() || names->empty()) {
        return Invalid(response, "Label", "labels", "missing_field", "Invalid request.");
      }
      for (const std::string& name : *names) {
        if (name.empty() || name.size() > kMaxLabelName) {
          return Invalid(response, "Label", "name", "invalid");
        }
      }
      for (const std::string& name : *names) {
        LabelId(*repo, name);
        if (!HasLabel(issue->data.labels, name)) issue->data.labels.push_back(name);
      }
      Touch(*issue);
      nlohmann::json out = nlohmann::json::array();
      for (const std::string& name : issue->data.labels) out.push_back(LabelJson(*repo, name));
      return Reply(response, 200, out);
    }
    case FakeGitHubEndpoint::kRemoveLabel: {
      std::vector<std::string>& labels = issue->data.labels;
      auto it = std::find_if(labels.begin(), labels.end(),
                             [&](const std::string& l) { return SameLabel(l, route.label); });
      if (it == labels.end()) return Error(response, 404, "Label does not exist");
      labels.erase(it);
      Touch(*issue);
      nlohmann::json out = nlohmann::json::array();
      for (const std::string& name : labels) out.push_back(LabelJson(*repo, name));
      return Reply(response, 200, out);
    }
    default:
      return NotFound(response);
  }
}

void FakeGitHubServer::GraphQL(const httplib::Request& request, httplib::Response& response) {
  auto fail = [&](absl::string_view type, absl::string_view message) {
    Reply(response, 200,
          {{"data", nullptr},
           {"errors", nlohmann::json::array(
                          {{{"type", std::string(type)}, {"message", std::string(message)}}})}});
  };
  std::optional<nlohmann::json> body = JsonBody(request);
  if (!body.has_value() || !body->is_object()) {
    return Error(response, 400, "Problems parsing JSON");
  }
  if (!body->contains("query") || !(*body)["query"].is_string()) {
    return fail("INVALID", "A query attribute must be specified and must be a string.");
  }
  const std::string query = (*body)["query"].get<std::string>();
  if (!absl::StrContains(query, "nodes(ids:")) {
    return fail("UNSUPPORTED", "The fake GitHub supports only the nodes(ids: $ids) query.");
  }
  const nlohmann::json* ids = nullptr;
  if (body->contains("variables") && (*body)["variables"].is_object() &&
      (*body)["variables"].contains("ids")) {
    ids = &(*body)["variables"]["ids"];
  }
  if (ids == nullptr || !ids->is_array() ||
      !std::all_of(ids->begin(), ids->end(),
                   [](const nlohmann::json& id) { return id.is_string(); })) {
    return fail("INVALID", "Variable $ids of type [ID!]! was provided invalid value");
  }
  graphql_ids_.push_back(static_cast<int>(ids->size()));
  if (ids->size() > kMaxGraphQLIds) {
    return fail("ARGUMENT_LIMIT", absl::StrCat("You may not provide more than ", kMaxGraphQLIds,
                                               " node ids; you provided ", ids->size(), "."));
  }
  const bool with_duplicate = absl::StrContains(query, "enableDuplicate: true");
  nlohmann::json nodes = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
  for (size_t i = 0; i < ids->size(); ++i) {
    const std::string id = (*ids)[i].get<std::string>();
    const Repo* found_repo = nullptr;
    const Issue* found = nullptr;
    for (const auto& [repo_id, repo] : repos_) {
      if (!repo.accessible) continue;
      for (const auto& [number, issue] : repo.issues) {
        if (issue.data.node_id == id) {
          found_repo = &repo;
          found = &issue;
        }
      }
    }
    if (found == nullptr) {
      nodes.push_back(nullptr);
      errors.push_back({{"type", "NOT_FOUND"},
                        {"path", nlohmann::json::array({"nodes", i})},
                        {"locations", nlohmann::json::array({{{"line", 2}, {"column", 3}}})},
                        {"message", absl::StrCat("Could not resolve to a node with the global id "
                                                 "of '",
                                                 id, "'")}});
      continue;
    }
    const FakeGitHubIssue& data = found->data;
    if (data.pull_request) {
      nodes.push_back({{"__typename", "PullRequest"}});
      continue;
    }
    nlohmann::json label_nodes = nlohmann::json::array();
    for (size_t l = 0; l < data.labels.size() && l < 100; ++l) {
      label_nodes.push_back({{"name", data.labels[l]}});
    }
    const std::string reason = GraphQLStateReason(data.state_reason, with_duplicate);
    nodes.push_back(
        {{"__typename", "Issue"},
         {"id", data.node_id},
         {"number", data.number},
         {"state", data.state == "closed" ? "CLOSED" : "OPEN"},
         {"stateReason", reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason)},
         {"updatedAt", Iso(data.updated_at)},
         {"closedAt", OptionalIso(data.closed_at)},
         {"url", data.html_url},
         {"labels", {{"totalCount", data.labels.size()}, {"nodes", label_nodes}}},
         {"repository", {{"nameWithOwner", found_repo->full_name}}}});
  }
  const int64_t remaining = std::max<int64_t>(0, options_.rate_limit - graphql_used_);
  nlohmann::json out = {
      {"data",
       {{"nodes", nodes},
        {"rateLimit",
         {{"cost", 1},
          {"remaining", remaining},
          {"resetAt", Iso(absl::FromUnixSeconds((window_start_ + 1) * 3600))}}}}}};
  if (!errors.empty()) out["errors"] = errors;
  Reply(response, 200, out);
}

// --- JSON ------------------------------------------------------------------------------------

nlohmann::json FakeGitHubServer::RepoJson(const Repo& repo) const {
  const auto [owner, name] = SplitRepo(repo.full_name);
  return {{"id", repo.id},
          {"node_id", repo.node_id},
          {"name", std::string(name)},
          {"full_name", repo.full_name},
          {"private", false},
          {"owner",
           {{"login", std::string(owner)},
            {"id", 9900000 + repo.id % 1000},
            {"type", "Organization"},
            {"html_url", absl::StrCat(kHtmlHost, "/", owner)}}},
          {"html_url", absl::StrCat(kHtmlHost, "/", repo.full_name)},
          {"url", absl::StrCat(base_url(), "/repos/", repo.full_name)}};
}

nlohmann::json FakeGitHubServer::LabelJson(const Repo& repo, const std::string& name) const {
  int64_t id = 0;
  std::string stored = name;
  for (const auto& [existing, label_id] : repo.labels) {
    if (SameLabel(existing, name)) {
      id = label_id;
      stored = existing;
    }
  }
  return {{"id", id},
          {"node_id", NodeId("LA_kwDO", repo.id, id)},
          {"url",
           absl::StrCat(base_url(), "/repos/", repo.full_name, "/labels/", PercentEncode(stored))},
          {"name", stored},
          {"color", "ededed"},
          {"default", false},
          {"description", nullptr}};
}

nlohmann::json FakeGitHubServer::IssueJson(const Repo& repo, const Issue& issue) const {
  const FakeGitHubIssue& data = issue.data;
  const std::string repo_url = absl::StrCat(base_url(), "/repos/", repo.full_name);
  const std::string url = absl::StrCat(repo_url, "/issues/", data.number);
  nlohmann::json labels = nlohmann::json::array();
  for (const std::string& name : data.labels) labels.push_back(LabelJson(repo, name));
  nlohmann::json out = {
      {"id", data.id},
      {"node_id", data.node_id},
      {"url", url},
      {"repository_url", repo_url},
      {"labels_url", absl::StrCat(url, "/labels{/name}")},
      {"comments_url", absl::StrCat(url, "/comments")},
      {"events_url", absl::StrCat(url, "/events")},
      {"html_url", data.html_url},
      {"number", data.number},
      {"state", data.state},
      {"state_reason", data.state_reason.has_value() ? nlohmann::json(*data.state_reason)
                                                     : nlohmann::json(nullptr)},
      {"title", data.title},
      {"body", data.body.empty() ? nlohmann::json(nullptr) : nlohmann::json(data.body)},
      {"user", User()},
      {"labels", labels},
      {"assignee", nullptr},
      {"assignees", nlohmann::json::array()},
      {"milestone", nullptr},
      {"locked", false},
      {"comments", issue.comments.size()},
      {"created_at", Iso(data.created_at)},
      {"updated_at", Iso(data.updated_at)},
      {"closed_at", OptionalIso(data.closed_at)},
      {"author_association", "OWNER"},
  };
  if (data.pull_request) {
    const std::string pr_url = absl::StrCat(repo_url, "/pulls/", data.number);
    out["pull_request"] = {{"url", pr_url},
                           {"html_url", data.html_url},
                           {"diff_url", absl::StrCat(data.html_url, ".diff")},
                           {"patch_url", absl::StrCat(data.html_url, ".patch")},
                           {"merged_at", nullptr}};
  }
  return out;
}

nlohmann::json FakeGitHubServer::CommentJson(const Repo& repo, const Issue& issue,
                                             const FakeGitHubComment& comment) const {
  const std::string repo_url = absl::StrCat(base_url(), "/repos/", repo.full_name);
  return {{"id", comment.id},
          {"node_id", comment.node_id},
          {"url", absl::StrCat(repo_url, "/issues/comments/", comment.id)},
          {"html_url", absl::StrCat(issue.data.html_url, "#issuecomment-", comment.id)},
          {"issue_url", absl::StrCat(repo_url, "/issues/", issue.data.number)},
          {"body", comment.body},
          {"user", User()},
          {"created_at", Iso(comment.created_at)},
          {"updated_at", Iso(comment.updated_at)},
          {"author_association", "OWNER"}};
}

// --- Webhooks --------------------------------------------------------------------------------

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::BuildLocked(const Repo& repo,
                                                                 const Issue& issue,
                                                                 absl::string_view action,
                                                                 nlohmann::json extra) const {
  FakeGitHubDelivery delivery;
  delivery.guid = NewGitHubUuid();
  delivery.hook_id = kHookId;
  delivery.target_id = repo.id;
  delivery.body = {{"action", std::string(action)},
                   {"issue", IssueJson(repo, issue)},
                   {"repository", RepoJson(repo)},
                   {"sender", Sender()}};
  if (extra.is_object()) {
    for (auto& [key, value] : extra.items()) delivery.body[key] = value;
  }
  return delivery;
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::BuildIssuesEvent(absl::string_view repo_name,
                                                                      int64_t number,
                                                                      absl::string_view action,
                                                                      nlohmann::json extra) const {
  absl::ReaderMutexLock lock(&mu_);
  const Repo* repo = FindRepo(repo_name);
  if (repo == nullptr || repo->issues.count(number) == 0) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  return BuildLocked(*repo, repo->issues.at(number), action, std::move(extra));
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::OpenIssue(absl::string_view repo_name,
                                                               FakeGitHubIssue issue) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr) return absl::NotFoundError(absl::StrCat("no repository ", repo_name));
  issue.state = "open";
  absl::StatusOr<FakeGitHubIssue> added = AddIssueLocked(*repo, std::move(issue));
  if (!added.ok()) return added.status();
  return BuildLocked(*repo, repo->issues[added->number], "opened", nlohmann::json::object());
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::CloseIssue(absl::string_view repo_name,
                                                                int64_t number,
                                                                absl::string_view state_reason) {
  absl::Status status = UpdateIssue(repo_name, number, [&](FakeGitHubIssue& issue) {
    issue.state = "closed";
    issue.state_reason = std::string(state_reason);
    issue.closed_at = absl::InfinitePast();
  });
  if (!status.ok()) return status;
  return BuildIssuesEvent(repo_name, number, "closed");
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::ReopenIssue(absl::string_view repo_name,
                                                                 int64_t number) {
  absl::Status status = UpdateIssue(repo_name, number, [&](FakeGitHubIssue& issue) {
    issue.state = "open";
    issue.state_reason = "reopened";
  });
  if (!status.ok()) return status;
  return BuildIssuesEvent(repo_name, number, "reopened");
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::EditIssue(
    absl::string_view repo_name, int64_t number, absl::FunctionRef<void(FakeGitHubIssue&)> edit) {
  absl::StatusOr<FakeGitHubIssue> before = GetIssue(repo_name, number);
  if (!before.ok()) return before.status();
  absl::Status status = UpdateIssue(repo_name, number, edit);
  if (!status.ok()) return status;
  absl::StatusOr<FakeGitHubIssue> after = GetIssue(repo_name, number);
  if (!after.ok()) return after.status();
  nlohmann::json changes = nlohmann::json::object();
  if (before->title != after->title) changes["title"] = {{"from", before->title}};
  if (before->body != after->body) changes["body"] = {{"from", before->body}};
  return BuildIssuesEvent(repo_name, number, "edited", {{"changes", changes}});
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::LabelIssue(absl::string_view repo_name,
                                                                int64_t number,
                                                                absl::string_view label) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr || repo->issues.count(number) == 0) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  Issue& issue = repo->issues[number];
  const std::string name(label);
  LabelId(*repo, name);
  if (!HasLabel(issue.data.labels, name)) issue.data.labels.push_back(name);
  Touch(issue);
  return BuildLocked(*repo, issue, "labeled", {{"label", LabelJson(*repo, name)}});
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::UnlabelIssue(absl::string_view repo_name,
                                                                  int64_t number,
                                                                  absl::string_view label) {
  absl::MutexLock lock(&mu_);
  Repo* repo = FindRepo(repo_name);
  if (repo == nullptr || repo->issues.count(number) == 0) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  Issue& issue = repo->issues[number];
  std::vector<std::string>& labels = issue.data.labels;
  auto it = std::find_if(labels.begin(), labels.end(),
                         [&](const std::string& l) { return SameLabel(l, label); });
  if (it == labels.end()) return absl::NotFoundError(absl::StrCat("no label ", label));
  const nlohmann::json label_json = LabelJson(*repo, *it);
  labels.erase(it);
  Touch(issue);
  return BuildLocked(*repo, issue, "unlabeled", {{"label", label_json}});
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::DeleteIssueEvent(absl::string_view repo_name,
                                                                      int64_t number) {
  absl::StatusOr<FakeGitHubDelivery> delivery = BuildIssuesEvent(repo_name, number, "deleted");
  if (!delivery.ok()) return delivery.status();
  absl::Status status = DeleteIssue(repo_name, number);
  if (!status.ok()) return status;
  return delivery;
}

absl::StatusOr<FakeGitHubDelivery> FakeGitHubServer::TransferIssueEvent(
    absl::string_view repo_name, int64_t number, absl::string_view new_repo) {
  absl::MutexLock lock(&mu_);
  Repo* from = FindRepo(repo_name);
  Repo* to = FindRepo(new_repo);
  if (from == nullptr || to == nullptr || from->issues.count(number) == 0) {
    return absl::NotFoundError(absl::StrCat("no issue ", repo_name, "#", number));
  }
  const Issue old_issue = from->issues[number];
  absl::StatusOr<int64_t> new_number = TransferLocked(*from, number, *to);
  if (!new_number.ok()) return new_number.status();
  nlohmann::json changes = {{"new_issue", IssueJson(*to, to->issues[*new_number])},
                            {"new_repository", RepoJson(*to)}};
  return BuildLocked(*from, old_issue, "transferred", {{"changes", changes}});
}

FakeGitHubDelivery FakeGitHubServer::Ping(absl::string_view repo_name) const {
  absl::ReaderMutexLock lock(&mu_);
  FakeGitHubDelivery delivery;
  delivery.event = "ping";
  delivery.guid = NewGitHubUuid();
  delivery.hook_id = kHookId;
  delivery.body = {{"zen", "Keep it logically awesome."},
                   {"hook_id", kHookId},
                   {"hook",
                    {{"type", "Repository"},
                     {"id", kHookId},
                     {"name", "web"},
                     {"active", true},
                     {"events", nlohmann::json::array({"issues"})},
                     {"config",
                      {{"content_type", "json"},
                       {"insecure_ssl", "0"},
                       {"url", "https://okr.example/hooks/github"}}}}},
                   {"sender", Sender()}};
  if (const Repo* repo = FindRepo(repo_name); repo != nullptr && !repo_name.empty()) {
    delivery.target_id = repo->id;
    delivery.body["repository"] = RepoJson(*repo);
  }
  return delivery;
}

// --- Webhook sender --------------------------------------------------------------------------

absl::StatusOr<int> SendGitHubWebhook(
    absl::string_view url, absl::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError("SendGitHubWebhook needs an http:// URL");
  }
  const size_t slash = rest.find('/');
  const std::string host_port(rest.substr(0, slash));
  const std::string path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (host_port.empty()) return absl::InvalidArgumentError("SendGitHubWebhook URL has no host");
  httplib::Client client(absl::StrCat("http://", host_port));
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  httplib::Headers http_headers;
  std::string content_type;
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Type")) {
      content_type = value;
    } else {
      http_headers.emplace(name, value);
    }
  }
  httplib::Result result =
      client.Post(path.c_str(), http_headers, std::string(body), content_type.c_str());
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("webhook delivery failed: ", httplib::to_string(result.error())));
  }
  return result->status;
}

absl::StatusOr<int> SendGitHubWebhook(absl::string_view url, absl::string_view secret,
                                      const FakeGitHubDelivery& delivery) {
  const std::string body = delivery.Serialize();
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"},
      {"User-Agent", "GitHub-Hookshot/abc123"},
      {"X-GitHub-Event", delivery.event},
      {"X-GitHub-Delivery", delivery.guid},
      {"X-GitHub-Hook-ID", absl::StrCat(delivery.hook_id)},
      {"X-GitHub-Hook-Installation-Target-Type", delivery.target_type},
      {"X-GitHub-Hook-Installation-Target-ID", absl::StrCat(delivery.target_id)},
  };
  if (!secret.empty()) {
    headers.emplace_back("X-Hub-Signature", GitHubSignature1(secret, body));
    headers.emplace_back("X-Hub-Signature-256", GitHubSignature256(secret, body));
  }
  return SendGitHubWebhook(url, body, headers);
}

}  // namespace okr::testing
