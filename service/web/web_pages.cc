#include "service/web/web_pages.h"

#include <ctemplate/template.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "service/auth/token_secret.h"
#include "service/http/url_encoding.h"
#include "service/log/log.h"
#include "service/okr/events.h"
#include "service/okr/lifecycle.h"
#include "service/okr/names.h"
#include "service/okr/progress.h"
#include "service/okr/status_macros.h"
#include "service/web/charts.h"
#include "service/web/forms.h"
#include "service/web/freshness_words.h"
#include "service/web/pace.h"
#include "service/web/templates.h"

namespace okr::web {
namespace {

using ctemplate::TemplateDictionary;
using http::HttpRequest;
using http::HttpResponse;

constexpr char kSessionCookie[] = "okr_session";
constexpr char kCsrfCookie[] = "okr_csrf";
constexpr char kCsp[] =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
constexpr int kMaxMovesListed = 20;
constexpr int kMaxAttention = 50;
constexpr int kRecentEvents = 15;

// Paths that belong to machines: their unknown sub-paths keep the JSON error.
constexpr const char* kJsonPrefixes[] = {"/webhooks", "/healthz", "/readyz", "/metrics",
                                         "/api",      "/okr.v1.", "/grpc."};

void SecurityHeaders(HttpResponse& r) {
  r.headers.push_back({"Content-Security-Policy", kCsp});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "same-origin"});
  r.headers.push_back({"Cache-Control", "no-store"});
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r{303, "text/plain; charset=utf-8", "See " + location};
  r.headers.push_back({"Location", location});
  SecurityHeaders(r);
  return r;
}

std::string Pct(double v) {
  if (!std::isfinite(v)) return "–";
  return absl::StrCat(static_cast<long>(std::lround(v * 100)), "%");
}
std::string PctNum(double v) { return absl::StrFormat("%.1f", std::clamp(v, 0.0, 1.0) * 100); }
std::string Num(double v) { return absl::StrFormat("%g", v); }
std::string Fixed(double v) { return absl::StrFormat("%.1f", v); }

std::string HealthWords(Health h) {
  switch (h) {
    case Health::kOnTrack:
      return "on track";
    case Health::kAtRisk:
      return "at risk";
    case Health::kOffTrack:
      return "off track";
    case Health::kNotStarted:
      return "not started";
  }
  return "not started";
}
std::string HealthClass(Health h) { return absl::StrReplaceAll(HealthWords(h), {{" ", "-"}}); }

std::string KindWords(KeyResultType t) {
  switch (t) {
    case KeyResultType::kMetric:
      return "Metric";
    case KeyResultType::kMilestone:
      return "Milestone";
    case KeyResultType::kWorkItems:
      return "Work-items";
  }
  return "Metric";
}

std::string StateWords(ObjectiveState s) { return absl::AsciiStrToLower(ObjectiveStateName(s)); }

std::string When(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}
std::string Day(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }
std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string TrackerWords(Tracker t) { return TrackerDisplayName(t); }

// Pages through a List use case.
template <typename T, typename Fn>
absl::StatusOr<std::vector<T>> ListAll(Fn list) {
  std::vector<T> all;
  core::PageRequest page{1000, ""};
  for (int guard = 0; guard < 10000; ++guard) {
    absl::StatusOr<core::ListResult<T>> r = list(page);
    if (!r.ok()) return r.status();
    for (T& item : r->items) all.push_back(std::move(item));
    if (r->next_page_token.empty()) break;
    page.page_token = r->next_page_token;
  }
  return all;
}

void SetHealth(TemplateDictionary* d, Health h) {
  d->SetValue("HEALTH", HealthWords(h));
  d->SetValue("HEALTH_CLASS", HealthClass(h));
}

// "JIRA OKRX-102" -> "OKRX-102".
std::string ItemKeyOf(const std::string& ref) {
  size_t space = ref.find(' ');
  return space == std::string::npos ? ref : ref.substr(space + 1);
}

// What moved a key result, in words, and the marker class the chart gives it.
std::pair<std::string, std::string> DescribeCause(
    const Event& e, const absl::flat_hash_map<std::string, const CheckIn*>& check_ins) {
  const std::string& ref = e.cause.ref;
  // A work item's own words ("closed as Won't Do", "moved to In Review (credit 50%)").
  const bool item_cause =
      e.cause.kind == CauseKind::kWorkItemClosed || e.cause.kind == CauseKind::kWorkItemReopened ||
      e.cause.kind == CauseKind::kWorkItemChanged || e.cause.kind == CauseKind::kWorkItemExcluded;
  if (item_cause && !e.cause.detail.empty()) {
    std::string words = absl::StrCat(ItemKeyOf(ref), " ", e.cause.detail);
    if (e.cause.kind == CauseKind::kWorkItemExcluded)
      absl::StrAppend(&words, ": left the key result");
    return {words, "item"};
  }
  switch (e.cause.kind) {
    case CauseKind::kCheckIn: {
      auto it = check_ins.find(ref);
      if (it == check_ins.end() || it->second->author.empty()) return {"check-in", "checkin"};
      return {absl::StrCat("check-in by ", it->second->author), "checkin"};
    }
    case CauseKind::kWorkItemClosed:
      return {ItemKeyOf(ref) + " closed", "item"};
    case CauseKind::kWorkItemReopened:
      return {ItemKeyOf(ref) + " reopened", "item"};
    case CauseKind::kWorkItemChanged:
      return {ItemKeyOf(ref) + " changed", "item"};
    case CauseKind::kWorkItemExcluded:
      return {ItemKeyOf(ref) + " excluded", "item"};
    case CauseKind::kWorkItemAdded:
      return {"scope change: " + ItemKeyOf(ref) + " linked", "scope"};
    case CauseKind::kWorkItemRemoved:
      return {"scope change: " + ItemKeyOf(ref) + " removed", "scope"};
    case CauseKind::kScopeSync:
      return {"scope change (tracker scope reconciled)", "scope"};
    case CauseKind::kEdit:
      return {"key result edited", "other"};
    default:
      return {e.message.empty() ? "changed" : e.message, "other"};
  }
}

bool IsRunning(const Cycle& c, absl::Time now) { return c.start_time <= now && now < c.end_time; }

// Splits "/a/b/c" into {"a", "b", "c"}.
std::vector<std::string> Segments(const std::string& path) {
  return absl::StrSplit(absl::StripPrefix(path, "/"), '/');
}

}  // namespace

struct WebPages::Visitor {
  bool known = false;     // may see pages
  bool enforced = false;  // access control is on
  Principal who;
  std::string session_id;  // with a session
  std::string csrf;        // what this visitor's forms carry
  bool new_csrf_cookie = false;
  bool bearer = false;  // authenticated by an Authorization: Bearer header
};

WebPages::WebPages(core::OkrCore& core, core::EventsCore& events, core::TokensCore& tokens,
                   WebSessions& sessions, const Clock& clock, WebPagesOptions options)
    : core_(core),
      events_(events),
      tokens_(tokens),
      sessions_(sessions),
      clock_(clock),
      options_(std::move(options)) {
  RegisterTemplates();
}

