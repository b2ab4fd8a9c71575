// The tracker registry: one entry per tracker connector the server can run, holding the
// connector's configuration section (its settings, config-file section, validation and
// log line; service/sync/connector_config.h) and its factory. A new tracker is one line
// in connector_registry.cc; the configuration (config.cc, config_file.cc) and the
// composition root (tracker_connectors.cc) loop over the entries and never name a
// tracker.
//
//   for (const ConnectorRegistration& r : ConnectorRegistry()) {
//     for (const SiteFactory& site : r.sites(config)) {
//       OKR_ASSIGN_OR_RETURN(auto connector, site.make(http_for(r.tracker, site.name)));
//     }
//   }
#ifndef OKR_SERVICE_SERVER_CONNECTOR_REGISTRY_H_
#define OKR_SERVICE_SERVER_CONNECTOR_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/okr/trackers.h"
#include "service/outbound/http_client.h"
#include "service/server/config.h"
#include "service/sync/connector_config.h"
#include "service/sync/tracker_connector.h"

namespace okr::server {

// Builds the connector of one configured site over the HTTP client the composition root
// gives it (which must outlive the connector).
struct SiteFactory {
  std::string name;  // the site's name (sync::kDefaultSiteName for the default site)
  std::function<absl::StatusOr<std::unique_ptr<sync::TrackerConnector>>(outbound::HttpClient&)>
      make;
};

struct ConnectorRegistration {
  Tracker tracker;
  // How ParseConfig reads this tracker's sites (ServerConfig::tracker_sites).
  std::shared_ptr<const sync::ConfigSection> config;
  // The configured sites of this tracker, in order (the default site first); empty when
  // the tracker is not configured.
  std::function<std::vector<SiteFactory>(const ServerConfig&)> sites;
};

// Every tracker the server can run, in a fixed order.
const std::vector<ConnectorRegistration>& ConnectorRegistry();

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_CONNECTOR_REGISTRY_H_
