#include "service/server/config.h"

#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/server/connector_registry.h"

namespace okr::server {
namespace {

struct Setting {
  std::string flag;
  std::string env;
  std::string help;
  std::string ServerConfig::*field;  // a server setting; nullptr: a tracker's (below)
  std::vector<std::string> allowed;  // empty: any value
  bool secret = false;               // environment / *_FILE only; never logged
  // A tracker's setting (field == nullptr): config.tracker_settings[tracker][flag].
  Tracker tracker{};
  std::string default_value{};
};

std::string& Value(ServerConfig& config, const Setting& s) {
  if (s.field != nullptr) return config.*(s.field);
  return config.tracker_settings[s.tracker][s.flag];
}

std::string Value(const ServerConfig& config, const Setting& s) {
  if (s.field != nullptr) return config.*(s.field);
  return config.setting(s.tracker, s.flag);
}

std::string Default(const Setting& s) {
  static const ServerConfig defaults;
  return s.field != nullptr ? defaults.*(s.field) : s.default_value;
}

// The server's settings, then every tracker's (connector_registry.cc), in registry order.
const std::vector<Setting>& Settings() {
  static const std::vector<Setting>* settings = [] {
    auto* all = new std::vector<Setting>{
        {"grpc-address",
         "OKR_GRPC_ADDRESS",
         "host:port the gRPC API listens on",
         &ServerConfig::grpc_address,
         {}},
        {"http-address",
         "OKR_HTTP_ADDRESS",
         "host:port of the HTTP listener (/healthz, /readyz, webhooks, /metrics)",
         &ServerConfig::http_address,
         {}},
        {"http-header-timeout",
         "OKR_HTTP_HEADER_TIMEOUT",
         "an HTTP request's line and headers must arrive within this after the connection "
         "(or its first byte on a kept-alive connection); slower senders are disconnected",
         &ServerConfig::http_header_timeout,
         {}},
        {"http-body-timeout",
         "OKR_HTTP_BODY_TIMEOUT",
         "an HTTP request's body must arrive within this after its headers",
         &ServerConfig::http_body_timeout,
         {}},
        {"http-idle-timeout",
         "OKR_HTTP_IDLE_TIMEOUT",
         "a kept-alive HTTP connection with no request for this long is closed",
         &ServerConfig::http_idle_timeout,
         {}},
        {"http-max-connections",
         "OKR_HTTP_MAX_CONNECTIONS",
         "open HTTP connections beyond this many are closed as they arrive (1..1000000)",
         &ServerConfig::http_max_connections,
         {}},
        {"database",
         "OKR_DATABASE",
         "database URL: sqlite:PATH (embedded default) or postgresql://user:pass@host:port/db",
         &ServerConfig::database,
         {}},
        {"sqlite-sync",
         "OKR_SQLITE_SYNC",
         "SQLite durability: full (fsync each commit, survives power loss) or normal "
         "(survives process crashes)",
         &ServerConfig::sqlite_sync,
         {"full", "normal"}},
        {"sqlite-max-size-mb",
         "OKR_SQLITE_MAX_SIZE_MB",
         "largest size of the SQLite database file in MiB (0: no limit); a write beyond it "
         "fails UNAVAILABLE (database is full) and /readyz fails, as on a full disk",
         &ServerConfig::sqlite_max_size_mb,
         {}},
        {"database-pool-size",
         "OKR_DATABASE_POOL_SIZE",
         "connections to PostgreSQL per replica",
         &ServerConfig::database_pool_size,
         {}},
        {"log-format",
         "OKR_LOG_FORMAT",
         "log line format: text or json",
         &ServerConfig::log_format,
         {"text", "json"}},
        {"public-url",
         "OKR_PUBLIC_URL",
         "base URL of this service as people reach it; links written into tracker issues "
         "point to PUBLIC_URL/objectives/{o}/keyResults/{k}",
         &ServerConfig::public_url,
         {}},
        {"reconcile-interval",
         "OKR_RECONCILE_INTERVAL",
         "how often linked tracker items and scopes are reconciled (a duration: 5m, 30s)",
         &ServerConfig::reconcile_interval,
         {}},
        {"writeback-interval",
         "OKR_WRITEBACK_INTERVAL",
         "how often pending tracker write-backs (links, notes) are flushed",
         &ServerConfig::writeback_interval,
         {}},
        {"rule-interval",
         "OKR_RULE_INTERVAL",
         "how often rules are evaluated besides after changes (pace conditions move with time)",
         &ServerConfig::rule_interval,
         {}},
        {"delivery-initial-backoff",
         "OKR_DELIVERY_INITIAL_BACKOFF",
         "first retry delay of a failed webhook subscription delivery (doubles, with jitter)",
         &ServerConfig::delivery_initial_backoff,
         {}},
        {"delivery-max-backoff",
         "OKR_DELIVERY_MAX_BACKOFF",
         "longest retry delay of a failed webhook subscription delivery",
         &ServerConfig::delivery_max_backoff,
         {}},
        {"delivery-give-up-after",
         "OKR_DELIVERY_GIVE_UP_AFTER",
         "a subscription whose event is undelivered this long after its first failure turns "
         "FAILING (retries continue at the longest backoff)",
         &ServerConfig::delivery_give_up_after,
         {}},
        {"config",
         "OKR_CONFIG",
         "connector configuration file (JSON): several sites per tracker, per-project done "
         "mapping; see \"Configuration file\" below",
         &ServerConfig::config_file,
         {}},
        {"auth",
         "OKR_AUTH",
         "access control: tokens (every RPC needs an API token, \"authorization: Bearer "
         "<secret>\") or none (anyone who reaches the port may do anything)",
         &ServerConfig::auth,
         {"tokens", "none"}},
        {"admin-token",
         "OKR_ADMIN_TOKEN",
         "secret of a bootstrap ADMIN token (secret); without it (and with --auth=tokens) the "
         "first start on an empty SQLite store writes a new one to <database file>.admin-token",
         &ServerConfig::admin_token,
         {},
         true},
        {"auth-proxy-header",
         "OKR_AUTH_PROXY_HEADER",
         "pages: a header set by an authenticating proxy (e.g. X-Forwarded-Email); a request "
         "from --auth-proxy-cidrs carrying it is a VIEWER named by its value",
         &ServerConfig::auth_proxy_header,
         {}},
        {"auth-proxy-cidrs",
         "OKR_AUTH_PROXY_CIDRS",
         "comma-separated CIDRs of the proxies trusted to set --auth-proxy-header",
         &ServerConfig::auth_proxy_cidrs,
         {}},
        {"tls-cert-file",
         "OKR_TLS_CERT_FILE",
         "PEM certificate chain: gRPC and the HTTP listener then speak TLS only",
         &ServerConfig::tls_cert_file,
         {}},
        {"tls-key-file",
         "OKR_TLS_KEY_FILE",
         "PEM private key of --tls-cert-file",
         &ServerConfig::tls_key_file,
         {}},
        {"tls-client-ca-file",
         "OKR_TLS_CLIENT_CA_FILE",
         "PEM CA bundle: gRPC clients must present a certificate signed by it (mTLS)",
         &ServerConfig::tls_client_ca_file,
         {}},
        {"outbound-allow-cidrs",
         "OKR_OUTBOUND_ALLOW_CIDRS",
         "comma-separated CIDRs that subscription deliveries may reach although they are "
         "loopback, private, link-local, CGNAT, unspecified or multicast (default: none)",
         &ServerConfig::outbound_allow_cidrs,
         {}},
        {"rule-max-issues-per-day",
         "OKR_RULE_MAX_ISSUES_PER_DAY",
         "most issues one OPEN_ISSUE rule may open in 24 hours",
         &ServerConfig::rule_max_issues_per_day,
         {}},
        {"event-retention",
         "OKR_EVENT_RETENTION",
         "how long events (history, WatchEvents replay, subscription outbox) are kept; an "
         "event every subscription has not delivered yet is kept longer (a duration: 90d, "
         "12h)",
         &ServerConfig::event_retention,
         {}},
        {"webhook-dedupe-retention",
         "OKR_WEBHOOK_DEDUPE_RETENTION",
         "how long tracker webhook delivery ids are remembered to drop redeliveries; keep it "
         "above the trackers' redelivery windows (Jira about 72h, GitLab 2 days)",
         &ServerConfig::webhook_dedupe_retention,
         {}},
        {"request-id-retention",
         "OKR_REQUEST_ID_RETENTION",
         "how long a create's request_id is remembered (a retry within it returns the first "
         "result; after it, the request creates again)",
         &ServerConfig::request_id_retention,
         {}},
        {"max-subscriptions",
         "OKR_MAX_SUBSCRIPTIONS",
         "most webhook subscriptions that may exist (0: no limit)",
         &ServerConfig::max_subscriptions,
         {}},
        {"max-rules",
         "OKR_MAX_RULES",
         "most rules that may exist (0: no limit)",
         &ServerConfig::max_rules,
         {}},
        {"max-api-tokens",
         "OKR_MAX_API_TOKENS",
         "most API tokens that may exist (0: no limit)",
         &ServerConfig::max_api_tokens,
         {}},
    };
    for (const ConnectorRegistration& entry : ConnectorRegistry()) {
      for (const sync::ConnectorSetting& c : entry.config->settings()) {
        all->push_back(
            {c.flag, c.env, c.help, nullptr, c.allowed, c.secret, entry.tracker, c.default_value});
      }
    }
    return all;
  }();
  return *settings;
}

absl::Status Assign(ServerConfig& config, const Setting& s, absl::string_view value,
                    absl::string_view source) {
  if (!s.allowed.empty()) {
    bool ok = false;
    for (const std::string& a : s.allowed) ok = ok || a == value;
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": invalid value \"", value, "\" for --", s.flag,
                       " (allowed: ", absl::StrJoin(s.allowed, ", "), ")"));
    }
  }
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": --", s.flag, " must not be empty"));
  }
  Value(config, s) = std::string(value);
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ParseDurationSetting(const std::string& text,
                                                    absl::string_view flag) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", text, "\" is not a positive duration like 5m or 3s"));
  }
  return d;
}

