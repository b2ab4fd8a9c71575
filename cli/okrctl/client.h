// The connection okrctl talks through: one channel to --address (TLS with --tls-ca-file,
// else plaintext), the OkrService stub, and a ClientContext per call carrying
// `authorization: Bearer <token>` when a token is set.
#ifndef OKR_CLI_OKRCTL_CLIENT_H_
#define OKR_CLI_OKRCTL_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "okr/v1/okr_service.grpc.pb.h"

namespace okr::cli {

struct ConnectionOptions {
  std::string address = "localhost:50051";
  std::string token;
  std::string tls_ca_file;    // empty: plaintext
  std::string tls_cert_file;  // client certificate for mTLS (with tls_key_file)
  std::string tls_key_file;
};

class Connection {
 public:
  // INVALID_ARGUMENT if a TLS file cannot be read. Does not connect yet.
  static absl::StatusOr<std::unique_ptr<Connection>> Create(const ConnectionOptions& options);

  v1::OkrService::Stub& stub() { return *stub_; }
  // A context for one unary call (30 s deadline) or one stream (no deadline).
  std::unique_ptr<grpc::ClientContext> NewContext(bool stream = false) const;

 private:
  Connection(std::string token, std::shared_ptr<grpc::Channel> channel);
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::OkrService::Stub> stub_;
};

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND, etc.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace okr::cli

#endif  // OKR_CLI_OKRCTL_CLIENT_H_
