#include "service/core/tokens_core.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/auth/token_secret.h"
#include "service/core/limits.h"
#include "service/core/store_helpers.h"
#include "service/okr/names.h"
#include "service/okr/status_macros.h"

namespace okr::core {
namespace {

using Document = storage::OkrTransaction::Document;
using json = nlohmann::json;

constexpr char kToken[] = "api_token";
constexpr char kTokenHash[] = "api_token_hash";
constexpr char kBootstrapId[] = "admin";

std::string TokenName(const std::string& id) { return absl::StrCat("apiTokens/", id); }

// ---- Payload codec ----

Document TokenDoc(const ApiToken& t) {
  json teams = json::array();
  for (const std::string& team : t.team_ids) teams.push_back(team);
  json j = {{"display_name", t.display_name},
            {"role", static_cast<int>(t.role)},
            {"teams", teams},
            {"secret_hash", t.secret_hash}};
  return Document{kToken, t.id, j.dump(), t.meta};
}

absl::StatusOr<ApiToken> TokenFromDoc(const Document& d) {
  json j = json::parse(d.payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["display_name"].is_string() || !j["role"].is_number_integer() ||
      !j["secret_hash"].is_string()) {
    return absl::InternalError(absl::StrCat(TokenName(d.id), ": stored token is corrupt"));
  }
  ApiToken t;
  t.id = d.id;
  t.meta = d.meta;
  t.display_name = j["display_name"].get<std::string>();
  t.role = static_cast<Role>(j["role"].get<int>());
  t.secret_hash = j["secret_hash"].get<std::string>();
  if (j["teams"].is_array()) {
    for (const json& team : j["teams"]) {
      if (team.is_string()) t.team_ids.push_back(team.get<std::string>());
    }
  }
  return t;
}

Principal PrincipalOf(const ApiToken& t) {
  return Principal{t.id, t.display_name, t.role, t.team_ids};
}

ApiToken WithoutHash(ApiToken t) {
  t.secret_hash.clear();
  return t;
}

absl::Status Unauthenticated() {
  return absl::UnauthenticatedError("unknown or revoked API token");
}

// Inserts the token and its hash index row.
absl::Status InsertToken(storage::OkrTransaction& tx, const ApiToken& token, absl::Time now) {
  Document doc = TokenDoc(token);
  internal::NewMeta(doc.meta, now);
  absl::Status inserted = tx.InsertDocument(doc);
  if (absl::IsAlreadyExists(inserted)) {
    return absl::AlreadyExistsError(absl::StrCat(TokenName(token.id), " already exists"));
  }
  OKR_RETURN_IF_ERROR(inserted);
  Document index{kTokenHash, token.secret_hash, json{{"token", token.id}}.dump(), {}};
  internal::NewMeta(index.meta, now);
  return tx.InsertDocument(index);
}

}  // namespace

void TokensCore::SetBootstrapAdminSecret(absl::string_view secret) {
  bootstrap_admin_hash_ = secret.empty() ? std::string() : auth::HashTokenSecret(secret);
}

absl::StatusOr<CreatedApiToken> TokensCore::CreateApiToken(ApiToken token) {
  if (token.id.empty()) token.id = names::GenerateId();
  OKR_RETURN_IF_ERROR(names::ValidateId(token.id, "api_token_id"));
  OKR_RETURN_IF_ERROR(ValidateApiToken(token));
  OKR_ASSIGN_OR_RETURN(std::string secret, auth::NewTokenSecret());
  token.secret_hash = auth::HashTokenSecret(secret);
  const absl::Time now = clock_.Now();
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    for (const std::string& team : token.team_ids) {
      OKR_RETURN_IF_ERROR(internal::ReferenceError(tx.GetTeam(team).status(), "api_token.teams",
                                                   names::Team(team)));
    }
    OKR_RETURN_IF_ERROR(CheckCountLimit(
        tx, kToken,
        {max_api_tokens_, "API tokens", "--max-api-tokens", "API_TOKEN_LIMIT_REACHED"}));
    return InsertToken(tx, token, now);
  }));
  internal::NewMeta(token.meta, now);
  return CreatedApiToken{WithoutHash(std::move(token)), std::move(secret)};
}

