#include "tests/testing/fake_gitlab/fake_gitlab_server.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace okr::testing {
namespace {

// Above this many matches GitLab omits x-total, x-total-pages and rel="last".
constexpr int64_t kMaxCountedRecords = 10000;
constexpr size_t kMaxRecordedRequests = 10000;
constexpr int kDefaultPerPage = 20;
constexpr int kMaxPerPage = 100;
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

void NotFound(httplib::Response& response, absl::string_view message = "404 Not found") {
  Reply(response, 404, {{"message", std::string(message)}});
}

void BadRequest(httplib::Response& response, absl::string_view error) {
  Reply(response, 400, {{"error", std::string(error)}});
}

// REST timestamps: ISO-8601 UTC with milliseconds.
std::string RestTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

std::string HookTime(absl::Time time, bool utc_suffix) {
  return absl::FormatTime(utc_suffix ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%dT%H:%M:%SZ", time,
                          absl::UTCTimeZone());
}

nlohmann::json OptionalRestTime(absl::Time time) {
  if (time == absl::InfinitePast()) return nullptr;
  return RestTime(time);
}

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

// What Rack produces for query strings: everything but unreserved characters encoded.
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

std::string HttpDate(absl::Time time) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", time, absl::UTCTimeZone());
}

int64_t CeilSeconds(absl::Duration duration) {
  return static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(duration)));
}

std::string GetParam(const httplib::Request& request, const std::string& name) {
  return request.has_param(name.c_str()) ? request.get_param_value(name.c_str()) : "";
}

// Fields of a PUT/POST body: JSON object (values as JSON) or form parameters (strings).
class BodyFields {
 public:
  static std::optional<BodyFields> From(const httplib::Request& request) {
    BodyFields fields;
    const std::string content_type = request.get_header_value("Content-Type");
    if (absl::StrContains(absl::AsciiStrToLower(content_type), "application/json")) {
      nlohmann::json json = nlohmann::json::parse(request.body, nullptr, false);
      if (json.is_discarded() || !json.is_object()) return std::nullopt;
      fields.json_ = std::move(json);
    } else {
      fields.json_ = nlohmann::json::object();
      for (const auto& [key, value] : request.params) fields.json_[key] = value;
    }
    return fields;
  }

  bool Has(const std::string& name) const { return json_.contains(name); }
  const nlohmann::json& Get(const std::string& name) const { return json_.at(name); }

  // A string, or the comma-joined elements of an array of strings.
  std::optional<std::string> String(const std::string& name) const {
    if (!Has(name)) return std::nullopt;
    const nlohmann::json& value = json_.at(name);
    if (value.is_string()) return value.get<std::string>();
    if (value.is_array()) {
      std::vector<std::string> parts;
      for (const nlohmann::json& part : value) {
        if (!part.is_string()) return std::nullopt;
        parts.push_back(part.get<std::string>());
      }
      return absl::StrJoin(parts, ",");
    }
    return std::nullopt;
  }

 private:
  nlohmann::json json_;
};

std::vector<std::string> SplitLabels(absl::string_view list) {
  std::vector<std::string> labels;
  for (absl::string_view label : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    labels.emplace_back(absl::StripAsciiWhitespace(label));
  }
  return labels;
}

// The scope of a scoped label ("a::b" -> "a", "a::b::c" -> "a::b"); "" if unscoped.
absl::string_view LabelScope(absl::string_view label) {
  const size_t at = label.rfind("::");
  return at == absl::string_view::npos || at == 0 ? absl::string_view() : label.substr(0, at);
}

// Adds `label` like GitLab: once; with `exclusive`, replacing labels of the same scope.
void AddLabel(std::vector<std::string>& labels, std::string label, bool exclusive) {
  if (std::find(labels.begin(), labels.end(), label) != labels.end()) return;
  const absl::string_view scope = LabelScope(label);
  if (exclusive && !scope.empty()) {
    labels.erase(std::remove_if(labels.begin(), labels.end(),
                                [&](const std::string& l) { return LabelScope(l) == scope; }),
                 labels.end());
  }
  labels.push_back(std::move(label));
}

bool HasLabel(const FakeGitLabIssue& issue, absl::string_view label) {
  return std::find(issue.labels.begin(), issue.labels.end(), label) != issue.labels.end();
}

// The endpoint and ids of a raw request path (still URL-encoded).
struct RouteMatch {
  FakeGitLabEndpoint endpoint = FakeGitLabEndpoint::kOther;
  std::string project;  // Decoded :id.
  std::string iid;
  std::string note_id;
};

RouteMatch Classify(absl::string_view method, absl::string_view raw_path) {
  RouteMatch route;
  const std::vector<absl::string_view> parts = absl::StrSplit(raw_path, '/');
  // "", "api", "v4", "projects", :id, "issues", [:iid, ["notes", [:note_id]]]
  if (parts.size() < 6 || !parts[0].empty() || parts[1] != "api" || parts[2] != "v4" ||
      parts[3] != "projects" || parts[4].empty() || parts[5] != "issues") {
    return route;
  }
  route.project = PercentDecode(parts[4]);
  if (parts.size() == 6) {
    if (method == "GET") route.endpoint = FakeGitLabEndpoint::kListIssues;
    if (method == "POST") route.endpoint = FakeGitLabEndpoint::kCreateIssue;
    return route;
  }
  route.iid = std::string(parts[6]);
  if (parts.size() == 7) {
    if (method == "GET") route.endpoint = FakeGitLabEndpoint::kGetIssue;
    if (method == "PUT") route.endpoint = FakeGitLabEndpoint::kEditIssue;
    return route;
  }
  if (parts[7] != "notes") return route;
  if (parts.size() == 8) {
    if (method == "GET") route.endpoint = FakeGitLabEndpoint::kListNotes;
    if (method == "POST") route.endpoint = FakeGitLabEndpoint::kCreateNote;
    return route;
  }
  if (parts.size() == 9) {
    route.note_id = std::string(parts[8]);
    if (method == "PUT") route.endpoint = FakeGitLabEndpoint::kUpdateNote;
  }
  return route;
}

