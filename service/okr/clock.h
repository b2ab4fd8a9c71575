// Clock: the injected source of "now" for expected progress, health and timestamps.
// Production uses SystemClock; tests use FakeClock (tests/testing) to move time.
// Implementations are thread-safe.
#ifndef OKR_SERVICE_OKR_CLOCK_H_
#define OKR_SERVICE_OKR_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace okr {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  // A process-wide instance.
  static const SystemClock& Get() {
    static const SystemClock* clock = new SystemClock();
    return *clock;
  }
};

}  // namespace okr

#endif  // OKR_SERVICE_OKR_CLOCK_H_
