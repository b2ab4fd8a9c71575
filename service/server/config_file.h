// The connector configuration file (--config / OKR_CONFIG): several sites of each tracker
// (Jira sites, GitLab instances), each with its per-project mapping of workflow states to
// "done". JSON; the file never holds a secret, only the name of the environment variable
// or file that does. Each tracker's section (its key, the reader of one entry) is the
// connector's (connectors/<tracker>/<tracker>_config.h, listed in connector_registry.cc);
// this file reads the top level and hands each section to its connector.
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
//   file->sites<JiraSiteConfig>(Tracker::kJira)   // the "jira_sites" entries, in order
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
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/okr/trackers.h"
#include "service/sync/connector_config.h"
#include "service/sync/tracker_connector.h"

namespace okr::server {

// The name of the site configured by a tracker's top-level OKR_<TRACKER>_* settings.
using ::okr::sync::kDefaultSiteName;

struct ConnectorsFile {
  // The entries of each tracker's section present in the file, in file order.
  std::map<Tracker, std::shared_ptr<const sync::ConfiguredSites>> sections;

  // The entries of `tracker`'s section (Site: its connector's site config type).
  template <typename Site>
  const std::vector<Site>& sites(Tracker tracker) const {
    auto it = sections.find(tracker);
    return sync::SitesOf<Site>(it == sections.end() ? nullptr : it->second.get());
  }
};

using GetEnvFn = sync::GetEnvFn;

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
