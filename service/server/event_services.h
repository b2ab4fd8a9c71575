// EventServices: the composition of the event features for the running server -- the
// EventsCore use cases, the EventHub tailing the outbox for WatchEvents, the webhook
// SubscriptionDeliverer and the RuleEngine -- with their metrics and, on PostgreSQL, a
// cluster lock so that one replica delivers and evaluates rules at a time (any replica
// serves WatchEvents). Subscription target URLs are checked against an AddressGuard
// (--outbound-allow-cidrs) when created and at every delivery connection; OPEN_ISSUE rules
// are capped by --rule-max-issues-per-day. Only the composition root uses it.
#ifndef OKR_SERVICE_SERVER_EVENT_SERVICES_H_
#define OKR_SERVICE_SERVER_EVENT_SERVICES_H_

#include <map>
#include <memory>

#include "absl/status/statusor.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/metrics/metrics.h"
#include "service/okr/clock.h"
#include "service/server/config.h"
#include "service/storage/okr_store.h"
#include "service/sync/tracker_sync.h"

namespace okr::events {
class EventHub;
class SubscriptionDeliverer;
class RuleEngine;
}  // namespace okr::events

namespace okr::server {

class EventServices {
 public:
  // `openers`: where OPEN_ISSUE rules open issues (the enabled trackers). INVALID_ARGUMENT
  // naming --outbound-allow-cidrs when it is not a list of CIDR blocks.
  static absl::StatusOr<std::unique_ptr<EventServices>> Create(
      const ServerConfig& config, core::OkrCore& core, storage::OkrStore& store, const Clock& clock,
      metrics::Registry& metrics, std::map<Tracker, sync::TrackerIssueOpener*> openers);
  ~EventServices();

  absl::Status Start();
  void Stop();

  core::EventsCore& events_core();
  events::EventHub& hub();
  // Evaluates rules soon (a rule was created).
  void TriggerRules();

 private:
  struct Impl;
  explicit EventServices(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace okr::server

#endif  // OKR_SERVICE_SERVER_EVENT_SERVICES_H_
