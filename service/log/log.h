// Log: one line per event to stderr, as text or JSON lines (--log-format). Thread-safe.
// Callers never pass secrets; values that may carry credentials are redacted first.
//
//   okr::log::Info("listening", {{"grpc_address", addr}});
//   -> 2026-11-26T21:00:00.123Z INFO listening grpc_address=0.0.0.0:50051
//   -> {"time":"...","level":"INFO","msg":"listening","grpc_address":"0.0.0.0:50051"}
//
// Request ids: the edges (gRPC service, HTTP listener) open a ScopedRequestId for each
// call they handle; every line logged on that thread while it is open carries
// `request_id` (a JSON field, or ` request_id=...` in text):
//
//   log::ScopedRequestId scope(log::AcceptOrNewRequestId(incoming_x_request_id));
//   log::Info("webhook applied");   // ... request_id=4f1c...
#ifndef OKR_SERVICE_LOG_LOG_H_
#define OKR_SERVICE_LOG_LOG_H_

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace okr::log {

using Fields = std::vector<std::pair<std::string, std::string>>;

void SetJsonFormat(bool json);
// Where lines are written (default stderr; tests capture into a temporary file).
void SetOutput(std::FILE* out);
void Info(absl::string_view message, const Fields& fields = {});
void Warn(absl::string_view message, const Fields& fields = {});
void Error(absl::string_view message, const Fields& fields = {});

// Longest request id accepted from a caller.
inline constexpr size_t kMaxRequestIdBytes = 128;

// A new random request id: 32 lower-case hex digits.
std::string NewRequestId();
// The caller's request id (an x-request-id header / metadata value) if it is 1 to
// kMaxRequestIdBytes printable ASCII characters without spaces; otherwise (absent, too
// long, control or non-ASCII bytes) a new one, so logs and responses never carry
// caller-controlled junk.
std::string AcceptOrNewRequestId(absl::string_view incoming);

// Sets the current thread's request id for its lifetime and restores the previous one
// (scopes nest). Not copyable; create and destroy on the same thread.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// The current thread's request id, "" outside any ScopedRequestId.
const std::string& CurrentRequestId();

}  // namespace okr::log

#endif  // OKR_SERVICE_LOG_LOG_H_
