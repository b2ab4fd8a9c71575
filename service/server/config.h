// Server configuration: every setting of okr-server, each a `--lower-case-flag` with an
// OKR_* environment variable fallback, plus the optional connector configuration file
// (--config, service/server/config_file.h) for several sites per tracker. The trackers'
// settings, file sections and validation are their connectors' (connector_registry.h).
// Precedence: flag > environment > the file's "default" site entry > built-in default.
// Secrets (tokens, webhook secrets) are read only from their OKR_* environment variable
// or from the file named by OKR_*_FILE (as Kubernetes mounts secrets) or, for the
// config file, from the variable / file it names; never from a flag, never printed.
//
//   absl::StatusOr<ServerConfig> config = ParseConfig(argc, argv, std::getenv);
//   if (!config.ok()) { print the one-line error; exit(2); }
//   for (const std::string& line : config->DescribeForLog()) log(line);
#ifndef OKR_SERVICE_SERVER_CONFIG_H_
#define OKR_SERVICE_SERVER_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/okr/trackers.h"
#include "service/server/config_file.h"
#include "service/sync/connector_config.h"

namespace okr::server {

struct ServerConfig {
  std::string grpc_address = "0.0.0.0:50051";
  std::string http_address = "0.0.0.0:8080";
  std::string database = "sqlite:okr.db";
  std::string sqlite_sync = "full";      // full | normal
  std::string sqlite_max_size_mb = "0";  // MiB; 0: no limit
  std::string database_pool_size = "8";
  std::string log_format = "text";  // text | json
  std::string public_url = "http://localhost:8080";
  std::string reconcile_interval = "5m";
  std::string writeback_interval = "1s";
  std::string rule_interval = "1m";
  std::string delivery_initial_backoff = "1s";
  std::string delivery_max_backoff = "5m";
  std::string delivery_give_up_after = "24h";
  // The HTTP listener's read deadlines and connection cap.
  std::string http_header_timeout = "10s";
  std::string http_body_timeout = "30s";
  std::string http_idle_timeout = "60s";
  std::string http_max_connections = "4096";
  std::string config_file;  // --config / OKR_CONFIG; empty: no file

  // Access control (service/auth): bearer API tokens with roles, or none at all.
  std::string auth = "tokens";  // tokens | none
  std::string admin_token;      // secret: a bootstrap ADMIN token (OKR_ADMIN_TOKEN[_FILE])
  // Pages behind an authenticating proxy (oauth2-proxy): a request from one of these
  // comma-separated CIDRs carrying this header (e.g. X-Forwarded-Email) is a VIEWER named
  // by the header's value. Empty: no proxy is trusted.
  std::string auth_proxy_header;
  std::string auth_proxy_cidrs;
  // TLS for gRPC and the HTTP listener (PEM files); a client CA also requires client
  // certificates on gRPC (mTLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Comma-separated CIDRs that outbound subscription deliveries may reach although they
  // are loopback / private / link-local / CGNAT / ... addresses; empty: none.
  std::string outbound_allow_cidrs;
  std::string rule_max_issues_per_day = "10";
  // Retention (service/core/retention.h) and limits on counts (service/core/limits.h).
  std::string event_retention = "90d";
  std::string webhook_dedupe_retention = "7d";
  std::string request_id_retention = "7d";
  std::string max_subscriptions = "1000";
  std::string max_rules = "1000";
  std::string max_api_tokens = "1000";

  bool show_help = false;

  // Each tracker's top-level settings (its connector's rows, e.g. "jira-url"; see
  // connectors/<tracker>/<tracker>_config.h), by flag; valid after ParseConfig.
  std::map<Tracker, sync::SettingValues> tracker_settings;
  // The trackers to run (valid after ParseConfig): per tracker, the default site (name
  // "default", from its settings over the file's "default" entry) when its URL is set,
  // followed by the file's named sites. Trackers not configured have no sites.
  std::map<Tracker, std::shared_ptr<const sync::ConfiguredSites>> tracker_sites;

  // The value of `tracker`'s setting `flag` ("jira-url"), "" when unset.
  const std::string& setting(Tracker tracker, absl::string_view flag) const;
  // The configured sites of `tracker` (Site: its connector's site config type).
  template <typename Site>
  const std::vector<Site>& sites(Tracker tracker) const {
    auto it = tracker_sites.find(tracker);
    return sync::SitesOf<Site>(it == tracker_sites.end() ? nullptr : it->second.get());
  }

  // Parsed durations (valid after ParseConfig).
  absl::Duration reconcile_every = absl::Minutes(5);
  absl::Duration writeback_every = absl::Seconds(1);
  absl::Duration rule_every = absl::Minutes(1);
  absl::Duration delivery_initial_backoff_d = absl::Seconds(1);
  absl::Duration delivery_max_backoff_d = absl::Minutes(5);
  absl::Duration delivery_give_up_after_d = absl::Hours(24);
  int rule_max_issues_per_day_n = 10;
  absl::Duration event_retention_d = absl::Hours(24 * 90);
  absl::Duration webhook_dedupe_retention_d = absl::Hours(24 * 7);
  absl::Duration request_id_retention_d = absl::Hours(24 * 7);
  int64_t max_subscriptions_n = 1000;
  int64_t max_rules_n = 1000;
  int64_t max_api_tokens_n = 1000;
  absl::Duration http_header_timeout_d = absl::Seconds(10);
  absl::Duration http_body_timeout_d = absl::Seconds(30);
  absl::Duration http_idle_timeout_d = absl::Seconds(60);
  int64_t http_max_connections_n = 4096;
  bool auth_enabled() const { return auth == "tokens"; }

  // One "setting=value" line per setting, secrets redacted.
  std::vector<std::string> DescribeForLog() const;
};

using GetEnv = GetEnvFn;

// Parses argv (`--name=value` or `--name value`; `--help`) and the --config file.
// INVALID_ARGUMENT with one clear line for an unknown flag, a missing value, an invalid
// value or an invalid config file (naming the file and the field).
absl::StatusOr<ServerConfig> ParseConfig(int argc, const char* const* argv, const GetEnv& env);

// The --help text: every setting with its flag, environment variable, default and meaning.
std::string HelpText();

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_CONFIG_H_