// Sets GitLab's offset pagination headers for `page` of `total` records.
void SetPaginationHeaders(const httplib::Request& request, const std::string& base_url,
                          const std::string& raw_path, int64_t total, int64_t page,
                          int64_t per_page, FakeGitLabPagination style,
                          httplib::Response& response) {
  const int64_t total_pages = std::max<int64_t>(1, (total + per_page - 1) / per_page);
  const bool has_next = page * per_page < total;
  const bool has_prev = page > 1;
  const bool counted = total <= kMaxCountedRecords;
  if (style != FakeGitLabPagination::kLinkOnly) {
    response.set_header("x-page", absl::StrCat(page));
    response.set_header("x-per-page", absl::StrCat(per_page));
    response.set_header("x-next-page", has_next ? absl::StrCat(page + 1) : "");
    response.set_header("x-prev-page", has_prev ? absl::StrCat(page - 1) : "");
    if (counted) {
      response.set_header("x-total", absl::StrCat(total));
      response.set_header("x-total-pages", absl::StrCat(total_pages));
    }
  }
  if (style == FakeGitLabPagination::kHeadersOnly) return;
  // The request's parameters, re-encoded, with page (and per_page) set.
  std::vector<std::string> params;
  for (const auto& [key, value] : request.params) {
    if (key == "page" || key == "per_page") continue;
    params.push_back(absl::StrCat(PercentEncode(key), "=", PercentEncode(value)));
  }
  auto url = [&](int64_t target_page) {
    std::vector<std::string> all = params;
    all.push_back(absl::StrCat("page=", target_page));
    all.push_back(absl::StrCat("per_page=", per_page));
    return absl::StrCat("<", base_url, raw_path, "?", absl::StrJoin(all, "&"), ">");
  };
  std::vector<std::string> links;
  if (has_prev) links.push_back(absl::StrCat(url(page - 1), "; rel=\"prev\""));
  if (has_next) links.push_back(absl::StrCat(url(page + 1), "; rel=\"next\""));
  links.push_back(absl::StrCat(url(1), "; rel=\"first\""));
  if (counted) links.push_back(absl::StrCat(url(total_pages), "; rel=\"last\""));
  response.set_header("link", absl::StrJoin(links, ", "));
}

// page and per_page of a list request; false (and a 400 set) if malformed.
bool PageParams(const httplib::Request& request, int64_t* page, int64_t* per_page,
                httplib::Response& response) {
  *page = 1;
  *per_page = kDefaultPerPage;
  if (const std::string value = GetParam(request, "page"); !value.empty()) {
    int64_t parsed = 0;
    if (!absl::SimpleAtoi(value, &parsed)) {
      BadRequest(response, "page is invalid");
      return false;
    }
    *page = std::max<int64_t>(1, parsed);
  }
  if (const std::string value = GetParam(request, "per_page"); !value.empty()) {
    int64_t parsed = 0;
    if (!absl::SimpleAtoi(value, &parsed)) {
      BadRequest(response, "per_page is invalid");
      return false;
    }
    *per_page = parsed < 1 ? kDefaultPerPage : std::min<int64_t>(parsed, kMaxPerPage);
  }
  return true;
}

nlohmann::json User() {
  return {{"id", 1},
          {"username", "okr-bot"},
          {"name", "OKR Bot"},
          {"state", "active"},
          {"locked", false},
          {"avatar_url", "https://www.gravatar.com/avatar/0?s=80&d=identicon"},
          {"web_url", "https://gitlab.example.com/okr-bot"}};
}

}  // namespace

std::string NewGitLabUuid() {
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

std::string FakeGitLabIssueHook::Serialize() const { return Json(body); }

FakeGitLabServer::FakeGitLabServer(FakeGitLabOptions options)
    : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

absl::StatusOr<std::unique_ptr<FakeGitLabServer>> FakeGitLabServer::Start(
    FakeGitLabOptions options) {
  std::unique_ptr<FakeGitLabServer> fake(new FakeGitLabServer(std::move(options)));
  auto handler = [raw = fake.get()](const httplib::Request& request, httplib::Response& response) {
    raw->Handle(request, response);
  };
  fake->server_->Get(".*", handler);
  fake->server_->Put(".*", handler);
  fake->server_->Post(".*", handler);
  fake->server_->Delete(".*", handler);
  fake->port_ = fake->server_->bind_to_any_port("127.0.0.1");
  if (fake->port_ <= 0) return absl::UnavailableError("cannot bind 127.0.0.1:0");
  fake->thread_ = std::thread([raw = fake.get()] { raw->server_->listen_after_bind(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!fake->server_->is_running()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("fake GitLab did not start within 10 s");
    }
    std::this_thread::yield();
  }
  return fake;
}

FakeGitLabServer::~FakeGitLabServer() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

std::string FakeGitLabServer::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

absl::Time FakeGitLabServer::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : absl::Now();
}

// --- Data -----------------------------------------------------------------------------------

int64_t FakeGitLabServer::AddProject(absl::string_view path) {
  absl::MutexLock lock(&mu_);
  if (const Project* existing = FindProjectByPath(path)) return existing->id;
  const int64_t id = next_project_id_++;
  Project& project = projects_[id];
  project.id = id;
  project.path = std::string(path);
  return id;
}

FakeGitLabServer::Project* FakeGitLabServer::FindProject(absl::string_view id_or_path) {
  int64_t id = 0;
  if (ParsePositive(id_or_path, &id)) {
    auto it = projects_.find(id);
    return it == projects_.end() ? nullptr : &it->second;
  }
  return const_cast<Project*>(FindProjectByPath(id_or_path));
}

const FakeGitLabServer::Project* FakeGitLabServer::FindProjectByPath(absl::string_view path) const {
  for (const auto& [id, project] : projects_) {
    if (project.path == path) return &project;
  }
  return nullptr;
}

FakeGitLabServer::Issue* FakeGitLabServer::FindIssue(absl::string_view path, int64_t iid) {
  return const_cast<Issue*>(static_cast<const FakeGitLabServer*>(this)->FindIssue(path, iid));
}

const FakeGitLabServer::Issue* FakeGitLabServer::FindIssue(absl::string_view path,
                                                           int64_t iid) const {
  const Project* project = FindProjectByPath(path);
  if (project == nullptr) return nullptr;
  auto it = project->issues.find(iid);
  return it == project->issues.end() ? nullptr : &it->second;
}

int64_t FakeGitLabServer::LabelId(Project& project, const std::string& title) {
  auto [it, inserted] = project.labels.emplace(title, 0);
  if (inserted) it->second = next_label_id_++;
  return it->second;
}

void FakeGitLabServer::SetLabels(Project& project, Issue& issue, std::vector<std::string> labels) {
  std::vector<std::string> unique;
  for (std::string& label : labels) {
    if (label.empty() || std::find(unique.begin(), unique.end(), label) != unique.end()) continue;
    LabelId(project, label);
    unique.push_back(std::move(label));
  }
  // GitLab returns labels sorted by title.
  std::sort(unique.begin(), unique.end());
  issue.data.labels = std::move(unique);
}

absl::StatusOr<FakeGitLabIssue> FakeGitLabServer::AddIssueLocked(Project& project,
                                                                 FakeGitLabIssue data) {
  const absl::Time now = Now();
  if (data.iid == 0) data.iid = project.next_iid;
  if (data.iid < 0) return absl::InvalidArgumentError("iid must be positive");
  if (project.issues.count(data.iid) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(project.path, "#", data.iid, " exists"));
  }
  project.next_iid = std::max(project.next_iid, data.iid + 1);
  if (data.id == 0) data.id = next_issue_id_++;
  if (data.title.empty()) data.title = absl::StrCat("Issue ", data.iid);
  if (data.created_at == absl::InfinitePast()) data.created_at = now;
  if (data.updated_at == absl::InfinitePast()) data.updated_at = data.created_at;
  if (data.state == "closed" && data.closed_at == absl::InfinitePast()) {
    data.closed_at = data.updated_at;
  }
  if (data.web_url.empty()) {
    data.web_url = absl::StrCat(base_url(), "/", project.path, "/-/issues/", data.iid);
  }
  Issue& issue = project.issues[data.iid];
  std::vector<std::string> labels = std::move(data.labels);
  issue.data = std::move(data);
  SetLabels(project, issue, std::move(labels));
  return issue.data;
}

