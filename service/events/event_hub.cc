#include "service/events/event_hub.h"

#include <algorithm>
#include <thread>
#include <utility>
#include <vector>

#include "service/log/log.h"

namespace okr::events {

EventHub::EventHub(core::EventsCore& events, EventHubOptions options)
    : events_(events), options_(options) {}

EventHub::~EventHub() { Stop(); }

absl::Status EventHub::Start() {
  absl::StatusOr<int64_t> last = events_.LastEventSequence();
  if (!last.ok()) return last.status();
  {
    absl::MutexLock lock(&mu_);
    base_ = head_ = *last;
  }
  runner_ = std::make_unique<sync::PeriodicRunner>("events", options_.poll_interval, [this] {
    absl::Status s = PollOnce();
    if (!s.ok()) log::Warn("event poll failed", {{"error", s.ToString()}});
  });
  runner_->Start();
  return absl::OkStatus();
}

void EventHub::Stop() {
  if (runner_ != nullptr) runner_->Stop();
}

void EventHub::Poke() {
  if (runner_ != nullptr) runner_->Trigger();
}

absl::Status EventHub::PollOnce() {
  bool any = false;
  while (true) {
    int64_t after;
    {
      absl::MutexLock lock(&mu_);
      after = head_;
    }
    absl::StatusOr<std::vector<Event>> batch = events_.EventsAfter(after, options_.batch);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    any = true;
    {
      absl::MutexLock lock(&mu_);
      for (Event& e : *batch) {
        head_ = e.sequence;
        ring_.push_back(std::move(e));
      }
      while (ring_.size() > options_.ring_capacity) {
        base_ = ring_.front().sequence;
        ring_.pop_front();
      }
    }
    if (static_cast<int>(batch->size()) < options_.batch) break;
  }
  if (any) Dispatch(&EventListener::OnNewEvents);
  return absl::OkStatus();
}

bool EventHub::ReadSince(int64_t after, size_t max, std::vector<Event>* out) const {
  absl::MutexLock lock(&mu_);
  if (after < base_) return false;
  // Sequences are increasing: binary search the first one after `after`.
  auto it = std::upper_bound(ring_.begin(), ring_.end(), after,
                             [](int64_t seq, const Event& e) { return seq < e.sequence; });
  for (; it != ring_.end() && max > 0; ++it, --max) out->push_back(*it);
  return true;
}

int64_t EventHub::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

void EventHub::NotifyClosing() { Dispatch(&EventListener::OnClosing); }

void EventHub::Dispatch(void (EventListener::*call)()) {
  absl::MutexLock one_at_a_time(&dispatch_mu_);
  std::vector<EventListener*> snapshot;
  {
    absl::MutexLock lock(&listeners_mu_);
    snapshot.assign(listeners_.begin(), listeners_.end());
    dispatch_thread_ = std::this_thread::get_id();
  }
  for (EventListener* listener : snapshot) {
    {
      absl::MutexLock lock(&listeners_mu_);
      if (!listeners_.contains(listener)) continue;  // removed meanwhile
      calling_ = listener;
    }
    // Called without hub locks: a listener may finish its stream here, and gRPC may run
    // the stream's OnDone (which removes the listener) on this very thread.
    (listener->*call)();
    absl::MutexLock lock(&listeners_mu_);
    calling_ = nullptr;
  }
  absl::MutexLock lock(&listeners_mu_);
  dispatch_thread_ = std::thread::id();
}

void EventHub::AddListener(EventListener* listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.insert(listener);
}

void EventHub::RemoveListener(EventListener* listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(listener);
  if (std::this_thread::get_id() == dispatch_thread_) return;  // removed from its own call
  // Another thread: wait until a call in progress on the dispatcher has returned, so the
  // listener may be destroyed right after this returns.
  struct NotCalling {
    EventListener** calling;
    EventListener* listener;
    static bool Done(NotCalling* c) { return *c->calling != c->listener; }
  } wait{&calling_, listener};
  listeners_mu_.Await(absl::Condition(&NotCalling::Done, &wait));
}

}  // namespace okr::events
