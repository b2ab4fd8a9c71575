#include "service/sync/periodic_runner.h"

#include "service/log/log.h"

namespace okr::sync {

void PeriodicRunner::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicRunner::Trigger() {
  absl::MutexLock lock(&mu_);
  triggered_ = true;
}

void PeriodicRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t PeriodicRunner::rounds() const {
  absl::MutexLock lock(&mu_);
  return rounds_;
}

void PeriodicRunner::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&PeriodicRunner::Woken, this), interval_);
      if (stop_) return;
      triggered_ = false;
    }
    if (!may_run_()) continue;
    task_();
    absl::MutexLock lock(&mu_);
    ++rounds_;
  }
}

}  // namespace okr::sync