absl::StatusOr<FakeGitLabIssue> FakeGitLabServer::AddIssue(absl::string_view project_path,
                                                           FakeGitLabIssue issue) {
  absl::MutexLock lock(&mu_);
  Project* project = const_cast<Project*>(FindProjectByPath(project_path));
  if (project == nullptr) return absl::NotFoundError(absl::StrCat("no project ", project_path));
  return AddIssueLocked(*project, std::move(issue));
}

absl::StatusOr<FakeGitLabIssue> FakeGitLabServer::GetIssue(absl::string_view project_path,
                                                           int64_t iid) const {
  absl::MutexLock lock(&mu_);
  const Issue* issue = FindIssue(project_path, iid);
  if (issue == nullptr) return absl::NotFoundError(absl::StrCat(project_path, "#", iid));
  return issue->data;
}

absl::Status FakeGitLabServer::UpdateIssue(absl::string_view project_path, int64_t iid,
                                           absl::FunctionRef<void(FakeGitLabIssue&)> edit) {
  absl::MutexLock lock(&mu_);
  Project* project = const_cast<Project*>(FindProjectByPath(project_path));
  Issue* issue = FindIssue(project_path, iid);
  if (project == nullptr || issue == nullptr) {
    return absl::NotFoundError(absl::StrCat(project_path, "#", iid));
  }
  const std::string old_state = issue->data.state;
  edit(issue->data);
  issue->data.iid = iid;
  issue->data.updated_at = Now();
  if (issue->data.state != old_state) {
    issue->data.closed_at =
        issue->data.state == "closed" ? issue->data.updated_at : absl::InfinitePast();
  }
  std::vector<std::string> labels = issue->data.labels;
  SetLabels(*project, *issue, std::move(labels));
  return absl::OkStatus();
}

absl::Status FakeGitLabServer::DeleteIssue(absl::string_view project_path, int64_t iid) {
  absl::MutexLock lock(&mu_);
  Project* project = const_cast<Project*>(FindProjectByPath(project_path));
  if (project == nullptr || project->issues.erase(iid) == 0) {
    return absl::NotFoundError(absl::StrCat(project_path, "#", iid));
  }
  return absl::OkStatus();
}

std::vector<FakeGitLabNote> FakeGitLabServer::Notes(absl::string_view project_path,
                                                    int64_t iid) const {
  absl::MutexLock lock(&mu_);
  std::vector<FakeGitLabNote> notes;
  if (const Issue* issue = FindIssue(project_path, iid)) {
    for (const auto& [id, note] : issue->notes) notes.push_back(note);
  }
  return notes;
}

absl::Status FakeGitLabServer::DeleteNote(absl::string_view project_path, int64_t iid,
                                          int64_t note_id) {
  absl::MutexLock lock(&mu_);
  Issue* issue = FindIssue(project_path, iid);
  if (issue == nullptr || issue->notes.erase(note_id) == 0) {
    return absl::NotFoundError(absl::StrCat("note ", note_id));
  }
  return absl::OkStatus();
}

// --- Faults and observations ---------------------------------------------------------------

void FakeGitLabServer::FailNextRequests(int count, int http_status) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < count; ++i) faults_.push_back({http_status, absl::ZeroDuration(), false});
}

void FakeGitLabServer::RateLimitNextRequests(int count, absl::Duration reset_after,
                                             bool send_retry_after) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < count; ++i) faults_.push_back({429, reset_after, send_retry_after});
}

void FakeGitLabServer::FailNextCreates(int count, int http_status, bool after_create) {
  absl::MutexLock lock(&mu_);
  create_faults_left_ = count;
  create_fault_status_ = http_status;
  create_fault_after_ = after_create;
}

int64_t FakeGitLabServer::IssueCreates() const {
  absl::MutexLock lock(&mu_);
  return issue_creates_;
}

void FakeGitLabServer::SetResponseDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  delay_ = delay;
}

void FakeGitLabServer::SetPagination(FakeGitLabPagination pagination) {
  absl::MutexLock lock(&mu_);
  pagination_ = pagination;
}

int64_t FakeGitLabServer::RequestCount(FakeGitLabEndpoint endpoint) const {
  absl::MutexLock lock(&mu_);
  auto it = request_counts_.find(endpoint);
  return it == request_counts_.end() ? 0 : it->second;
}

int64_t FakeGitLabServer::TimesListed(absl::string_view project_path, int64_t iid) const {
  absl::MutexLock lock(&mu_);
  const Issue* issue = FindIssue(project_path, iid);
  return issue == nullptr ? 0 : issue->times_listed;
}

int64_t FakeGitLabServer::NoteCreates(absl::string_view project_path, int64_t iid) const {
  absl::MutexLock lock(&mu_);
  const Issue* issue = FindIssue(project_path, iid);
  return issue == nullptr ? 0 : issue->note_creates;
}

int64_t FakeGitLabServer::NoteUpdates(absl::string_view project_path, int64_t iid) const {
  absl::MutexLock lock(&mu_);
  const Issue* issue = FindIssue(project_path, iid);
  return issue == nullptr ? 0 : issue->note_updates;
}

std::vector<FakeGitLabRequest> FakeGitLabServer::Requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void FakeGitLabServer::ResetObservations() {
  absl::MutexLock lock(&mu_);
  request_counts_.clear();
  requests_.clear();
  for (auto& [id, project] : projects_) {
    for (auto& [iid, issue] : project.issues) {
      issue.times_listed = 0;
      issue.note_creates = 0;
      issue.note_updates = 0;
    }
  }
}

// --- HTTP -------------------------------------------------------------------------------------

