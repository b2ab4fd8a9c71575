// The GitHub connector's configuration section: GitHubInstanceConfig, one GitHub (GitHub.com
// or an Enterprise Server) as MakeGitHubConnector (github_connector.h) takes it, and
// GitHubConfigSection(), how the composition root reads the instances without naming
// GitHub (service/sync/connector_config.h): the --github-* / OKR_GITHUB_* settings of the
// default instance (enabled when OKR_GITHUB_TOKEN is set; the URL defaults to
// https://api.github.com), the config file's "github_instances" entries, their validation
// and log line.
//
//   GitHubInstanceConfig instance;
//   instance.name = "ghes"; instance.repos = {"acme", "other/app"};
//   instance.Owns("acme/app#7");   // true: owner "acme" covers "acme/app"
#ifndef OKR_CONNECTORS_GITHUB_GITHUB_CONFIG_H_
#define OKR_CONNECTORS_GITHUB_GITHUB_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "connectors/github/mapper.h"
#include "service/sync/connector_config.h"
#include "service/sync/tracker_connector.h"

namespace okr::connectors::github {

inline constexpr absl::string_view kDefaultGitHubUrl = "https://api.github.com";

struct GitHubInstanceConfig {
  std::string name;
  std::string url = std::string(kDefaultGitHubUrl);  // REST base (GHES: https://host/api/v3)
  std::string token;                                 // secret
  std::string webhook_secret;                        // secret
  std::string label_prefix = "OKR";
  std::string weight_label_prefix = "weight:";
  // Owned owners ("acme") or repositories ("acme/app"); empty for the default instance.
  std::vector<std::string> repos;
  std::map<std::string, GitHubDoneRule> done;  // "owner/repo" -> rule

  bool is_default() const { return name == sync::kDefaultSiteName; }
  std::string WebhookPath() const;  // /webhooks/github[/<name>]
  bool Owns(absl::string_view work_item_key) const;
  bool OwnsProject(absl::string_view repo) const;
};

sync::ConnectorConfig<GitHubInstanceConfig> GitHubConfigSection();

}  // namespace okr::connectors::github

#endif  // OKR_CONNECTORS_GITHUB_GITHUB_CONFIG_H_
