// TokenSecret: the cryptography of API tokens and how they are presented. Secrets are 32 random
// bytes from OpenSSL's CSPRNG, written as "okr_" + 43 base64url characters; the service stores only
// their SHA-256 and compares hashes in constant time. Thread-safe, no state.
//
//   std::string secret = NewTokenSecret();          // shown once, to the creator
//   std::string stored = HashTokenSecret(secret);   // kept
//   if (TokenHashesEqual(stored, HashTokenSecret(presented))) ...
#ifndef OKR_SERVICE_AUTH_TOKEN_SECRET_H_
#define OKR_SERVICE_AUTH_TOKEN_SECRET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace okr::auth {

// Bytes of randomness in a secret.
inline constexpr int kTokenSecretBytes = 32;

// A new secret. INTERNAL only if the CSPRNG fails (it is never replaced by a weaker one).
absl::StatusOr<std::string> NewTokenSecret();

// Lowercase hex SHA-256 of the secret.
std::string HashTokenSecret(absl::string_view secret);

// Equality in time independent of where the strings differ (lengths are not secret).
bool TokenHashesEqual(absl::string_view a, absl::string_view b);

// The secret of an `authorization: Bearer <secret>` value (gRPC metadata or an HTTP
// header; the scheme is case-insensitive). UNAUTHENTICATED for another scheme or an empty
// or over-long secret.
absl::StatusOr<std::string> BearerSecretFromHeader(absl::string_view value);

}  // namespace okr::auth

#endif  // OKR_SERVICE_AUTH_TOKEN_SECRET_H_