void FakeGitLabServer::SetRateLimitHeaders(httplib::Response& response, absl::Time now) {
  const int64_t minute = absl::ToUnixSeconds(now) / 60;
  if (minute != rate_window_start_) {
    rate_window_start_ = minute;
    rate_observed_ = 0;
  }
  ++rate_observed_;
  const int64_t limit = options_.rate_limit_per_minute;
  response.set_header("RateLimit-Name", "throttle_authenticated_api");
  response.set_header("RateLimit-Limit", absl::StrCat(limit));
  response.set_header("RateLimit-Observed", absl::StrCat(rate_observed_));
  response.set_header("RateLimit-Remaining",
                      absl::StrCat(std::max<int64_t>(0, limit - rate_observed_)));
  response.set_header("RateLimit-Reset", absl::StrCat((minute + 1) * 60));
}

void FakeGitLabServer::Handle(const httplib::Request& request, httplib::Response& response) {
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    delay = delay_;
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);

  const absl::Time now = Now();
  const std::string target = request.target.empty() ? request.path : request.target;
  const std::string raw_path = target.substr(0, target.find('?'));
  const RouteMatch route = Classify(request.method, raw_path);

  absl::MutexLock lock(&mu_);
  ++request_counts_[route.endpoint];
  SetRateLimitHeaders(response, now);
  FakeGitLabEndpoint endpoint = route.endpoint;

  if (!faults_.empty()) {
    const Fault fault = faults_.front();
    faults_.erase(faults_.begin());
    ReplyFault(fault, now, response);
  } else {
    const std::string token = request.get_header_value("PRIVATE-TOKEN");
    const std::string authorization = request.get_header_value("Authorization");
    const bool authenticated =
        (!token.empty() && token == options_.private_token) ||
        (!authorization.empty() && authorization == "Bearer " + options_.private_token);
    if (!authenticated) {
      Reply(response, 401, {{"message", "401 Unauthorized"}});
    } else {
      Route(request, raw_path, response, endpoint);
    }
  }

  FakeGitLabRequest record;
  record.method = request.method;
  record.target = target;
  record.endpoint = endpoint;
  record.private_token = request.get_header_value("PRIVATE-TOKEN");
  record.content_type = request.get_header_value("Content-Type");
  record.body = request.body;
  record.status = response.status;
  if (requests_.size() >= kMaxRecordedRequests) requests_.erase(requests_.begin());
  requests_.push_back(std::move(record));
}

void FakeGitLabServer::ReplyFault(const Fault& fault, absl::Time now, httplib::Response& response) {
  if (fault.status == 429) {
    const absl::Time reset = now + fault.reset_after;
    const int64_t reset_epoch = CeilSeconds(reset - absl::UnixEpoch());
    response.headers.erase("RateLimit-Remaining");
    response.headers.erase("RateLimit-Reset");
    response.set_header("RateLimit-Remaining", "0");
    response.set_header("RateLimit-Reset", absl::StrCat(reset_epoch));
    response.set_header("RateLimit-ResetTime", HttpDate(absl::FromUnixSeconds(reset_epoch)));
    if (fault.retry_after) {
      response.set_header("Retry-After", absl::StrCat(CeilSeconds(fault.reset_after)));
    }
    response.status = 429;
    response.set_content("Retry later\n", "text/plain");
  } else {
    Reply(response, fault.status, {{"message", absl::StrCat(fault.status, " Error")}});
  }
}

void FakeGitLabServer::CreateIssueRequest(const httplib::Request& request, Project& project,
                                          httplib::Response& response) {
  const Fault fault{create_fault_status_, absl::Seconds(1), true};
  if (create_faults_left_ > 0 && !create_fault_after_) {
    --create_faults_left_;
    ReplyFault(fault, Now(), response);
    return;
  }
  const std::optional<BodyFields> fields = BodyFields::From(request);
  if (!fields.has_value()) {
    BadRequest(response, "400 Bad request - body is invalid");
    return;
  }
  const std::optional<std::string> title = fields->String("title");
  if (!title.has_value()) {
    BadRequest(response, "title is missing");
    return;
  }
  nlohmann::json errors = nlohmann::json::object();
  const size_t title_chars =
      static_cast<size_t>(std::count_if(title->begin(), title->end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }));
  if (absl::StripAsciiWhitespace(*title).empty()) {
    errors["title"] = {"can't be blank"};
  } else if (title_chars > 255) {
    errors["title"] = {"is too long (maximum is 255 characters)"};
  }
  const std::string description = fields->String("description").value_or("");
  if (description.size() > 1048576) {
    errors["description"] = {"is too long (maximum is 1048576 characters)"};
  }
  if (!errors.empty()) {
    Reply(response, 400, {{"message", std::move(errors)}});
    return;
  }
  FakeGitLabIssue data;
  data.title = *title;
  data.description = description;
  data.labels = SplitLabels(fields->String("labels").value_or(""));
  absl::StatusOr<FakeGitLabIssue> created = AddIssueLocked(project, std::move(data));
  if (!created.ok()) {
    Reply(response, 500, {{"message", "500 Internal Server Error"}});
    return;
  }
  ++issue_creates_;
  if (create_faults_left_ > 0 && create_fault_after_) {
    --create_faults_left_;
    ReplyFault(fault, Now(), response);
    return;
  }
  Reply(response, 201, IssueJson(project, project.issues.at(created->iid), false));
}

