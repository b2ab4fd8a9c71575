// CallExecutor: a few worker threads for RPC handlers that may wait on the outside world
// (SyncKeyResult waits for the trackers and for a running reconciliation), so that gRPC's
// callback threads -- shared by every call of the server -- never do. Bounded: when
// `max_queued` calls already wait for a worker, Submit refuses and the caller answers
// UNAVAILABLE at once instead of piling up.
//
//   CallExecutor executor(/*threads=*/4, /*max_queued=*/64);
//   if (!executor.Submit([=] { ...; reactor->Finish(status); })) { ...UNAVAILABLE... }
//
// Thread-safe. The destructor runs what was submitted, then joins the workers.
#ifndef OKR_SERVICE_API_CALL_EXECUTOR_H_
#define OKR_SERVICE_API_CALL_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace okr::api {

class CallExecutor {
 public:
  CallExecutor(int threads, int max_queued);
  ~CallExecutor();
  CallExecutor(const CallExecutor&) = delete;
  CallExecutor& operator=(const CallExecutor&) = delete;

  // Runs `work` on a worker; false (and `work` is not run) when the queue is full.
  bool Submit(std::function<void()> work);

 private:
  void Loop();

  const int max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace okr::api

#endif  // OKR_SERVICE_API_CALL_EXECUTOR_H_