void WebPages::RegisterRoutes(http::HttpServer& server) {
  auto handler = [this](const HttpRequest& r) { return Handle(r); };
  for (const char* path : {"/", "/static/okr.css", "/login", "/objectives/[^/]+",
                           "/objectives/[^/]+/keyResults/[^/]+", "/cycles/[^/]+", "/teams/[^/]+"}) {
    server.Handle("GET", path, handler);
  }
  for (const char* path : {"/login", "/logout", "/objectives/[^/]+/keyResults/[^/]+/checkIns"}) {
    server.Handle("POST", path, handler);
  }
  server.HandleNotFound([this](const HttpRequest& r) { return NotFound(r); });
}

HttpResponse WebPages::Handle(const HttpRequest& request) {
  const std::string& path = request.path;
  if (request.method == "GET" && path == "/static/okr.css") {
    HttpResponse r{200, "text/css; charset=utf-8", std::string(Stylesheet())};
    r.headers.push_back({"X-Content-Type-Options", "nosniff"});
    r.headers.push_back({"Cache-Control", "public, max-age=3600"});
    return r;
  }
  if (path == "/login") return request.method == "POST" ? Login(request) : LoginPage(request);
  if (path == "/logout" && request.method == "POST") return Logout(request);

  const std::vector<std::string> seg = Segments(path);
  const bool post = request.method == "POST";
  const bool check_in_post = post && seg.size() == 5 && seg[0] == "objectives" &&
                             seg[2] == "keyResults" && seg[4] == "checkIns";
  if (check_in_post) return PostCheckIn(request, seg[1], seg[3]);
  if (request.method != "GET" && request.method != "HEAD") return NotFound(request);

  enum class Kind { kHome, kKeyResult, kObjective, kCycle, kTeam, kNone } kind = Kind::kNone;
  if (path == "/") {
    kind = Kind::kHome;
  } else if (seg.size() == 4 && seg[0] == "objectives" && seg[2] == "keyResults") {
    kind = Kind::kKeyResult;
  } else if (seg.size() == 2 && seg[0] == "objectives") {
    kind = Kind::kObjective;
  } else if (seg.size() == 2 && seg[0] == "cycles") {
    kind = Kind::kCycle;
  } else if (seg.size() == 2 && seg[0] == "teams") {
    kind = Kind::kTeam;
  }
  if (kind == Kind::kNone) return NotFound(request);

  absl::StatusOr<Visitor> v = Identify(request);
  if (!v.ok()) return StatusPage(v.status(), Visitor{});
  if (!v->known) return ToLogin(request);
  switch (kind) {
    case Kind::kHome:
      return Home(*v);
    case Kind::kKeyResult:
      return KeyResultPage(*v, seg[1], seg[3]);
    case Kind::kObjective:
      return ObjectivePage(*v, seg[1]);
    case Kind::kCycle: {
      auto team = request.query.find("team");
      return CyclePage(*v, seg[1], team == request.query.end() ? "" : team->second);
    }
    case Kind::kTeam:
      return TeamPage(*v, seg[1]);
    case Kind::kNone:
      break;
  }
  return NotFound(request);
}

HttpResponse WebPages::NotFound(const HttpRequest& request) {
  for (const char* prefix : kJsonPrefixes) {
    if (absl::StartsWith(request.path, prefix)) return http::JsonError(404, "not found");
  }
  Visitor nobody;
  return ErrorPage(404, "Page not found",
                   absl::StrCat("There is no page at ", request.path.substr(0, 200), "."), nobody);
}

// ---- Access ----

absl::StatusOr<WebPages::Visitor> WebPages::Identify(const HttpRequest& request) {
  Visitor v;
  v.enforced = options_.auth_enabled;
  const std::string cookies = request.Header("cookie");
  if (!options_.auth_enabled) {
    v.known = true;
    v.who = Principal{"", "", Role::kAdmin, {}};
  } else if (const std::string authorization = request.Header("authorization");
             !authorization.empty()) {
    // A program sends its API token on every request, as to the gRPC API. No cookie is
    // involved, so its forms need no CSRF token.
    OKR_ASSIGN_OR_RETURN(std::string secret, auth::BearerSecretFromHeader(authorization));
    OKR_ASSIGN_OR_RETURN(v.who, tokens_.Authenticate(secret));
    v.known = true;
    v.bearer = true;
    return v;
  } else {
    const std::string session_id = CookieValue(cookies, kSessionCookie);
    if (!session_id.empty()) {
      absl::StatusOr<WebSession> s = sessions_.Get(session_id);
      if (s.ok()) {
        if (s->bootstrap_admin) {
          v.known = true;
          v.who =
              Principal{"", s->display_name.empty() ? "admin" : s->display_name, Role::kAdmin, {}};
        } else {
          absl::StatusOr<ApiToken> token = tokens_.GetApiToken(s->token_id);
          if (token.ok()) {
            v.known = true;
            v.who = Principal{token->id, token->display_name, token->role, token->team_ids};
          } else if (absl::IsNotFound(token.status())) {
            // The token was revoked: so is every session it opened.
            OKR_RETURN_IF_ERROR(sessions_.Delete(session_id));
          } else {
            return token.status();
          }
        }
        if (v.known) {
          v.session_id = session_id;
          v.csrf = s->csrf_token;
          return v;
        }
      } else if (!absl::IsNotFound(s.status())) {
        return s.status();
      }
    }
    if (!options_.proxy_header.empty() && options_.trusted_proxy &&
        options_.trusted_proxy(request.remote_addr)) {
      std::string name(absl::StripAsciiWhitespace(request.Header(options_.proxy_header)));
      if (!name.empty() && name.size() <= 200) {
        v.known = true;
        v.who = Principal{"", name, Role::kViewer, {}};
      }
    }
  }
  // Visitors without a session: a double-submit token in a cookie of its own.
  v.csrf = CookieValue(cookies, kCsrfCookie);
  if (v.csrf.size() < 20 || v.csrf.size() > 128) {
    OKR_ASSIGN_OR_RETURN(v.csrf, auth::NewTokenSecret());
    v.new_csrf_cookie = true;
  }
  return v;
}

bool WebPages::CsrfMatches(const Visitor& v, const std::map<std::string, std::string>& form) const {
  if (v.bearer) return true;  // no ambient credential a foreign site could ride on
  auto it = form.find("csrf");
  if (v.csrf.empty() || v.new_csrf_cookie || it == form.end()) return false;
  return auth::TokenHashesEqual(it->second, v.csrf);
}

absl::Status WebPages::CanWrite(const Visitor& v, const std::string& team_id) {
  if (!v.enforced) return absl::OkStatus();
  // The team and its ancestors, so an editor of a team above may write it.
  OKR_ASSIGN_OR_RETURN(std::vector<std::string> chain, core_.TeamAndAncestors(team_id));
  return RequireTeamWrite(v.who, chain);
}

// ---- Rendering ----