void FakeGitLabServer::Route(const httplib::Request& request, absl::string_view path,
                             httplib::Response& response, FakeGitLabEndpoint& endpoint) {
  const std::string raw_path(path);
  const RouteMatch route = Classify(request.method, raw_path);
  endpoint = route.endpoint;
  if (route.endpoint == FakeGitLabEndpoint::kOther) {
    Reply(response, 404, {{"error", "404 Not Found"}});
    return;
  }
  Project* project = FindProject(route.project);
  if (project == nullptr) {
    NotFound(response, "404 Project Not Found");
    return;
  }
  if (route.endpoint == FakeGitLabEndpoint::kListIssues) {
    ListIssues(request, raw_path, *project, response);
    return;
  }
  if (route.endpoint == FakeGitLabEndpoint::kCreateIssue) {
    CreateIssueRequest(request, *project, response);
    return;
  }
  int64_t iid = 0;
  if (!ParsePositive(route.iid, &iid)) {
    NotFound(response);
    return;
  }
  auto issue_it = project->issues.find(iid);
  if (issue_it == project->issues.end()) {
    NotFound(response);
    return;
  }
  Issue& issue = issue_it->second;
  const absl::Time now = Now();
  switch (route.endpoint) {
    case FakeGitLabEndpoint::kGetIssue:
      Reply(response, 200,
            IssueJson(*project, issue, GetParam(request, "with_labels_details") == "true"));
      return;
    case FakeGitLabEndpoint::kEditIssue:
      EditIssueRequest(request, *project, issue, response);
      return;
    case FakeGitLabEndpoint::kListNotes: {
      int64_t page = 0, per_page = 0;
      if (!PageParams(request, &page, &per_page, response)) return;
      std::vector<const FakeGitLabNote*> notes;
      for (const auto& [id, note] : issue.notes) notes.push_back(&note);
      std::reverse(notes.begin(), notes.end());  // created_at desc.
      nlohmann::json array = nlohmann::json::array();
      for (int64_t i = (page - 1) * per_page;
           i < static_cast<int64_t>(notes.size()) && i < page * per_page; ++i) {
        array.push_back(NoteJson(*project, issue, *notes[i]));
      }
      SetPaginationHeaders(request, base_url(), raw_path, notes.size(), page, per_page, pagination_,
                           response);
      Reply(response, 200, array);
      return;
    }
    case FakeGitLabEndpoint::kCreateNote:
    case FakeGitLabEndpoint::kUpdateNote: {
      const std::optional<BodyFields> fields = BodyFields::From(request);
      if (!fields.has_value()) {
        BadRequest(response, "body is invalid");
        return;
      }
      const std::optional<std::string> body = fields->String("body");
      if (!body.has_value() || body->empty()) {
        BadRequest(response, "body is missing");
        return;
      }
      if (route.endpoint == FakeGitLabEndpoint::kCreateNote) {
        FakeGitLabNote note;
        note.id = next_note_id_++;
        note.body = *body;
        note.created_at = note.updated_at = now;
        issue.notes[note.id] = note;
        ++issue.note_creates;
        issue.data.updated_at = now;  // Notes touch their noteable.
        Reply(response, 201, NoteJson(*project, issue, note));
        return;
      }
      int64_t note_id = 0;
      auto note_it =
          ParsePositive(route.note_id, &note_id) ? issue.notes.find(note_id) : issue.notes.end();
      if (note_it == issue.notes.end()) {
        NotFound(response, "404 Note Not Found");
        return;
      }
      note_it->second.body = *body;
      note_it->second.updated_at = now;
      ++issue.note_updates;
      issue.data.updated_at = now;
      Reply(response, 200, NoteJson(*project, issue, note_it->second));
      return;
    }
    default:
      Reply(response, 404, {{"error", "404 Not Found"}});
      return;
  }
}

void FakeGitLabServer::ListIssues(const httplib::Request& request, const std::string& raw_path,
                                  Project& project, httplib::Response& response) {
  const std::string state = GetParam(request, "state").empty() ? "all" : GetParam(request, "state");
  if (state != "all" && state != "opened" && state != "closed") {
    BadRequest(response, "state does not have a valid value");
    return;
  }
  std::set<int64_t> iids;
  const bool filter_iids = request.has_param("iids[]");
  for (size_t i = 0; i < request.get_param_value_count("iids[]"); ++i) {
    int64_t iid = 0;
    if (!ParsePositive(request.get_param_value("iids[]", i), &iid)) {
      BadRequest(response, "iids is invalid");
      return;
    }
    iids.insert(iid);
  }
  const bool filter_labels = request.has_param("labels");
  const std::vector<std::string> labels = SplitLabels(GetParam(request, "labels"));
  const bool filter_milestone = request.has_param("milestone");
  const std::string milestone = GetParam(request, "milestone");
  std::optional<absl::Time> updated_after, updated_before;
  for (auto [name, bound] : {std::make_pair("updated_after", &updated_after),
                             std::make_pair("updated_before", &updated_before)}) {
    if (!request.has_param(name)) continue;
    *bound = ParseIsoTime(GetParam(request, name));
    if (!bound->has_value()) {
      BadRequest(response, absl::StrCat(name, " is invalid"));
      return;
    }
  }
  const std::string order_by =
      GetParam(request, "order_by").empty() ? "created_at" : GetParam(request, "order_by");
  if (order_by != "created_at" && order_by != "updated_at") {
    BadRequest(response, "order_by does not have a valid value");
    return;
  }
  const std::string sort = GetParam(request, "sort").empty() ? "desc" : GetParam(request, "sort");
  if (sort != "asc" && sort != "desc") {
    BadRequest(response, "sort does not have a valid value");
    return;
  }
  int64_t page = 0, per_page = 0;
  if (!PageParams(request, &page, &per_page, response)) return;

  std::vector<Issue*> matches;
  for (auto& [iid, issue] : project.issues) {
    const FakeGitLabIssue& data = issue.data;
    if (state != "all" && data.state != state) continue;
    if (filter_iids && iids.count(iid) == 0) continue;
    if (filter_labels) {
      if (labels.size() == 1 && labels[0] == "None") {
        if (!data.labels.empty()) continue;
      } else if (labels.size() == 1 && labels[0] == "Any") {
        if (data.labels.empty()) continue;
      } else if (!std::all_of(labels.begin(), labels.end(),
                              [&](const std::string& l) { return HasLabel(data, l); })) {
        continue;
      }
    }
    if (filter_milestone) {
      if (milestone == "None"  ? !data.milestone.empty()
          : milestone == "Any" ? data.milestone.empty()
                               : data.milestone != milestone) {
        continue;
      }
    }
    if (updated_after && data.updated_at < *updated_after) continue;
    if (updated_before && data.updated_at > *updated_before) continue;
    matches.push_back(&issue);
  }
  const bool by_updated = order_by == "updated_at";
  const bool ascending = sort == "asc";
  std::sort(matches.begin(), matches.end(), [&](const Issue* a, const Issue* b) {
    const absl::Time ta = by_updated ? a->data.updated_at : a->data.created_at;
    const absl::Time tb = by_updated ? b->data.updated_at : b->data.created_at;
    if (ta != tb) return ascending ? ta < tb : ta > tb;
    return ascending ? a->data.id < b->data.id : a->data.id > b->data.id;
  });

  const bool with_details = GetParam(request, "with_labels_details") == "true";
  nlohmann::json array = nlohmann::json::array();
  const int64_t total = static_cast<int64_t>(matches.size());
  for (int64_t i = (page - 1) * per_page; i < total && i < page * per_page; ++i) {
    ++matches[i]->times_listed;
    array.push_back(IssueJson(project, *matches[i], with_details));
  }
  SetPaginationHeaders(request, base_url(), raw_path, total, page, per_page, pagination_, response);
  Reply(response, 200, array);
}