// A retention: a positive duration like ParseDurationSetting's, or whole days ("90d").
absl::StatusOr<absl::Duration> ParseRetentionSetting(const std::string& text,
                                                     absl::string_view flag) {
  int64_t days = 0;
  if (absl::EndsWith(text, "d") &&
      absl::SimpleAtoi(absl::string_view(text).substr(0, text.size() - 1), &days)) {
    if (days > 0 && days <= 36500) return absl::Hours(24 * days);
  } else {
    absl::Duration d;
    if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration()) return d;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": \"", text, "\" is not a positive duration like 90d, 12h or 30m"));
}

// A count limit: a number in 0..1000000 (0: no limit).
absl::StatusOr<int64_t> ParseLimitSetting(const std::string& text, absl::string_view flag) {
  int64_t n = 0;
  if (!absl::SimpleAtoi(text, &n) || n < 0 || n > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": \"", text, "\" is not a number in 0..1000000"));
  }
  return n;
}

bool IsHelpFlag(absl::string_view arg) {
  return arg == "--help" || arg == "-h" || arg == "--helpfull";
}

// The --config file named on the command line (last wins) or by OKR_CONFIG; "" if none.
std::string ConfigFilePath(int argc, const char* const* argv, const GetEnv& env) {
  std::string path;
  if (const char* value = env("OKR_CONFIG"); value != nullptr) path = value;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::StartsWith(arg, "--config=")) {
      path = std::string(arg.substr(std::string("--config=").size()));
    } else if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    }
  }
  return path;
}