HttpResponse WebPages::Page(int status, const std::string& title, const char* content_template,
                            const Visitor& v, const Fill& fill) {
  TemplateDictionary root("page");
  root.SetValue("TITLE", title);
  root.SetValue("NOW", When(clock_.Now()));
  if (v.known && v.enforced) {
    TemplateDictionary* user = root.AddSectionDictionary("USER");
    user->SetValue("NAME", v.who.display_name);
    user->SetValue("ROLE", std::string(RoleName(v.who.role)));
    if (!v.session_id.empty()) user->AddSectionDictionary("LOGOUT")->SetValue("CSRF", v.csrf);
  }
  TemplateDictionary* content = root.AddIncludeDictionary("CONTENT");
  content->SetFilename(content_template);
  content->SetValue("CSRF", v.csrf);
  if (fill) {
    absl::Status filled = fill(*content);
    if (!filled.ok()) return StatusPage(filled, v);
  }
  HttpResponse r{status, "text/html; charset=utf-8", RenderPage(root)};
  SecurityHeaders(r);
  if (v.new_csrf_cookie) {
    r.headers.push_back(
        {"Set-Cookie", SetCookie(kCsrfCookie, v.csrf, options_.secure_cookies, -1)});
  }
  return r;
}

HttpResponse WebPages::ErrorPage(int status, const std::string& heading, const std::string& message,
                                 const Visitor& v) {
  return Page(status, heading, kErrorTemplate, v, [&](TemplateDictionary& d) {
    d.SetValue("HEADING", heading);
    d.SetValue("MESSAGE", message);
    return absl::OkStatus();
  });
}

HttpResponse WebPages::StatusPage(const absl::Status& status, const Visitor& v) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
      return ErrorPage(404, "Not found", std::string(status.message()), v);
    case absl::StatusCode::kPermissionDenied:
      return ErrorPage(403, "Not allowed", std::string(status.message()), v);
    case absl::StatusCode::kUnauthenticated:
      return ErrorPage(401, "Not signed in", std::string(status.message()), v);
    default:
      log::Warn("page failed", {{"error", status.ToString()}});
      return ErrorPage(503, "Try again",
                       "The service could not load this page just now. Please try again.", v);
  }
}

HttpResponse WebPages::ToLogin(const HttpRequest& request) {
  std::string target = request.path;
  char sep = '?';
  for (const auto& [name, value] : request.query) {
    absl::StrAppend(&target, std::string(1, sep), UrlEncode(name), "=", UrlEncode(value));
    sep = '&';
  }
  return Redirect("/login?next=" + UrlEncode(SafeNextPath(target)));
}

// ---- Login ----

HttpResponse WebPages::LoginPage(const HttpRequest& request) {
  auto next_it = request.query.find("next");
  const std::string next = SafeNextPath(next_it == request.query.end() ? "" : next_it->second);
  absl::StatusOr<Visitor> v = Identify(request);
  if (!v.ok()) return StatusPage(v.status(), Visitor{});
  if (v->known && !v->session_id.empty()) return Redirect(next);
  return Page(200, "Log in", kLoginTemplate, *v, [&](TemplateDictionary& d) {
    if (!options_.auth_enabled) {
      d.ShowSection("OPEN");
    } else {
      TemplateDictionary* form = d.AddSectionDictionary("FORM");
      form->SetValue("NEXT", next);
      form->SetValue("SESSION_HOURS", absl::StrCat(absl::ToInt64Hours(sessions_.ttl())));
    }
    return absl::OkStatus();
  });
}

HttpResponse WebPages::Login(const HttpRequest& request) {
  std::map<std::string, std::string> form = http::ParseUrlEncoded(request.body);
  const std::string next = SafeNextPath(form["next"]);
  absl::StatusOr<Visitor> v = Identify(request);
  if (!v.ok()) return StatusPage(v.status(), Visitor{});
  if (!options_.auth_enabled) return Redirect(next);
  if (!CsrfMatches(*v, form)) {
    return ErrorPage(403, "Form expired",
                     "This form is out of date (its security token does not match). Reload the "
                     "page and try again.",
                     *v);
  }
  absl::StatusOr<Principal> who = tokens_.Authenticate(absl::StripAsciiWhitespace(form["token"]));
  if (!who.ok()) {
    if (!absl::IsUnauthenticated(who.status())) return StatusPage(who.status(), *v);
    log::Info("audit: page login refused", {{"peer", request.remote_addr}});
    return Page(401, "Log in", kLoginTemplate, *v, [&](TemplateDictionary& d) {
      d.AddSectionDictionary("FAILED")->SetValue("MESSAGE",
                                                 "That token is unknown or has been revoked.");
      TemplateDictionary* form = d.AddSectionDictionary("FORM");
      form->SetValue("NEXT", next);
      form->SetValue("SESSION_HOURS", absl::StrCat(absl::ToInt64Hours(sessions_.ttl())));
      return absl::OkStatus();
    });
  }
  absl::StatusOr<NewWebSession> session = sessions_.Create(*who);
  if (!session.ok()) return StatusPage(session.status(), *v);
  log::Info("audit: page login", {{"principal", who->Describe()}});
  HttpResponse r = Redirect(next);
  r.headers.push_back(
      {"Set-Cookie", SetCookie(kSessionCookie, session->id, options_.secure_cookies,
                               static_cast<long>(absl::ToInt64Seconds(sessions_.ttl())))});
  return r;
}

HttpResponse WebPages::Logout(const HttpRequest& request) {
  std::map<std::string, std::string> form = http::ParseUrlEncoded(request.body);
  absl::StatusOr<Visitor> v = Identify(request);
  if (!v.ok()) return StatusPage(v.status(), Visitor{});
  if (v->session_id.empty()) return Redirect("/login");
  if (!CsrfMatches(*v, form)) {
    return ErrorPage(403, "Form expired",
                     "This form is out of date (its security token does not match). Reload the "
                     "page and try again.",
                     *v);
  }
  absl::Status deleted = sessions_.Delete(v->session_id);
  if (!deleted.ok()) return StatusPage(deleted, *v);
  HttpResponse r = Redirect("/login");
  r.headers.push_back({"Set-Cookie", SetCookie(kSessionCookie, "", options_.secure_cookies, 0)});
  return r;
}

// ---- Pages ----

absl::StatusOr<std::vector<Objective>> WebPages::AlignmentPath(const Objective& objective) {
  std::vector<Objective> path = {objective};
  absl::flat_hash_set<std::string> seen = {objective.id};
  while (!path.back().parent_id.empty() && path.size() < 32) {
    const std::string parent = path.back().parent_id;
    if (seen.contains(parent)) break;
    absl::StatusOr<Objective> p = core_.GetObjective(parent);
    if (absl::IsNotFound(p.status())) break;
    if (!p.ok()) return p.status();
    seen.insert(parent);
    path.push_back(*std::move(p));
  }
  std::reverse(path.begin(), path.end());
  return path;
}

