#include "service/web/web_sessions.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/auth/token_secret.h"
#include "service/okr/status_macros.h"

namespace okr::web {
namespace {

using Document = storage::OkrTransaction::Document;
using json = nlohmann::json;

constexpr char kKind[] = "web_session";
// Session ids are auth::NewTokenSecret() values: "okr_" + 43 characters.
constexpr size_t kMaxIdLength = 128;
constexpr int kPrunePerCreate = 100;

absl::Status NotFound() { return absl::NotFoundError("no such session"); }

Document ToDocument(const std::string& id_hash, const WebSession& s, absl::Time now) {
  json j = {{"token_id", s.token_id},
            {"bootstrap_admin", s.bootstrap_admin},
            {"display_name", s.display_name},
            {"csrf_token", s.csrf_token},
            {"expire_unix_ms", absl::ToUnixMillis(s.expire_time)}};
  Document doc{kKind, id_hash, j.dump(), {}};
  doc.meta.revision = 1;
  doc.meta.create_time = now;
  doc.meta.update_time = now;
  return doc;
}

std::optional<WebSession> FromDocument(const Document& doc) {
  json j = json::parse(doc.payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["token_id"].is_string() || !j["csrf_token"].is_string() ||
      !j["expire_unix_ms"].is_number_integer()) {
    return std::nullopt;
  }
  WebSession s;
  s.token_id = j["token_id"].get<std::string>();
  s.bootstrap_admin = j["bootstrap_admin"].is_boolean() && j["bootstrap_admin"].get<bool>();
  if (j["display_name"].is_string()) s.display_name = j["display_name"].get<std::string>();
  s.csrf_token = j["csrf_token"].get<std::string>();
  s.expire_time = absl::FromUnixMillis(j["expire_unix_ms"].get<int64_t>());
  return s;
}

}  // namespace

absl::StatusOr<NewWebSession> WebSessions::Create(const Principal& who) {
  NewWebSession out;
  OKR_ASSIGN_OR_RETURN(out.id, auth::NewTokenSecret());
  OKR_ASSIGN_OR_RETURN(out.session.csrf_token, auth::NewTokenSecret());
  const absl::Time now = clock_.Now();
  out.session.token_id = who.token_id;
  out.session.bootstrap_admin = who.token_id.empty();
  out.session.display_name = who.display_name;
  out.session.expire_time = now + ttl_;
  const Document doc = ToDocument(auth::HashTokenSecret(out.id), out.session, now);
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    // Sessions nobody logged out of: the oldest are the likeliest expired.
    OKR_ASSIGN_OR_RETURN(storage::Page<Document> oldest,
                         tx.ListDocuments(kKind, storage::PageQuery{0, kPrunePerCreate}));
    for (const Document& d : oldest.items) {
      std::optional<WebSession> s = FromDocument(d);
      if (!s.has_value() || s->expire_time <= now) {
        absl::Status deleted = tx.DeleteDocument(kKind, d.id);
        if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
      }
    }
    return tx.InsertDocument(doc);
  }));
  return out;
}

absl::StatusOr<WebSession> WebSessions::Get(absl::string_view session_id) {
  if (session_id.empty() || session_id.size() > kMaxIdLength) return NotFound();
  const std::string hash = auth::HashTokenSecret(session_id);
  std::optional<Document> doc;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(doc, tx.GetDocument(kKind, hash));
    return absl::OkStatus();
  }));
  if (!doc.has_value()) return NotFound();
  std::optional<WebSession> s = FromDocument(*doc);
  if (!s.has_value() || s->expire_time <= clock_.Now()) {
    OKR_RETURN_IF_ERROR(Delete(session_id));
    return NotFound();
  }
  return *std::move(s);
}

absl::Status WebSessions::Delete(absl::string_view session_id) {
  if (session_id.empty() || session_id.size() > kMaxIdLength) return absl::OkStatus();
  const std::string hash = auth::HashTokenSecret(session_id);
  return store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    absl::Status deleted = tx.DeleteDocument(kKind, hash);
    return absl::IsNotFound(deleted) ? absl::OkStatus() : deleted;
  });
}

}  // namespace okr::web
