#include "service/events/subscription_deliverer.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/events/subtree.h"
#include "service/log/log.h"
#include "service/outbound/retrying_http_client.h"
#include "service/outbound/signature.h"
#include "service/outbound/status_mapping.h"

namespace okr::events {

namespace http = outbound;

SubscriptionDeliverer::SubscriptionDeliverer(core::EventsCore& events, core::OkrCore& core,
                                             http::HttpClient& http, const Clock& clock,
                                             Serializer serializer, DelivererOptions options,
                                             std::function<bool()> may_run,
                                             DeliveryObserver* observer)
    : events_(events),
      core_(core),
      http_(http),
      clock_(clock),
      serializer_(std::move(serializer)),
      options_(options),
      may_run_(std::move(may_run)),
      observer_(observer) {}

SubscriptionDeliverer::~SubscriptionDeliverer() { Stop(); }

void SubscriptionDeliverer::Start() {
  runner_ = std::make_unique<sync::PeriodicRunner>(
      "deliveries", options_.poll_interval, [this] { Dispatch(); }, may_run_);
  runner_->Start();
}

void SubscriptionDeliverer::Stop() {
  if (runner_ != nullptr) runner_->Stop();
  StopWorkers();
}

void SubscriptionDeliverer::StopWorkers() {
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
  absl::MutexLock lock(&mu_);
  stopping_ = false;  // a later RunOnce (tests) may start workers again
}

void SubscriptionDeliverer::Trigger() {
  if (runner_ != nullptr) runner_->Trigger();
}

int64_t SubscriptionDeliverer::failing() const {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& [id, result] : results_) n += result.failing ? 1 : 0;
  return n;
}

int64_t SubscriptionDeliverer::backlog() const {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& [id, result] : results_) n += result.backlog;
  return n;
}

absl::Duration SubscriptionDeliverer::Backoff(int attempts) {
  const double factor = std::pow(2.0, std::min(attempts - 1, 30));
  absl::Duration wait = std::min(options_.initial_backoff * factor, options_.max_backoff);
  absl::MutexLock lock(&mu_);
  return wait * absl::Uniform(rng_, 0.8, 1.2);
}

std::vector<std::string> SubscriptionDeliverer::Dispatch() {
  std::vector<std::string> dispatched;
  absl::StatusOr<std::vector<Subscription>> subscriptions = events_.AllSubscriptions();
  if (!subscriptions.ok()) {
    log::Warn("listing subscriptions failed", {{"error", subscriptions.status().ToString()}});
    return dispatched;
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return dispatched;
  absl::flat_hash_set<std::string> exist;
  for (Subscription& s : *subscriptions) {
    exist.insert(s.id);
    if (!in_flight_.insert(s.id).second) continue;  // its worker is still at it
    dispatched.push_back(s.id);
    queue_.push_back(std::move(s));
  }
  absl::erase_if(results_, [&](const auto& entry) { return !exist.contains(entry.first); });
  const int max_workers = std::max(1, options_.max_parallel);
  int wanted = static_cast<int>(queue_.size()) - idle_workers_;
  while (wanted-- > 0 && static_cast<int>(workers_.size()) < max_workers) {
    workers_.emplace_back([this] { Work(); });
    ++idle_workers_;  // counted idle until it takes a job
  }
  return dispatched;
}

void SubscriptionDeliverer::Work() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](SubscriptionDeliverer* d)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(d->mu_) { return d->stopping_ || !d->queue_.empty(); },
        this));
    if (stopping_) return;
    Subscription sub = std::move(queue_.front());
    queue_.pop_front();
    --idle_workers_;
    mu_.Unlock();
    const RoundResult result = DeliverOne(sub, clock_.Now());
    mu_.Lock();
    ++idle_workers_;
    results_[sub.id] = result;
    in_flight_.erase(sub.id);
  }
}

void SubscriptionDeliverer::RunOnce() {
  struct Round {
    SubscriptionDeliverer* deliverer;
    std::vector<std::string> ids;
  };
  Round round{this, Dispatch()};
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](Round* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        if (r->deliverer->stopping_) return true;
        for (const std::string& id : r->ids) {
          if (r->deliverer->in_flight_.contains(id)) return false;
        }
        return true;
      },
      &round));
}