HttpResponse WebPages::KeyResultPage(const Visitor& v, const std::string& o_id,
                                     const std::string& k_id) {
  absl::StatusOr<KeyResult> kr = core_.GetKeyResult(o_id, k_id);
  if (!kr.ok()) return StatusPage(kr.status(), v);
  return Page(200, kr->title, kKeyResultTemplate, v, [&](TemplateDictionary& d) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Objective o, core_.GetObjective(o_id));
    OKR_ASSIGN_OR_RETURN(Cycle cycle, core_.GetCycle(o.cycle_id));
    absl::StatusOr<Team> team = core_.GetTeam(o.team_id);
    OKR_ASSIGN_OR_RETURN(std::vector<Objective> path, AlignmentPath(o));
    OKR_ASSIGN_OR_RETURN(std::vector<Event> events, ListAll<Event>([&](const core::PageRequest& p) {
                           return events_.ListEvents({o_id, k_id, ""}, p);
                         }));
    OKR_ASSIGN_OR_RETURN(std::vector<CheckIn> check_ins,
                         ListAll<CheckIn>([&](const core::PageRequest& p) {
                           return core_.ListCheckIns(o_id, k_id, p);
                         }));
    OKR_ASSIGN_OR_RETURN(std::vector<WorkItemLink> links,
                         ListAll<WorkItemLink>([&](const core::PageRequest& p) {
                           return core_.ListWorkItemLinks(o_id, k_id, p);
                         }));
    const absl::Time now = clock_.Now();

    d.SetValue("KR_TITLE", kr->title);
    d.SetValue("KIND", KindWords(kr->type));
    d.SetValue("O_ID", o.id);
    d.SetValue("K_ID", kr->id);
    d.SetValue("O_TITLE", o.title);
    d.SetValue("TEAM_ID", o.team_id);
    d.SetValue("TEAM_NAME",
               team.ok() && !team->display_name.empty() ? team->display_name : o.team_id);
    d.SetValue("CYCLE_ID", cycle.id);
    d.SetValue("CYCLE_NAME", cycle.display_name.empty() ? cycle.id : cycle.display_name);
    for (const Objective& p : path) {
      TemplateDictionary* crumb = d.AddSectionDictionary("PATH");
      crumb->SetValue("ID", p.id);
      crumb->SetValue("TITLE", Shorten(p.title, 40));
      TemplateDictionary* a = d.AddSectionDictionary("ALIGN");
      a->SetValue("ID", p.id);
      a->SetValue("TITLE", p.title);
      a->SetValue("TEAM", p.team_id);
      a->SetValue("PROGRESS", Pct(p.progress));
      SetHealth(a, p.health);
    }
    if (!path.front().parent_id.empty()) {
      d.AddSectionDictionary("TOP")->SetValue(
          "TEXT", absl::StrCat("The top objective shown is aligned to objectives/",
                               path.front().parent_id, ", which no longer exists."));
    }

    // Where it stands.
    d.SetValue("PROGRESS", Pct(kr->progress));
    if (kr->raw_progress > 1)
      d.AddSectionDictionary("OVERSHOOT")->SetValue("RAW", Pct(kr->raw_progress));
    d.SetValue("EXPECTED", Pct(kr->expected_progress));
    d.SetValue("PCT", PctNum(kr->progress));
    d.SetValue("EXPECTED_PCT", PctNum(kr->expected_progress));
    SetHealth(&d, kr->health);
    d.SetValue("PACE", PaceInWords(*kr, cycle, now));
    if (kr->type == KeyResultType::kMetric) {
      TemplateDictionary* m = d.AddSectionDictionary("METRIC");
      const std::string unit = kr->metric.unit.empty() ? "" : " " + kr->metric.unit;
      m->SetValue("CURRENT", Num(kr->metric.current_value));
      m->SetValue("START", Num(kr->metric.start_value));
      m->SetValue("TARGET", Num(kr->metric.target_value));
      m->SetValue("UNIT", unit);
    } else if (kr->type == KeyResultType::kMilestone) {
      d.AddSectionDictionary("MILESTONE")
          ->SetValue("DONE", kr->milestone_done ? "reached" : "not yet");
    } else {
      TemplateDictionary* t = d.AddSectionDictionary("TOTALS");
      t->SetIntValue("DONE_COUNT", kr->totals.done_count);
      t->SetIntValue("COUNT", kr->totals.item_count);
      t->SetValue("DONE_WEIGHT", Num(kr->totals.done_weight));
      t->SetValue("TOTAL_WEIGHT", Num(kr->totals.total_weight));
      if (kr->totals.excluded_count > 0) {
        t->AddSectionDictionary("EXCLUDED")
            ->SetIntValue("EXCLUDED_COUNT", static_cast<long>(kr->totals.excluded_count));
      }
      // How current the items are, per tracker it has a scope or linked items in.
      if (options_.freshness != nullptr) {
        std::set<Tracker> trackers = ScopeTrackers(*kr);
        for (const WorkItemLink& l : links) trackers.insert(l.item.tracker);
        std::vector<TrackerFreshness> sources = options_.freshness->ForTrackers(trackers);
        if (!sources.empty()) {
          TemplateDictionary* f = d.AddSectionDictionary("FRESHNESS");
          for (const TrackerFreshness& source : sources) {
            TemplateDictionary* line = f->AddSectionDictionary("SOURCE");
            line->SetValue("TEXT", FreshnessInWords(source, now));
            if (source.stale) line->ShowSection("STALE");
          }
        }
      }
    }

    // The chart: every progress change, with what caused it.
    absl::flat_hash_map<std::string, const CheckIn*> by_name;
    for (const CheckIn& c : check_ins) by_name[names::CheckIn(o_id, k_id, c.id)] = &c;
    std::vector<ProgressPoint> points;
    for (const Event& e : events) {
      if (e.type != EventType::kProgressChanged || e.key_result_id != k_id) continue;
      auto [label, marker] = DescribeCause(e, by_name);
      points.push_back(ProgressPoint{e.time, e.old_progress, e.new_progress, label, marker});
    }
    ProgressChart chart = LayOutProgressChart(cycle, now, kr->progress, points);
    d.SetValue("W", Fixed(chart.width));
    d.SetValue("H", Fixed(chart.height));
    d.SetValue("EXPECTED_POINTS", chart.expected_points);
    d.SetValue("ACTUAL_POINTS", chart.actual_points);
    d.SetValue("CHART_DESC",
               absl::StrCat("Actual progress (solid) against expected progress (dashed) from ",
                            Day(cycle.start_time), " to ", Day(cycle.end_time), ": now ",
                            Pct(kr->progress), " against ", Pct(kr->expected_progress),
                            " expected, after ", points.size(), " changes."));
    for (const AxisTick& t : chart.y_ticks) {
      TemplateDictionary* y = d.AddSectionDictionary("YTICK");
      y->SetValue("L", Fixed(chart.plot_left));
      y->SetValue("R", Fixed(chart.plot_right));
      y->SetValue("Y", Fixed(t.pos));
      y->SetValue("TX", Fixed(chart.plot_left - 6));
      y->SetValue("T", t.text);
    }
    for (const AxisTick& t : chart.x_ticks) {
      TemplateDictionary* x = d.AddSectionDictionary("XTICK");
      x->SetValue("X", Fixed(t.pos));
      x->SetValue("TY", Fixed(chart.plot_bottom + 18));
      x->SetValue("T", t.text);
    }
    if (chart.now_x >= 0) {
      TemplateDictionary* n = d.AddSectionDictionary("NOW");
      n->SetValue("X", Fixed(chart.now_x));
      n->SetValue("TOP", Fixed(chart.plot_top));
      n->SetValue("BOTTOM", Fixed(chart.plot_bottom));
      n->SetValue("LABEL_Y", Fixed(chart.plot_top - 3));
    }
    for (const ChartMarker& m : chart.markers) {
      TemplateDictionary* mk = d.AddSectionDictionary("MARK");
      mk->SetValue("X", Fixed(m.x));
      mk->SetValue("Y", Fixed(m.y));
      mk->SetValue("MARKER", m.marker);
      mk->SetValue("LABEL", m.label);
      mk->SetValue("WHEN", When(m.time));
      mk->SetValue("P", Pct(m.progress));
    }
    if (points.empty()) d.ShowSection("NO_MOVES");
    int listed = 0;
    for (auto it = points.rbegin(); it != points.rend() && listed < kMaxMovesListed;
         ++it, ++listed) {
      TemplateDictionary* mv = d.AddSectionDictionary("MOVE");
      mv->SetValue("ISO", Iso(it->time));
      mv->SetValue("WHEN", When(it->time));
      mv->SetValue("LABEL", it->label);
      mv->SetValue("OLD", Pct(it->old_progress));
      mv->SetValue("NEW", Pct(it->new_progress));
    }
    if (points.size() > static_cast<size_t>(kMaxMovesListed)) {
      d.AddSectionDictionary("MORE_MOVES")
          ->SetIntValue("COUNT", static_cast<long>(points.size()) - kMaxMovesListed);
    }

    // The check-in form, for those who may write.
    if (CanWrite(v, o.team_id).ok()) {
      TemplateDictionary* f = d.AddSectionDictionary("FORM");
      f->SetValue("O_ID", o.id);
      f->SetValue("K_ID", kr->id);
      f->SetValue("CSRF", v.csrf);
      if (kr->type == KeyResultType::kMetric) {
        TemplateDictionary* val = f->AddSectionDictionary("VALUE");
        if (!kr->metric.unit.empty())
          val->AddSectionDictionary("HAS_UNIT")->SetValue("UNIT", kr->metric.unit);
      } else if (kr->type == KeyResultType::kMilestone) {
        f->ShowSection("DONE_FIELD");
      }
      if (v.enforced) {
        f->AddSectionDictionary("AS")->SetValue("NAME", v.who.display_name);
      } else {
        f->ShowSection("AUTHOR");
      }
    }

    // Linked work items.
    d.SetIntValue("ITEM_COUNT", static_cast<long>(links.size()));
    if (links.empty()) {
      d.ShowSection("NO_ITEMS");
    } else {
      TemplateDictionary* table = d.AddSectionDictionary("ITEMS");
      for (const WorkItemLink& l : links) {
        TemplateDictionary* row = table->AddSectionDictionary("ITEM");
        row->SetValue("TRACKER", TrackerWords(l.item.tracker));
        if (absl::StartsWith(l.item.url, "https://") || absl::StartsWith(l.item.url, "http://")) {
          TemplateDictionary* u = row->AddSectionDictionary("URL");
          u->SetValue("HREF", l.item.url);
          u->SetValue("KEY", l.item.key);
        } else {
          row->AddSectionDictionary("NO_URL")->SetValue("KEY", l.item.key);
        }
        row->SetValue("TITLE", l.item.title);
        // The tracker's own state name when known ("In Review"), with what it earns.
        const char* plain_state = l.item.done ? "done" : "open";
        row->SetValue("STATE", l.item.status.empty() ? plain_state : l.item.status);
        if (l.item.excluded()) {
          row->AddSectionDictionary("EXCLUDED")->SetValue("REASON", l.item.exclusion);
        } else if (!l.item.done && l.item.partial_credit > 0) {
          row->AddSectionDictionary("CREDIT")->SetValue(
              "PERCENT", absl::StrCat(std::lround(ItemCreditShare(l.item) * 100), "%"));
        }
        row->SetValue("WEIGHT", Num(l.item.weight));
        row->SetValue("DONE", l.item.excluded() ? "excluded" : (l.item.done ? "yes" : "no"));
      }
    }

    // Check-ins, newest first.
    d.SetIntValue("CHECKIN_COUNT", static_cast<long>(check_ins.size()));
    if (check_ins.empty()) {
      d.ShowSection("NO_CHECKINS");
    } else {
      TemplateDictionary* table = d.AddSectionDictionary("CHECKINS");
      for (auto it = check_ins.rbegin(); it != check_ins.rend(); ++it) {
        TemplateDictionary* row = table->AddSectionDictionary("CHECKIN");
        row->SetValue("ISO", Iso(it->meta.create_time));
        row->SetValue("WHEN", When(it->meta.create_time));
        row->SetValue("VALUE", it->value.has_value() ? Num(*it->value) : "–");
        row->SetValue("CONFIDENCE", it->confidence.has_value() ? Num(*it->confidence) : "–");
        row->SetValue("NOTE", it->note);
        row->SetValue("AUTHOR", it->author.empty() ? "–" : it->author);
      }
    }
    return absl::OkStatus();
  });
}

