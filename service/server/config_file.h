// The connector configuration file (--config / OKR_CONFIG): several Jira sites and GitLab
// instances, each with its per-project mapping of workflow states to "done". JSON; the
// file never holds a secret, only the name of the environment variable or file that does.
//
//   {
//     "jira_sites": [
//       {"name": "default", "done": {"OKRX": {"statuses": ["Deployed"]}}},
//       {"name": "eu", "url": "https://acme-eu.atlassian.net", "deployment": "cloud",
//        "email": "okr-bot@acme.example", "api_token_env": "OKR_JIRA_EU_API_TOKEN",
//        "webhook_secret_file": "/var/run/secrets/okr/jira-eu-webhook-secret",
//        "story_points_field": "customfield_10016", "projects": ["OPS", "INFRA"],
//        "done": {"OPS": {"statuses": ["Deployed"], "status_categories": ["done"]}}}
//     ],
//     "gitlab_instances": [
//       {"name": "internal", "url": "https://gitlab.internal.example",
//        "token_env": "OKR_GITLAB_INTERNAL_TOKEN",
//        "webhook_token_env": "OKR_GITLAB_INTERNAL_WEBHOOK_TOKEN", "label_prefix": "OKR",
//        "projects": ["platform"],
//        "done": {"platform/api": {"labels": ["workflow::deployed"], "states": ["closed"]}}}
//     ]
//   }
//
//   absl::StatusOr<ConnectorsFile> file = LoadConnectorsFile("/etc/okr/connectors.json", env);
//
// The entry named "default" describes the site the OKR_JIRA_* / OKR_GITLAB_* settings
// configure (webhook path /webhooks/jira or /webhooks/gitlab); those settings override
// it. Every other entry is an additional site with its own webhook path
// (/webhooks/jira/<name>, /webhooks/gitlab/<name>) that owns the listed projects (Jira
// project keys; GitLab project paths or groups). Errors are INVALID_ARGUMENT with one line
// naming the file and the field, e.g.
//   "/etc/okr/connectors.json: jira_sites[1].url: required".
#ifndef OKR_SERVICE_SERVER_CONFIG_FILE_H_
#define OKR_SERVICE_SERVER_CONFIG_FILE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "connectors/gitlab/mapper.h"
#include "connectors/jira/mapper.h"

namespace okr::server {

// The name of the site configured by the OKR_JIRA_* / OKR_GITLAB_* settings.
inline constexpr absl::string_view kDefaultSiteName = "default";

struct JiraSiteConfig {
  std::string name;  // kDefaultSiteName or [a-z0-9][a-z0-9-]* (at most 32 characters)
  std::string url;
  std::string deployment = "cloud";  // cloud | datacenter
  std::string email;
  std::string api_token;       // secret
  std::string pat;             // secret
  std::string webhook_secret;  // secret
  std::string story_points_field;
  std::vector<std::string> projects;  // owned project keys; empty for the default site
  std::map<std::string, connectors::jira::JiraDoneRule> done;  // project key -> rule

  bool is_default() const { return name == kDefaultSiteName; }
  // POST path of this site's webhook: /webhooks/jira or /webhooks/jira/<name>.
  std::string WebhookPath() const;
  // Whether an issue key ("OPS-12") belongs to one of `projects`.
  bool Owns(absl::string_view issue_key) const;
};

struct GitLabInstanceConfig {
  std::string name;
  std::string url;
  std::string token;          // secret
  std::string webhook_token;  // secret
  std::string label_prefix = "OKR";
  // Owned project paths; an entry also owns the projects below it ("platform" owns
  // "platform/api"). Empty for the default instance.
  std::vector<std::string> projects;
  std::map<std::string, connectors::gitlab::GitLabDoneRule> done;  // project path -> rule

  bool is_default() const { return name == kDefaultSiteName; }
  // /webhooks/gitlab or /webhooks/gitlab/<name>.
  std::string WebhookPath() const;
  // Whether a work item key ("platform/api#7") belongs to one of `projects`.
  bool Owns(absl::string_view work_item_key) const;
};

struct ConnectorsFile {
  std::vector<JiraSiteConfig> jira_sites;
  std::vector<GitLabInstanceConfig> gitlab_instances;
};

using GetEnvFn = std::function<const char*(const char*)>;

// Reads and validates the file at `path`, resolving every `*_env` / `*_file` secret
// reference through `env` and the file system.
absl::StatusOr<ConnectorsFile> LoadConnectorsFile(const std::string& path, const GetEnvFn& env);

// The same for file contents already read (`path` only names the file in errors).
absl::StatusOr<ConnectorsFile> ParseConnectorsFile(absl::string_view text, const std::string& path,
                                                   const GetEnvFn& env);

// The --help section describing the file format.
std::string ConnectorsFileHelp();

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_CONFIG_FILE_H_
