// SubscriptionDeliverer: at-least-once delivery of outbox events to webhook subscriptions
// (service/okr/events.h Subscription). For each subscription, in sequence order, every
// event its filter matches (or that a CALL_SUBSCRIPTION rule addressed to it) is POSTed as
// JSON with
//   Content-Type: application/json
//   X-OKR-Signature: sha256=<hex HMAC-SHA256(secret, body)>
//   X-OKR-Event-Id: <sequence>          (receivers deduplicate on it)
//   X-OKR-Event-Type: PROGRESS_CHANGED  (...)
// A 2xx moves the subscription's cursor (stored, so a restart resumes after the last
// acknowledged event). Anything else -- 5xx, timeouts, connection errors, other 4xx --
// is retried with exponential backoff and jitter; 429 and 503 wait as long as
// Retry-After asks. An event still undelivered `give_up_after` after its first failure
// turns the subscription FAILING (visible in the API and metrics); delivery keeps being
// tried at the longest backoff and a success makes it ACTIVE again. Retry schedule and
// attempts are stored too, so a restart mid-retry keeps the schedule. The stored
// last_error is only the class of the failure (service/outbound FailureClass: "timeout",
// "connection refused", "HTTP 500", "address not allowed (loopback)", ...): the owner of a
// subscription never sees response bodies or transport details of the URL they chose.
//
// Runs on its own thread (Start/Stop), in the replica that holds the cluster lock
// (`may_run`); deliveries never block the RPCs or webhooks that produced the events.
// Subscriptions are delivered independently: each due subscription runs on a worker of
// its own (at most `max_parallel` at once), so a target that never answers costs the
// others nothing but holds its own worker until its request times out.
#ifndef OKR_SERVICE_EVENTS_SUBSCRIPTION_DELIVERER_H_
#define OKR_SERVICE_EVENTS_SUBSCRIPTION_DELIVERER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/okr/clock.h"
#include "service/outbound/http_client.h"
#include "service/sync/periodic_runner.h"

namespace okr::events {

struct DelivererOptions {
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
  // Longest wait a Retry-After may ask for.
  absl::Duration max_retry_after = absl::Minutes(10);
  absl::Duration give_up_after = absl::Hours(24);
  int batch = 200;  // events read per subscription and round
  // Subscriptions delivered at the same time (one worker each); more wait for a worker.
  int max_parallel = 64;
};

// Told about every delivery attempt (metrics). Thread-safe.
class DeliveryObserver {
 public:
  virtual ~DeliveryObserver() = default;
  // outcome: delivered | retry | failing
  virtual void OnDelivery(const std::string& outcome) = 0;
};

class SubscriptionDeliverer {
 public:
  using Serializer = std::function<std::string(const Event&)>;

  SubscriptionDeliverer(
      core::EventsCore& events, core::OkrCore& core, outbound::HttpClient& http, const Clock& clock,
      Serializer serializer, DelivererOptions options,
      std::function<bool()> may_run = [] { return true; }, DeliveryObserver* observer = nullptr);
  ~SubscriptionDeliverer();

  void Start();
  void Stop();
  // Delivers soon (new events arrived).
  void Trigger();
  // One round over every subscription whose next attempt is due; returns when the round's
  // deliveries are done (tests, tools). The background loop dispatches without waiting.
  void RunOnce();
  // Subscriptions currently FAILING (metrics), as of the last round.
  int64_t failing() const;
  // Matching events not yet delivered, summed over subscriptions, as of the last round
  // (bounded by one batch per subscription).
  int64_t backlog() const;

 private:
  struct RoundResult {
    int64_t backlog = 0;   // estimate of matching events not yet delivered
    bool failing = false;  // the subscription is FAILING after this round
  };
  // Delivers the due events of one subscription.
  RoundResult DeliverOne(const Subscription& subscription, absl::Time now);
  absl::Duration Backoff(int attempts);
  // Hands every due subscription that is not being delivered to a worker; returns their
  // ids (the ones this call dispatched).
  std::vector<std::string> Dispatch();
  void Work();
  void StopWorkers();

  core::EventsCore& events_;
  core::OkrCore& core_;
  outbound::HttpClient& http_;
  const Clock& clock_;
  const Serializer serializer_;
  const DelivererOptions options_;
  const std::function<bool()> may_run_;
  DeliveryObserver* const observer_;
  mutable absl::Mutex mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  // Last round's result per subscription (metrics), for the subscriptions that exist.
  absl::flat_hash_map<std::string, RoundResult> results_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  std::deque<Subscription> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
  int idle_workers_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<sync::PeriodicRunner> runner_;
};

}  // namespace okr::events

#endif  // OKR_SERVICE_EVENTS_SUBSCRIPTION_DELIVERER_H_