HttpResponse WebPages::ObjectivePage(const Visitor& v, const std::string& o_id) {
  absl::StatusOr<Objective> o = core_.GetObjective(o_id);
  if (!o.ok()) return StatusPage(o.status(), v);
  return Page(200, o->title, kObjectiveTemplate, v, [&](TemplateDictionary& d) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(Cycle cycle, core_.GetCycle(o->cycle_id));
    absl::StatusOr<Team> team = core_.GetTeam(o->team_id);
    OKR_ASSIGN_OR_RETURN(std::vector<Objective> path, AlignmentPath(*o));
    path.pop_back();  // the objective itself
    OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs,
                         ListAll<KeyResult>([&](const core::PageRequest& p) {
                           return core_.ListKeyResults(o_id, p);
                         }));
    storage::ObjectiveFilter children_filter;
    children_filter.parent_id = o_id;
    OKR_ASSIGN_OR_RETURN(std::vector<Objective> children,
                         ListAll<Objective>([&](const core::PageRequest& p) {
                           return core_.ListObjectives(children_filter, p);
                         }));
    std::vector<Objective> deps;
    for (const std::string& dep : o->depends_on) {
      absl::StatusOr<Objective> d2 = core_.GetObjective(dep);
      if (d2.ok())
        deps.push_back(*std::move(d2));
      else if (!absl::IsNotFound(d2.status()))
        return d2.status();
    }
    OKR_ASSIGN_OR_RETURN(std::vector<Finding> findings, core_.CheckAlignment(o->cycle_id, ""));

    d.SetValue("O_TITLE", o->title);
    d.SetValue("KIND", o->kind == ObjectiveKind::kAspirational ? "Aspirational" : "Committed");
    d.SetValue("STATE", StateWords(o->state));
    d.SetValue("TEAM_ID", o->team_id);
    d.SetValue("TEAM_NAME",
               team.ok() && !team->display_name.empty() ? team->display_name : o->team_id);
    d.SetValue("CYCLE_ID", cycle.id);
    d.SetValue("CYCLE_NAME", cycle.display_name.empty() ? cycle.id : cycle.display_name);
    for (const Objective& p : path) {
      TemplateDictionary* crumb = d.AddSectionDictionary("PATH");
      crumb->SetValue("ID", p.id);
      crumb->SetValue("TITLE", Shorten(p.title, 40));
    }
    if (!o->description.empty())
      d.AddSectionDictionary("DESCRIPTION")->SetValue("TEXT", o->description);
    d.SetValue("PROGRESS", Pct(o->progress));
    d.SetValue("EXPECTED", Pct(o->expected_progress));
    d.SetValue("PCT", PctNum(o->progress));
    d.SetValue("EXPECTED_PCT", PctNum(o->expected_progress));
    SetHealth(&d, o->health);
    if (o->scored) {
      TemplateDictionary* s = d.AddSectionDictionary("SCORE");
      s->SetValue("VALUE", absl::StrFormat("%.2f", o->score));
      s->SetValue("OUTCOME", o->outcome == Outcome::kMet ? "met" : "missed");
    }
    if (krs.empty()) d.ShowSection("NO_KRS");
    for (const KeyResult& kr : krs) {
      TemplateDictionary* k = d.AddSectionDictionary("KR");
      k->SetValue("O_ID", o->id);
      k->SetValue("ID", kr.id);
      k->SetValue("TITLE", kr.title);
      k->SetValue("KIND", KindWords(kr.type));
      k->SetValue("PROGRESS", Pct(kr.progress));
      k->SetValue("EXPECTED", Pct(kr.expected_progress));
      k->SetValue("PCT", PctNum(kr.progress));
      SetHealth(k, kr.health);
    }
    if (children.empty()) d.ShowSection("NO_CHILDREN");
    for (const Objective& c : children) {
      TemplateDictionary* k = d.AddSectionDictionary("CHILD");
      k->SetValue("ID", c.id);
      k->SetValue("TITLE", c.title);
      k->SetValue("TEAM", c.team_id);
      k->SetValue("PROGRESS", Pct(c.progress));
      SetHealth(k, c.health);
    }
    if (deps.empty()) d.ShowSection("NO_DEPS");
    for (const Objective& c : deps) {
      TemplateDictionary* k = d.AddSectionDictionary("DEP");
      k->SetValue("ID", c.id);
      k->SetValue("TITLE", c.title);
      k->SetValue("TEAM", c.team_id);
      k->SetValue("PROGRESS", Pct(c.progress));
      SetHealth(k, c.health);
      if (c.health == Health::kAtRisk || c.health == Health::kOffTrack) k->ShowSection("RISK");
    }
    if (!o->contributes_to.empty()) {
      TemplateDictionary* c = d.AddSectionDictionary("CONTRIBUTES");
      for (const std::string& name : o->contributes_to) {
        absl::StatusOr<names::KeyResultName> n = names::ParseKeyResult(name, "contributes_to");
        if (!n.ok()) continue;
        TemplateDictionary* to = c->AddSectionDictionary("TO");
        to->SetValue("O", n->objective_id);
        to->SetValue("K", n->key_result_id);
        absl::StatusOr<KeyResult> target = core_.GetKeyResult(n->objective_id, n->key_result_id);
        to->SetValue("TEXT", target.ok() ? target->title : name);
      }
    }
    const std::string me = names::Objective(o->id);
    int shown = 0;
    for (const Finding& f : findings) {
      bool mine = false;
      for (const std::string& s : f.subjects)
        mine = mine || s == me || absl::StartsWith(s, me + "/");
      if (!mine) continue;
      ++shown;
      TemplateDictionary* k = d.AddSectionDictionary("FINDING");
      k->SetValue("SEVERITY", absl::AsciiStrToLower(SeverityName(f.severity)));
      k->SetValue("SEV_CLASS", absl::AsciiStrToLower(SeverityName(f.severity)));
      k->SetValue("CODE", std::string(FindingCodeName(f.code)));
      k->SetValue("MESSAGE", f.message);
    }
    if (shown == 0) d.ShowSection("NO_FINDINGS");
    if (!o->reopen_reason.empty())
      d.AddSectionDictionary("REOPENED")->SetValue("REASON", o->reopen_reason);
    for (const Agreement& a : o->agreements) {
      TemplateDictionary* k = d.AddSectionDictionary("AGREED");
      k->SetValue("TEAM", a.team_id);
      k->SetValue("BY", a.agreed_by.empty() ? "–" : a.agreed_by);
      k->SetValue("WHEN", When(a.agree_time));
    }
    absl::StatusOr<std::vector<std::string>> required = RequiredAgreementTeams(*o, deps);
    if (required.ok() && o->state != ObjectiveState::kClosed) {
      for (const std::string& t : PendingAgreementTeams(*o, *required)) {
        d.AddSectionDictionary("PENDING")->SetValue("TEAM", t);
      }
    }
    return absl::OkStatus();
  });
}

