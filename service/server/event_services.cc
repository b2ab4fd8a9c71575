#include "service/server/event_services.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/api/proto_convert.h"
#include "service/events/event_hub.h"
#include "service/events/rule_engine.h"
#include "service/events/subscription_deliverer.h"
#include "service/log/log.h"
#include "service/okr/status_macros.h"
#include "service/outbound/address_guard.h"
#include "service/outbound/curl_http_client.h"
#include "service/storage/postgres/cluster_lock.h"

namespace okr::server {

struct EventServices::Impl final : public events::EventListener, public events::DeliveryObserver {
  std::unique_ptr<core::EventsCore> events_core;
  std::unique_ptr<events::EventHub> hub;
  std::unique_ptr<outbound::CurlHttpClient> http;
  std::unique_ptr<events::SubscriptionDeliverer> deliverer;
  std::unique_ptr<events::RuleEngine> rules;
  // With PostgreSQL only the holder delivers and evaluates rules.
  std::unique_ptr<storage::ClusterLock> lock;
  metrics::Counter* deliveries = nullptr;
  bool started = false;

  bool MayRun() {
    if (lock == nullptr) return true;
    if (lock->IsHeld()) return true;
    const bool acquired = lock->TryAcquire();
    if (acquired) log::Info("this replica now delivers subscriptions and evaluates rules");
    return acquired;
  }
  void OnNewEvents() override {
    deliverer->Trigger();
    rules->Trigger();
  }
  void OnDelivery(const std::string& outcome) override { deliveries->Inc({outcome}); }
};

absl::StatusOr<std::unique_ptr<EventServices>> EventServices::Create(
    const ServerConfig& config, core::OkrCore& core, storage::OkrStore& store, const Clock& clock,
    metrics::Registry& metrics, std::map<Tracker, sync::TrackerIssueOpener*> openers) {
  auto impl = std::make_unique<Impl>();
  Impl* raw = impl.get();
  // Subscription targets are chosen by API callers: the same guard checks them when they
  // are created and at every connection the deliverer makes (tracker URLs, set by the
  // operator, go through their own unguarded client).
  absl::StatusOr<outbound::AddressGuard> guard =
      outbound::AddressGuard::Create(config.outbound_allow_cidrs);
  if (!guard.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--outbound-allow-cidrs: ", guard.status().message()));
  }
  auto shared_guard = std::make_shared<const outbound::AddressGuard>(*std::move(guard));
  for (const outbound::Cidr& block : shared_guard->allowed()) {
    log::Info("subscription deliveries may reach an inside block", {{"cidr", block.ToString()}});
  }
  core::EventsCoreOptions core_options;
  core_options.max_issues_per_rule_per_day = config.rule_max_issues_per_day_n;
  core_options.max_subscriptions = config.max_subscriptions_n;
  core_options.max_rules = config.max_rules_n;
  core_options.target_url_check = [shared_guard](const std::string& url) {
    return shared_guard->CheckUrl(url);
  };
  impl->events_core = std::make_unique<core::EventsCore>(store, clock, std::move(core_options));
  impl->hub = std::make_unique<events::EventHub>(*impl->events_core, events::EventHubOptions{});
  outbound::CurlHttpClientOptions http_options;
  http_options.address_guard = shared_guard;
  OKR_ASSIGN_OR_RETURN(impl->http, outbound::CurlHttpClient::Create(http_options));
  if (absl::StartsWith(config.database, "postgresql://") ||
      absl::StartsWith(config.database, "postgres://")) {
    storage::PostgresClusterLockOptions lock_options;
    lock_options.conninfo = config.database;
    OKR_ASSIGN_OR_RETURN(impl->lock,
                         storage::PostgresClusterLock::Create(lock_options, "okr-events"));
  }
  events::DelivererOptions delivery;
  delivery.initial_backoff = config.delivery_initial_backoff_d;
  delivery.max_backoff = config.delivery_max_backoff_d;
  delivery.give_up_after = config.delivery_give_up_after_d;
  impl->deliverer = std::make_unique<events::SubscriptionDeliverer>(
      *impl->events_core, core, *impl->http, clock, api::EventToJson, delivery,
      [raw] { return raw->MayRun(); }, raw);
  events::RuleEngineOptions rule_options;
  rule_options.interval = config.rule_every;
  rule_options.public_url = config.public_url;
  while (!rule_options.public_url.empty() && rule_options.public_url.back() == '/') {
    rule_options.public_url.pop_back();
  }
  impl->rules =
      std::make_unique<events::RuleEngine>(*impl->events_core, core, clock, std::move(openers),
                                           rule_options, [raw] { return raw->MayRun(); });
  impl->deliveries = &metrics.AddCounter(
      "okr_subscription_deliveries_total",
      "Webhook subscription delivery attempts by outcome (delivered, retry, failing).",
      {"outcome"});
  metrics.AddCallbackGauge("okr_outbox_head_sequence",
                           "Sequence of the newest event committed to the outbox.",
                           [raw] { return static_cast<double>(raw->hub->head()); });
  metrics.AddCallbackGauge(
      "okr_outbox_undelivered_events",
      "Events matching subscriptions that are not delivered yet (as of the last round).",
      [raw] { return static_cast<double>(raw->deliverer->backlog()); });
  metrics.AddCallbackGauge("okr_subscriptions_failing",
                           "Subscriptions in state FAILING (as of the last delivery round).",
                           [raw] { return static_cast<double>(raw->deliverer->failing()); });
  return std::unique_ptr<EventServices>(new EventServices(std::move(impl)));
}

EventServices::EventServices(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventServices::~EventServices() { Stop(); }

absl::Status EventServices::Start() {
  OKR_RETURN_IF_ERROR(impl_->hub->Start());
  impl_->hub->AddListener(impl_.get());
  impl_->deliverer->Start();
  impl_->rules->Start();
  impl_->rules->Trigger();
  impl_->started = true;
  return absl::OkStatus();
}

void EventServices::Stop() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->hub->RemoveListener(impl_.get());
  impl_->rules->Stop();
  impl_->deliverer->Stop();
  impl_->hub->Stop();
  if (impl_->lock) impl_->lock->Release();
}

core::EventsCore& EventServices::events_core() { return *impl_->events_core; }
events::EventHub& EventServices::hub() { return *impl_->hub; }
void EventServices::TriggerRules() { impl_->rules->Trigger(); }

}  // namespace okr::server
