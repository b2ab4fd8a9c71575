// Signature: HMAC-SHA256 signing of HTTP bodies as webhooks use it ("sha256=<hex>"), and a
// constant-time comparison for verifying shared secrets. One implementation for every
// sender and receiver of signed webhooks (Jira's X-Hub-Signature, the service's own
// X-OKR-Signature on outbound deliveries), and plain SHA-256 hex digests (webhook
// idempotency keys, shortened labels).
#ifndef OKR_CONNECTORS_HTTP_SIGNATURE_H_
#define OKR_CONNECTORS_HTTP_SIGNATURE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace okr::outbound {

// Lowercase hex of HMAC-SHA256(key, data); empty only if OpenSSL fails (out of memory).
std::string HmacSha256Hex(absl::string_view key, absl::string_view data);

// Lowercase hex of SHA-256(data) (64 digits; all zeros only if OpenSSL fails).
std::string Sha256Hex(absl::string_view data);

// "sha256=" + HmacSha256Hex(key, body).
std::string SignatureHeaderValue(absl::string_view key, absl::string_view body);

// Equality of two strings in time independent of where they differ (the lengths are not
// secret).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_SIGNATURE_H_