const sync::ConfiguredSites* Section(const ConnectorsFile& file, Tracker tracker) {
  auto it = file.sections.find(tracker);
  return it == file.sections.end() ? nullptr : it->second.get();
}

// Each tracker's built-in defaults, under the file's "default" entries, under the
// environment and the flags.
void ApplyDefaults(const ConnectorsFile& file, ServerConfig& config) {
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    sync::SettingValues& values = config.tracker_settings[entry.tracker];
    for (const sync::ConnectorSetting& s : entry.config->settings()) {
      values[s.flag] = s.default_value;
    }
    entry.config->ApplyFileDefault(Section(file, entry.tracker), values);
  }
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

const std::string& ServerConfig::setting(Tracker tracker, absl::string_view flag) const {
  static const std::string kEmpty;
  auto it = tracker_settings.find(tracker);
  return it == tracker_settings.end() ? kEmpty : sync::SettingValue(it->second, flag);
}

std::vector<std::string> ServerConfig::DescribeForLog() const {
  std::vector<std::string> lines;
  for (const Setting& s : Settings()) {
    std::string value = Value(*this, s);
    if (s.field == &ServerConfig::database) value = RedactDatabase(value);
    if (s.secret) value = value.empty() ? "(not set)" : "(set)";
    lines.push_back(absl::StrCat("setting ", s.flag, "=", value));
  }
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    auto it = tracker_sites.find(entry.tracker);
    if (it == tracker_sites.end()) continue;
    for (std::string& line : entry.config->DescribeForLog(*it->second)) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

absl::StatusOr<ServerConfig> ParseConfig(int argc, const char* const* argv, const GetEnv& env) {
  ServerConfig config;
  bool help = false;
  for (int i = 1; i < argc; ++i) help = help || IsHelpFlag(argv[i]);
  ConnectorsFile file;
  if (const std::string path = ConfigFilePath(argc, argv, env); !path.empty() && !help) {
    absl::StatusOr<ConnectorsFile> loaded = LoadConnectorsFile(path, env);
    if (!loaded.ok()) return loaded.status();
    file = *std::move(loaded);
  }
  ApplyDefaults(file, config);
  std::map<std::string, const Setting*> by_flag;
  for (const Setting& s : Settings()) {
    by_flag[s.flag] = &s;
    const char* value = env(s.env.c_str());
    if (value != nullptr && *value != '\0') {
      if (auto st = Assign(config, s, value, s.env); !st.ok()) return st;
      continue;
    }
    if (!s.secret) continue;
    const std::string file_var = absl::StrCat(s.env, "_FILE");
    const char* path = env(file_var.c_str());
    if (path == nullptr || *path == '\0') continue;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_var, ": cannot read the file \"", path, "\""));
    }
    std::stringstream content;
    content << in.rdbuf();
    std::string secret = content.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (auto st = Assign(config, s, secret, file_var); !st.ok()) return st;
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (IsHelpFlag(arg)) {
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
    if (it->second->secret) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " is a secret: set ", it->second->env, " or ", it->second->env,
                       "_FILE instead of a flag (flags show up in process lists)"));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
      value = argv[++i];
    }
    if (auto st = Assign(config, *it->second, value, "command line"); !st.ok()) return st;
  }
  if (auto d = ParseDurationSetting(config.reconcile_interval, "reconcile-interval"); !d.ok()) {
    return d.status();
  } else {
    config.reconcile_every = *d;
  }
  if (auto d = ParseDurationSetting(config.writeback_interval, "writeback-interval"); !d.ok()) {
    return d.status();
  } else {
    config.writeback_every = *d;
  }
  for (auto [text, flag, out] :
       {std::tuple(&config.rule_interval, "rule-interval", &config.rule_every),
        std::tuple(&config.delivery_initial_backoff, "delivery-initial-backoff",
                   &config.delivery_initial_backoff_d),
        std::tuple(&config.delivery_max_backoff, "delivery-max-backoff",
                   &config.delivery_max_backoff_d),
        std::tuple(&config.delivery_give_up_after, "delivery-give-up-after",
                   &config.delivery_give_up_after_d),
        std::tuple(&config.http_header_timeout, "http-header-timeout",
                   &config.http_header_timeout_d),
        std::tuple(&config.http_body_timeout, "http-body-timeout", &config.http_body_timeout_d),
        std::tuple(&config.http_idle_timeout, "http-idle-timeout", &config.http_idle_timeout_d)}) {
    absl::StatusOr<absl::Duration> d = ParseDurationSetting(*text, flag);
    if (!d.ok()) return d.status();
    *out = *d;
  }
  if (!absl::SimpleAtoi(config.http_max_connections, &config.http_max_connections_n) ||
      config.http_max_connections_n < 1 || config.http_max_connections_n > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat("--http-max-connections: \"",
                                                   config.http_max_connections,
                                                   "\" is not a number in 1..1000000"));
  }
  int pool = 0;
  if (!absl::SimpleAtoi(config.database_pool_size, &pool) || pool < 1 || pool > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--database-pool-size: \"", config.database_pool_size, "\" is not a number in 1..1000"));
  }
  if (!absl::SimpleAtoi(config.rule_max_issues_per_day, &config.rule_max_issues_per_day_n) ||
      config.rule_max_issues_per_day_n < 1 || config.rule_max_issues_per_day_n > 100000) {
    return absl::InvalidArgumentError(absl::StrCat("--rule-max-issues-per-day: \"",
                                                   config.rule_max_issues_per_day,
                                                   "\" is not a number in 1..100000"));
  }
  for (auto [text, flag, out] :
       {std::tuple(&config.event_retention, "event-retention", &config.event_retention_d),
        std::tuple(&config.webhook_dedupe_retention, "webhook-dedupe-retention",
                   &config.webhook_dedupe_retention_d),
        std::tuple(&config.request_id_retention, "request-id-retention",
                   &config.request_id_retention_d)}) {
    absl::StatusOr<absl::Duration> d = ParseRetentionSetting(*text, flag);
    if (!d.ok()) return d.status();
    *out = *d;
  }
  for (auto [text, flag, out] :
       {std::tuple(&config.max_subscriptions, "max-subscriptions", &config.max_subscriptions_n),
        std::tuple(&config.max_rules, "max-rules", &config.max_rules_n),
        std::tuple(&config.max_api_tokens, "max-api-tokens", &config.max_api_tokens_n)}) {
    absl::StatusOr<int64_t> n = ParseLimitSetting(*text, flag);
    if (!n.ok()) return n.status();
    *out = *n;
  }
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    return absl::InvalidArgumentError(
        "OKR_ADMIN_TOKEN: at least 16 characters (use e.g. `openssl rand -base64 32`)");
  }
  if (config.auth_enabled() && config.admin_token.empty() &&
      !absl::StartsWith(config.database, "sqlite:")) {
    return absl::InvalidArgumentError(
        "OKR_ADMIN_TOKEN (or OKR_ADMIN_TOKEN_FILE) is required with --auth=tokens and a "
        "PostgreSQL database: it is the first ADMIN credential (only an embedded SQLite store "
        "can have one generated beside its file)");
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert-file and --tls-key-file go together: set both or neither");
  }
  if (!config.tls_client_ca_file.empty() && config.tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca-file needs --tls-cert-file and --tls-key-file (mTLS is TLS first)");
  }
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    if (absl::Status st = entry.config->Validate(config.tracker_settings[entry.tracker]);
        !st.ok()) {
      return st;
    }
  }
  for (const ConnectorRegistration& entry : ConnectorRegistry()) {
    config.tracker_sites[entry.tracker] =
        entry.config->Collect(config.tracker_settings[entry.tracker], Section(file, entry.tracker));
  }
  return config;
}

std::string HelpText() {
  std::string out =
      "okr-server: the okr-service OKR engine (gRPC API, tracker webhooks, metrics).\n\n"
      "Usage: okr-server [--flag=value ...]\n\n"
      "Every setting can also be given as an environment variable; a flag wins over the\n"
      "environment, which wins over the configuration file (--config), which wins over\n"
      "the default.\n\n";
  for (const Setting& s : Settings()) {
    if (s.secret) {
      absl::StrAppendFormat(&out, "  %s or %s_FILE (environment only)\n      %s\n", s.env, s.env,
                            s.help);
      continue;
    }
    absl::StrAppendFormat(&out, "  --%s (env %s, default \"%s\")\n      %s\n", s.flag, s.env,
                          Default(s), s.help);
  }
  absl::StrAppend(&out, "  --help\n      print this text and exit\n\n", ConnectorsFileHelp());
  return out;
}

}  // namespace okr::server
