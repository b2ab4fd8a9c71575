#include "service/server/config.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace okr::server {
namespace {

struct Setting {
  const char* flag;
  const char* env;
  const char* help;
  std::string ServerConfig::*field;
  std::vector<std::string> allowed;  // empty: any value
};

const std::vector<Setting>& Settings() {
  static const auto* settings = new std::vector<Setting>{
      {"grpc-address", "OKR_GRPC_ADDRESS", "host:port the gRPC API listens on",
       &ServerConfig::grpc_address, {}},
      {"http-address", "OKR_HTTP_ADDRESS",
       "host:port of the HTTP listener (/healthz, /readyz, webhooks, /metrics)",
       &ServerConfig::http_address, {}},
      {"database", "OKR_DATABASE",
       "database URL: sqlite:PATH (embedded default) or postgresql://user:pass@host:port/db",
       &ServerConfig::database, {}},
      {"sqlite-sync", "OKR_SQLITE_SYNC",
       "SQLite durability: full (fsync each commit, survives power loss) or normal "
       "(survives process crashes)",
       &ServerConfig::sqlite_sync, {"full", "normal"}},
      {"log-format", "OKR_LOG_FORMAT", "log line format: text or json",
       &ServerConfig::log_format, {"text", "json"}},
  };
  return *settings;
}

absl::Status Assign(ServerConfig& config, const Setting& s, absl::string_view value,
                    absl::string_view source) {
  if (!s.allowed.empty()) {
    bool ok = false;
    for (const std::string& a : s.allowed) ok = ok || a == value;
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": invalid value \"", value,
                                                     "\" for --", s.flag, " (allowed: ",
                                                     absl::StrJoin(s.allowed, ", "), ")"));
    }
  }
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": --", s.flag, " must not be empty"));
  }
  config.*(s.field) = std::string(value);
  return absl::OkStatus();
}

std::string RedactDatabase(const std::string& url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return absl::StrCat(url.substr(0, colon + 1), "***", url.substr(at));
}

}  // namespace

std::vector<std::string> ServerConfig::DescribeForLog() const {
  std::vector<std::string> lines;
  for (const Setting& s : Settings()) {
    std::string value = this->*(s.field);
    if (s.field == &ServerConfig::database) value = RedactDatabase(value);
    lines.push_back(absl::StrCat("setting ", s.flag, "=", value));
  }
  return lines;
}

absl::StatusOr<ServerConfig> ParseConfig(int argc, const char* const* argv, const GetEnv& env) {
  ServerConfig config;
  std::map<std::string, const Setting*> by_flag;
  for (const Setting& s : Settings()) {
    by_flag[s.flag] = &s;
    const char* value = env(s.env);
    if (value != nullptr && *value != '\0') {
      if (auto st = Assign(config, s, value, s.env); !st.ok()) return st;
    }
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") {
      config.show_help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\" (see --help)"));
    }
    arg.remove_prefix(2);
    std::string name(arg);
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    }
    auto it = by_flag.find(name);
    if (it == by_flag.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
      value = argv[++i];
    }
    if (auto st = Assign(config, *it->second, value, "command line"); !st.ok()) return st;
  }
  return config;
}

std::string HelpText() {
  std::string out =
      "okr-server: the okr-service OKR engine (gRPC API, tracker webhooks, metrics).\n\n"
      "Usage: okr-server [--flag=value ...]\n\n"
      "Every setting can also be given as an environment variable; a flag wins over the\n"
      "environment, which wins over the default.\n\n";
  const ServerConfig defaults;
  for (const Setting& s : Settings()) {
    absl::StrAppendFormat(&out, "  --%s (env %s, default \"%s\")\n      %s\n", s.flag, s.env,
                          defaults.*(s.field), s.help);
  }
  absl::StrAppend(&out, "  --help\n      print this text and exit\n");
  return out;
}

}  // namespace okr::server
