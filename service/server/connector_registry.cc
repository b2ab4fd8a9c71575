#include "service/server/connector_registry.h"

#include "connectors/github/github_connector.h"
#include "connectors/gitlab/gitlab_connector.h"
#include "connectors/jira/jira_connector.h"

namespace okr::server {
namespace {

// An entry from a tracker's configuration section (one SiteConfig per site) and its
// factory.
template <typename SiteConfig>
ConnectorRegistration Entry(Tracker tracker, sync::ConnectorConfig<SiteConfig> section,
                            absl::StatusOr<std::unique_ptr<sync::TrackerConnector>> (*make)(
                                const SiteConfig&, outbound::HttpClient&)) {
  return {tracker, std::make_shared<sync::TypedConfigSection<SiteConfig>>(std::move(section)),
          [tracker, make](const ServerConfig& config) {
            std::vector<SiteFactory> out;
            for (const SiteConfig& site : config.sites<SiteConfig>(tracker)) {
              out.push_back({site.name, [site, make](outbound::HttpClient& http) {
                               return make(site, http);
                             }});
            }
            return out;
          }};
}

}  // namespace

const std::vector<ConnectorRegistration>& ConnectorRegistry() {
  static const auto* registry = new std::vector<ConnectorRegistration>{
      Entry(Tracker::kJira, connectors::jira::JiraConfigSection(),
            &connectors::jira::MakeJiraConnector),
      Entry(Tracker::kGitLab, connectors::gitlab::GitLabConfigSection(),
            &connectors::gitlab::MakeGitLabConnector),
      Entry(Tracker::kGitHub, connectors::github::GitHubConfigSection(),
            &connectors::github::MakeGitHubConnector),
  };
  return *registry;
}

}  // namespace okr::server
