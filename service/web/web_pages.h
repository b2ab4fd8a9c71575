// WebPages: the pages people open in a browser (docs/domain.md, "What people see"): the
// key result a tracker link points at (PUBLIC_URL/objectives/{o}/keyResults/{k}), its
// objective, the alignment tree of a cycle, a team, and the overview at `/`, plus login,
// logout and the stylesheet. Server-rendered HTML and inline SVG (templates.h), no script.
// Every read and write goes through the core use cases; the pages only present them.
//
//   WebPages pages(core, events, tokens, sessions, clock, {.auth_enabled = true});
//   pages.RegisterRoutes(http_server);   // before http_server.Start()
//
// Access (service/okr/access.h):
//  - auth_enabled false (--auth=none): every page is open, writes included.
//  - Otherwise a visitor is a session (POST /login with an API token; cookie okr_session,
//    HttpOnly, SameSite=Lax, Secure with secure_cookies; the token's current role and name
//    are re-read on every request, so a deleted token ends its sessions), or a request from
//    a trusted proxy address (trusted_proxy) carrying `proxy_header`, who is a VIEWER named
//    by the header's value. Anyone else opening a page is redirected (303) to
//    /login?next=<the page>; after login they are sent back (same-site paths only).
//  - Every form carries a CSRF token: the session's, or for visitors without a session a
//    random one in the okr_csrf cookie (double submit). A POST without the matching token
//    gets a 403 page. A check-in needs EDITOR on the key result's team (RequireTeamWrite);
//    its author is the visitor's display name.
//
// Responses: HTML with Content-Security-Policy (no script at all, styles only from this
// origin), X-Content-Type-Options: nosniff, Cache-Control: no-store. Unknown page paths
// get an HTML 404 page; unknown paths under the API, webhook and probe prefixes keep
// the JSON error. Thread-safe: handlers hold no mutable state.
#ifndef OKR_SERVICE_WEB_WEB_PAGES_H_
#define OKR_SERVICE_WEB_WEB_PAGES_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/core/tokens_core.h"
#include "service/http/http_server.h"
#include "service/okr/access.h"
#include "service/okr/clock.h"
#include "service/okr/freshness.h"
#include "service/web/web_sessions.h"

namespace ctemplate {
class TemplateDictionary;
}

namespace okr::web {

struct WebPagesOptions {
  bool auth_enabled = true;
  bool secure_cookies = false;  // the public URL is https: cookies get Secure
  // The header an authenticating proxy sets (e.g. "X-Forwarded-Email"); empty: none.
  std::string proxy_header;
  // Whether the TCP peer address may set `proxy_header`. Null: no one.
  std::function<bool(const std::string& peer_address)> trusted_proxy;
  // How current each tracker's items are, shown on work-items key result pages. Null:
  // not shown. Must outlive the pages.
  const FreshnessSource* freshness = nullptr;
};

class WebPages {
 public:
  WebPages(core::OkrCore& core, core::EventsCore& events, core::TokensCore& tokens,
           WebSessions& sessions, const Clock& clock, WebPagesOptions options);

  // Registers the page routes and the not-found handler.
  void RegisterRoutes(http::HttpServer& server);

  // Serves one request (what the routes call; tests call it directly).
  http::HttpResponse Handle(const http::HttpRequest& request);
  // The answer for a path no route serves: HTML 404, JSON for API-like paths.
  http::HttpResponse NotFound(const http::HttpRequest& request);

 private:
  struct Visitor;
  using Fill = std::function<absl::Status(ctemplate::TemplateDictionary&)>;

  absl::StatusOr<Visitor> Identify(const http::HttpRequest& request);
  bool CsrfMatches(const Visitor& visitor, const std::map<std::string, std::string>& form) const;
  absl::Status CanWrite(const Visitor& visitor, const std::string& team_id);

  http::HttpResponse Page(int status, const std::string& title, const char* content_template,
                          const Visitor& visitor, const Fill& fill);
  http::HttpResponse ErrorPage(int status, const std::string& heading, const std::string& message,
                               const Visitor& visitor);
  http::HttpResponse StatusPage(const absl::Status& status, const Visitor& visitor);
  http::HttpResponse ToLogin(const http::HttpRequest& request);

  http::HttpResponse Home(const Visitor& v);
  http::HttpResponse KeyResultPage(const Visitor& v, const std::string& o, const std::string& k);
  http::HttpResponse ObjectivePage(const Visitor& v, const std::string& o);
  http::HttpResponse CyclePage(const Visitor& v, const std::string& c, const std::string& team);
  http::HttpResponse TeamPage(const Visitor& v, const std::string& t);
  http::HttpResponse LoginPage(const http::HttpRequest& request);
  http::HttpResponse Login(const http::HttpRequest& request);
  http::HttpResponse Logout(const http::HttpRequest& request);
  http::HttpResponse PostCheckIn(const http::HttpRequest& request, const std::string& o,
                                 const std::string& k);

  // The objective and the objectives above it, top first (at most 32 levels).
  absl::StatusOr<std::vector<Objective>> AlignmentPath(const Objective& objective);

  core::OkrCore& core_;
  core::EventsCore& events_;
  core::TokensCore& tokens_;
  WebSessions& sessions_;
  const Clock& clock_;
  const WebPagesOptions options_;
};

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_WEB_PAGES_H_