HttpResponse WebPages::CyclePage(const Visitor& v, const std::string& c_id,
                                 const std::string& team_filter) {
  absl::StatusOr<Cycle> cycle = core_.GetCycle(c_id);
  if (!cycle.ok()) return StatusPage(cycle.status(), v);
  const std::string name = cycle->display_name.empty() ? cycle->id : cycle->display_name;
  return Page(200, name, kCycleTemplate, v, [&](TemplateDictionary& d) -> absl::Status {
    const absl::Time now = clock_.Now();
    OKR_ASSIGN_OR_RETURN(std::vector<Team> teams, ListAll<Team>([&](const core::PageRequest& p) {
                           return core_.ListTeams("", p);
                         }));
    std::vector<Objective> objectives;
    if (team_filter.empty()) {
      storage::ObjectiveFilter filter;
      filter.cycle_id = c_id;
      OKR_ASSIGN_OR_RETURN(objectives, ListAll<Objective>([&](const core::PageRequest& p) {
                             return core_.ListObjectives(filter, p);
                           }));
    } else {
      core::AlignmentTreeQuery q;
      q.team_id = team_filter;
      q.cycle_id = c_id;
      OKR_ASSIGN_OR_RETURN(std::vector<core::AlignmentNode> roots, core_.GetAlignmentTree(q));
      std::vector<const core::AlignmentNode*> stack;
      for (const core::AlignmentNode& r : roots) stack.push_back(&r);
      while (!stack.empty()) {
        const core::AlignmentNode* n = stack.back();
        stack.pop_back();
        objectives.push_back(n->objective);
        for (const core::AlignmentNode& c : n->children) stack.push_back(&c);
      }
    }
    d.SetValue("CYCLE_ID", cycle->id);
    d.SetValue("CYCLE_NAME", name);
    d.SetValue("START", Day(cycle->start_time));
    d.SetValue("END", Day(cycle->end_time));
    d.SetValue("STATUS", now < cycle->start_time  ? "not started"
                         : now >= cycle->end_time ? "ended"
                                                  : "running");
    d.SetValue("EXPECTED", Pct(ExpectedProgress(cycle->start_time, cycle->end_time, now)));
    std::string team_name;
    for (const Team& t : teams) {
      TemplateDictionary* k = d.AddSectionDictionary("TEAM");
      k->SetValue("ID", t.id);
      k->SetValue("NAME", t.display_name.empty() ? t.id : t.display_name);
      if (t.id == team_filter) {
        k->ShowSection("SELECTED");
        team_name = t.display_name.empty() ? t.id : t.display_name;
      }
    }
    if (!team_filter.empty()) d.AddSectionDictionary("FILTERED")->SetValue("TEAM_NAME", team_name);
    if (objectives.empty()) {
      d.ShowSection("EMPTY");
      return absl::OkStatus();
    }
    AlignmentPicture pic = LayOutAlignmentTree(objectives);
    TemplateDictionary* tree = d.AddSectionDictionary("TREE");
    tree->SetValue("W", Fixed(pic.width));
    tree->SetValue("H", Fixed(pic.height));
    tree->SetIntValue("COUNT", static_cast<long>(pic.nodes.size()));
    for (const TreeEdge& e : pic.parent_edges)
      tree->AddSectionDictionary("EDGE")->SetValue("D", e.path);
    for (const TreeEdge& e : pic.dependency_edges)
      tree->AddSectionDictionary("DEP")->SetValue("D", e.path);
    absl::flat_hash_map<std::string, const Objective*> by_id;
    for (const Objective& o : objectives) by_id[o.id] = &o;
    TemplateDictionary* list = d.AddSectionDictionary("LIST");
    for (const TreeNode& n : pic.nodes) {
      TemplateDictionary* k = tree->AddSectionDictionary("NODE");
      k->SetValue("ID", n.id);
      k->SetValue("TITLE", n.title);
      k->SetValue("FULL_TITLE", n.full_title);
      k->SetValue("TEAM", n.team_id);
      k->SetValue("PROGRESS", Pct(n.progress));
      SetHealth(k, n.health);
      k->SetValue("X", Fixed(n.x));
      k->SetValue("Y", Fixed(n.y));
      k->SetValue("W", Fixed(n.w));
      k->SetValue("H", Fixed(n.h));
      k->SetValue("TX", Fixed(n.x + 10));
      k->SetValue("TY", Fixed(n.y + 15));
      k->SetValue("SY", Fixed(n.y + 30));
      if (!n.outside_parent_id.empty())
        k->AddSectionDictionary("OUTSIDE")->SetValue("PARENT", n.outside_parent_id);
      TemplateDictionary* row = list->AddSectionDictionary("ROW");
      row->SetValue("ID", n.id);
      row->SetValue("TITLE", n.full_title);
      row->SetValue("TEAM", n.team_id);
      row->SetIntValue("DEPTH", std::min(n.depth, 5));
      row->SetValue("STATE", StateWords(by_id[n.id]->state));
      row->SetValue("PROGRESS", Pct(n.progress));
      SetHealth(row, n.health);
    }
    return absl::OkStatus();
  });
}

