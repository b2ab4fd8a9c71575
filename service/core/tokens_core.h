// TokensCore: the API tokens of access control (service/okr/access.h). Tokens are stored
// as documents (OkrTransaction::Document) beside the OKRs, so every replica sees a new or
// revoked token at once: a token holds its display name, role, team scope and the SHA-256
// of its secret; a second document per token maps that hash to the token, so a presented
// secret is found without scanning. The secret itself is returned once, by Create, and
// never stored or logged.
//
//   TokensCore tokens(store, clock);
//   tokens.SetBootstrapAdminSecret(getenv("OKR_ADMIN_TOKEN"));   // optional
//   absl::StatusOr<Principal> who = tokens.Authenticate(bearer_secret);
//
// Errors: INVALID_ARGUMENT naming `api_token.<field>`, NOT_FOUND `apiTokens/{id} not
// found`, ALREADY_EXISTS for a taken id, UNAUTHENTICATED for a secret that is unknown or
// revoked. Thread-safe; SetBootstrapAdminSecret must be called before concurrent use.
#ifndef OKR_SERVICE_CORE_TOKENS_CORE_H_
#define OKR_SERVICE_CORE_TOKENS_CORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/core/paging.h"
#include "service/okr/access.h"
#include "service/okr/clock.h"
#include "service/storage/okr_store.h"

namespace okr::core {

// A token just created, with the secret that is shown only now.
struct CreatedApiToken {
  ApiToken token;
  std::string secret;
};

class TokensCore {
 public:
  TokensCore(storage::OkrStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Makes `secret` an ADMIN credential that lives in memory only (OKR_ADMIN_TOKEN).
  void SetBootstrapAdminSecret(absl::string_view secret);

  // The most API tokens that may exist (default 1000; <= 0: no limit). Call before
  // concurrent use.
  void SetMaxApiTokens(int64_t max) { max_api_tokens_ = max; }

  // Creates a token (id generated if empty) after validating it and checking that every
  // team of its scope exists (INVALID_ARGUMENT naming `api_token.teams`).
  // RESOURCE_EXHAUSTED when the most API tokens exist already (service/core/limits.h).
  absl::StatusOr<CreatedApiToken> CreateApiToken(ApiToken token);
  absl::StatusOr<ApiToken> GetApiToken(const std::string& id);
  absl::StatusOr<ListResult<ApiToken>> ListApiTokens(const PageRequest& page);
  // Revokes at once: the next Authenticate with its secret is UNAUTHENTICATED.
  absl::Status DeleteApiToken(const std::string& id);

  // The principal a bearer secret stands for.
  absl::StatusOr<Principal> Authenticate(absl::string_view secret);

  // Whether the store holds any token.
  absl::StatusOr<bool> HasApiTokens();

  // For the first start of a store with no token at all: creates the ADMIN token
  // `apiTokens/admin` with the given secret (the caller has saved it where the operator
  // finds it). Returns false, creating nothing, if the store already has a token.
  absl::StatusOr<bool> CreateBootstrapTokenIfNone(const std::string& secret);

 private:
  storage::OkrStore& store_;
  const Clock& clock_;
  std::string bootstrap_admin_hash_;  // empty: none
  int64_t max_api_tokens_ = 1000;
};

}  // namespace okr::core

#endif  // OKR_SERVICE_CORE_TOKENS_CORE_H_
