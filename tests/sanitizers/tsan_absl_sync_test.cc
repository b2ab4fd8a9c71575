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

  absl::CondVar cv;
  bool ready = false;  // guarded by mu
  std::thread signaller([&] {
    absl::MutexLock lock(&mu);
    counter = -1;
    ready = true;
    cv.Signal();
  });
  {
    absl::MutexLock lock(&mu);
    while (!ready) cv.WaitWithTimeout(&mu, absl::Seconds(10));
  }
  const int after_signal = counter;
  signaller.join();

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

  if (seen != 2 * kIncrements || after_signal != -1 || received != 42) {
    std::fprintf(stderr, "guarded: seen=%d after_signal=%d received=%d\n", seen, after_signal,
                 received);
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