HttpResponse WebPages::TeamPage(const Visitor& v, const std::string& t_id) {
  absl::StatusOr<Team> team = core_.GetTeam(t_id);
  if (!team.ok()) return StatusPage(team.status(), v);
  const std::string name = team->display_name.empty() ? team->id : team->display_name;
  return Page(200, name, kTeamTemplate, v, [&](TemplateDictionary& d) -> absl::Status {
    const absl::Time now = clock_.Now();
    OKR_ASSIGN_OR_RETURN(std::vector<Team> subteams, ListAll<Team>([&](const core::PageRequest& p) {
                           return core_.ListTeams(t_id, p);
                         }));
    OKR_ASSIGN_OR_RETURN(std::vector<Cycle> cycles, ListAll<Cycle>([&](const core::PageRequest& p) {
                           return core_.ListCycles(p);
                         }));
    d.SetValue("TEAM_ID", team->id);
    d.SetValue("TEAM_NAME", name);
    if (!team->parent_id.empty()) {
      absl::StatusOr<Team> parent = core_.GetTeam(team->parent_id);
      TemplateDictionary* p = d.AddSectionDictionary("PARENT");
      p->SetValue("ID", team->parent_id);
      p->SetValue("NAME", parent.ok() && !parent->display_name.empty() ? parent->display_name
                                                                       : team->parent_id);
    }
    if (subteams.empty()) d.ShowSection("NO_SUBTEAMS");
    for (const Team& s : subteams) {
      TemplateDictionary* k = d.AddSectionDictionary("SUBTEAM");
      k->SetValue("ID", s.id);
      k->SetValue("NAME", s.display_name.empty() ? s.id : s.display_name);
    }
    int running = 0;
    for (const Cycle& c : cycles) {
      if (!IsRunning(c, now)) continue;
      ++running;
      storage::ObjectiveFilter filter;
      filter.team_id = t_id;
      filter.cycle_id = c.id;
      OKR_ASSIGN_OR_RETURN(std::vector<Objective> objectives,
                           ListAll<Objective>([&](const core::PageRequest& p) {
                             return core_.ListObjectives(filter, p);
                           }));
      TemplateDictionary* k = d.AddSectionDictionary("CYCLE");
      k->SetValue("ID", c.id);
      k->SetValue("TEAM_ID", t_id);
      k->SetValue("NAME", c.display_name.empty() ? c.id : c.display_name);
      k->SetValue("START", Day(c.start_time));
      k->SetValue("END", Day(c.end_time));
      k->SetValue("EXPECTED", Pct(ExpectedProgress(c.start_time, c.end_time, now)));
      if (objectives.empty()) k->ShowSection("NONE");
      for (const Objective& o : objectives) {
        TemplateDictionary* row = k->AddSectionDictionary("OBJ");
        row->SetValue("ID", o.id);
        row->SetValue("TITLE", o.title);
        row->SetValue("STATE", StateWords(o.state));
        row->SetValue("PROGRESS", Pct(o.progress));
        row->SetValue("PCT", PctNum(o.progress));
        SetHealth(row, o.health);
      }
    }
    if (running == 0) d.ShowSection("NO_CYCLES");
    return absl::OkStatus();
  });
}