SubscriptionDeliverer::RoundResult SubscriptionDeliverer::DeliverOne(const Subscription& sub,
                                                                     absl::Time now) {
  absl::StatusOr<core::DeliveryState> loaded = events_.GetDeliveryState(sub.id);
  if (!loaded.ok()) return {};  // deleted meanwhile
  core::DeliveryState state = *loaded;
  if (state.next_attempt > now) return {0, state.state == SubscriptionState::kFailing};
  absl::StatusOr<std::vector<Event>> events =
      events_.EventsAfter(state.delivered_sequence, options_.batch);
  if (!events.ok()) {
    log::Warn("reading events for delivery failed", {{"error", events.status().ToString()}});
    return {0, state.state == SubscriptionState::kFailing};
  }
  SubtreeIndex subtree(core_, clock_);
  bool changed = false;
  int64_t pending = 0;
  for (const Event& e : *events) {
    absl::StatusOr<bool> matches = subtree.Matches(sub.filter, e);
    if (!matches.ok()) {
      // Not knowing is not "no match": stop before this event and try again next round.
      log::Warn("matching an event to a subscription's objective failed",
                {{"subscription", absl::StrCat("subscriptions/", sub.id)},
                 {"event", absl::StrCat(e.sequence)},
                 {"error", matches.status().ToString()}});
      pending = 1;
      break;
    }
    if (!*matches && e.subscription_id != sub.id) {
      state.delivered_sequence = e.sequence;
      changed = true;
      continue;
    }
    const std::string body = serializer_(e);
    http::HttpRequest request;
    request.method = "POST";
    request.url = sub.target_url;
    request.timeout = options_.request_timeout;
    request.body = body;
    request.headers = {{"Content-Type", "application/json"},
                       {"User-Agent", "okr-service"},
                       {"X-OKR-Signature", http::SignatureHeaderValue(sub.secret, body)},
                       {"X-OKR-Event-Id", absl::StrCat(e.sequence)},
                       {"X-OKR-Event-Type", std::string(EventTypeName(e.type))}};
    absl::StatusOr<http::HttpResponse> response = http_.Send(request);
    const absl::Time at = clock_.Now();
    // What the subscription's owner may see of a failure: its class ("timeout", "HTTP 500",
    // "address not allowed (loopback)"), never a response body or transport detail.
    std::string error = http::FailureClass(response);
    if (error.empty()) {
      state.delivered_sequence = e.sequence;
      state.state = SubscriptionState::kActive;
      state.attempts = 0;
      state.last_error.clear();
      state.failing_since = absl::InfinitePast();
      state.next_attempt = absl::InfinitePast();
      changed = true;
      if (observer_ != nullptr) observer_->OnDelivery("delivered");
      continue;
    }
    // Failed: schedule the retry of this event; later events wait (order is kept).
    if (state.failing_since == absl::InfinitePast()) state.failing_since = at;
    state.attempts += 1;
    absl::Duration wait = Backoff(state.attempts);
    if (response.ok() && (response->status == 429 || response->status == 503)) {
      if (std::optional<absl::Duration> hint = http::RetryHint(*response, at); hint.has_value()) {
        wait = std::min(std::max(*hint, absl::Milliseconds(1)), options_.max_retry_after);
      }
    }
    const bool give_up = at - state.failing_since >= options_.give_up_after;
    if (give_up) {
      if (state.state != SubscriptionState::kFailing) {
        // The operator's log gets the detail too.
        log::Warn("subscription failing",
                  {{"subscription", absl::StrCat("subscriptions/", sub.id)},
                   {"error", error},
                   {"detail", response.ok() ? error : response.status().ToString()}});
      }
      state.state = SubscriptionState::kFailing;
      wait = std::max(wait, options_.max_backoff);
    }
    state.next_attempt = at + wait;
    state.last_error = std::move(error);
    changed = true;
    if (observer_ != nullptr) observer_->OnDelivery(give_up ? "failing" : "retry");
    pending = 1;
    break;
  }
  if (changed) {
    absl::Status saved = events_.SaveDeliveryState(sub.id, state);
    if (!saved.ok() && !absl::IsNotFound(saved)) {
      log::Warn("saving delivery state failed", {{"error", saved.ToString()}});
    }
  }
  const bool failing = state.state == SubscriptionState::kFailing;
  if (static_cast<int>(events->size()) == options_.batch) {
    Trigger();  // more to read
    return {pending + options_.batch, failing};
  }
  return {pending, failing};
}

}  // namespace okr::events
