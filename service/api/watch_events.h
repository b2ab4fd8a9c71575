// WatchEventsReactor: one WatchEvents stream (okr.v1.OkrService). It replays the history
// after the client's `after_sequence` from the outbox, then follows the EventHub's live
// tail, writing the events its filter matches one at a time, in sequence order. Every
// event is read by position, so a reconnect with the last sequence seen continues exactly
// there. Slow clients never block writers or other watchers: each stream only reads; a
// live stream whose position has left the hub's bounded ring is ended with
// RESOURCE_EXHAUSTED (naming the sequence to resume after); when the server shuts down
// the stream ends at once with UNAVAILABLE (resume after the last sequence received).
// Tells the RpcObserver, if any, how and when the stream ended. Deletes itself when done.
#ifndef OKR_SERVICE_API_WATCH_EVENTS_H_
#define OKR_SERVICE_API_WATCH_EVENTS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "okr/v1/okr_service.pb.h"
#include "service/core/events_core.h"
#include "service/core/okr_core.h"
#include "service/events/event_hub.h"
#include "service/events/subtree.h"
#include "service/okr/clock.h"
#include "service/okr/events.h"

namespace okr::api {

class RpcObserver;

class WatchEventsReactor final : public grpc::ServerWriteReactor<v1::Event>,
                                 public events::EventListener {
 public:
  // `observer` may be null; it must outlive the stream.
  WatchEventsReactor(core::EventsCore& events, core::OkrCore& core, events::EventHub& hub,
                     const Clock& clock, EventFilter filter, int64_t after_sequence,
                     RpcObserver* observer = nullptr);

  // Registers with the hub and starts sending. Call once, right after construction.
  void Begin();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void OnNewEvents() override;
  void OnClosing() override;

 private:
  // Sends the next matching event if no write is in flight, reading more when needed.
  void Pump();
  // Finishes the stream (once) and tells the observer.
  void End(const grpc::Status& status);

  core::EventsCore& events_;
  events::EventHub& hub_;
  const EventFilter filter_;
  RpcObserver* const observer_;
  const absl::Time start_ = absl::Now();
  absl::Mutex mu_;
  events::SubtreeIndex subtree_ ABSL_GUARDED_BY(mu_);
  int64_t cursor_ ABSL_GUARDED_BY(mu_);     // every event up to here was read
  bool live_ ABSL_GUARDED_BY(mu_) = false;  // caught up with the hub at least once
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;       // end after the write in flight
  std::deque<Event> pending_ ABSL_GUARDED_BY(mu_);  // read, matching, not yet written
  v1::Event message_ ABSL_GUARDED_BY(mu_);
};

}  // namespace okr::api

#endif  // OKR_SERVICE_API_WATCH_EVENTS_H_