void FakeGitLabServer::EditIssueRequest(const httplib::Request& request, Project& project,
                                        Issue& issue, httplib::Response& response) {
  const std::optional<BodyFields> fields = BodyFields::From(request);
  if (!fields.has_value()) {
    BadRequest(response, "body is invalid");
    return;
  }
  FakeGitLabIssue edited = issue.data;
  if (std::optional<std::string> labels = fields->String("labels")) {
    edited.labels.clear();
    for (std::string& label : SplitLabels(*labels)) {
      AddLabel(edited.labels, std::move(label), options_.scoped_labels_exclusive);
    }
  }
  if (std::optional<std::string> add = fields->String("add_labels")) {
    for (std::string& label : SplitLabels(*add)) {
      AddLabel(edited.labels, std::move(label), options_.scoped_labels_exclusive);
    }
  }
  if (std::optional<std::string> remove = fields->String("remove_labels")) {
    for (const std::string& label : SplitLabels(*remove)) {
      edited.labels.erase(std::remove(edited.labels.begin(), edited.labels.end(), label),
                          edited.labels.end());
    }
  }
  if (fields->Has("state_event")) {
    const std::optional<std::string> event = fields->String("state_event");
    if (event == "close") {
      edited.state = "closed";
    } else if (event == "reopen") {
      edited.state = "opened";
    } else {
      BadRequest(response, "state_event does not have a valid value");
      return;
    }
  }
  if (fields->Has("title")) {
    const std::optional<std::string> title = fields->String("title");
    if (!title.has_value() || title->empty()) {
      BadRequest(response, "title is empty");
      return;
    }
    edited.title = *title;
  }
  if (fields->Has("weight")) {
    const nlohmann::json& weight = fields->Get("weight");
    int64_t value = 0;
    if (weight.is_null() || (weight.is_string() && weight.get<std::string>().empty())) {
      edited.weight.reset();
    } else if (weight.is_number_integer() && weight.get<int64_t>() >= 0) {
      edited.weight = weight.get<int64_t>();
    } else if (weight.is_string() && absl::SimpleAtoi(weight.get<std::string>(), &value) &&
               value >= 0) {
      edited.weight = value;
    } else {
      BadRequest(response, "weight is invalid");
      return;
    }
  }
  std::vector<std::string> labels = std::move(edited.labels);
  edited.labels = issue.data.labels;
  FakeGitLabIssue before = issue.data;
  issue.data = std::move(edited);
  SetLabels(project, issue, std::move(labels));
  const bool changed = issue.data.labels != before.labels || issue.data.state != before.state ||
                       issue.data.title != before.title || issue.data.weight != before.weight;
  if (changed) {
    const absl::Time now = Now();
    issue.data.updated_at = now;
    if (issue.data.state != before.state) {
      issue.data.closed_at = issue.data.state == "closed" ? now : absl::InfinitePast();
    }
  }
  Reply(response, 200,
        IssueJson(project, issue, GetParam(request, "with_labels_details") == "true"));
}

// --- JSON -------------------------------------------------------------------------------------

nlohmann::json FakeGitLabServer::LabelJson(const Project& project, const std::string& title,
                                           GitLabHookTimeFormat format) const {
  auto it = project.labels.find(title);
  const int64_t id = it == project.labels.end() ? 0 : it->second;
  const std::string created = HookTime(absl::FromUnixSeconds(1700000000),
                                       /*utc_suffix=*/format == GitLabHookTimeFormat::kUtcSuffix);
  return {{"id", id},
          {"title", title},
          {"color", "#428BCA"},
          {"project_id", project.id},
          {"created_at", created},
          {"updated_at", created},
          {"template", false},
          {"description", nullptr},
          {"type", "ProjectLabel"},
          {"group_id", nullptr}};
}

nlohmann::json FakeGitLabServer::IssueJson(const Project& project, const Issue& issue,
                                           bool with_label_details) const {
  const FakeGitLabIssue& data = issue.data;
  nlohmann::json labels = nlohmann::json::array();
  for (const std::string& label : data.labels) {
    if (with_label_details) {
      auto it = project.labels.find(label);
      labels.push_back({{"id", it == project.labels.end() ? 0 : it->second},
                        {"name", label},
                        {"color", "#428BCA"},
                        {"description", nullptr},
                        {"text_color", "#FFFFFF"}});
    } else {
      labels.push_back(label);
    }
  }
  nlohmann::json milestone = nullptr;
  if (!data.milestone.empty()) {
    milestone = {{"id", 7000 + project.id},
                 {"iid", 1},
                 {"project_id", project.id},
                 {"title", data.milestone},
                 {"state", "active"},
                 {"web_url", absl::StrCat(base_url(), "/", project.path, "/-/milestones/1")}};
  }
  const std::string self =
      absl::StrCat(base_url(), "/api/v4/projects/", project.id, "/issues/", data.iid);
  nlohmann::json duplicate_of = nullptr;
  if (data.state == "closed" && project.issues.count(data.duplicate_of_iid) > 0) {
    duplicate_of = absl::StrCat(base_url(), "/api/v4/projects/", project.id, "/issues/",
                                data.duplicate_of_iid);
  }
  return {
      {"id", data.id},
      {"iid", data.iid},
      {"project_id", project.id},
      {"title", data.title},
      {"description", data.description},
      {"state", data.state},
      {"created_at", RestTime(data.created_at)},
      {"updated_at", RestTime(data.updated_at)},
      {"closed_at", OptionalRestTime(data.closed_at)},
      {"closed_by", data.state == "closed" ? User() : nlohmann::json(nullptr)},
      {"labels", labels},
      {"milestone", milestone},
      {"assignees", nlohmann::json::array()},
      {"author", User()},
      {"type", "ISSUE"},
      {"issue_type", "issue"},
      {"assignee", nullptr},
      {"user_notes_count", issue.notes.size()},
      {"merge_requests_count", 0},
      {"upvotes", 0},
      {"downvotes", 0},
      {"due_date", nullptr},
      {"confidential", data.confidential},
      {"discussion_locked", nullptr},
      {"web_url", data.web_url},
      {"time_stats",
       {{"time_estimate", 0},
        {"total_time_spent", 0},
        {"human_time_estimate", nullptr},
        {"human_total_time_spent", nullptr}}},
      {"task_completion_status", {{"count", 0}, {"completed_count", 0}}},
      {"weight", data.weight.has_value() ? nlohmann::json(*data.weight) : nullptr},
      {"has_tasks", false},
      {"_links",
       {{"self", self},
        {"notes", absl::StrCat(self, "/notes")},
        {"award_emoji", absl::StrCat(self, "/award_emoji")},
        {"project", absl::StrCat(base_url(), "/api/v4/projects/", project.id)},
        {"closed_as_duplicate_of", duplicate_of}}},
      {"references",
       {{"short", absl::StrCat("#", data.iid)},
        {"relative", absl::StrCat("#", data.iid)},
        {"full", absl::StrCat(project.path, "#", data.iid)}}},
      {"severity", "UNKNOWN"},
      {"subscribed", false},
      {"moved_to_id", nullptr},
      {"service_desk_reply_to", nullptr},
      {"health_status", nullptr},
  };
}

