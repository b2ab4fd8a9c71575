// PeriodicRunner: runs a task on its own thread every `interval` until stopped, and on
// demand (Trigger). With several replicas, `may_run` (a cluster lock) decides whether
// this replica runs the task this round; with SQLite it is always true. Thread-safe.
//
//   PeriodicRunner runner("reconcile", absl::Minutes(5), [&] { reconciler.RunOnce(); });
//   runner.Start();
//   ...
//   runner.Stop();   // waits for a running round to finish
#ifndef OKR_SERVICE_SYNC_PERIODIC_RUNNER_H_
#define OKR_SERVICE_SYNC_PERIODIC_RUNNER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace okr::sync {

class PeriodicRunner {
 public:
  PeriodicRunner(
      std::string name, absl::Duration interval, std::function<void()> task,
      std::function<bool()> may_run = [] { return true; })
      : name_(std::move(name)),
        interval_(interval),
        task_(std::move(task)),
        may_run_(std::move(may_run)) {}
  ~PeriodicRunner() { Stop(); }

  void Start();
  // Runs the task as soon as possible (coalesced with a pending trigger).
  void Trigger();
  void Stop();
  int64_t rounds() const;

 private:
  void Loop();
  static bool Woken(PeriodicRunner* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return self->stop_ || self->triggered_;
  }

  const std::string name_;
  const absl::Duration interval_;
  const std::function<void()> task_;
  const std::function<bool()> may_run_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool triggered_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace okr::sync

#endif  // OKR_SERVICE_SYNC_PERIODIC_RUNNER_H_
