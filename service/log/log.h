// Log: one line per event to stderr, as text or JSON lines (--log-format). Thread-safe.
// Callers never pass secrets; values that may carry credentials are redacted first.
//
//   okr::log::Info("listening", {{"grpc_address", addr}});
//   -> 2026-11-26T21:00:00.123Z INFO listening grpc_address=0.0.0.0:50051
//   -> {"time":"...","level":"INFO","msg":"listening","grpc_address":"0.0.0.0:50051"}
#ifndef OKR_SERVICE_LOG_LOG_H_
#define OKR_SERVICE_LOG_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace okr::log {

using Fields = std::vector<std::pair<std::string, std::string>>;

void SetJsonFormat(bool json);
void Info(absl::string_view message, const Fields& fields = {});
void Warn(absl::string_view message, const Fields& fields = {});
void Error(absl::string_view message, const Fields& fields = {});

}  // namespace okr::log

#endif  // OKR_SERVICE_LOG_LOG_H_
