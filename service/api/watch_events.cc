#include "service/api/watch_events.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/api/grpc_status.h"
#include "service/api/okr_grpc_service.h"
#include "service/api/proto_convert.h"

namespace okr::api {
namespace {

constexpr size_t kReadBatch = 256;

}  // namespace

WatchEventsReactor::WatchEventsReactor(core::EventsCore& events, core::OkrCore& core,
                                       events::EventHub& hub, const Clock& clock,
                                       EventFilter filter, int64_t after_sequence,
                                       RpcObserver* observer)
    : events_(events),
      hub_(hub),
      filter_(std::move(filter)),
      observer_(observer),
      subtree_(core, clock),
      cursor_(after_sequence) {}

void WatchEventsReactor::Begin() {
  hub_.AddListener(this);
  Pump();
}

void WatchEventsReactor::OnNewEvents() { Pump(); }

void WatchEventsReactor::OnClosing() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  Pump();
}

void WatchEventsReactor::OnWriteDone(bool ok) {
  if (!ok) {
    // The client went away.
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!finished_) finish = finished_ = true;
    }
    if (finish) End(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
  }
  Pump();
}

void WatchEventsReactor::OnCancel() {
  bool finish = false;
  {
    absl::MutexLock lock(&mu_);
    if (!finished_ && !writing_) finish = finished_ = true;
  }
  if (finish) End(grpc::Status::CANCELLED);
}

void WatchEventsReactor::OnDone() {
  hub_.RemoveListener(this);
  delete this;
}

void WatchEventsReactor::Pump() {
  // Decided under the lock, done outside it (gRPC may run reactions on this thread).
  std::optional<grpc::Status> finish;
  bool write = false;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || writing_) return;
    if (closing_) {
      finished_ = true;
      finish = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server is shutting down; resume with the last sequence received");
    }
    while (pending_.empty() && !finish.has_value()) {
      std::vector<Event> batch;
      if (!hub_.ReadSince(cursor_, kReadBatch, &batch)) {
        if (live_) {
          finish = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                absl::StrCat("the stream fell too far behind the event log; "
                                             "resume with after_sequence=",
                                             cursor_));
          break;
        }
        // History before the hub's ring: replay from the outbox.
        absl::StatusOr<std::vector<Event>> stored = events_.EventsAfter(cursor_, kReadBatch);
        if (!stored.ok()) {
          finish = ToGrpcStatus(stored.status());
          break;
        }
        if (stored->empty()) return;  // the hub will catch up and wake us
        batch = *std::move(stored);
      } else if (batch.empty()) {
        live_ = true;
        return;  // caught up: OnNewEvents wakes us
      }
      for (Event& e : batch) {
        absl::StatusOr<bool> matches = subtree_.Matches(filter_, e);
        if (!matches.ok()) {
          // The cursor stays before this event: what was matched goes out first, then the
          // stream ends with the sequence to resume from, so nothing is skipped.
          if (pending_.empty()) {
            finish = grpc::Status(
                grpc::StatusCode::UNAVAILABLE,
                absl::StrCat("reading the objective tree failed (", matches.status().message(),
                             "); resume with after_sequence=", cursor_));
          }
          break;
        }
        cursor_ = e.sequence;
        if (*matches) pending_.push_back(std::move(e));
      }
    }
    if (finish.has_value()) {
      finished_ = true;
    } else {
      message_.Clear();
      ToProto(pending_.front(), &message_);
      pending_.pop_front();
      writing_ = write = true;
    }
  }
  if (write) {
    StartWrite(&message_);
  } else if (finish.has_value()) {
    End(*finish);
  }
}

void WatchEventsReactor::End(const grpc::Status& status) {
  if (observer_ != nullptr) {
    observer_->OnRpc("WatchEvents", static_cast<absl::StatusCode>(status.error_code()),
                     absl::Now() - start_);
  }
  Finish(status);
}

}  // namespace okr::api
