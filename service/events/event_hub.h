// EventHub: the live tail of the event outbox, shared by every watcher of this replica.
// One poller reads newly committed events from the store (EventsCore::EventsAfter) into a
// bounded ring and wakes the listeners (WatchEvents streams, the rule engine). Readers
// take from the ring by sequence; a reader whose position has already left the ring reads
// the store instead (history replay) or, when it fell behind while live, is told so and
// ended (the ring is the bound on how far behind a live watcher may fall). Writers never
// wait for readers: the poller only copies committed rows.
//
//   EventHub hub(events_core, {});
//   hub.Start();
//   std::vector<Event> batch;
//   if (!hub.ReadSince(cursor, 256, &batch)) { /* older than the ring: read the store */ }
//
// Thread-safe. Listeners are called on the poller thread, without hub locks held, and must
// return quickly; RemoveListener waits for a call in progress on another thread, so a
// listener may be destroyed once it returns.
#ifndef OKR_SERVICE_EVENTS_EVENT_HUB_H_
#define OKR_SERVICE_EVENTS_EVENT_HUB_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/core/events_core.h"
#include "service/okr/events.h"
#include "service/sync/periodic_runner.h"

namespace okr::events {

class EventListener {
 public:
  virtual ~EventListener() = default;
  // New events are in the ring (called on the poller thread, without hub locks held).
  virtual void OnNewEvents() = 0;
  // The server is shutting down (EventHub::NotifyClosing): end what follows the tail.
  virtual void OnClosing() {}
};

struct EventHubOptions {
  absl::Duration poll_interval = absl::Milliseconds(20);
  // Events kept in memory; a live watcher this far behind is ended.
  size_t ring_capacity = 16384;
  int batch = 1000;  // events per store read
};

class EventHub {
 public:
  EventHub(core::EventsCore& events, EventHubOptions options);
  ~EventHub();

  // Starts at the current end of the outbox (earlier events come from the store).
  absl::Status Start();
  void Stop();
  // Polls now (e.g. after a local commit) instead of at the next interval.
  void Poke();

  // Appends to `out` up to `max` events with sequence > `after`, oldest first. False if
  // some event after `after` has already left the ring (or came before Start): read the
  // store instead.
  bool ReadSince(int64_t after, size_t max, std::vector<Event>* out) const;
  // The highest sequence the hub has seen.
  int64_t head() const;

  // Tells every listener that the server is shutting down (before the gRPC server waits
  // for open calls), so that endless WatchEvents streams end at once instead of at the
  // end of the shutdown grace period.
  void NotifyClosing();

  void AddListener(EventListener* listener);
  // After it returns, `listener` is not called again.
  void RemoveListener(EventListener* listener);

  // Polls once (the runner's task; exposed for tests).
  absl::Status PollOnce();

 private:
  core::EventsCore& events_;
  const EventHubOptions options_;
  mutable absl::Mutex mu_;
  std::deque<Event> ring_ ABSL_GUARDED_BY(mu_);
  int64_t base_ ABSL_GUARDED_BY(mu_) = 0;  // every event with seq > base_ is in the ring
  int64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  // Calls `call` on every listener, one dispatch at a time.
  void Dispatch(void (EventListener::*call)());

  absl::Mutex dispatch_mu_;  // held for a whole Dispatch; never by RemoveListener
  absl::Mutex listeners_mu_;
  absl::flat_hash_set<EventListener*> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  EventListener* calling_ ABSL_GUARDED_BY(listeners_mu_) = nullptr;
  std::thread::id dispatch_thread_ ABSL_GUARDED_BY(listeners_mu_);
  std::unique_ptr<sync::PeriodicRunner> runner_;
};

}  // namespace okr::events

#endif  // OKR_SERVICE_EVENTS_EVENT_HUB_H_
