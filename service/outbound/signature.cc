#include "service/outbound/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <climits>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace okr::outbound {

std::string HmacSha256Hex(absl::string_view key, absl::string_view data) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  static constexpr unsigned char kEmpty[1] = {0};
  const void* key_data = key.empty() ? static_cast<const void*>(kEmpty) : key.data();
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &length) == nullptr) {
    return "";
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[32] = {};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1 ||
      size != sizeof(digest)) {
    std::fill(std::begin(digest), std::end(digest), 0);
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string SignatureHeaderValue(absl::string_view key, absl::string_view body) {
  return absl::StrCat("sha256=", HmacSha256Hex(key, body));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace okr::outbound