HttpResponse WebPages::Home(const Visitor& v) {
  return Page(200, "Overview", kHomeTemplate, v, [&](TemplateDictionary& d) -> absl::Status {
    const absl::Time now = clock_.Now();
    OKR_ASSIGN_OR_RETURN(std::vector<Cycle> cycles, ListAll<Cycle>([&](const core::PageRequest& p) {
                           return core_.ListCycles(p);
                         }));
    OKR_ASSIGN_OR_RETURN(std::vector<Team> teams, ListAll<Team>([&](const core::PageRequest& p) {
                           return core_.ListTeams("", p);
                         }));
    if (cycles.empty()) d.ShowSection("NO_CYCLES");
    int attention = 0;
    for (const Cycle& c : cycles) {
      TemplateDictionary* k = d.AddSectionDictionary("CYCLE");
      k->SetValue("ID", c.id);
      k->SetValue("NAME", c.display_name.empty() ? c.id : c.display_name);
      k->SetValue("START", Day(c.start_time));
      k->SetValue("END", Day(c.end_time));
      if (!IsRunning(c, now)) continue;
      k->ShowSection("RUNNING");
      storage::ObjectiveFilter filter;
      filter.cycle_id = c.id;
      OKR_ASSIGN_OR_RETURN(std::vector<Objective> objectives,
                           ListAll<Objective>([&](const core::PageRequest& p) {
                             return core_.ListObjectives(filter, p);
                           }));
      for (const Objective& o : objectives) {
        if (attention >= kMaxAttention) break;
        OKR_ASSIGN_OR_RETURN(std::vector<KeyResult> krs,
                             ListAll<KeyResult>([&](const core::PageRequest& p) {
                               return core_.ListKeyResults(o.id, p);
                             }));
        for (const KeyResult& kr : krs) {
          if (kr.health != Health::kAtRisk && kr.health != Health::kOffTrack) continue;
          if (++attention > kMaxAttention) break;
          TemplateDictionary* a = d.AddSectionDictionary("ATTENTION");
          a->SetValue("O_ID", o.id);
          a->SetValue("ID", kr.id);
          a->SetValue("TITLE", kr.title);
          a->SetValue("O_TITLE", o.title);
          a->SetValue("TEAM", o.team_id);
          a->SetValue("PROGRESS", Pct(kr.progress));
          a->SetValue("EXPECTED", Pct(kr.expected_progress));
          SetHealth(a, kr.health);
        }
      }
    }
    if (attention == 0) d.ShowSection("NO_ATTENTION");
    // Teams as a tree: roots first, each followed by the teams below it.
    if (teams.empty()) d.ShowSection("NO_TEAMS");
    absl::flat_hash_map<std::string, std::vector<const Team*>> below;
    absl::flat_hash_set<std::string> ids;
    for (const Team& t : teams) ids.insert(t.id);
    std::vector<std::pair<const Team*, int>> stack;
    for (auto it = teams.rbegin(); it != teams.rend(); ++it) {
      if (it->parent_id.empty() || !ids.contains(it->parent_id)) {
        stack.push_back({&*it, 0});
      } else {
        below[it->parent_id].push_back(&*it);
      }
    }
    absl::flat_hash_set<std::string> shown;
    while (!stack.empty()) {
      auto [t, depth] = stack.back();
      stack.pop_back();
      if (!shown.insert(t->id).second) continue;
      TemplateDictionary* k = d.AddSectionDictionary("TEAM");
      k->SetValue("ID", t->id);
      k->SetValue("NAME", t->display_name.empty() ? t->id : t->display_name);
      k->SetIntValue("DEPTH", std::min(depth, 5));
      for (const Team* c : below[t->id]) stack.push_back({c, depth + 1});  // reversed already
    }
    OKR_ASSIGN_OR_RETURN(int64_t last, events_.LastEventSequence());
    OKR_ASSIGN_OR_RETURN(
        std::vector<Event> recent,
        events_.EventsAfter(std::max<int64_t>(0, last - kRecentEvents), kRecentEvents));
    if (recent.empty()) d.ShowSection("NO_EVENTS");
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
      TemplateDictionary* k = d.AddSectionDictionary("EVENT");
      k->SetValue("ISO", Iso(it->time));
      k->SetValue("WHEN", When(it->time));
      k->SetValue("TYPE", absl::StrReplaceAll(absl::AsciiStrToLower(EventTypeName(it->type)),
                                              {{"_", " "}}));
      const std::string subject = EventSubject(*it);
      if (!subject.empty()) {
        TemplateDictionary* l = k->AddSectionDictionary("LINK");
        l->SetValue("HREF", "/" + subject);
        l->SetValue("SUBJECT", subject);
      }
      k->SetValue("MESSAGE", it->message);
    }
    return absl::OkStatus();
  });
}

// ---- Check-ins ----

HttpResponse WebPages::PostCheckIn(const HttpRequest& request, const std::string& o_id,
                                   const std::string& k_id) {
  std::map<std::string, std::string> form = http::ParseUrlEncoded(request.body);
  absl::StatusOr<Visitor> v = Identify(request);
  if (!v.ok()) return StatusPage(v.status(), Visitor{});
  const std::string page = absl::StrCat("/objectives/", o_id, "/keyResults/", k_id);
  if (!v->known) return Redirect("/login?next=" + UrlEncode(SafeNextPath(page)));
  if (!CsrfMatches(*v, form)) {
    return ErrorPage(403, "Form expired",
                     "This form is out of date (its security token does not match). Reload the "
                     "page and try again.",
                     *v);
  }
  absl::StatusOr<KeyResult> kr = core_.GetKeyResult(o_id, k_id);
  if (!kr.ok()) return StatusPage(kr.status(), *v);
  absl::StatusOr<Objective> o = core_.GetObjective(o_id);
  if (!o.ok()) return StatusPage(o.status(), *v);
  absl::Status allowed = CanWrite(*v, o->team_id);
  if (!allowed.ok()) {
    log::Info("audit: permission denied", {{"principal", v->who.Describe()},
                                           {"method", "page CreateCheckIn"},
                                           {"resource", page},
                                           {"error", std::string(allowed.message())}});
    return ErrorPage(
        403, "Not allowed",
        absl::StrCat("You may read this key result but not check in: ", allowed.message()), *v);
  }
  CheckIn c;
  c.objective_id = o_id;
  c.key_result_id = k_id;
  auto bad = [&](const std::string& message) {
    return Page(400, "Check-in not saved", kErrorTemplate, *v, [&](TemplateDictionary& d) {
      d.SetValue("HEADING", "Check-in not saved");
      d.SetValue("MESSAGE", message);
      TemplateDictionary* back = d.AddSectionDictionary("BACK");
      back->SetValue("HREF", page);
      back->SetValue("TEXT", "Back to the key result");
      return absl::OkStatus();
    });
  };
  const std::string value(absl::StripAsciiWhitespace(form["value"]));
  if (!value.empty()) {
    double parsed = 0;
    if (!absl::SimpleAtod(value, &parsed) || !std::isfinite(parsed)) {
      return bad("The value must be a number.");
    }
    c.value = parsed;
  }
  const std::string confidence(absl::StripAsciiWhitespace(form["confidence"]));
  if (!confidence.empty()) {
    double parsed = 0;
    if (!absl::SimpleAtod(confidence, &parsed) || !std::isfinite(parsed)) {
      return bad("The confidence must be a number from 0 to 1.");
    }
    c.confidence = parsed;
  }
  c.note = form["note"];
  c.author =
      v->enforced ? v->who.display_name : std::string(absl::StripAsciiWhitespace(form["author"]));
  absl::StatusOr<CheckIn> created = core_.CreateCheckIn(std::move(c), "");
  if (absl::IsInvalidArgument(created.status()) || absl::IsFailedPrecondition(created.status())) {
    return bad(std::string(created.status().message()));
  }
  if (!created.ok()) return StatusPage(created.status(), *v);
  return Redirect(page + "#checkins");
}

}  // namespace okr::web
