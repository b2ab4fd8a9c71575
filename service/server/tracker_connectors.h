// TrackerConnectors: the tracker connectors of the running server. For every entry of the
// registry (connector_registry.h) and every site configured for it, it builds the site's
// outbound stack (libcurl -> metrics -> retries), the connector (its factory adds auth and
// the typed client), and the site's webhook ingress (service/http/webhook_ingress.h) writing
// through a SiteSink; the sites of one tracker are joined by the site routing of
// service/sync/site_routing.h. It runs reconciliation and write-back on background
// threads. Only the composition root uses it; it never names a tracker.
//
//   auto connectors = TrackerConnectors::Create(config, core, store, clock, metrics);
//   connectors->RegisterRoutes(http_server);   // POST /webhooks/<slug>[/<site>]
//   connectors->Start();
//   ...
//   connectors->Stop();
#ifndef OKR_SERVICE_SERVER_TRACKER_CONNECTORS_H_
#define OKR_SERVICE_SERVER_TRACKER_CONNECTORS_H_

#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/okr_core.h"
#include "service/http/http_server.h"
#include "service/metrics/metrics.h"
#include "service/okr/clock.h"
#include "service/okr/freshness.h"
#include "service/server/config.h"
#include "service/storage/okr_store.h"
#include "service/sync/tracker_sync.h"

namespace okr::server {

class TrackerConnectors {
 public:
  static absl::StatusOr<std::unique_ptr<TrackerConnectors>> Create(const ServerConfig& config,
                                                                   core::OkrCore& core,
                                                                   storage::OkrStore& store,
                                                                   const Clock& clock,
                                                                   metrics::Registry& metrics);
  ~TrackerConnectors();

  // Adds the webhook routes of the enabled trackers.
  void RegisterRoutes(http::HttpServer& server);
  // Starts reconciliation and write-back (no-op when no tracker is enabled).
  void Start();
  void Stop();
  // The SyncKeyResult use case: reconcile one key result now.
  absl::Status SyncKeyResult(const std::string& objective_id, const std::string& key_result_id);
  bool enabled() const;
  // How current each tracker's items are (from the stored per-site status); stays valid
  // as long as this object.
  const FreshnessSource& freshness() const;
  // Where rules open issues: the enabled trackers' issue openers.
  std::map<Tracker, sync::TrackerIssueOpener*> IssueOpeners();

 private:
  struct Impl;
  explicit TrackerConnectors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_TRACKER_CONNECTORS_H_
