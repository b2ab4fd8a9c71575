// The GitLab connector's configuration section: GitLabInstanceConfig, one GitLab instance
// as MakeGitLabConnector (gitlab_connector.h) takes it (plain data plus the instance's
// ownership rules), and GitLabConfigSection(), how the composition root reads the
// instances without naming GitLab (service/sync/connector_config.h): the OKR_GITLAB_*
// settings of the default instance, the config file's "gitlab_instances" entries, their
// validation and log line.
//
//   GitLabInstanceConfig instance;
//   instance.name = "internal"; instance.projects = {"platform"};
//   instance.Owns("platform/api#7");   // true: "platform" covers "platform/api"
#ifndef OKR_CONNECTORS_GITLAB_GITLAB_CONFIG_H_
#define OKR_CONNECTORS_GITLAB_GITLAB_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "connectors/gitlab/mapper.h"
#include "service/sync/connector_config.h"
#include "service/sync/tracker_connector.h"

namespace okr::connectors::gitlab {

struct GitLabInstanceConfig {
  std::string name;
  std::string url;
  std::string token;          // secret
  std::string webhook_token;  // secret
  std::string label_prefix = "OKR";
  // Owned project paths; an entry also owns the projects below it ("platform" owns
  // "platform/api"). Empty for the default instance.
  std::vector<std::string> projects;
  std::map<std::string, GitLabDoneRule> done;  // project path -> rule

  bool is_default() const { return name == sync::kDefaultSiteName; }
  // /webhooks/gitlab or /webhooks/gitlab/<name>.
  std::string WebhookPath() const;
  // Whether a work item key ("platform/api#7") belongs to one of `projects`.
  bool Owns(absl::string_view work_item_key) const;
  // Whether a project path ("platform/api") is one of `projects` or below one.
  bool OwnsProject(absl::string_view project_path) const;
};

// The --gitlab-* / OKR_GITLAB_* settings, the "gitlab_instances" file section, their
// validation and the "gitlab instance ..." log line.
sync::ConnectorConfig<GitLabInstanceConfig> GitLabConfigSection();

}  // namespace okr::connectors::gitlab

#endif  // OKR_CONNECTORS_GITLAB_GITLAB_CONFIG_H_
