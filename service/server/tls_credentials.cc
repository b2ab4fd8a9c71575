#include "service/server/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"

namespace okr::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::Status Bad(absl::string_view flag, absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, ": ", what));
}

absl::StatusOr<std::string> ReadFile(absl::string_view flag, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Bad(flag, path, absl::StrCat("cannot read: ", std::strerror(errno)));
  std::string data;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) return Bad(flag, path, absl::StrCat("cannot read: ", std::strerror(err)));
  return data;
}

BioPtr MemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Refuses to prompt for a pass phrase (OpenSSL's default would read the terminal).
int NoPassphrase(char*, int, int, void*) { return 0; }

// The first certificate of a PEM bundle, after checking that every block of it parses.
absl::StatusOr<X509Ptr> ParseCertificates(absl::string_view flag, const std::string& path,
                                          const std::string& pem) {
  BioPtr bio = MemBio(pem);
  X509Ptr first;
  int count = 0;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (cert == nullptr) break;
    if (count++ == 0) first = std::move(cert);
  }
  // The loop ends with "no start line" at the end of the input; anything else means a
  // block that does not parse.
  const unsigned long err = ERR_peek_last_error();  // NOLINT(runtime/int): OpenSSL's type
  const bool clean_end =
      ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (count == 0) {
    return Bad(flag, path, "no PEM certificate in it (expected \"-----BEGIN CERTIFICATE-----\")");
  }
  if (!clean_end) {
    return Bad(flag, path, absl::StrCat("certificate number ", count + 1, " in it does not parse"));
  }
  return first;
}

}  // namespace

absl::StatusOr<std::optional<TlsFiles>> LoadTlsFiles(const ServerConfig& config) {
  if (config.tls_cert_file.empty()) return std::nullopt;
  TlsFiles tls;
  tls.cert_file = config.tls_cert_file;
  tls.key_file = config.tls_key_file;
  tls.client_ca_file = config.tls_client_ca_file;

  auto cert_pem = ReadFile("--tls-cert-file", tls.cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  tls.cert_chain_pem = *std::move(cert_pem);
  auto leaf = ParseCertificates("--tls-cert-file", tls.cert_file, tls.cert_chain_pem);
  if (!leaf.ok()) return leaf.status();

  if (tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert-file needs --tls-key-file");
  }
  auto key_pem = ReadFile("--tls-key-file", tls.key_file);
  if (!key_pem.ok()) return key_pem.status();
  tls.private_key_pem = *std::move(key_pem);
  BioPtr key_bio = MemBio(tls.private_key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return Bad("--tls-key-file", tls.key_file,
               "no unencrypted PEM private key in it (expected \"-----BEGIN PRIVATE KEY-----\")");
  }
  const bool matches = X509_check_private_key(leaf->get(), key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return Bad("--tls-key-file", tls.key_file,
               absl::StrCat("the key does not belong to the certificate in --tls-cert-file (",
                            tls.cert_file, ")"));
  }

  if (!tls.client_ca_file.empty()) {
    auto ca_pem = ReadFile("--tls-client-ca-file", tls.client_ca_file);
    if (!ca_pem.ok()) return ca_pem.status();
    tls.client_ca_pem = *std::move(ca_pem);
    auto ca = ParseCertificates("--tls-client-ca-file", tls.client_ca_file, tls.client_ca_pem);
    if (!ca.ok()) return ca.status();
  }
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls->client_ca_pem.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                 : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls->client_ca_pem;
  options.pem_key_cert_pairs.push_back({tls->private_key_pem, tls->cert_chain_pem});
  return grpc::SslServerCredentials(options);
}

}  // namespace okr::server