nlohmann::json FakeGitLabServer::NoteJson(const Project& project, const Issue& issue,
                                          const FakeGitLabNote& note) const {
  return {{"id", note.id},
          {"type", nullptr},
          {"body", note.body},
          {"attachment", nullptr},
          {"author", User()},
          {"created_at", RestTime(note.created_at)},
          {"updated_at", RestTime(note.updated_at)},
          {"system", false},
          {"noteable_id", issue.data.id},
          {"noteable_type", "Issue"},
          {"project_id", project.id},
          {"resolvable", false},
          {"confidential", false},
          {"internal", false},
          {"imported", false},
          {"imported_from", "none"},
          {"noteable_iid", issue.data.iid},
          {"commands_changes", nlohmann::json::object()}};
}

// --- Webhooks ---------------------------------------------------------------------------------

absl::StatusOr<FakeGitLabIssueHook> FakeGitLabServer::BuildIssueHookLocked(
    const Project& project, const Issue& issue, absl::string_view action,
    GitLabHookTimeFormat format, nlohmann::json changes) const {
  const FakeGitLabIssue& data = issue.data;
  const bool utc = format == GitLabHookTimeFormat::kUtcSuffix;
  const bool updated_utc = format != GitLabHookTimeFormat::kIso8601;
  auto time = [&](absl::Time t, bool utc_suffix) -> nlohmann::json {
    if (t == absl::InfinitePast()) return nullptr;
    return HookTime(t, utc_suffix);
  };
  nlohmann::json labels = nlohmann::json::array();
  for (const std::string& label : data.labels) labels.push_back(LabelJson(project, label, format));
  const std::string project_url = absl::StrCat(base_url(), "/", project.path);
  const std::string name = project.path.substr(project.path.rfind('/') + 1);
  const std::string ns = project.path.substr(0, project.path.find('/'));
  nlohmann::json project_json = {
      {"id", project.id},
      {"name", name},
      {"description", ""},
      {"web_url", project_url},
      {"avatar_url", nullptr},
      {"git_ssh_url", absl::StrCat("git@127.0.0.1:", project.path, ".git")},
      {"git_http_url", absl::StrCat(project_url, ".git")},
      {"namespace", ns},
      {"visibility_level", 0},
      {"path_with_namespace", project.path},
      {"default_branch", "main"},
      {"ci_config_path", nullptr},
      {"homepage", project_url},
      {"url", absl::StrCat("git@127.0.0.1:", project.path, ".git")},
      {"ssh_url", absl::StrCat("git@127.0.0.1:", project.path, ".git")},
      {"http_url", absl::StrCat(project_url, ".git")}};
  nlohmann::json duplicated_to_id = nullptr;
  if (auto target = project.issues.find(data.duplicate_of_iid);
      data.state == "closed" && target != project.issues.end()) {
    duplicated_to_id = target->second.data.id;
  }
  nlohmann::json attributes = {
      {"author_id", 1},
      {"closed_at", time(data.closed_at, utc)},
      {"confidential", data.confidential},
      {"created_at", time(data.created_at, utc)},
      {"description", data.description},
      {"discussion_locked", nullptr},
      {"due_date", nullptr},
      {"id", data.id},
      {"iid", data.iid},
      {"last_edited_at", nullptr},
      {"last_edited_by_id", nullptr},
      {"milestone_id",
       data.milestone.empty() ? nlohmann::json(nullptr) : nlohmann::json(7000 + project.id)},
      {"moved_to_id", nullptr},
      {"duplicated_to_id", duplicated_to_id},
      {"project_id", project.id},
      {"relative_position", 0},
      {"state_id", data.state == "closed" ? 2 : 1},
      {"time_estimate", 0},
      {"title", data.title},
      {"updated_at", time(data.updated_at, updated_utc)},
      {"updated_by_id", 1},
      {"type", "Issue"},
      {"url", data.web_url},
      {"total_time_spent", 0},
      {"time_change", 0},
      {"human_total_time_spent", nullptr},
      {"human_time_change", nullptr},
      {"human_time_estimate", nullptr},
      {"assignee_ids", nlohmann::json::array()},
      {"assignee_id", nullptr},
      {"labels", labels},
      {"state", data.state},
      {"severity", "unknown"},
      {"customer_relations_contacts", nlohmann::json::array()},
      {"weight", data.weight.has_value() ? nlohmann::json(*data.weight) : nullptr},
      {"health_status", nullptr},
      {"action", std::string(action)}};
  FakeGitLabIssueHook hook;
  hook.confidential = data.confidential;
  hook.idempotency_key = NewGitLabUuid();
  hook.event_uuid = NewGitLabUuid();
  hook.body = {{"object_kind", "issue"},
               {"event_type", data.confidential ? "confidential_issue" : "issue"},
               {"user",
                {{"id", 1},
                 {"name", "OKR Bot"},
                 {"username", "okr-bot"},
                 {"avatar_url", "https://www.gravatar.com/avatar/0?s=80&d=identicon"},
                 {"email", "[REDACTED]"}}},
               {"project", project_json},
               {"object_attributes", attributes},
               {"labels", labels},
               {"changes", changes.is_object() ? changes : nlohmann::json::object()},
               {"repository",
                {{"name", name},
                 {"url", absl::StrCat("git@127.0.0.1:", project.path, ".git")},
                 {"description", ""},
                 {"homepage", project_url}}},
               {"assignees", nlohmann::json::array()}};
  return hook;
}

absl::StatusOr<FakeGitLabIssueHook> FakeGitLabServer::BuildIssueHook(absl::string_view project_path,
                                                                     int64_t iid,
                                                                     absl::string_view action,
                                                                     GitLabHookTimeFormat format,
                                                                     nlohmann::json changes) const {
  absl::MutexLock lock(&mu_);
  const Project* project = FindProjectByPath(project_path);
  const Issue* issue = FindIssue(project_path, iid);
  if (project == nullptr || issue == nullptr) {
    return absl::NotFoundError(absl::StrCat(project_path, "#", iid));
  }
  return BuildIssueHookLocked(*project, *issue, action, format, std::move(changes));
}

