// TLS material of okr-server: the PEM files named by --tls-cert-file, --tls-key-file and
// --tls-client-ca-file, read and checked once at startup, so that a bad file stops the
// server with one line naming its flag instead of failing every handshake later.
//
//   OKR_ASSIGN_OR_RETURN(std::optional<TlsFiles> tls, LoadTlsFiles(config));
//   builder.AddListeningPort(address, GrpcServerCredentials(tls), &port);
//   if (tls) { http_options.tls_cert_file = tls->cert_file; ... }
//
// Without --tls-cert-file, TLS is off: LoadTlsFiles returns nullopt and
// GrpcServerCredentials plaintext credentials. With it, gRPC speaks TLS only; with
// --tls-client-ca-file as well, every gRPC client must present a certificate that chains
// to that CA (mTLS). Certificates are read only here: a renewed certificate takes a
// restart (Kubernetes: a rollout).
//
// Checks, each an INVALID_ARGUMENT "--<flag>: <path>: <what is wrong>": the file is
// readable; the certificate file holds one or more PEM certificates; the key file an
// unencrypted PEM private key that belongs to the first certificate; the CA file one or
// more PEM certificates. (Pairing of the flags is ParseConfig's job.) Pure functions,
// thread-safe.
#ifndef OKR_SERVICE_SERVER_TLS_CREDENTIALS_H_
#define OKR_SERVICE_SERVER_TLS_CREDENTIALS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "service/server/config.h"

namespace okr::server {

struct TlsFiles {
  std::string cert_file;       // --tls-cert-file
  std::string key_file;        // --tls-key-file
  std::string client_ca_file;  // --tls-client-ca-file; empty: no client certificates
  std::string cert_chain_pem;  // contents of cert_file
  std::string private_key_pem;
  std::string client_ca_pem;  // empty when client_ca_file is
};

// nullopt when TLS is off (no --tls-cert-file), else the checked files.
absl::StatusOr<std::optional<TlsFiles>> LoadTlsFiles(const ServerConfig& config);

// Plaintext credentials for nullopt; otherwise TLS with the certificate chain and key, and
// with a client CA, client certificates required and verified against it.
std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const std::optional<TlsFiles>& tls);

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_TLS_CREDENTIALS_H_
