// Server configuration: every setting of okr-server, each a `--lower-case-flag` with an
// OKR_* environment variable fallback (flag wins over environment wins over default).
// Secrets are read from the environment only (or an OKR_*_FILE file) and never printed.
//
//   absl::StatusOr<ServerConfig> config = ParseConfig(argc, argv, std::getenv);
//   if (!config.ok()) { print the one-line error; exit(2); }
//   for (const std::string& line : config->DescribeForLog()) log(line);
#ifndef OKR_SERVICE_SERVER_CONFIG_H_
#define OKR_SERVICE_SERVER_CONFIG_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace okr::server {

struct ServerConfig {
  std::string grpc_address = "0.0.0.0:50051";
  std::string http_address = "0.0.0.0:8080";
  std::string database = "sqlite:okr.db";
  std::string sqlite_sync = "full";  // full | normal
  std::string log_format = "text";   // text | json
  bool show_help = false;

  // One "setting=value" line per setting, secrets redacted.
  std::vector<std::string> DescribeForLog() const;
};

using GetEnv = std::function<const char*(const char*)>;

// Parses argv (`--name=value` or `--name value`; `--help`). INVALID_ARGUMENT with one
// clear line for an unknown flag, a missing value or an invalid value.
absl::StatusOr<ServerConfig> ParseConfig(int argc, const char* const* argv, const GetEnv& env);

// The --help text: every setting with its flag, environment variable, default and meaning.
std::string HelpText();

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_CONFIG_H_
