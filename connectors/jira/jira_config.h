// The Jira connector's configuration section: JiraSiteConfig, one Jira site as
// MakeJiraConnector (jira_connector.h) takes it (plain data plus the site's ownership
// rules), and JiraConfigSection(), how the composition root reads the sites without
// naming Jira (service/sync/connector_config.h): the OKR_JIRA_* settings of the default
// site, the config file's "jira_sites" entries, their validation and log line.
//
//   JiraSiteConfig site;
//   site.name = "eu"; site.url = "https://acme-eu.atlassian.net"; site.projects = {"OPS"};
//   site.Owns("OPS-12");   // true
#ifndef OKR_CONNECTORS_JIRA_JIRA_CONFIG_H_
#define OKR_CONNECTORS_JIRA_JIRA_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "connectors/jira/mapper.h"
#include "service/sync/connector_config.h"
#include "service/sync/tracker_connector.h"

namespace okr::connectors::jira {

struct JiraSiteConfig {
  std::string name;  // sync::kDefaultSiteName or [a-z0-9][a-z0-9-]* (at most 32 characters)
  std::string url;
  std::string deployment = "cloud";  // cloud | datacenter
  std::string email;
  std::string api_token;       // secret
  std::string pat;             // secret
  std::string webhook_secret;  // secret
  std::string story_points_field;
  std::vector<std::string> projects;         // owned project keys; empty for the default site
  std::map<std::string, JiraDoneRule> done;  // project key -> rule

  bool is_default() const { return name == sync::kDefaultSiteName; }
  // POST path of this site's webhook: /webhooks/jira or /webhooks/jira/<name>.
  std::string WebhookPath() const;
  // Whether an issue key ("OPS-12") belongs to one of `projects`.
  bool Owns(absl::string_view issue_key) const;
  // Whether a project key ("OPS") is one of `projects`.
  bool OwnsProject(absl::string_view project_key) const;
};

// The --jira-* / OKR_JIRA_* settings, the "jira_sites" file section, their validation and
// the "jira site ..." log line.
sync::ConnectorConfig<JiraSiteConfig> JiraConfigSection();

}  // namespace okr::connectors::jira

#endif  // OKR_CONNECTORS_JIRA_JIRA_CONFIG_H_