absl::StatusOr<FakeGitLabIssueHook> FakeGitLabServer::OpenIssue(absl::string_view project_path,
                                                                FakeGitLabIssue issue,
                                                                GitLabHookTimeFormat format) {
  absl::MutexLock lock(&mu_);
  Project* project = const_cast<Project*>(FindProjectByPath(project_path));
  if (project == nullptr) return absl::NotFoundError(absl::StrCat("no project ", project_path));
  absl::StatusOr<FakeGitLabIssue> added = AddIssueLocked(*project, std::move(issue));
  if (!added.ok()) return added.status();
  const bool utc = format != GitLabHookTimeFormat::kIso8601;
  const std::string created = HookTime(added->created_at, utc);
  nlohmann::json changes = {
      {"author_id", {{"previous", nullptr}, {"current", 1}}},
      {"created_at", {{"previous", nullptr}, {"current", created}}},
      {"id", {{"previous", nullptr}, {"current", added->id}}},
      {"iid", {{"previous", nullptr}, {"current", added->iid}}},
      {"project_id", {{"previous", nullptr}, {"current", project->id}}},
      {"title", {{"previous", nullptr}, {"current", added->title}}},
      {"updated_at", {{"previous", nullptr}, {"current", HookTime(added->updated_at, utc)}}}};
  return BuildIssueHookLocked(*project, project->issues.at(added->iid), "open", format,
                              std::move(changes));
}

absl::StatusOr<FakeGitLabIssueHook> FakeGitLabServer::CloseIssue(absl::string_view project_path,
                                                                 int64_t iid,
                                                                 GitLabHookTimeFormat format) {
  return EditIssue(
      project_path, iid, [](FakeGitLabIssue& issue) { issue.state = "closed"; }, format);
}

absl::StatusOr<FakeGitLabIssueHook> FakeGitLabServer::ReopenIssue(absl::string_view project_path,
                                                                  int64_t iid,
                                                                  GitLabHookTimeFormat format) {
  return EditIssue(
      project_path, iid, [](FakeGitLabIssue& issue) { issue.state = "opened"; }, format);
}

absl::StatusOr<FakeGitLabIssueHook> FakeGitLabServer::EditIssue(
    absl::string_view project_path, int64_t iid, absl::FunctionRef<void(FakeGitLabIssue&)> edit,
    GitLabHookTimeFormat format) {
  absl::MutexLock lock(&mu_);
  Project* project = const_cast<Project*>(FindProjectByPath(project_path));
  Issue* issue = FindIssue(project_path, iid);
  if (project == nullptr || issue == nullptr) {
    return absl::NotFoundError(absl::StrCat(project_path, "#", iid));
  }
  const FakeGitLabIssue before = issue->data;
  FakeGitLabIssue after = before;
  edit(after);
  after.iid = iid;
  after.updated_at = Now();
  if (after.state != before.state) {
    after.closed_at = after.state == "closed" ? after.updated_at : absl::InfinitePast();
  }
  std::vector<std::string> labels = std::move(after.labels);
  after.labels = before.labels;
  issue->data = std::move(after);
  SetLabels(*project, *issue, std::move(labels));
  const FakeGitLabIssue& now = issue->data;

  const bool utc = format != GitLabHookTimeFormat::kIso8601;
  auto hook_time = [&](absl::Time t) -> nlohmann::json {
    if (t == absl::InfinitePast()) return nullptr;
    return HookTime(t, utc);
  };
  nlohmann::json changes = nlohmann::json::object();
  if (now.title != before.title) {
    changes["title"] = {{"previous", before.title}, {"current", now.title}};
  }
  if (now.description != before.description) {
    changes["description"] = {{"previous", before.description}, {"current", now.description}};
  }
  if (now.labels != before.labels) {
    nlohmann::json previous = nlohmann::json::array(), current = nlohmann::json::array();
    for (const std::string& l : before.labels) previous.push_back(LabelJson(*project, l, format));
    for (const std::string& l : now.labels) current.push_back(LabelJson(*project, l, format));
    changes["labels"] = {{"previous", previous}, {"current", current}};
  }
  if (now.weight != before.weight) {
    auto weight = [](const std::optional<int64_t>& w) {
      return w.has_value() ? nlohmann::json(*w) : nlohmann::json(nullptr);
    };
    changes["weight"] = {{"previous", weight(before.weight)}, {"current", weight(now.weight)}};
  }
  std::string action = "update";
  if (now.state != before.state) {
    const bool closed = now.state == "closed";
    action = closed ? "close" : "reopen";
    changes["closed_at"] = {{"previous", hook_time(before.closed_at)},
                            {"current", hook_time(now.closed_at)}};
    changes["state_id"] = {{"previous", closed ? 1 : 2}, {"current", closed ? 2 : 1}};
  }
  changes["updated_at"] = {{"previous", hook_time(before.updated_at)},
                           {"current", hook_time(now.updated_at)}};
  changes["updated_by_id"] = {{"previous", nullptr}, {"current", 1}};
  return BuildIssueHookLocked(*project, *issue, action, format, std::move(changes));
}

// --- Webhook sender ---------------------------------------------------------------------------

namespace {

absl::StatusOr<int> SendIssueHookWithUuid(absl::string_view url, absl::string_view token,
                                          absl::string_view event_json,
                                          absl::string_view idempotency_key, bool confidential,
                                          absl::string_view event_uuid) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError("SendIssueHook needs an http:// URL");
  }
  const size_t slash = rest.find('/');
  const std::string host_port(rest.substr(0, slash));
  const std::string path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (host_port.empty()) return absl::InvalidArgumentError("SendIssueHook URL has no host");
  httplib::Client client(absl::StrCat("http://", host_port));
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  httplib::Headers headers = {
      {"User-Agent", "GitLab/18.2.1"},
      {"X-Gitlab-Event", confidential ? "Confidential Issue Hook" : "Issue Hook"},
      {"X-Gitlab-Instance", "https://gitlab.example.com"},
      {"X-Gitlab-Webhook-UUID", NewGitLabUuid()},
      {"X-Gitlab-Event-UUID", std::string(event_uuid)},
  };
  if (!token.empty()) headers.emplace("X-Gitlab-Token", std::string(token));
  if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", std::string(idempotency_key));
  httplib::Result result =
      client.Post(path.c_str(), headers, std::string(event_json), "application/json");
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("webhook delivery failed: ", httplib::to_string(result.error())));
  }
  return result->status;
}

}  // namespace

absl::StatusOr<int> SendIssueHook(absl::string_view url, absl::string_view token,
                                  absl::string_view event_json, absl::string_view idempotency_key,
                                  bool confidential) {
  return SendIssueHookWithUuid(url, token, event_json, idempotency_key, confidential,
                               NewGitLabUuid());
}

absl::StatusOr<int> SendIssueHook(absl::string_view url, absl::string_view token,
                                  const FakeGitLabIssueHook& hook) {
  return SendIssueHookWithUuid(url, token, hook.Serialize(), hook.idempotency_key,
                               hook.confidential, hook.event_uuid);
}

}  // namespace okr::testing