absl::StatusOr<ApiToken> TokensCore::GetApiToken(const std::string& id) {
  ApiToken token;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kToken, id));
    if (!doc.has_value()) return absl::NotFoundError(absl::StrCat(TokenName(id), " not found"));
    OKR_ASSIGN_OR_RETURN(token, TokenFromDoc(*doc));
    return absl::OkStatus();
  }));
  return WithoutHash(std::move(token));
}

absl::StatusOr<ListResult<ApiToken>> TokensCore::ListApiTokens(const PageRequest& page) {
  OKR_ASSIGN_OR_RETURN(storage::PageQuery q, internal::ToPageQuery(page));
  ListResult<ApiToken> result;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(storage::Page<Document> docs, tx.ListDocuments(kToken, q));
    result = ListResult<ApiToken>{};
    for (const Document& d : docs.items) {
      OKR_ASSIGN_OR_RETURN(ApiToken t, TokenFromDoc(d));
      result.items.push_back(WithoutHash(std::move(t)));
    }
    if (docs.has_more && !docs.items.empty()) {
      result.next_page_token = internal::NextPageToken(docs.items.back().meta.seq);
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::Status TokensCore::DeleteApiToken(const std::string& id) {
  return store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(std::optional<Document> doc, tx.GetDocument(kToken, id));
    if (!doc.has_value()) return absl::NotFoundError(absl::StrCat(TokenName(id), " not found"));
    OKR_ASSIGN_OR_RETURN(ApiToken token, TokenFromDoc(*doc));
    OKR_RETURN_IF_ERROR(tx.DeleteDocument(kToken, id));
    absl::Status index = tx.DeleteDocument(kTokenHash, token.secret_hash);
    return absl::IsNotFound(index) ? absl::OkStatus() : index;
  });
}

absl::StatusOr<Principal> TokensCore::Authenticate(absl::string_view secret) {
  if (secret.empty()) return Unauthenticated();
  const std::string hash = auth::HashTokenSecret(secret);
  if (!bootstrap_admin_hash_.empty() && auth::TokenHashesEqual(hash, bootstrap_admin_hash_)) {
    return Principal{"", "admin", Role::kAdmin, {}};
  }
  std::optional<Principal> principal;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    principal.reset();
    OKR_ASSIGN_OR_RETURN(std::optional<Document> index, tx.GetDocument(kTokenHash, hash));
    if (!index.has_value()) return absl::OkStatus();
    json j = json::parse(index->payload, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j["token"].is_string()) return absl::OkStatus();
    OKR_ASSIGN_OR_RETURN(std::optional<Document> doc,
                         tx.GetDocument(kToken, j["token"].get<std::string>()));
    if (!doc.has_value()) return absl::OkStatus();
    OKR_ASSIGN_OR_RETURN(ApiToken token, TokenFromDoc(*doc));
    if (auth::TokenHashesEqual(token.secret_hash, hash)) principal = PrincipalOf(token);
    return absl::OkStatus();
  }));
  if (!principal.has_value()) return Unauthenticated();
  return *std::move(principal);
}

absl::StatusOr<bool> TokensCore::HasApiTokens() {
  bool any = false;
  OKR_RETURN_IF_ERROR(store_.RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
    OKR_ASSIGN_OR_RETURN(storage::Page<Document> existing,
                         tx.ListDocuments(kToken, storage::PageQuery{0, 1}));
    any = !existing.items.empty();
    return absl::OkStatus();
  }));
  return any;
}

absl::StatusOr<bool> TokensCore::CreateBootstrapTokenIfNone(const std::string& secret) {
  ApiToken token;
  token.id = kBootstrapId;
  token.display_name = "admin";
  token.role = Role::kAdmin;
  token.secret_hash = auth::HashTokenSecret(secret);
  const absl::Time now = clock_.Now();
  bool created = false;
  OKR_RETURN_IF_ERROR(store_.RunInTransaction([&](storage::OkrTransaction& tx) -> absl::Status {
    created = false;
    OKR_ASSIGN_OR_RETURN(storage::Page<Document> existing,
                         tx.ListDocuments(kToken, storage::PageQuery{0, 1}));
    if (!existing.items.empty()) return absl::OkStatus();
    OKR_RETURN_IF_ERROR(InsertToken(tx, token, now));
    created = true;
    return absl::OkStatus();
  }));
  return created;
}

}  // namespace okr::core
