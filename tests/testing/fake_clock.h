// FakeClock: a Clock whose time only moves when a test says so. Thread-safe.
#ifndef OKR_TESTS_TESTING_FAKE_CLOCK_H_
#define OKR_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/okr/clock.h"

namespace okr::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace okr::testing

#endif  // OKR_TESTS_TESTING_FAKE_CLOCK_H_
