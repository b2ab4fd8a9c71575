// WebSessions: the browser sessions of the pages (service/web). A session is created when
// someone logs in with an API token; the browser holds only a random session id in an
// HttpOnly cookie, never the token. Sessions are documents in the OKR store (kind
// "web_session", id = SHA-256 of the session id, so a database dump does not hold usable
// ids), so every replica sees a new or ended session at once. A session remembers which
// token logged in (not its secret) and its CSRF token; the pages re-check on every request
// that the token still exists, so revoking a token ends its sessions.
//
//   WebSessions sessions(store, clock);                       // 12 h lifetime
//   OKR_ASSIGN_OR_RETURN(NewWebSession s, sessions.Create(principal));
//   // cookie: okr_session=<s.id>
//   absl::StatusOr<WebSession> found = sessions.Get(cookie_value);   // NOT_FOUND: log in
//   sessions.Delete(cookie_value);                            // /logout
//
// Errors: NOT_FOUND for an unknown, malformed or expired session id (an expired one is
// removed); store errors as the store returns them. Thread-safe: no mutable state.
#ifndef OKR_SERVICE_WEB_WEB_SESSIONS_H_
#define OKR_SERVICE_WEB_WEB_SESSIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/access.h"
#include "service/okr/clock.h"
#include "service/storage/okr_store.h"

namespace okr::web {

struct WebSession {
  // The token that logged in (`apiTokens/{token_id}`); empty with `bootstrap_admin`.
  std::string token_id;
  // Logged in with the in-memory OKR_ADMIN_TOKEN secret (it has no stored token).
  bool bootstrap_admin = false;
  std::string display_name;  // as at login; the pages use the token's current one
  std::string csrf_token;    // what every form of this session carries
  absl::Time expire_time = absl::InfinitePast();
};

struct NewWebSession {
  std::string id;  // the cookie value; known only to the browser after this
  WebSession session;
};

class WebSessions {
 public:
  WebSessions(storage::OkrStore& store, const Clock& clock, absl::Duration ttl = absl::Hours(12))
      : store_(store), clock_(clock), ttl_(ttl) {}

  // How long a session lives (from login; not extended by use).
  absl::Duration ttl() const { return ttl_; }

  // A new session for `who` (also removes some expired sessions).
  absl::StatusOr<NewWebSession> Create(const Principal& who);
  absl::StatusOr<WebSession> Get(absl::string_view session_id);
  // Ends the session; OK if it did not exist.
  absl::Status Delete(absl::string_view session_id);

 private:
  storage::OkrStore& store_;
  const Clock& clock_;
  const absl::Duration ttl_;
};

}  // namespace okr::web

#endif  // OKR_SERVICE_WEB_WEB_SESSIONS_H_
