// Checks cmake/sanitizers/tsan_absl_sync.cc: in a ThreadSanitizer build, state guarded by
// an absl::Mutex (taken directly, through Await / CondVar, or handed over through
// absl::Notification, whose locking happens inside libabsl) gives no report, and the same
// state touched without the mutex does. CTest runs it twice (cmake/Sanitizers.cmake):
//   tsan_absl_sync_test guarded     exits 0 with no report
//   tsan_absl_sync_test unguarded   must print "ThreadSanitizer: data race"

#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace {

constexpr int kIncrements = 20000;

int Guarded() {
  absl::Mutex mu;
  int counter = 0;  // guarded by mu
  auto add = [&] {
    for (int i = 0; i < kIncrements; ++i) {
      if (i % 2 == 0) {
        absl::MutexLock lock(&mu);
        ++counter;
      } else {
        while (!mu.TryLock()) {
        }
        ++counter;
        mu.Unlock();
      }
    }
  };
  std::thread a(add);
  std::thread b(add);

  // A reader lock, a wait on a condition and a CondVar wait, each reading the counter.
  int seen = 0;
  std::thread reader([&] {
    {
      absl::ReaderMutexLock lock(&mu);
      seen = counter;
    }
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* c) { return *c == 2 * kIncrements; }, &counter));
    seen = counter;
  });
  a.join();
  b.join();
  reader.join();

  // Every kind of wait, each one certain to block: the mutex is held when the other thread
  // starts, and that thread needs it to make the condition true. The timed variants are
  // the ones gRPC's timer threads use (CondVar::WaitWithTimeout).
  absl::CondVar cv;
  bool ready = false;  // guarded by mu
  int waits_done = 0;
  auto set_ready_later = [&] {
    absl::MutexLock lock(&mu);
    ++counter;
    ready = true;
    cv.Signal();
  };
  auto is_ready = absl::Condition(
      +[](bool* r) { return *r; }, &ready);
  for (int kind = 0; kind < 5; ++kind) {
    mu.Lock();
    ready = false;
    std::thread signaller(set_ready_later);
    switch (kind) {
      case 0:
        while (!ready) cv.Wait(&mu);
        break;
      case 1:
        while (!ready) cv.WaitWithTimeout(&mu, absl::Seconds(10));
        break;
      case 2:
        while (!ready) cv.WaitWithDeadline(&mu, absl::Now() + absl::Seconds(10));
        break;
      case 3:
        mu.AwaitWithTimeout(is_ready, absl::Seconds(10));
        break;
      case 4:
        mu.AwaitWithDeadline(is_ready, absl::Now() + absl::Seconds(10));
        break;
    }
    waits_done += ready ? 1 : 0;
    mu.Unlock();
    signaller.join();
  }
  // Timed lock-when, exclusive and shared.
  {
    ready = false;
    std::thread setter([&] {
      absl::MutexLock lock(&mu);
      ready = true;
    });
    if (mu.LockWhenWithTimeout(is_ready, absl::Seconds(10))) ++waits_done;
    mu.Unlock();
    setter.join();
    if (mu.ReaderLockWhenWithTimeout(is_ready, absl::Seconds(10))) ++waits_done;
    mu.ReaderUnlock();
  }
  const int after_signal = counter;

  // Plain data handed over by absl::Notification (implemented in the library).
  int payload = 0;
  absl::Notification published;
  std::thread producer([&] {
    payload = 42;
    published.Notify();
  });
  published.WaitForNotification();
  const int received = payload;
  producer.join();
  // The same hand-over where the waiter finds the flag already set (the fast path that
  // never takes the mutex), through the timed wait and through HasBeenNotified().
  // The producer stays alive (no join in between) until the waiter has read the payload.
  int timed_payload = 0;
  absl::Notification timed;
  absl::Notification timed_read;
  std::thread timed_producer([&] {
    timed_payload = 7;
    timed.Notify();
    timed_read.WaitForNotification();
  });
  absl::SleepFor(absl::Milliseconds(100));  // the flag is set by now
  const bool notified = timed.WaitForNotificationWithTimeout(absl::Seconds(10));
  const int timed_received = timed_payload;
  timed_read.Notify();
  timed_producer.join();
  int polled_payload = 0;
  absl::Notification polled;
  std::thread polled_producer([&] {
    polled_payload = 9;
    polled.Notify();
  });
  while (!polled.HasBeenNotified()) std::this_thread::yield();
  const int polled_received = polled_payload;
  polled_producer.join();

  if (seen != 2 * kIncrements || after_signal != 2 * kIncrements + 5 || waits_done != 7 ||
      received != 42 || !notified || timed_received != 7 || polled_received != 9) {
    std::fprintf(stderr,
                 "guarded: seen=%d after_signal=%d waits_done=%d received=%d notified=%d "
                 "timed_received=%d polled_received=%d\n",
                 seen, after_signal, waits_done, received, notified, timed_received,
                 polled_received);
    return 1;
  }
  std::printf("guarded: counter=%d, no report expected\n", seen);
  return 0;
}

int Unguarded() {
  absl::Mutex mu;
  int counter = 0;  // the bug: the second thread does not take mu
  std::thread a([&] {
    for (int i = 0; i < kIncrements; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  });
  std::thread b([&] {
    for (int i = 0; i < kIncrements; ++i) ++counter;
  });
  a.join();
  b.join();
  std::printf("unguarded: counter=%d\n", counter);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "guarded") == 0) return Guarded();
  if (argc == 2 && std::strcmp(argv[1], "unguarded") == 0) return Unguarded();
  std::fprintf(stderr, "usage: %s guarded|unguarded\n", argv[0]);
  return 2;
}
